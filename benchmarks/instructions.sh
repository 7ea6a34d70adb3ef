#!/usr/bin/env bash
# Machine-independent cost: instructions per directed edge-round of the kernel,
# counted by valgrind's callgrind (instructions, not seconds: the same binary,
# inputs and environment give the same count on any load) on a fixed small
# sweep: a ring of 100 firms with 4 partners (E0 = 400 directed edges), 200
# rounds, 8 replicates. Only the kernel the runner calls (simulate_vectorized)
# is counted (--toggle-collect).
#
#   benchmarks/instructions.sh [--update-baseline] [--threshold 0.02]
# Prints JSON; exits 1 when the count exceeds the committed baseline
# (benchmarks/baselines/instructions.json) by more than the threshold.
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
out=$(mktemp)
valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect='*simulate_vectorized*' \
  "$build/coopsweep" simulate --set topology=ring --set firms=$firms --set partners=$partners \
  --set rounds=$rounds --set window=50 --replicates $replicates --threads 1 -q >/dev/null 2>&1
instructions=$(awk '/^summary:/ {print $2}' "$out")
rm -f "$out"
edge_rounds=$((firms * partners * rounds * replicates))
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
json=$(/usr/bin/python3 - "$instructions" "$edge_rounds" "$commit" <<'PY'
import json, sys, datetime
instructions, edge_rounds, commit = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
print(json.dumps({"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                  "commit": commit, "benchmark": "instructions_per_edge_round",
                  "instructions": instructions, "edge_rounds": edge_rounds,
                  "per_edge_round": instructions / edge_rounds}))
PY
)
echo "$json"
echo "$json" >> benchmarks/history.jsonl
if [ "$update" = 1 ]; then
  echo "$json" > "$baseline"
  echo "baseline updated: $baseline" >&2
  exit 0
fi
/usr/bin/python3 - "$baseline" "$threshold" "$json" <<'PY'
import json, sys
base = json.load(open(sys.argv[1]))["per_edge_round"]
new = json.loads(sys.argv[3])["per_edge_round"]
change = new / base - 1
print(f"instructions per edge-round: baseline {base:.2f}, now {new:.2f} ({change:+.2%})", file=sys.stderr)
sys.exit(1 if change > float(sys.argv[2]) else 0)
PY
