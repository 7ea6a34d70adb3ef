#pragma once
// `coopsweep plot`: figures of a results file, drawn by the coopsweep Python
// package (python_bindings/), which this command runs.

#include <string>
#include <vector>

namespace coopsweep::cli {

// Replaces the process with `PYTHON -m coopsweep.plot ARGS...`, the interpreter
// the package was built for, with the package on PYTHONPATH: build/python next
// to the executable in a build tree, or the install directory next to PREFIX/bin.
// Returns only on failure (1), or 2 in a build without the Python package.
int plot_command(const std::vector<std::string>& args);

}  // namespace coopsweep::cli
