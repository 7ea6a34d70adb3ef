#!/usr/bin/env bash
# Copies what measure.sh needs onto a machine that has no build and none of the
# Debian libraries (the 16-core device machine, a cluster node): bench_sweep,
# coopsweep and every shared library they load but the C library, into DIR
# (default .devcarry, which .git/info/exclude should list), with measure.sh.
#
#   benchmarks/scaling/bundle.sh [DIR]          then, there: DIR/measure.sh DIR OUT
set -euo pipefail
cd "$(dirname "$0")/../.."
dir="${1:-.devcarry}"
build="${COOPSWEEP_BUILD_DIR:-build}"
rm -rf "$dir"
mkdir -p "$dir/lib"
cp "$build/benchmarks/bench_sweep" "$build/coopsweep" benchmarks/scaling/{measure.sh,cli_scaling.py,scaling.toml} "$dir/"
ldd "$dir/bench_sweep" "$dir/coopsweep" | awk '/=>/ {print $3}' | sort -u |
  grep -vE '/(libc|libm|libpthread|libdl|librt)\.so' | xargs -I{} cp -L {} "$dir/lib/"
du -sh "$dir"
