#!/usr/bin/env bash
# The whole test suite under a sanitizer, in its own build directory:
#   scripts/sanitize.sh thread    ThreadSanitizer: builds oneTBB with TSan first
#                                 (scripts/build-tsan-tbb.sh), then build-tsan/
#   scripts/sanitize.sh address   AddressSanitizer + UBSan in build-asan/
# Extra arguments go to ctest (e.g. -L unit, -R runner). Fails when a test fails
# or when any process of the suite (the CLI runs the pytest suites start, those
# they kill included) wrote a sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-}
shift || true
jobs=${COOPSWEEP_JOBS:-2}

case "$kind" in
  thread)
    ./scripts/build-tsan-tbb.sh >/dev/null
    build=build-tsan
    ;;
  address)
    build=build-asan
    ;;
  *)
    echo "usage: scripts/sanitize.sh thread|address [ctest arguments]" >&2
    exit 2
    ;;
esac

# No benchmark programs: they measure speed, which a sanitizer changes 5 to 50
# fold (their smoke test skips; compare.py's tests still run).
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOOPSWEEP_SANITIZE="$kind" \
  -DCOOPSWEEP_BUILD_BENCHMARKS=OFF -DPython_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build "$build" --parallel "$jobs"
rm -rf "$build/benchmarks"  # programs of an earlier configuration would still be run

# Every report goes to a file of its own (log_path), so that none is lost with
# the stderr of a process a test kills or whose output it does not show.
reports=$PWD/$build/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
if [ "$kind" = thread ]; then
  export TSAN_OPTIONS="log_path=$reports/tsan second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
else
  export ASAN_OPTIONS="log_path=$reports/asan ${ASAN_OPTIONS:-}"
  export UBSAN_OPTIONS="log_path=$reports/ubsan print_stacktrace=1 ${UBSAN_OPTIONS:-}"
fi

status=0
ctest --test-dir "$build" --output-on-failure --timeout 1800 "$@" || status=$?
if [ -n "$(ls -A "$reports")" ]; then
  echo "sanitize: reports in $reports:" >&2
  for report in "$reports"/*; do
    echo "== $report" >&2
    cat "$report" >&2
  done
  status=1
fi
if [ "$status" -eq 0 ]; then echo "sanitize: $kind: every test passed, no report"; fi
exit "$status"
