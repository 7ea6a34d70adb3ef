#!/bin/bash
# A real Slurm on this machine: starts munged, slurmctld and slurmd (Debian's
# munge and slurm-wlm, as root, all state under a temporary directory, on free
# ports), submits a sweep with the templates of cluster/ as a job array with
# a dependent merge job (submit-array.sh) and as an MPI job (mpi.sbatch),
# waits for them, compares both results with a single-process run
# (compare_results.py: every dataset bit for bit, attributes but provenance),
# stops the daemons it started and removes its directory.
#
#   cluster/test-slurm.sh            # uses $COOPSWEEP_BUILD_DIR, else build/
#
# Exit status: 0 all held; 1 something failed (the logs are printed);
# 77 skipped, with the reason: the daemons cannot be started here (not root,
# packages missing, no MPI build of coopsweep, the daemons refuse to start).
# CTest registers it as cluster:slurm with SKIP_RETURN_CODE 77.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/.." && pwd)
build=${COOPSWEEP_BUILD_DIR:-$source_dir/build}
PYTHON=${PYTHON:-/usr/bin/python3}
SHARDS=3
RANKS=2
WAIT_SECONDS=${WAIT_SECONDS:-300}

skip() { echo "cluster/test-slurm.sh: SKIPPED: $*" >&2; exit 77; }
fail() { echo "cluster/test-slurm.sh: FAILED: $*" >&2; failed=1; }
note() { echo "test-slurm: $*"; }

# ---- What it needs --------------------------------------------------------
[ "$(id -u)" -eq 0 ] || skip "needs root to start munged, slurmctld and slurmd"
for tool in munged munge unmunge slurmctld slurmd sbatch squeue sinfo scontrol mpirun; do
  command -v "$tool" >/dev/null 2>&1 ||
    skip "'$tool' is missing: install slurm-wlm, munge and openmpi-bin (scripts/install-deps.sh)"
done
coopsweep=$build/coopsweep
[ -x "$coopsweep" ] || { echo "cluster/test-slurm.sh: no $coopsweep: build first (or set COOPSWEEP_BUILD_DIR)" >&2; exit 1; }
# The MPI job needs an MPI build: build/coopsweep with -DCOOPSWEEP_MPI=ON, or
# the copy a default build makes at build/mpi/coopsweep where MPI is installed.
mpi_coopsweep=${COOPSWEEP_MPI_BIN:-}
if [ -z "$mpi_coopsweep" ]; then
  if "$coopsweep" --version | grep -q "with MPI"; then
    mpi_coopsweep=$coopsweep
  elif [ -x "$build/mpi/coopsweep" ]; then
    mpi_coopsweep=$build/mpi/coopsweep
  fi
fi
[ -n "$mpi_coopsweep" ] && [ -x "$mpi_coopsweep" ] ||
  skip "no MPI build of coopsweep in $build (configure with -DCOOPSWEEP_MPI=ON, or install libopenmpi-dev and rebuild)"
"$PYTHON" -c "import h5py" 2>/dev/null || skip "$PYTHON cannot import h5py (python3-h5py)"

