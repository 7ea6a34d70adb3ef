#pragma once
// How the process was started, for builds with and without MPI alike.

namespace coopsweep::cluster {

// True when an MPI launcher started this process (mpirun of Open MPI or of
// MPICH, srun with a PMI or PMIx plugin): it sets these variables, a plain
// start does not. Then an MPI build joins the other ranks, and a build
// without MPI refuses to run one copy of the sweep per rank.
bool launched_by_mpi() noexcept;

// The number of processes the launcher started (1 when unknown or not launched by MPI).
int launched_processes() noexcept;

}  // namespace coopsweep::cluster
