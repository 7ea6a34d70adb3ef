#include <coopsweep/sweep/provenance.hpp>

#include <coopsweep/build_info.hpp>

#include <unistd.h>

#include <climits>

namespace coopsweep::sweep {

BuildInfo build_info() noexcept {
  return {COOPSWEEP_GIT_COMMIT, COOPSWEEP_BUILD_TYPE, COOPSWEEP_COMPILER};
}

std::string host_name() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "unknown";
  return name;
}

}  // namespace coopsweep::sweep
