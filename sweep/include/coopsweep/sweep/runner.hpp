#pragma once
// Runs the (configuration, replicate) index space of a design on oneTBB and
// streams the results, in run order, to the results store.

#include <coopsweep/kernels/metrics.hpp>
#include <coopsweep/kernels/model_params.hpp>
#include <coopsweep/sweep/design.hpp>
#include <coopsweep/sweep/spec.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <stdexcept>
#include <vector>

namespace coopsweep::sweep {

struct ExecutionOptions {
  int threads = 0;              // worker threads; 0 = all the machine offers
  std::int64_t block_size = 0;  // runs per block; 0 = chosen from the cost of a run
  // Called after each block, serially and in run order, with runs finished so far.
  std::function<void(std::int64_t runs_done, std::int64_t runs_total)> on_progress;
  // When set and true, no new block starts; blocks in flight finish and are
  // delivered, then the run throws Interrupted.
  const std::atomic<bool>* stop = nullptr;
};

// A run stopped through ExecutionOptions::stop before every block was done.
class Interrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Receives the metrics of runs [first_run, first_run + runs.size()); called
// serially, in run order, never concurrently.
using BlockConsumer = std::function<void(std::int64_t first_run, std::span<const kernels::RunMetrics> runs)>;

// Runs every run of `design` with the random streams keyed by (seed,
// configuration, replicate). Results do not depend on threads or block size.
// Throws InputError for a bad configuration, Interrupted when stopped, and
// whatever `consume` throws.
void run_design(const GridDesign& design, std::uint64_t seed, const ExecutionOptions& options,
                const BlockConsumer& consume);

// Runs `replicates` replicates of one configuration (`params` resolved, see
// resolve_model) as configuration index `configuration` of a sweep with `seed`:
// the same numbers that sweep stores for it.
std::vector<kernels::RunMetrics> simulate(const kernels::ModelParams& params, std::uint64_t seed,
                                          std::int64_t replicates, std::int64_t configuration,
                                          const ExecutionOptions& options);

// Mean and sample standard deviation (ddof = 1) of each metric over replicates,
// skipping NaN replicates; NaN when no value (or, for the deviation, fewer than
// two) remains. Writes metric_count values to each of mean and std.
void summarize_replicates(std::span<const kernels::RunMetrics> replicates, std::span<double> mean,
                          std::span<double> std);

// What a finished sweep found, for the command line's closing summary.
struct SweepReport {
  std::int64_t configurations = 0;
  std::int64_t runs = 0;
  double seconds = 0.0;
  // Per metric: the smallest and largest replicate mean and where they were.
  std::array<double, kernels::metric_count> min_mean{};
  std::array<double, kernels::metric_count> max_mean{};
  std::array<std::int64_t, kernels::metric_count> argmin{};
  std::array<std::int64_t, kernels::metric_count> argmax{};
};

// Validates every configuration, runs the sweep and writes it to `path`
// (see coopsweep/io/results_file.hpp), complete or not at all: the file
// appears under its name only when every run is written. Throws InputError
// before anything is created, io::ResultsFileError on write failures and
// Interrupted when stopped (the partial file then stays, marked incomplete).
SweepReport write_sweep(const SweepSpec& spec, const std::filesystem::path& path, bool overwrite,
                        const ExecutionOptions& options);

}  // namespace coopsweep::sweep
