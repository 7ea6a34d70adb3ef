#pragma once
// Runs the (configuration, replicate) index space of a design on oneTBB and
// streams the results, in run order, to the results store.

#include <coopsweep/io/results_file.hpp>
#include <coopsweep/kernels/metrics.hpp>
#include <coopsweep/kernels/model_params.hpp>
#include <coopsweep/sweep/design.hpp>
#include <coopsweep/sweep/replication.hpp>
#include <coopsweep/sweep/spec.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace coopsweep::sweep {

struct ExecutionOptions {
  int threads = 0;              // worker threads; 0 = all the machine offers
  std::int64_t block_size = 0;  // runs per block; 0 = chosen from the cost of a run
  // Called after each block, serially and in run order, with runs finished so far
  // (run slots: with adaptive replication a configuration counts as its max).
  std::function<void(std::int64_t runs_done, std::int64_t runs_total)> on_progress;
  // When set and true, no new block starts; blocks in flight finish and are
  // delivered, then the run throws Interrupted.
  const std::atomic<bool>* stop = nullptr;
  // Bytes the runs may hold at once; 0 = what the machine offers (see memory.hpp).
  // A sweep whose estimated need exceeds it is refused with InputError before it starts.
  double memory_limit = 0.0;
};

// A run stopped through ExecutionOptions::stop before every block was done.
class Interrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Receives the metrics of runs [first_run, first_run + runs.size()); called
// serially, in run order, never concurrently.
using BlockConsumer = std::function<void(std::int64_t first_run, std::span<const kernels::RunMetrics> runs)>;

// Runs [first, first + count) of a sweep's run index space (run =
// configuration * replicates + replicate).
struct RunRange {
  std::int64_t first = 0;
  std::int64_t count = 0;
  friend bool operator==(const RunRange&, const RunRange&) = default;
};

// The results of a block of runs [first_run, first_run + runs.size()); with
// time series ([output] timeseries = true) also their series, as
// io::ResultsFile::write_series takes them (series-major, NaN after the rounds
// a run ran), else `series` is empty. With adaptive replication ([replication])
// a block holds whole configurations and `counts` the replicates each ran (its
// other run slots hold NaN), else `counts` is empty. Valid only during the call
// it is passed to.
struct BlockResults {
  std::int64_t first_run = 0;
  std::span<const kernels::RunMetrics> runs;
  std::span<const double> series;
  std::span<const std::int64_t> counts;
};
using BlockSink = std::function<void(const BlockResults&)>;

// Runs every run of `design` with the random streams keyed by (seed,
// configuration, replicate). Results do not depend on threads or block size.
// With a `replication` rule (whose max must equal design.replicates()), each
// configuration runs the replicates the rule asks for and its other run slots
// hold NaN; blocks then hold whole configurations. Throws InputError for a bad
// configuration or one too large for the memory (ExecutionOptions::memory_limit),
// Interrupted when stopped, and whatever `consume` throws.
void run_design(const GridDesign& design, std::uint64_t seed, const ExecutionOptions& options,
                const BlockConsumer& consume, const ReplicationRule* replication = nullptr);

// Runs `replicates` replicates of one configuration (`params` resolved, see
// resolve_model) as configuration index `configuration` of a sweep with `seed`:
// the same numbers that sweep stores for it. Throws InputError, before
// running, when the runs need more memory than ExecutionOptions::memory_limit.
std::vector<kernels::RunMetrics> simulate(const kernels::ModelParams& params, std::uint64_t seed,
                                          std::int64_t replicates, std::int64_t configuration,
                                          const ExecutionOptions& options);

// The runs of the sweep of `spec`: configurations x replicates, numbered
// run = configuration * replicates + replicate, the index space that blocks,
// subsets and shards address. Thread-safe.
std::int64_t run_count(const SweepSpec& spec);

// Runs per block for `runs` runs of `spec` on `threads` threads in all (over
// every process): `requested` when positive, else from the mean cost of a run
// (about 10 ms of the kernel), capped so that every thread gets several blocks.
// With adaptive replication ([replication]) a multiple of the replicates
// (whole configurations), `requested` rounded up. Results never depend on it.
// Throws InputError for a bad spec.
std::int64_t block_size(const SweepSpec& spec, std::int64_t requested, std::int64_t runs, int threads);

