#pragma once
// The HDF5 results store, laid out by NetCDF-4 conventions so that
// xarray.open_dataset(path, engine="h5netcdf") opens it with labelled dimensions.
//
// Layout of a file for axes A1..An and R replicates:
//   /A1 ... /An         coordinate variables (dimension scales), one per axis
//   /replicate          coordinate variable 0..R-1 (dimension scale)
//   /<coordinate>       auxiliary coordinates, 1-D along one of the axes (e.g. the
//                       sampled parameters along `sample`), named in the
//                       `coordinates` attribute of every variable that has that axis
//   /<metric>           float64, dims (A1, ..., An, replicate)
//   /<metric>_mean      float64, dims (A1, ..., An): mean over replicates (unless summaries = false)
//   /<metric>_std       float64, dims (A1, ..., An): standard deviation over replicates (same)
//   /<count>            int64, dims (A1, ..., An): a count per configuration (e.g.
//                       the replicates it ran), 0 until written
//   /round              with series only: coordinate 1..L (the layout's series_dimension)
//   /<series>           with series only: float64, dims (A1, ..., An, replicate, round)
//   root attributes     given by the caller, plus `completed` (int8: 1 once finished, else 0)
// Unwritten elements read as NaN (the datasets' fill value).
//
// Crash safety. Results go to PATH.partial while the sweep runs, and to PATH only
// when every run is in. The partial file is written so that a kill at any moment
// (SIGKILL, a node failure, a full disk) leaves it readable by h5py and xarray:
// every dataset is contiguous and allocated in full (filled with NaN) when the
// file is created, and the file is closed once before the first run is stored,
// so after that only raw data bytes change and HDF5's metadata never does. A
// journal beside it (journal.hpp) records, after each flush and fsync, how many
// runs are durable; a resumed run continues from there, writing again whatever
// came later. finish() then writes PATH.finishing, chunked and compressed
// (deflate, chosen by measurement: docs/results-store.md), marks it completed,
// syncs it and renames it to PATH atomically.
//
// This module knows nothing of the model: metrics are names and numbers.
// Not thread-safe: one writer per file, called from one thread at a time.
// Different files may be written from different threads (HDF5 is built
// thread-safe on Debian; its calls are serialised by its global lock).

#include <coopsweep/io/errors.hpp>
#include <coopsweep/io/journal.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace coopsweep::io {

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

// A coordinate variable along one axis that is not that axis's own: a value
// per point of `dimension`, such as a sampled parameter's value at each point
// of a `sample` axis. xarray shows it as a coordinate of the variables with
// that axis.
struct AuxiliaryCoordinate {
  std::string name;
  std::string dimension;  // the name of one of the layout's axes
  AxisValues values;      // one per value of that axis
  std::string long_name;
  std::string units;
};

using AttributeValue = std::variant<std::string, std::int64_t, double>;

struct Attribute {
  std::string name;
  AttributeValue value;
  // True for what describes how the file was made (times, host, threads), not
  // what it holds: such attributes are written but not compared on resume.
  bool provenance = false;
};

struct ResultsLayout {
  std::vector<Axis> axes;            // grid dimensions, slowest-varying first
  std::int64_t replicates = 1;
  // False: no `replicate` dimension, runs are indexed by the axes alone
  // (replicates must be 1), as in a shard, whose one axis names the runs.
  bool replicate_dimension = true;
  std::vector<Variable> metrics;     // one float64 variable (+ _mean, _std) each
  // False: no _mean and _std variables (write_summaries and read_means then
  // take and give nothing), for files that hold runs picked out of a sweep,
  // such as the shards of a job array, whose summaries only the whole can give.
  bool summaries = true;
  std::vector<AuxiliaryCoordinate> coordinates;  // along the axes, after them
  std::vector<Variable> counts;      // one int64 variable each, dims (A1, ..., An)
  std::vector<Attribute> attributes; // root attributes
  // Optional series of `series_length` values per run (e.g. one per round):
  // one float64 variable each, dims (A1, ..., An, replicate, series_dimension).
  std::vector<Variable> series;
  std::int64_t series_length = 0;
  std::string series_dimension = "round";  // coordinate 1..series_length
};

struct OpenOptions {
  // Replace an existing PATH at finish(), and discard any PATH.partial now.
  bool overwrite = false;
  // Continue PATH.partial from its journal instead of starting over. If PATH
  // already holds these results (same layout) and no partial file is left,
  // nothing is written: complete() is true.
  bool resume = false;
  // One line about this process (version, host, threads) for the journal's
  // list of sessions; see sessions().
  std::string session;
};

// Sizes of a results file, for `coopsweep run --dry-run`.
struct FileSizeEstimate {
  std::int64_t partial_bytes = 0;  // PATH.partial while running (uncompressed, exact up to metadata)
  std::int64_t final_bytes = 0;    // PATH when finished (compressed; estimated)
};

