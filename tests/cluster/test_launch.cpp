#include <coopsweep/cluster/launch.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <string>

namespace {

// Sets (or unsets) an environment variable for one scope, restoring it after.
class ScopedVariable {
 public:
  ScopedVariable(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedVariable() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("an MPI launcher is recognised by the variables it sets", "[cluster][launch]") {
  const ScopedVariable a("OMPI_COMM_WORLD_RANK", nullptr), b("PMIX_RANK", nullptr), c("PMI_RANK", nullptr);
  const ScopedVariable d("OMPI_COMM_WORLD_SIZE", nullptr), e("PMI_SIZE", nullptr), f("OMPI_UNIVERSE_SIZE", nullptr);
  CHECK_FALSE(coopsweep::cluster::launched_by_mpi());
  CHECK(coopsweep::cluster::launched_processes() == 1);
  SECTION("Open MPI's mpirun") {
    const ScopedVariable rank("OMPI_COMM_WORLD_RANK", "1"), size("OMPI_COMM_WORLD_SIZE", "4");
    CHECK(coopsweep::cluster::launched_by_mpi());
    CHECK(coopsweep::cluster::launched_processes() == 4);
  }
  SECTION("PMIx (srun --mpi=pmix) and hydra or PMI-2") {
    {
      const ScopedVariable rank("PMIX_RANK", "0");
      CHECK(coopsweep::cluster::launched_by_mpi());
      CHECK(coopsweep::cluster::launched_processes() == 1);  // no size known
    }
    const ScopedVariable rank("PMI_RANK", "2"), size("PMI_SIZE", "3");
    CHECK(coopsweep::cluster::launched_by_mpi());
    CHECK(coopsweep::cluster::launched_processes() == 3);
  }
  SECTION("a size without a rank is not a launch, a nonsense size counts as unknown") {
    {
      const ScopedVariable size("OMPI_COMM_WORLD_SIZE", "4");
      CHECK_FALSE(coopsweep::cluster::launched_by_mpi());
      CHECK(coopsweep::cluster::launched_processes() == 1);
    }
    const ScopedVariable rank("OMPI_COMM_WORLD_RANK", "0"), size("OMPI_COMM_WORLD_SIZE", "four");
    CHECK(coopsweep::cluster::launched_processes() == 1);
  }
}