// Computes the runs that `spans` lists (disjoint ranges of the sweep's run
// index space) on oneTBB, in blocks of options.block_size runs (0: chosen by
// block_size), and hands them to `sink` serially, in the order of `spans` and
// ascending within each. options.on_progress is not called. The caller
// validates the spec (GridDesign::validate_all). Throws InputError for a bad
// configuration, std::out_of_range for runs outside the sweep, Interrupted
// when options.stop ends it early (after the blocks in flight are delivered),
// std::invalid_argument for ranges that are not whole configurations under
// adaptive replication, and whatever `sink` throws.
void compute_spans(const SweepSpec& spec, const ExecutionOptions& options, std::span<const RunRange> spans,
                   const BlockSink& sink);

// Computes the ranges `next_range` hands out, each as one block, and hands
// them to `sink` in the order they were handed out; `next_range` is called
// serially (from any thread) while earlier blocks run, and a range of count 0
// ends the work. For the ranks of an MPI run, whose work comes from rank 0.
// Throws like compute_spans; Interrupted when options.stop was seen before
// `next_range` gave an empty range; InputError, before computing anything,
// when this process's threads need more memory than options.memory_limit (or
// the machine offers, see memory.hpp).
void compute_ranges(const SweepSpec& spec, const ExecutionOptions& options,
                    const std::function<RunRange()>& next_range, const BlockSink& sink);

// Mean and sample standard deviation (ddof = 1) of each metric over replicates,
// skipping NaN replicates; NaN when no value (or, for the deviation, fewer than
// two) remains. Writes metric_count values to each of mean and std.
void summarize_replicates(std::span<const kernels::RunMetrics> replicates, std::span<double> mean,
                          std::span<double> std);

