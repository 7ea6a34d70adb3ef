#!/bin/bash
# Times the ways an MPI run could store its results (store_paths.c) at 1 and 2
# ranks, 5 repetitions each, and prints the medians as a Markdown table.
#
#   cluster/bench/measure-store.sh [RUNS] [BLOCK] [RANKS...]     # default 4000000 4096 1 2
#
# Parallel HDF5 (libhdf5-openmpi-dev) is fetched with apt-get download and
# unpacked under build-phdf5/, not installed: installed beside the serial
# flavour it changes which HDF5 the hdf5.pc alternative and CMake find.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)/build-phdf5
runs=${1:-4000000}
block=${2:-4096}
shift $(( $# > 2 ? 2 : $# ))
rank_counts=("${@:-1 2}")
read -r -a rank_counts <<< "${rank_counts[*]}"
repeats=${REPEATS:-5}
flags=(--oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)

mkdir -p "$root/debs" "$root/root"
if [ ! -f "$root/root/usr/include/hdf5/openmpi/hdf5.h" ]; then
  (cd "$root/debs" && apt-get download libhdf5-openmpi-dev libhdf5-openmpi-103-1)
  for deb in "$root"/debs/*.deb; do dpkg -x "$deb" "$root/root"; done
fi
lib=$root/root/usr/lib/x86_64-linux-gnu
mpicc -O2 -std=c11 -Wall -I"$root/root/usr/include/hdf5/openmpi" "$here/store_paths.c" \
  "$lib/libhdf5_openmpi.so.103" -Wl,-rpath,"$lib" -lm -o "$root/store_paths"

scratch=$(mktemp -d "$root/scratch.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "| storage | ranks | writing (s) | finishing (s) | in all (s) |"
echo "|---|---:|---:|---:|---:|"
for mode in gather shards collective collective-deflate; do
  for ranks in "${rank_counts[@]}"; do
    : > "$scratch/times"
    for _ in $(seq "$repeats"); do
      rm -f "$scratch"/*.h5
      sync
      mpirun "${flags[@]}" -np "$ranks" "$root/store_paths" "$mode" "$runs" "$block" "$scratch" >> "$scratch/times"
    done
    printf "| %s | %d | %s | %s | %s |\n" "$mode" "$ranks" \
      "$(cut -d' ' -f4 "$scratch/times" | median)" "$(cut -d' ' -f5 "$scratch/times" | median)" \
      "$(cut -d' ' -f6 "$scratch/times" | median)"
  done
done
echo
echo "$runs runs x 12 float64 metrics in blocks of $block runs; medians of $repeats; $(nproc) cores, $(uname -n)"
