#include "plot.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <unistd.h>

namespace coopsweep::cli {

#ifdef COOPSWEEP_PYTHON_EXECUTABLE

namespace {

namespace fs = std::filesystem;

// The directory that holds the `coopsweep` package for this executable, or
// empty when the interpreter's own sys.path has to find it.
fs::path package_root() {
  std::error_code ec;
  const fs::path executable = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  for (const fs::path& candidate :
       {executable.parent_path() / "python", executable.parent_path().parent_path() / COOPSWEEP_PYTHON_INSTALL_DIR}) {
    if (fs::exists(candidate / "coopsweep" / "__init__.py", ec)) return candidate;
  }
  return {};
}

}  // namespace

int plot_command(const std::vector<std::string>& args) {
  const fs::path root = package_root();
  if (!root.empty()) {
    std::string path = root.string();
    if (const char* existing = std::getenv("PYTHONPATH"); existing != nullptr && *existing != '\0') {
      path.append(":").append(existing);
    }
    setenv("PYTHONPATH", path.c_str(), 1);
  }
  std::vector<std::string> words = {COOPSWEEP_PYTHON_EXECUTABLE, "-m", "coopsweep.plot"};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  std::cerr << "coopsweep: error: cannot run " << argv[0] << " for `coopsweep plot`: " << std::strerror(errno)
            << "\n";
  return 1;
}

#else

int plot_command(const std::vector<std::string>&) {
  std::cerr << "coopsweep: error: this build has no Python package; `coopsweep plot` needs it "
               "(configure with -DCOOPSWEEP_PYTHON=ON)\n";
  return 2;
}

#endif

}  // namespace coopsweep::cli