// What a finished sweep found, for the command line's closing summary.
struct SweepReport {
  std::int64_t configurations = 0;
  std::int64_t runs = 0;              // run slots of the sweep: configurations x replicates (the most, when adaptive)
  std::int64_t file_runs = 0;         // run slots stored in the file: `runs`, or those of StoreOptions::subset
  std::int64_t replicates_run = 0;    // runs that ran (file_runs, without adaptive replication)
  bool adaptive = false;              // [replication]: the fewest and most replicates a configuration ran
  std::int64_t fewest_replicates = 0;
  std::int64_t most_replicates = 0;
  double seconds = 0.0;               // this call's running time
  std::int64_t resumed_runs = 0;      // runs a resumed sweep found done
  bool already_complete = false;      // resume found PATH complete: nothing ran
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

// How write_sweep stores the results.
struct StoreOptions {
  bool overwrite = false;  // replace PATH when done, and discard PATH.partial now (--force)
  // Continue PATH.partial where its journal says the last run was stored
  // (--resume): the file then holds exactly what an uninterrupted run writes.
  // Starts afresh when there is nothing to resume; does nothing when PATH
  // already holds the finished results of this spec.
  bool resume = false;
  // Seconds between checkpoints (flush, fsync, journal record): the work a
  // kill can lose. 0 checkpoints after every block.
  double checkpoint_interval = 1.0;
  int processes = 1;  // processes computing the sweep, for provenance
  int threads = 0;    // worker threads over all of them, for provenance; 0: options.threads
  // Added to this session's line in the journal and the `history` attribute
  // (e.g. "merging 4 shards").
  std::string note;
  // Lines of work done elsewhere, put first in `history` (when merging: the
  // shards' histories), and its seconds, added to `wall_time_seconds`.
  std::vector<std::string> prior_history;
  double prior_seconds = 0.0;
  // Store only these runs (ascending, disjoint ranges of the run index space)
  // instead of the whole grid: a file whose one dimension `run` holds their
  // indices in the sweep, without replicate summaries (only the whole sweep
  // has them); the shards of a job array (cluster/shard.hpp). Empty: all runs.
  // Refused (InputError) with adaptive replication, whose counts are per
  // configuration.
  std::vector<RunRange> subset;
  // Further attributes that identify the results (compared on resume), such
  // as a shard's index and count.
  std::vector<io::Attribute> attributes;
  // Called once, before running, when a resumed sweep continues from runs_done > 0.
  std::function<void(std::int64_t runs_done, std::int64_t runs_total)> on_resume;
};

// write_sweep with the store's options; also writes the provenance attributes
// (build, host, threads, processes, times, history of sessions). Throws
// InputError before anything is created for a bad spec or one too large for
// the memory (ExecutionOptions::memory_limit), and before anything is
// changed for a resume the file refuses (another spec, seed, grid or engine
// version; a partial file without journal; a file another process writes);
// io::ResultsFileError on write failures (the partial file and its journal
// stay, resumable); Interrupted when stopped (after a checkpoint).
// Thread-safe for distinct paths.
SweepReport write_sweep(const SweepSpec& spec, const std::filesystem::path& path, const StoreOptions& store,
                        const ExecutionOptions& options);

// Makes the results that write_sweep stores: called once, with the runs still
// to do (after a resume's, within store.subset), it delivers them to `sink`
// as compute_spans does. Computing them here is compute_spans; an MPI run
// computes them on every rank, a merge reads them from shards.
using BlockProducer = std::function<void(std::span<const RunRange> spans, const BlockSink& sink)>;

// write_sweep with the results made by `produce`; not called when the file is
// already complete. What `produce` throws propagates, after a checkpoint of
// what it delivered; Interrupted is rethrown with the runs stored so far.
// options.threads is only provenance here, options.on_progress is called after
// each block stored. No memory check here: `produce` may compute nothing in
// this process (a merge) or check where it computes (compute_ranges).
SweepReport write_sweep(const SweepSpec& spec, const std::filesystem::path& path, const StoreOptions& store,
                        const ExecutionOptions& options, const BlockProducer& produce);

// The layout of the results file of `spec` (or, with `store.subset`, of those
// runs), with the provenance of a session of `threads` threads in all and
// store.processes processes starting now. For tools that compare files
// without writing one (coopsweep merge). Throws InputError for a bad spec.
io::ResultsLayout results_layout(const SweepSpec& spec, const StoreOptions& store, int threads);

// The per-round series stored with `[output] timeseries = true`, in order:
// cooperation, trust, payoff and alliances of each round (kernels::RoundSeries).
inline constexpr std::array<std::string_view, 4> series_names = {
    "cooperation_by_round", "trust_by_round", "payoff_by_round", "alliances_by_round"};

// Rounds stored per run with timeseries: the largest `rounds` of the grid
// (shorter runs end in NaN). 0 without timeseries.
std::int64_t series_length(const SweepSpec& spec);

// Uncompressed bytes of the series of a spec (0 without timeseries), and a
// warning naming the size and the limit when it exceeds [output] timeseries_limit_gb.
std::int64_t series_bytes(const SweepSpec& spec);
std::optional<std::string> series_warning(const SweepSpec& spec);

// What a sweep will take, for `coopsweep run --dry-run`.
struct SweepEstimate {
  std::int64_t configurations = 0;
  std::int64_t runs = 0;
  std::int64_t runs_left = 0;           // runs minus those a resume would skip
  double seconds = 0.0;                 // estimated running time of runs_left
  std::int64_t calibration_runs = 0;    // runs timed to estimate it
  double calibration_seconds = 0.0;
  std::int64_t partial_bytes = 0;       // PATH.partial while running (uncompressed)
  std::int64_t file_bytes = 0;          // PATH when finished (compressed; estimated)
  std::int64_t series_bytes = 0;        // the series' share of partial_bytes
};

// Validates the spec and times a sample of runs spread over the grid (with
// the threads of `options`), growing until it runs about `calibration_seconds`,
// to estimate the sweep's time; the file sizes come from the sample's
// compressibility. Writes nothing. Throws InputError for a bad spec, or one
// too large for the memory, before running anything.
SweepEstimate estimate_sweep(const SweepSpec& spec, const ExecutionOptions& options, std::int64_t runs_done = 0,
                             double calibration_seconds = 0.5);

}  // namespace coopsweep::sweep
