#!/bin/bash
# How a sweep scales over MPI ranks on this machine, side by side with oneTBB
# threads and with shards + merge, as a Markdown table for cluster/README.md.
#
#   cluster/bench/scaling.sh [REPEATS] [RANKS...]          # default 3 repetitions, ranks 1 2
#
# Every configuration runs REPEATS times, in an order that rotates between
# repetitions so that load from elsewhere falls on all alike; medians are
# reported. Every result is checked to hold the data of the first. With
# QUIET=1, each run first waits (up to QUIET_WAIT seconds, default 600) until
# nothing else is runnable for a second (/proc/loadavg's running count): on a
# shared machine the kernel shares the cores between sessions, so other work
# caps what a run can use however many threads or ranks it has.
# Uses $COOPSWEEP_BUILD_DIR (else build/): coopsweep, and its MPI build
# (build/coopsweep with -DCOOPSWEEP_MPI=ON, else build/mpi/coopsweep).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${COOPSWEEP_BUILD_DIR:-$here/../../build}
repeats=${1:-3}
shift $(( $# > 0 ? 1 : 0 ))
ranks_list=("${@:-1 2}")
read -r -a ranks_list <<< "${ranks_list[*]}"
coopsweep=$build/coopsweep
mpi=$build/coopsweep
"$mpi" --version | grep -q "with MPI" || mpi=$build/mpi/coopsweep
# Unbound, like the single processes it is compared with: on a machine shared
# with other work, ranks bound to cores were scheduled differently from
# unbound processes (mpi.sbatch binds, as a dedicated node wants).
flags=(--oversubscribe --bind-to none)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
python=${PYTHON:-/usr/bin/python3}

work=$(mktemp -d /tmp/coopsweep-scaling.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/sweep.toml" <<'SPEC'
# 4000 runs of 200 firms over 200 rounds: about 20 s on one core
seed = 1
replicates = 25
[model]
firms = 200
rounds = 200
window = 50
error = 0.02
[grid]
scope = { start = 0.0, stop = 1.0, num = 8 }
trust_decay = { start = 0.0, stop = 0.1, num = 4 }
defectors = [0.0, 0.1, 0.2, 0.3, 0.4]
SPEC
runs=4000

# name|processes|threads|command (run with the output path as $1)
configs=("one process|1|1|$coopsweep run $work/sweep.toml -o \$1 -q --threads 1")
for r in "${ranks_list[@]}"; do
  configs+=("mpirun -np $r|$r|1|mpirun ${flags[*]} -np $r $mpi run $work/sweep.toml -o \$1 -q --threads 1")
done
max_ranks=${ranks_list[-1]}
if [ "$max_ranks" -gt 1 ]; then
  configs+=("one process, $max_ranks threads|1|$max_ranks|$coopsweep run $work/sweep.toml -o \$1 -q --threads $max_ranks")
  shard_command="for i in \$(seq 0 $((max_ranks - 1))); do $coopsweep run $work/sweep.toml --shard \$i/$max_ranks -o \$1.s\$i -q --threads 1 & done; wait"
  shard_command+="; $coopsweep merge \$(for i in \$(seq 0 $((max_ranks - 1))); do echo \$1.s\$i; done) -o \$1 -q"
  configs+=("$max_ranks shards at once + merge|$max_ranks|1|$shard_command")
fi

declare -A times cpus
loads=""
reference=""
for ((rep = 0; rep < repeats; rep++)); do
  for ((k = 0; k < ${#configs[@]}; k++)); do
    index=$(( (k + rep) % ${#configs[@]} ))
    IFS='|' read -r name processes threads command <<< "${configs[index]}"
    out=$work/out-$index-$rep.h5
    if [ -n "${QUIET:-}" ]; then
      quiet=0
      deadline=$((SECONDS + ${QUIET_WAIT:-600}))
      while [ "$quiet" -lt 5 ] && [ "$SECONDS" -lt "$deadline" ]; do
        # "R/T": R counts the reader itself.
        if [ "$(cut -d' ' -f4 /proc/loadavg | cut -d/ -f1)" -le 1 ]; then quiet=$((quiet + 1)); else quiet=0; fi
        sleep 0.2
      done
      [ "$quiet" -ge 5 ] && loads+="q" || loads+="b"
    fi
    # Wall time, and the CPU time of every process of the run (ranks included:
    # mpirun waits for them), which load from elsewhere barely changes.
    read -r wall cpu < <("$python" -c '
import resource, subprocess, sys, time
start = time.monotonic()
subprocess.run(["bash", "-c", sys.argv[1], "_", sys.argv[2]], check=True)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{time.monotonic() - start:.3f} {usage.ru_utime + usage.ru_stime:.3f}")' "$command" "$out")
    times[$index]+="$wall "
    cpus[$index]+="$cpu "
    if [ -z "$reference" ]; then
      reference=$out
    else
      "$python" "$here/../compare_results.py" "$reference" "$out" > /dev/null ||
        { echo "scaling.sh: $name wrote other data than $reference" >&2; exit 1; }
      rm -f "$out" "$out".s*
    fi
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
base=$(echo "${times[0]}" | median)
base_cpu=$(echo "${cpus[0]}" | median)
echo "| run | processes x threads | wall time (s) | runs/s | speed-up | efficiency | CPU time (s) | CPU per run vs one process |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for ((index = 0; index < ${#configs[@]}; index++)); do
  IFS='|' read -r name processes threads _ <<< "${configs[index]}"
  t=$(echo "${times[$index]}" | median)
  c=$(echo "${cpus[$index]}" | median)
  cores=$((processes * threads))
  awk -v name="$name" -v p="$processes" -v th="$threads" -v t="$t" -v c="$c" -v runs="$runs" -v base="$base" \
      -v base_cpu="$base_cpu" -v cores="$cores" \
    'BEGIN { printf "| %s | %d x %d | %.2f | %.0f | %.2f | %.0f%% | %.2f | %.3f |\n", name, p, th, t, runs / t,
             base / t, 100 * base / t / cores, c, c / base_cpu }'
done
echo
echo "$runs runs (200 firms, 200 rounds); medians of $repeats, wall time including process start and the finished" \
     "file; $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')); load average" \
     "$(cut -d' ' -f1-3 /proc/loadavg) at the end${loads:+; before each run the machine was (q)uiet or (b)usy: $loads}"
