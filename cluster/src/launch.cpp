#include <coopsweep/cluster/launch.hpp>

#include <charconv>
#include <cstdlib>
#include <cstring>

namespace coopsweep::cluster {
namespace {

// Open MPI's mpirun, PMIx (Open MPI 5, srun --mpi=pmix), MPICH's hydra and srun --mpi=pmi2.
constexpr const char* rank_variables[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
constexpr const char* size_variables[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "OMPI_UNIVERSE_SIZE"};

}  // namespace

bool launched_by_mpi() noexcept {
  for (const char* name : rank_variables) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

int launched_processes() noexcept {
  if (!launched_by_mpi()) return 1;
  for (const char* name : size_variables) {
    const char* text = std::getenv(name);
    int value = 0;
    if (text != nullptr) {
      const auto result = std::from_chars(text, text + std::strlen(text), value);
      if (result.ec == std::errc() && value > 0) return value;
    }
  }
  return 1;
}

}  // namespace coopsweep::cluster
