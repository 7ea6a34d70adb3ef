#!/usr/bin/env bash
# Fresh machine to first results: installs what is missing, builds coopsweep,
# runs the bundled example sweep and prints what it found.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build build --parallel "$(nproc)"

echo
build/coopsweep run examples/quickstart.toml -o quickstart.h5 --force
echo
/usr/bin/python3 examples/summarize.py quickstart.h5
