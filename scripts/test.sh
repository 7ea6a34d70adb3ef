#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, and runs every test
# registered with CTest (Catch2 unit tests and the pytest end-to-end tests).
# Extra arguments go to ctest (e.g. -L unit, -R reference).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build build --parallel "$(nproc)"
ctest --test-dir build --output-on-failure --parallel "$(nproc)" "$@"
