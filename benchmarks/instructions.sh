#!/usr/bin/env bash
# Machine-independent cost: instructions per directed edge-round of the kernel,
# counted by valgrind's callgrind (instructions, not seconds: the same binary,
# inputs and environment give the same count on any load) on two fixed small
# sweeps: a ring of 100 firms with 4 partners (E0 = 400 directed edges), 200
# rounds, 8 replicates, without execution errors (the course path) and with
# 1% (the SIMD rounds). Only the kernel the runner calls (simulate_vectorized)
# is counted (--toggle-collect).
#
#   benchmarks/instructions.sh [--update-baseline] [--threshold 0.02]
# Prints one JSON line per sweep; exits 1 when a count exceeds the committed
# baseline (benchmarks/baselines/instructions.json, the same lines) by more than
# the threshold.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${COOPSWEEP_BUILD_DIR:-build}"
baseline=benchmarks/baselines/instructions.json
threshold=0.02
update=0
while [ $# -gt 0 ]; do
  case "$1" in
    --update-baseline) update=1 ;;
    --threshold) threshold="$2"; shift ;;
    *) echo "usage: $0 [--update-baseline] [--threshold FRACTION]" >&2; exit 2 ;;
  esac
  shift
done
firms=100 partners=4 rounds=200 replicates=8
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
# Two sweeps: the default model (no errors, no update rule), which the course
# path computes, and the same with execution errors, which the SIMD rounds do.
results=""
for path in courses simd_rounds; do
  error=0
  [ "$path" = simd_rounds ] && error=0.01
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect='*simulate_vectorized*' \
    "$build/coopsweep" simulate --set topology=ring --set firms=$firms --set partners=$partners \
    --set rounds=$rounds --set window=50 --set error=$error --replicates $replicates --threads 1 -q >/dev/null 2>&1
  instructions=$(awk '/^summary:/ {print $2}' "$out")
  rm -f "$out"
  edge_rounds=$((firms * partners * rounds * replicates))
  json=$(/usr/bin/python3 - "$instructions" "$edge_rounds" "$commit" "$path" <<'PY'
import json, sys, datetime
instructions, edge_rounds, commit, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
print(json.dumps({"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                  "commit": commit, "benchmark": f"instructions_per_edge_round:{path}",
                  "instructions": instructions, "edge_rounds": edge_rounds,
                  "per_edge_round": instructions / edge_rounds}))
PY
)
  echo "$json"
  echo "$json" >> benchmarks/history.jsonl
  results="$results$json
"
done
if [ "$update" = 1 ]; then
  printf "%s" "$results" > "$baseline"
  echo "baseline updated: $baseline" >&2
  exit 0
fi
/usr/bin/python3 - "$baseline" "$threshold" "$results" <<'PY'
import json, sys
base = {row["benchmark"]: row["per_edge_round"] for row in map(json.loads, open(sys.argv[1]).read().splitlines()) if row}
status = 0
for row in map(json.loads, sys.argv[3].splitlines()):
    name, new = row["benchmark"], row["per_edge_round"]
    if name not in base:
        print(f"{name}: no baseline (benchmarks/instructions.sh --update-baseline)", file=sys.stderr)
        status = 1
        continue
    change = new / base[name] - 1
    print(f"{name}: baseline {base[name]:.2f}, now {new:.2f} ({change:+.2%})", file=sys.stderr)
    status |= 1 if change > float(sys.argv[2]) else 0
sys.exit(status)
PY
