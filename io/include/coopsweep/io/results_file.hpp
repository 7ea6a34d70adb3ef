#pragma once
// The HDF5 results store, laid out by NetCDF-4 conventions so that
// xarray.open_dataset(path, engine="h5netcdf") opens it with labelled dimensions.
//
// Layout of a file for axes A1..An and R replicates:
//   /A1 ... /An         coordinate variables (dimension scales), one per axis
//   /replicate          coordinate variable 0..R-1 (dimension scale)
//   /<metric>           float64, dims (A1, ..., An, replicate)
//   /<metric>_mean      float64, dims (A1, ..., An): mean over replicates
//   /<metric>_std       float64, dims (A1, ..., An): standard deviation over replicates
//   root attributes     given by the caller, plus `completed` (int8: 1 once finished, else 0)
// Unwritten elements read as NaN (the datasets' fill value).
//
// This module knows nothing of the model: metrics are names and numbers.
// Not thread-safe: one writer per file, called from one thread at a time.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace coopsweep::io {

// Any failure to create, write or finish a results file (disk full, permissions,
// HDF5 errors); the message names the file and what failed.
class ResultsFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using AxisValues = std::variant<std::vector<double>, std::vector<std::int64_t>, std::vector<std::string>>;

struct Axis {
  std::string name;
  AxisValues values;
  std::string long_name;  // written as the `long_name` attribute when not empty
  std::string units;      // written as the `units` attribute when not empty
};

struct Variable {
  std::string name;
  std::string long_name;
  std::string units;
};

using AttributeValue = std::variant<std::string, std::int64_t, double>;

struct Attribute {
  std::string name;
  AttributeValue value;
};

struct ResultsLayout {
  std::vector<Axis> axes;            // grid dimensions, slowest-varying first
  std::int64_t replicates = 1;
  std::vector<Variable> metrics;     // one float64 variable (+ _mean, _std) each
  std::vector<Attribute> attributes; // root attributes
};

class ResultsFile {
 public:
  // Creates `path` + ".partial" and lays out every variable; the final name
  // appears only when finish() succeeds, so a file at `path` is always complete.
  // Throws ResultsFileError if the partial file cannot be created, or if `path`
  // exists and `overwrite` is false.
  static ResultsFile create(const std::filesystem::path& path, const ResultsLayout& layout,
                            bool overwrite);

  ResultsFile(ResultsFile&&) noexcept;
  ResultsFile& operator=(ResultsFile&&) noexcept;
  ~ResultsFile();  // closes the partial file if finish() was not reached; never renames it

  // Number of runs (configuration, replicate) and configurations in the layout.
  std::int64_t run_count() const noexcept;
  std::int64_t configuration_count() const noexcept;

  // Writes runs [first_run, first_run + count) in row-major order of
  // (A1, ..., An, replicate). `values` is metric-major: values[m * count + i] is
  // metric m of run first_run + i. Throws ResultsFileError on failure or on a
  // range outside the layout.
  void write_runs(std::int64_t first_run, std::int64_t count, std::span<const double> values);

  // Writes the replicate summaries of configurations [first_configuration,
  // first_configuration + count), metric-major like write_runs.
  void write_summaries(std::int64_t first_configuration, std::int64_t count,
                       std::span<const double> means, std::span<const double> stds);

  // Sets `completed` = 1, flushes, closes and renames the partial file to its
  // final name (replacing an existing file only if `overwrite` was given).
  void finish();

  const std::filesystem::path& path() const noexcept;
  std::filesystem::path partial_path() const;

 private:
  struct Impl;
  explicit ResultsFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The hyperslab boxes that cover the row-major flat range [begin, end) of an
// array of the given shape, in row-major order; each box is (start, count) per
// dimension. Exposed for tests. A 0-dimensional shape holds one element.
struct Box {
  std::vector<std::int64_t> start;
  std::vector<std::int64_t> count;
};
std::vector<Box> boxes_for_flat_range(std::span<const std::int64_t> shape, std::int64_t begin,
                                      std::int64_t end);

}  // namespace coopsweep::io
