#!/usr/bin/env bash
# Installs every system package coopsweep needs to build, test and benchmark.
# Debian packages only; idempotent: packages already present are left alone.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libtbb-dev            # oneTBB: parallel sweep scheduling
  libhdf5-dev hdf5-tools # HDF5 results store (serial flavour)
  libeigen3-dev
  librandom123-dev      # Philox counter-based random streams
  libtomlplusplus-dev   # sweep spec parser
  libcli11-dev          # command line
  catch2                # unit tests (Catch2 v2)
  libbenchmark-dev      # Google Benchmark
  pybind11-dev python3-dev
  python3-numpy python3-h5py python3-xarray python3-h5netcdf python3-netcdf4
  python3-pytest python3-matplotlib
  python3-scipy valgrind          # benchmarks/compare.py (Mann-Whitney U), instructions.sh (callgrind)
  clang libclang-rt-14-dev        # scripts/fuzz.sh: libFuzzer, and sanitizer builds with clang
  python3-pandas python3-tqdm       # the Python package: tables in the notebook, progress bars
  python3-nbclient python3-nbformat python3-ipykernel  # executing examples/quickstart.ipynb in the tests
  openmpi-bin libopenmpi-dev      # -DCOOPSWEEP_MPI=ON: mpirun and Open MPI (cluster/)
  slurm-wlm munge                 # cluster/test-slurm.sh: slurmctld, slurmd and sbatch on localhost
  python3-numba                   # benchmarks/peers: the Numba implementation the engine is measured against
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
