#pragma once
// The errors of the results store.

#include <stdexcept>

namespace coopsweep::io {

// Any failure to create, write, resume or finish a results file (disk full,
// permissions, HDF5 errors); the message names the file and what failed.
class ResultsFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A resume that is refused: the layout (grid, replicates, identifying
// attributes such as the seed or the engine version) differs from the file it
// would continue, or nothing records which of its runs are finished. The
// message names the first difference or what is missing.
class ResumeMismatch : public ResultsFileError {
 public:
  using ResultsFileError::ResultsFileError;
};

// The file is being written by another process (its journal is locked).
class FileBusy : public ResultsFileError {
 public:
  using ResultsFileError::ResultsFileError;
};

}  // namespace coopsweep::io
