#pragma once
// What made a results file: the build (fixed when CMake configured it) and the
// machine it runs on, for the file's provenance attributes.

#include <string>
#include <string_view>

namespace coopsweep::sweep {

struct BuildInfo {
  // The git commit the build was configured from, with "-dirty" when tracked
  // files differed from it then; "unknown" when built outside a git checkout.
  std::string_view git_commit;
  std::string_view build_type;  // CMAKE_BUILD_TYPE, e.g. "Release"
  std::string_view compiler;    // compiler id and version, e.g. "GNU 12.2.0"
};

// The build's facts. Thread-safe.
BuildInfo build_info() noexcept;

// This machine's host name (gethostname), or "unknown". Thread-safe.
std::string host_name();

}  // namespace coopsweep::sweep