# ---- A private Slurm --------------------------------------------------------
tmp=$(mktemp -d /tmp/coopsweep-slurm.XXXXXX)
failed=0
started=()  # pid files of the daemons this script started
stop_daemons() {
  local file pid
  # slurmd before slurmctld before munged: each needs the next while it stops.
  for file in "${started[@]}"; do
    [ -s "$file" ] || continue
    pid=$(cat "$file")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null; fi
  done
}
show_logs() {
  local log
  for log in "$tmp"/*.log "$tmp"/work/*.out; do
    [ -f "$log" ] || continue
    echo "----- $log (last 30 lines)" >&2
    tail -n 30 "$log" >&2
  done
}
cleanup() {
  local status=$?
  # Daemons in reverse order of starting.
  local reversed=()
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do reversed+=("${started[i]}"); done
  started=("${reversed[@]}")
  stop_daemons
  if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then show_logs; fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/work"
chmod 700 "$tmp/munge"

# munge: its own key and socket, so that it never meets a system munged.
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
socket=$tmp/munge/munge.socket
munged --force --socket="$socket" --key-file="$tmp/munge/munge.key" --pid-file="$tmp/munge/munged.pid" \
  --log-file="$tmp/munged.log" --seed-file="$tmp/munge/munge.seed" ||
  skip "munged does not start here: $(tail -n 3 "$tmp/munged.log" 2>/dev/null)"
started+=("$tmp/munge/munged.pid")
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
munge -n -S "$socket" | unmunge -S "$socket" >/dev/null 2>&1 || skip "munge does not work here (munge -n | unmunge)"

ctld_port=$(free_port)
slurmd_port=$(free_port)
export SLURM_CONF=$tmp/slurm.conf
cat > "$SLURM_CONF" <<CONF
# A one-node Slurm for cluster/test-slurm.sh; everything under $tmp.
ClusterName=coopsweep-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
# No cgroups: they need a delegated hierarchy that containers rarely give.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF

slurmctld -f "$SLURM_CONF" || skip "slurmctld does not start here: $(tail -n 5 "$tmp/slurmctld.log" 2>/dev/null)"
started+=("$tmp/slurmctld.pid")
slurmd -f "$SLURM_CONF" -N "$host" || skip "slurmd does not start here: $(tail -n 5 "$tmp/slurmd.log" 2>/dev/null)"
started+=("$tmp/slurmd.pid")
state=""
for _ in $(seq 150); do
  state=$(sinfo -h -N -o %t 2>/dev/null | head -n 1)
  [ "$state" = "idle" ] && break
  sleep 0.2
done
[ "$state" = "idle" ] || skip "the node does not come up (state '${state:-none}'): $(tail -n 5 "$tmp/slurmd.log" 2>/dev/null)"
note "Slurm $(sinfo -V | cut -d' ' -f2) up on $host ($cpus CPUs), state in $tmp"

# ---- The sweep --------------------------------------------------------------
work=$tmp/work
cd "$work" || exit 1
cat > sweep.toml <<'SPEC'
seed = 17
replicates = 6
[model]
firms = 40
window = 8
error = 0.03
defectors = 0.2
[grid]
rounds = [20, 30]
scope = { start = 0.0, stop = 1.0, num = 6 }
trust_decay = [0.0, 0.05]
[output]
timeseries = true
SPEC
"$coopsweep" run sweep.toml -o single.h5 -q --threads 1 || { fail "the single-process run failed"; exit 1; }

# The job array of shards and the merge job, as a user submits them.
ids=$(SPEC=sweep.toml OUT="$work/array.h5" SHARDS=$SHARDS COOPSWEEP=$coopsweep \
      "$here/submit-array.sh" --cpus-per-task=1 --time=10) || { fail "submit-array.sh failed"; exit 1; }
read -r array_job merge_job <<< "$ids"
note "job array $array_job ($SHARDS shards), merge job $merge_job (afterok)"
# The MPI job: on this one node, RANKS ranks of one core each.
mpi_job=$(SPEC=sweep.toml OUT="$work/mpi.h5" COOPSWEEP=$mpi_coopsweep \
          MPIRUN_FLAGS="--allow-run-as-root --oversubscribe" \
          sbatch --parsable --export=ALL --nodes=1 --ntasks-per-node=$RANKS --cpus-per-task=1 --time=10 \
          "$here/mpi.sbatch") || { fail "sbatch of mpi.sbatch failed"; exit 1; }
note "MPI job $mpi_job ($RANKS ranks)"

deadline=$((SECONDS + WAIT_SECONDS))
while [ -n "$(squeue -h -o %i 2>/dev/null)" ]; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    fail "jobs still queued or running after ${WAIT_SECONDS}s: $(squeue -h -o '%i %T %r' | tr '\n' ';')"
    exit 1
  fi
  sleep 0.5
done

# ---- What must hold --------------------------------------------------------
job_states() { scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]* .*ExitCode=[0-9:]*' | \
               sed -E 's/JobState=([A-Z_]+) .*ExitCode=([0-9:]+)/\1 \2/'; }
for job in "$array_job" "$merge_job" "$mpi_job"; do
  states=$(job_states "$job")
  if [ -z "$states" ] || echo "$states" | grep -qv '^COMPLETED 0:0$'; then
    fail "job $job did not complete: $(echo "$states" | tr '\n' ';')"
  fi
done
[ "$(job_states "$array_job" | wc -l)" -eq "$SHARDS" ] || fail "the job array did not run $SHARDS tasks"

for result in array.h5 mpi.h5; do
  if [ ! -f "$result" ]; then fail "no $result"; continue; fi
  "$PYTHON" "$here/compare_results.py" single.h5 "$result" || fail "$result differs from the single-process run"
done
if [ -f array.h5 ] && [ -f mpi.h5 ]; then
  "$PYTHON" - "$SHARDS" "$RANKS" <<'PY' || fail "provenance of the Slurm runs"
import sys
import h5py
shards, ranks = int(sys.argv[1]), int(sys.argv[2])
with h5py.File("array.h5", "r") as f:
    assert f.attrs["processes"] == shards, f.attrs["processes"]
    assert f"merge of {shards} shards" in f.attrs["history"]
with h5py.File("mpi.h5", "r") as f:
    assert f.attrs["processes"] == ranks, f.attrs["processes"]
    assert f"MPI over {ranks} ranks" in f.attrs["history"]
PY
fi
grep -q "blocks per rank" coopsweep-mpi-"$mpi_job".out || fail "the MPI job's output does not show its ranks"

if [ "$failed" -ne 0 ]; then exit 1; fi
note "job array + merge and MPI job both gave the single-process data"
# The daemons stop in the EXIT trap; say so once they have.
trap - EXIT
cleanup_status=0
reversed=()
for ((i = ${#started[@]} - 1; i >= 0; i--)); do reversed+=("${started[i]}"); done
started=("${reversed[@]}")
pids=()
for file in "${started[@]}"; do [ -s "$file" ] && pids+=("$(cat "$file")"); done
stop_daemons
for pid in "${pids[@]}"; do
  if kill -0 "$pid" 2>/dev/null; then fail "daemon $pid did not stop"; cleanup_status=1; fi
done
rm -rf "$tmp"
[ "$cleanup_status" -eq 0 ] && note "daemons stopped; PASSED"
exit "$cleanup_status"
