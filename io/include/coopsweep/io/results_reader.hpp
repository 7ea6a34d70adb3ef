#pragma once
// Reading the values of a results file back, without knowing the model:
// float64 variables by name over flat row-major ranges, integer coordinates
// whole. `coopsweep merge` reads its shards through it.

#include <coopsweep/io/errors.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace coopsweep::io {

// Not thread-safe: one object per thread (HDF5's global lock serialises the
// calls of several).
class ResultsReader {
 public:
  // Opens `path` read-only and without HDF5's file lock (like
  // read_file_info). Throws ResultsFileError naming the file when it is
  // missing or not HDF5.
  explicit ResultsReader(const std::filesystem::path& path);
  ResultsReader(ResultsReader&&) noexcept;
  ResultsReader& operator=(ResultsReader&&) noexcept;
  ~ResultsReader();

  // Elements [first, first + count), in row-major order, of each of the
  // float64 `variables`, variable-major: out[v * count + i] is element
  // first + i of variables[v]. Variables stay open for later reads, so that
  // reading a file block by block decompresses each chunk once (HDF5's chunk
  // cache, 1 MiB per variable, holds a chunk of coopsweep's files).
  // Throws ResultsFileError naming the file and the variable when one is
  // missing or the range lies outside it.
  std::vector<double> read(std::span<const std::string> variables, std::int64_t first, std::int64_t count);

  // The whole of an integer variable (e.g. a coordinate), flattened in
  // row-major order. Throws ResultsFileError.
  std::vector<std::int64_t> read_integers(const std::string& variable);

  // The extent of a variable (empty for a scalar). Throws ResultsFileError.
  std::vector<std::int64_t> shape(const std::string& variable);

  const std::filesystem::path& path() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace coopsweep::io