class ResultsFile {
 public:
  // Creates `path` + ".partial" and its journal and lays out every variable; the
  // final name appears only when finish() succeeds, so a file at `path` is
  // always complete. Same as open() with {overwrite, resume = false}.
  // Throws ResultsFileError if the partial file cannot be created, or if `path`
  // exists and `overwrite` is false; FileBusy if another process writes it.
  static ResultsFile create(const std::filesystem::path& path, const ResultsLayout& layout,
                            bool overwrite);

  // Starts (or, with options.resume, continues) the results file `path`.
  // Resuming reads the journal: a partial file whose layout was never finished
  // is created again; otherwise the partial file is compared with `layout`
  // (read-only) and opened. Throws ResumeMismatch, before anything changes,
  // naming the first difference (an axis, the replicates, a metric, the series
  // or a non-provenance attribute such as the seed or the engine version), or
  // when a partial file has no journal, or a journal's partial file is
  // missing; FileBusy if another process writes it; ResultsFileError if the
  // files cannot be created or opened.
  static ResultsFile open(const std::filesystem::path& path, const ResultsLayout& layout,
                          const OpenOptions& options);

  ResultsFile(ResultsFile&&) noexcept;
  ResultsFile& operator=(ResultsFile&&) noexcept;
  ~ResultsFile();  // closes the partial file if finish() was not reached; never renames it

  // Number of runs (configuration, replicate) and configurations in the layout.
  std::int64_t run_count() const noexcept;
  std::int64_t configuration_count() const noexcept;

  // True when open() found `path` already complete with this layout: nothing
  // to write, and finish() does nothing.
  bool complete() const noexcept;

  // Runs [0, committed_runs()) are durable: after open(), where a resumed run
  // picks up; after checkpoint(N), N.
  std::int64_t committed_runs() const noexcept;

  // The sessions that wrote this file, oldest first, this one last (with its
  // time up to the last checkpoint).
  const std::vector<JournalSession>& sessions() const noexcept;

  // Writes runs [first_run, first_run + count) in row-major order of
  // (A1, ..., An, replicate). `values` is metric-major: values[m * count + i] is
  // metric m of run first_run + i. Throws ResultsFileError on failure or on a
  // range outside the layout.
  void write_runs(std::int64_t first_run, std::int64_t count, std::span<const double> values);

  // Writes the replicate summaries of configurations [first_configuration,
  // first_configuration + count), metric-major like write_runs.
  void write_summaries(std::int64_t first_configuration, std::int64_t count,
                       std::span<const double> means, std::span<const double> stds);

  // Writes the series of runs [first_run, first_run + count): values[(s * count
  // + i) * series_length + t] is element t of series s of run first_run + i.
  void write_series(std::int64_t first_run, std::int64_t count, std::span<const double> values);

  // Writes the counts of configurations [first_configuration,
  // first_configuration + count), variable-major: values[v * count + i] is
  // count v of configuration first_configuration + i.
  void write_counts(std::int64_t first_configuration, std::int64_t count, std::span<const std::int64_t> values);

  // Reads back runs (metric-major like write_runs) and replicate means
  // (metric-major like write_summaries) from the partial file, e.g. those a
  // resumed run needs to finish the summary of a configuration it continues.
  std::vector<double> read_runs(std::int64_t first_run, std::int64_t count);
  std::vector<double> read_means(std::int64_t first_configuration, std::int64_t count);
  std::vector<std::int64_t> read_counts(std::int64_t first_configuration, std::int64_t count);

  // Makes the data of runs [0, runs_done) durable and records it in the
  // journal: flushes the written data, fsyncs the partial file, then appends
  // and syncs a journal record. The caller guarantees that those runs, and the
  // summaries and counts of configurations whose runs all lie among them, were written.
  // `runs_done` never decreases. Throws ResultsFileError (the file is then closed).
  void checkpoint(std::int64_t runs_done);

  // Checkpoints every run, writes the finished file PATH.finishing (chunked,
  // compressed, `completed` = 1, with the layout's attributes replaced or
  // extended by `final_attributes`), syncs it, renames it to PATH (replacing an
  // existing file only if `overwrite` was given now or when the partial file
  // was started) and removes the partial file and its journal. If the rename
  // is refused, the partial file and journal stay, so that a later resume
  // finishes without running anything again.
  void finish(std::span<const Attribute> final_attributes = {});

  const std::filesystem::path& path() const noexcept;
  std::filesystem::path partial_path() const;
  std::filesystem::path journal_path() const;

 private:
  struct Impl;
  explicit ResultsFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// PATH.partial, PATH.partial.journal and PATH.finishing for a results path.
std::filesystem::path partial_path_of(const std::filesystem::path& path);
std::filesystem::path journal_path_of(const std::filesystem::path& path);
std::filesystem::path finishing_path_of(const std::filesystem::path& path);

// The sizes of a file of `layout`: the partial file's exactly (plus an
// allowance for metadata), the finished file's from the compression of a
// sample of `sample_runs` runs (values metric-major like write_runs; series
// values as for write_series, may be empty). Throws ResultsFileError.
FileSizeEstimate estimate_file_size(const ResultsLayout& layout, std::int64_t sample_runs,
                                    std::span<const double> values, std::span<const double> series);

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
