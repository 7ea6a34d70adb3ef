#include <coopsweep/sweep/runner.hpp>

#include <coopsweep/io/results_file.hpp>
#include <coopsweep/kernels/vectorized.hpp>
#include <coopsweep/sweep/memory.hpp>
#include <coopsweep/sweep/provenance.hpp>
#include <coopsweep/sweep/replication.hpp>
#include <coopsweep/version.hpp>

#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <iterator>
#include <limits>
#include <stdexcept>

namespace coopsweep::sweep {
namespace {

using kernels::metric_count;
using kernels::RunMetrics;

// About 4 million directed edge-rounds per block: ~10 ms of the scalar kernel,
// long enough that scheduling and the ordered hand-off cost under 1%, short
// enough that blocks stay many per thread for load balance.
constexpr double target_block_work = 4e6;

double run_work(const kernels::ModelParams& p) {
  return static_cast<double>(p.firms) * static_cast<double>(p.partners + 1) * static_cast<double>(p.rounds);
}

int resolve_threads(int threads) {
  return threads > 0 ? threads : tbb::info::default_concurrency();
}

// Runs per block: from the mean cost of a run (sampled over the grid), capped so
// that every thread gets several blocks of a small sweep.
std::int64_t choose_block_size(std::int64_t requested, std::int64_t total_runs, double mean_run_work,
                               int threads) {
  if (requested > 0) return requested;
  auto block = static_cast<std::int64_t>(std::ceil(target_block_work / std::max(mean_run_work, 1.0)));
  const std::int64_t spread = (total_runs + 4 * threads - 1) / (4 * threads);
  return std::clamp<std::int64_t>(std::min(block, spread), 1, 65536);
}

struct Block {
  std::int64_t first = 0;
  std::vector<RunMetrics> runs;
  // With adaptive replication, the replicates each configuration of the block
  // ran; its other run slots hold NaN.
  std::vector<std::int64_t> counts;
  // With series: variable-major as io::ResultsFile::write_series takes them,
  // NaN after the rounds a run ran.
  std::vector<double> series;
  std::exception_ptr error;  // what running it threw, for the output stage to raise in order
};

struct Worker {
  kernels::VectorizedState state;
  kernels::RoundSeries series;
};

// Copies a run's round values into slot `i` of a block's series buffer.
void store_series(const kernels::RoundSeries& from, std::size_t i, std::size_t count, std::size_t length,
                  std::vector<double>& to) {
  const std::vector<double>* variables[] = {&from.cooperation, &from.trust, &from.payoff, &from.alliances};
  for (std::size_t v = 0; v < std::size(variables); ++v) {
    const std::vector<double>& values = *variables[v];
    std::copy_n(values.begin(), std::min(values.size(), length), to.begin() + static_cast<std::ptrdiff_t>((v * count + i) * length));
  }
}

// Fills a block of whole configurations by the replication rule: each runs
// rounds of replicates (replicate r in slot r) until the rule is met or its
// max is reached. The decision reads only the configuration's own replicates
// 0..n-1, so it is the same whatever ran elsewhere at the same time.
template <typename ParamsOf>
void run_adaptive(Block& block, Worker& worker, std::uint64_t seed, std::int64_t first_configuration,
                  std::int64_t slots, std::size_t length, const ParamsOf& params_of, const ReplicationRule& rule) {
  RunMetrics missing;
  missing.fill(std::numeric_limits<double>::quiet_NaN());
  std::fill(block.runs.begin(), block.runs.end(), missing);
  const std::size_t count = block.runs.size();
  const auto configurations = static_cast<std::size_t>(static_cast<std::int64_t>(count) / slots);
  block.counts.assign(configurations, 0);
  for (std::size_t i = 0; i < configurations; ++i) {
    const std::int64_t configuration = first_configuration + block.first / slots + static_cast<std::int64_t>(i);
    const kernels::ModelParams params = params_of(configuration);
    const std::size_t offset = i * static_cast<std::size_t>(slots);
    std::int64_t done = 0;
    while (true) {
      const std::int64_t target = next_replicate_count(done, rule);
      for (std::int64_t r = done; r < target; ++r) {
        const kernels::ReplicateStream stream(seed, static_cast<std::uint64_t>(configuration),
                                              static_cast<std::uint64_t>(r));
        const std::size_t slot = offset + static_cast<std::size_t>(r);
        block.runs[slot] = kernels::simulate_vectorized(params, stream, worker.state, length > 0 ? &worker.series : nullptr);
        if (length > 0) store_series(worker.series, slot, count, length, block.series);
      }
      done = target;
      if (done >= rule.max ||
          precise_enough(std::span<const RunMetrics>(block.runs).subspan(offset, static_cast<std::size_t>(done)), rule)) {
        break;
      }
    }
    block.counts[i] = done;
  }
}

// Hands out the ranges of runs to compute, in order: the spans of a list,
// each cut into blocks of `block` runs. more() is false once all are out.
class SpanSource {
 public:
  SpanSource(std::span<const RunRange> spans, std::int64_t block) : spans_(spans), block_(std::max<std::int64_t>(block, 1)) {
    skip_empty();
  }
  bool more() const noexcept { return index_ < spans_.size(); }
  RunRange next() {
    if (!more()) return {};
    const RunRange& span = spans_[index_];
    const RunRange range{span.first + offset_, std::min(block_, span.count - offset_)};
    offset_ += range.count;
    if (offset_ == span.count) {
      ++index_;
      offset_ = 0;
      skip_empty();
    }
    return range;
  }

 private:
  void skip_empty() noexcept {
    while (index_ < spans_.size() && spans_[index_].count <= 0) ++index_;
  }
  std::span<const RunRange> spans_;
  std::int64_t block_;
  std::size_t index_ = 0;
  std::int64_t offset_ = 0;
};

// Ranges from a caller's function; whether more will come is only known by asking.
class FunctionSource {
 public:
  explicit FunctionSource(const std::function<RunRange()>& next) : next_(next) {}
  bool more() const noexcept { return true; }
  RunRange next() { return next_(); }

 private:
  const std::function<RunRange()>& next_;
};

// Runs per block with adaptive replication: whole configurations, as many as
// make the target work if each ran its minimum of replicates (a block that
// runs more takes longer; blocks stay many per thread), with at most 65536
// run slots as for fixed replication, since every slot of a block is held in
// memory while it is in flight; or the requested runs rounded up to whole
// configurations.
std::int64_t choose_adaptive_block_size(std::int64_t requested, std::int64_t configurations_left, std::int64_t slots,
                                        double mean_run_work, const ReplicationRule& rule, int threads) {
  std::int64_t block = 0;
  if (requested > 0) {
    block = (requested + slots - 1) / slots;
  } else {
    block = static_cast<std::int64_t>(
        std::ceil(target_block_work / (std::max(mean_run_work, 1.0) * static_cast<double>(rule.min))));
    block = std::min({block, (configurations_left + 4 * threads - 1) / (4 * threads), 65536 / slots});
  }
  return std::max<std::int64_t>(block, 1) * slots;
}

// The shared engine of run_design, simulate, compute_spans, compute_ranges and
// estimate_sweep: runs the ranges `source` hands out (as blocks) of
// configurations first_configuration..., `params_of(configuration)` giving a
// configuration's resolved parameters, and hands each block to `consume` in
// the order they were handed out. options.on_progress gets the runs delivered
// and `progress_total`. Returns false if options.stop ended it early (after
// the blocks in flight were delivered), true once `source` ran dry. With a
// replication rule, `replicates` is its max, the ranges must hold whole
// configurations, and each configuration runs the replicates the rule asks
// for, in rounds, leaving the other slots NaN.
template <typename ParamsOf, typename Source, typename Consume>
bool run_blocks(std::int64_t first_configuration, std::int64_t replicates, std::int64_t series_length,
                std::uint64_t seed, const ParamsOf& params_of, const ExecutionOptions& options, Source& source,
                const Consume& consume, std::int64_t progress_total,
                const ReplicationRule* rule = nullptr) {
  const int threads = resolve_threads(options.threads);
  tbb::enumerable_thread_specific<Worker> workers;
  std::int64_t done = 0;
  bool stopped = false;
  const auto length = static_cast<std::size_t>(series_length);
  // No exception leaves a stage: oneTBB, cancelling the pipeline, drops the
  // blocks waiting for the serial output stage without destroying them (found by
  // LeakSanitizer when a write fails mid-run). The first error is kept instead,
  // no block starts after it, those in flight drain, and it is rethrown after:
  // the output stage's (an earlier block's) before the source's.
  std::exception_ptr failure;         // set by the serial output stage only
  std::exception_ptr source_failure;  // set by the serial input stage only (a bad range), which then stops
  std::atomic<bool> failed{false};    // set with `failure`, read by the input and parallel stages

  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_pipeline(
        static_cast<std::size_t>(2 * threads + 2),
        tbb::make_filter<void, Block>(tbb::filter_mode::serial_in_order,
                                      [&](tbb::flow_control& control) {
                                        if (failed.load(std::memory_order_relaxed)) {
                                          control.stop();
                                          return Block{};
                                        }
                                        if (options.stop && options.stop->load(std::memory_order_relaxed)) {
                                          stopped = source.more();
                                          control.stop();
                                          return Block{};
                                        }
                                        RunRange range;
                                        try {
                                          range = source.more() ? source.next() : RunRange{};
                                        } catch (...) {
                                          // Blocks already out are whole: they finish and are delivered.
                                          source_failure = std::current_exception();
                                        }
                                        if (range.count <= 0) {
                                          control.stop();
                                          return Block{};
                                        }
                                        Block block;
                                        block.first = range.first;
                                        block.runs.resize(static_cast<std::size_t>(range.count));
                                        return block;
                                      }) &
            tbb::make_filter<Block, Block>(
                tbb::filter_mode::parallel,
                [&](Block block) {
                  if (failed.load(std::memory_order_relaxed)) return block;
                  try {
                    Worker& worker = workers.local();
                    const std::size_t count = block.runs.size();
                    if (length > 0) {
                      block.series.assign(series_names.size() * count * length,
                                          std::numeric_limits<double>::quiet_NaN());
                    }
                    if (rule != nullptr) {
                      run_adaptive(block, worker, seed, first_configuration, replicates, length, params_of, *rule);
                      return block;
                    }
                    std::int64_t cached_configuration = -1;
                    kernels::ModelParams params;
                    for (std::size_t i = 0; i < count; ++i) {
                      const std::int64_t run = block.first + static_cast<std::int64_t>(i);
                      const std::int64_t configuration = first_configuration + run / replicates;
                      if (configuration != cached_configuration) {
                        params = params_of(configuration);
                        cached_configuration = configuration;
                      }
                      const kernels::ReplicateStream stream(seed, static_cast<std::uint64_t>(configuration),
                                                            static_cast<std::uint64_t>(run % replicates));
                      block.runs[i] = kernels::simulate_vectorized(params, stream, worker.state,
                                                                   length > 0 ? &worker.series : nullptr);
                      if (length > 0) store_series(worker.series, i, count, length, block.series);
                    }
                  } catch (...) {
                    block.error = std::current_exception();
                  }
                  return block;
                }) &
            tbb::make_filter<Block, void>(tbb::filter_mode::serial_in_order, [&](Block block) {
              if (failure) return;
              try {
                if (block.error) std::rethrow_exception(block.error);
                consume(static_cast<const Block&>(block));
                done += static_cast<std::int64_t>(block.runs.size());
                if (options.on_progress) options.on_progress(done, progress_total);
              } catch (...) {
                failure = std::current_exception();
                failed.store(true, std::memory_order_relaxed);
              }
            }));
  });
  if (failure) std::rethrow_exception(failure);
  if (source_failure) std::rethrow_exception(source_failure);
  return !stopped;
}

// run_blocks over runs [0, total) in blocks from the cost of a run, for
// run_design, simulate and estimate_sweep; throws Interrupted when stopped.
template <typename ParamsOf, typename Consume>
void run_all(std::int64_t first_configuration, std::int64_t configurations, std::int64_t replicates,
             std::int64_t series_length, std::uint64_t seed, const ParamsOf& params_of, double mean_run_work,
             const ExecutionOptions& options, const Consume& consume, const ReplicationRule* rule = nullptr) {
  const std::int64_t total = configurations * replicates;
  const RunRange all{0, total};
  const int threads = resolve_threads(options.threads);
  SpanSource source(std::span(&all, 1),
                    rule != nullptr
                        ? choose_adaptive_block_size(options.block_size, configurations, replicates, mean_run_work,
                                                     *rule, threads)
                        : choose_block_size(options.block_size, total, mean_run_work, threads));
  std::int64_t delivered = 0;
  const bool finished = run_blocks(first_configuration, replicates, series_length, seed, params_of, options, source,
                                   [&](const Block& block) {
                                     consume(block);
                                     delivered += static_cast<std::int64_t>(block.runs.size());
                                   },
                                   total, rule);
  if (!finished) {
    throw Interrupted("stopped after " + std::to_string(delivered) + " of " + std::to_string(total) + " runs");
  }
}

double mean_design_work(const GridDesign& design, std::int64_t max_samples = 64) {
  // Sample up to 64 configurations evenly: enough to see the grid's spread of
  // sizes without resolving millions of them.
  const std::int64_t count = design.configuration_count();
  const std::int64_t samples = std::min<std::int64_t>(count, max_samples);
  double sum = 0.0;
  for (std::int64_t k = 0; k < samples; ++k) sum += run_work(design.configuration(k * count / samples));
  return sum / static_cast<double>(samples);
}

io::AxisValues axis_values(const GridAxis& axis) {
  const ParameterInfo& info = find_parameter(axis.name);
  switch (info.kind) {
    case ParameterKind::real: {
      std::vector<double> out;
      for (const auto& v : axis.values) {
        out.push_back(std::holds_alternative<double>(v) ? std::get<double>(v)
                                                        : static_cast<double>(std::get<std::int64_t>(v)));
      }
      return out;
    }
    case ParameterKind::integer: {
      std::vector<std::int64_t> out;
      for (const auto& v : axis.values) out.push_back(std::get<std::int64_t>(v));
      return out;
    }
    case ParameterKind::boolean: {
      std::vector<std::int64_t> out;
      for (const auto& v : axis.values) out.push_back(std::get<bool>(v) ? 1 : 0);
      return out;
    }
    case ParameterKind::choice: {
      std::vector<std::string> out;
      for (const auto& v : axis.values) out.push_back(std::get<std::string>(v));
      return out;
    }
  }
  return std::vector<double>{};
}

// What a session knows of itself when it opens the file.
struct Session {
  int threads = 1;
  int processes = 1;
  std::string started;  // UTC
  std::string note;     // StoreOptions::note
};

// The one line that describes a session in the journal and the `history` attribute.
std::string session_note(const Session& session) {
  const BuildInfo build = build_info();
  return "coopsweep " + std::string(engine_version) + " (commit " + std::string(build.git_commit) + ", " +
         std::string(build.build_type) + ", " + std::string(build.compiler) + ") on " + host_name() + ", " +
         std::to_string(session.threads) + (session.threads == 1 ? " thread, " : " threads, ") +
         std::to_string(session.processes) + (session.processes == 1 ? " process" : " processes") +
         (session.note.empty() ? "" : "; " + session.note);
}

// The values of sampled parameter j at every sample point: int64 for integer
// parameters, float64 for real ones.
io::AxisValues sampled_values(const Design& design, std::size_t j) {
  const auto points = design.sample_count();
  if (std::holds_alternative<std::int64_t>(design.sampled()[j].low)) {
    std::vector<std::int64_t> out(static_cast<std::size_t>(points));
    for (std::int64_t s = 0; s < points; ++s) out[static_cast<std::size_t>(s)] = std::get<std::int64_t>(design.sample_value(s, j));
    return out;
  }
  std::vector<double> out(static_cast<std::size_t>(points));
  for (std::int64_t s = 0; s < points; ++s) out[static_cast<std::size_t>(s)] = std::get<double>(design.sample_value(s, j));
  return out;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : " ") + name;
  return out;
}

io::ResultsLayout results_layout(const SweepSpec& spec, const GridDesign& design, const Session& session) {
  io::ResultsLayout layout;
  for (const auto& axis : design.axes()) {
    const ParameterInfo& info = find_parameter(axis.name);
    layout.axes.push_back({axis.name, axis_values(axis), std::string(info.meaning), ""});
  }
  const bool sampled = design.sample_design() != SampleDesign::none;
  if (sampled) {
    std::vector<std::int64_t> points(static_cast<std::size_t>(design.sample_count()));
    for (std::size_t s = 0; s < points.size(); ++s) points[s] = static_cast<std::int64_t>(s);
    layout.axes.push_back({"sample", std::move(points),
                           "point of the " + std::string(design_name(design.sample_design())) + " design", ""});
    for (std::size_t j = 0; j < design.sampled().size(); ++j) {
      const SampledParameter& p = design.sampled()[j];
      layout.coordinates.push_back(
          {p.name, "sample", sampled_values(design, j), std::string(find_parameter(p.name).meaning), ""});
    }
  }
  if (spec.replication.adaptive()) {
    layout.counts.push_back({"replicates_run", "replicates run for the configuration (the rest of replicate is NaN)", ""});
  }
  layout.replicates = design.replicates();
  for (const auto& info : kernels::metric_info) {
    layout.metrics.push_back({std::string(info.name), std::string(info.long_name), std::string(info.units)});
  }
  layout.series_length = series_length(spec);
  if (layout.series_length > 0) {
    // Same order as series_names and kernels::RoundSeries.
    const std::pair<kernels::Metric, const char*> series[] = {
        {kernels::Metric::cooperation, "share of directed alliance edges with a cooperative act in the round"},
        {kernels::Metric::trust, "trust summed over edges of active alliances per edge of G0, after the round"},
        {kernels::Metric::payoff, "payoff per firm in the round"},
        {kernels::Metric::alliances, "share of the alliances of G0 active after the round"}};
    for (std::size_t v = 0; v < series_names.size(); ++v) {
      const auto& info = kernels::metric_info[static_cast<std::size_t>(series[v].first)];
      layout.series.push_back({std::string(series_names[v]), series[v].second, std::string(info.units)});
    }
  }
  // Attributes that identify the results (compared when a run is resumed),
  // then those that tell how they were made (provenance = true, not compared).
  auto& attributes = layout.attributes;
  const BuildInfo build = build_info();
  attributes.push_back({"title", std::string("coopsweep parameter sweep")});
  attributes.push_back({"spec", spec.text, true});
  attributes.push_back({"spec_source", spec.source, true});
  attributes.push_back({"git_commit", std::string(build.git_commit), true});
  attributes.push_back({"build_type", std::string(build.build_type), true});
  attributes.push_back({"compiler", std::string(build.compiler), true});
  attributes.push_back({"host_name", host_name(), true});
  attributes.push_back({"threads", std::int64_t{session.threads}, true});
  attributes.push_back({"processes", std::int64_t{session.processes}, true});
  attributes.push_back({"start_time", session.started, true});
  attributes.push_back({"seed", static_cast<std::int64_t>(spec.seed)});
  attributes.push_back({"replicates", spec.replicates});
  attributes.push_back({"model_version", static_cast<std::int64_t>(model_version)});
  attributes.push_back({"engine_version", std::string(engine_version)});
  attributes.push_back({"summary_std_ddof", std::int64_t{1}});
  // Every parameter that is not a grid axis, defaults included, as its own
  // attribute, with the values the runs used (resolved: complete sets k = N - 1).
  // Sampled parameters vary like axes: they are coordinates, not attributes.
  const auto is_axis = [&](std::string_view name) {
    return std::any_of(design.axes().begin(), design.axes().end(), [&](const GridAxis& a) { return a.name == name; }) ||
           std::any_of(design.sampled().begin(), design.sampled().end(),
                       [&](const SampledParameter& p) { return p.name == name; });
  };
  const kernels::ModelParams resolved = design.configuration(0);
  // Without its own axis, k still varies when complete meets a swept topology or firm count.
  const bool complete_anywhere =
      is_axis("topology") ? std::any_of(design.axes().begin(), design.axes().end(),
                                        [](const GridAxis& a) {
                                          return a.name == "topology" &&
                                                 std::count(a.values.begin(), a.values.end(),
                                                            ParameterValue(std::string("complete"))) > 0;
                                        })
                          : resolved.topology == kernels::Topology::complete;
  const bool partners_vary = !is_axis("partners") && complete_anywhere && (is_axis("topology") || is_axis("firms"));
  std::string swept;
  for (const auto& info : parameter_table()) {
    if (is_axis(info.name)) {
      if (std::any_of(design.axes().begin(), design.axes().end(), [&](const GridAxis& a) { return a.name == info.name; })) {
        swept += (swept.empty() ? "" : " ") + std::string(info.name);
      }
      continue;
    }
    if (info.name == "partners" && partners_vary) {
      attributes.push_back({"partners", "firms - 1 where topology is 'complete', else " +
                                            std::to_string(spec.model.partners)});
      continue;
    }
    const ParameterValue value = get_parameter(resolved, info.name);
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, bool>) {
            attributes.push_back({std::string(info.name), std::int64_t{v ? 1 : 0}});
          } else {
            attributes.push_back({std::string(info.name), v});
          }
        },
        value);
  }
  attributes.push_back({"grid_axes", swept});
  if (sampled) {
    const SampleSpec& sample = design.sample();
    std::vector<std::string> names, ranges;
    for (const auto& p : sample.parameters) {
      names.push_back(p.name);
      ranges.push_back(p.name + "=[" + format_value(p.low) + ", " + format_value(p.high) + "]");
    }
    attributes.push_back({"sample_design", std::string(design_name(sample.design))});
    attributes.push_back({"sample_parameters", join_names(names)});
    std::string range_text;
    for (const auto& r : ranges) range_text += (range_text.empty() ? "" : "; ") + r;
    attributes.push_back({"sample_ranges", range_text});
    attributes.push_back({"sample_points", design.sample_count()});
    if (sample.design == SampleDesign::saltelli) attributes.push_back({"saltelli_base_samples", sample.samples});
    if (sample.design == SampleDesign::morris) {
      attributes.push_back({"morris_trajectories", sample.trajectories});
      attributes.push_back({"morris_levels", sample.levels});
    }
  }
  if (spec.replication.adaptive()) {
    const ReplicationSpec& rule = spec.replication;
    attributes.push_back({"replication_target_ci", rule.target_ci});
    attributes.push_back({"replication_metrics", join_names(rule.metrics)});
    attributes.push_back({"replication_min", rule.min});
    attributes.push_back({"replication_max", rule.max});
    attributes.push_back({"replication_step", rule.step});
  }
  attributes.push_back({"timeseries", std::int64_t{spec.timeseries ? 1 : 0}});
  return layout;
}

// The subset of runs a file stores, checked and with adjacent ranges joined.
// Throws InputError for ranges that are empty, overlap, go backwards or leave
// the sweep.
std::vector<RunRange> normalized_subset(std::span<const RunRange> subset, std::int64_t runs) {
  std::vector<RunRange> out;
  std::int64_t end = 0;
  for (const RunRange& range : subset) {
    if (range.count <= 0 || range.first < end || range.first > runs || range.count > runs - range.first) {
      throw InputError("the runs to store must be ascending, disjoint, non-empty ranges within the sweep's " +
                       std::to_string(runs) + " runs; got [" + std::to_string(range.first) + ", " +
                       std::to_string(range.first + range.count) + ") after run " + std::to_string(end));
    }
    if (!out.empty() && out.back().first + out.back().count == range.first) {
      out.back().count += range.count;
    } else {
      out.push_back(range);
    }
    end = range.first + range.count;
  }
  return out;
}

// The layout of a file that stores `subset` (normalized) of a sweep's runs:
// one dimension, `run`, whose coordinate holds the runs' indices in the sweep;
// no replicate dimension and no summaries, which only the whole sweep has.
io::ResultsLayout subset_layout(io::ResultsLayout layout, std::span<const RunRange> subset) {
  std::vector<std::int64_t> runs;
  for (const RunRange& range : subset) {
    for (std::int64_t r = range.first; r < range.first + range.count; ++r) runs.push_back(r);
  }
  layout.axes = {{"run", std::move(runs),
                  "index of the run in the sweep: configuration * replicates + replicate, configurations "
                  "row-major over the grid axes (grid_axes)",
                  ""}};
  layout.replicates = 1;
  layout.replicate_dimension = false;
  layout.summaries = false;
  // The sampled points' coordinates lie along `sample`, which a subset does
  // not have; its `run` indices and the spec's sample attributes name them.
  layout.coordinates.clear();
  return layout;
}

io::ResultsLayout store_layout(const SweepSpec& spec, const GridDesign& design, const Session& session,
                               const StoreOptions& store, std::span<const RunRange> subset) {
  if (!subset.empty() && spec.replication.adaptive()) {
    // The replicates an adaptive configuration runs are decided on all of
    // them together, and a subset file has no per-configuration dimension
    // for the count: such a sweep runs whole, in one process or under MPI.
    throw InputError("adaptive replication ([replication]) cannot be stored as a subset of runs (a shard): "
                     "each configuration's replicates are decided together and counted per configuration; "
                     "run it whole, in one process or with mpirun");
  }
  io::ResultsLayout layout = results_layout(spec, design, session);
  if (!subset.empty()) layout = subset_layout(std::move(layout), subset);
  layout.attributes.insert(layout.attributes.end(), store.attributes.begin(), store.attributes.end());
  return layout;
}

// Item i of `count` from metric-major values (as the results file reads them).
RunMetrics row_of(const std::vector<double>& metric_major, std::int64_t count, std::int64_t i) {
  RunMetrics row{};
  for (std::size_t m = 0; m < metric_count; ++m) {
    row[m] = metric_major[m * static_cast<std::size_t>(count) + static_cast<std::size_t>(i)];
  }
  return row;
}

// The attributes only a finished file has, from the journal's sessions.
std::vector<io::Attribute> final_attributes(std::span<const io::JournalSession> sessions, double this_session_seconds,
                                            std::int64_t runs, const StoreOptions& store) {
  double seconds = store.prior_seconds;
  std::string history;
  for (const std::string& line : store.prior_history) history += (history.empty() ? "" : "\n") + line;
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    const io::JournalSession& session = sessions[i];
    const bool last = i + 1 == sessions.size();
    const double session_seconds = last ? this_session_seconds : session.seconds;
    const std::int64_t runs_done = last ? runs : session.runs_done;
    seconds += session_seconds;
    char took[32];
    std::snprintf(took, sizeof took, "%.3f", session_seconds);
    history += (history.empty() ? "" : "\n") + session.started + " " + session.note + ": runs " +
               std::to_string(session.first_run) + " to " + std::to_string(runs_done) + " of " + std::to_string(runs) +
               " in " + took + " s";
  }
  return {
      {"start_time", sessions.empty() ? io::utc_now() : sessions.front().started, true},
      {"end_time", io::utc_now(), true},
      // Seconds spent running, summed over sessions (a killed session counts up to its last checkpoint).
      {"wall_time_seconds", seconds, true},
      {"sessions", static_cast<std::int64_t>(sessions.size()), true},
      {"history", history, true},
  };
}

// A source whose ranges must lie within the sweep: the design would wrap
// indices beyond it around to other configurations silently. With adaptive
// replication (`whole` = the replicates of a configuration, else 1) they must
// also hold whole configurations, which the replication rule decides on.
template <typename Source>
class CheckedSource {
 public:
  CheckedSource(Source& source, std::int64_t runs, std::int64_t whole = 1)
      : source_(source), runs_(runs), whole_(whole) {}
  bool more() const { return source_.more(); }
  RunRange next() {
    const RunRange range = source_.next();
    if (range.count > 0 && (range.first < 0 || range.first > runs_ - range.count)) {
      throw std::out_of_range("runs [" + std::to_string(range.first) + ", " +
                              std::to_string(range.first + range.count) + ") lie outside the sweep's " +
                              std::to_string(runs_) + " runs");
    }
    if (range.count > 0 && (range.first % whole_ != 0 || range.count % whole_ != 0)) {
      throw std::invalid_argument("runs [" + std::to_string(range.first) + ", " +
                                  std::to_string(range.first + range.count) +
                                  ") are not whole configurations of " + std::to_string(whole_) +
                                  " replicates, which adaptive replication needs");
    }
    return range;
  }

 private:
  Source& source_;
  std::int64_t runs_;
  std::int64_t whole_;
};

// compute_spans and compute_ranges: the blocks of `source`, with series when
// the spec stores them, to `sink`; Interrupted when stopped.
template <typename Source>
void compute(const SweepSpec& spec, const GridDesign& design, const ExecutionOptions& options, Source& unchecked,
             const BlockSink& sink) {
  const std::optional<ReplicationRule> rule =
      spec.replication.adaptive() ? std::optional(replication_rule(spec.replication)) : std::nullopt;
  CheckedSource<Source> source(unchecked, design.run_count(), rule ? design.replicates() : 1);
  std::int64_t delivered = 0;
  ExecutionOptions quiet = options;
  quiet.on_progress = nullptr;
  const bool finished = run_blocks(
      0, design.replicates(), series_length(spec), spec.seed,
      [&](std::int64_t configuration) { return design.configuration(configuration); }, quiet, source,
      [&](const Block& block) {
        sink(BlockResults{block.first, block.runs, block.series, block.counts});
        delivered += static_cast<std::int64_t>(block.runs.size());
      },
      -1, rule ? &*rule : nullptr);
  if (!finished) throw Interrupted("stopped after " + std::to_string(delivered) + " runs");
}

}  // namespace

void run_design(const GridDesign& design, std::uint64_t seed, const ExecutionOptions& options,
                const BlockConsumer& consume, const ReplicationRule* replication) {
  design.validate_all();
  if (replication != nullptr && replication->max != design.replicates()) {
    throw std::invalid_argument("run_design: the replication rule's max differs from the design's replicates");
  }
  check_memory(memory_need(design, false, resolve_threads(options.threads)), options.memory_limit);
  run_all(
      0, design.configuration_count(), design.replicates(), 0, seed,
      [&](std::int64_t configuration) { return design.configuration(configuration); }, mean_design_work(design),
      options, [&](const Block& block) { consume(block.first, block.runs); }, replication);
}

std::vector<RunMetrics> simulate(const kernels::ModelParams& params, std::uint64_t seed, std::int64_t replicates,
                                 std::int64_t configuration, const ExecutionOptions& options) {
  check_memory(memory_need(params, replicates, false, resolve_threads(options.threads)), options.memory_limit);
  std::vector<RunMetrics> out(static_cast<std::size_t>(replicates));
  run_all(configuration, 1, replicates, 0, seed, [&](std::int64_t) { return params; }, run_work(params),
             options, [&](const Block& block) {
               std::copy(block.runs.begin(), block.runs.end(), out.begin() + block.first);
             });
  return out;
}

void summarize_replicates(std::span<const RunMetrics> replicates, std::span<double> mean, std::span<double> std) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t m = 0; m < metric_count; ++m) {
    double sum = 0.0;
    std::int64_t count = 0;
    for (const auto& run : replicates) {
      if (!std::isnan(run[m])) {
        sum += run[m];
        ++count;
      }
    }
    const double mu = count > 0 ? sum / static_cast<double>(count) : nan;
    // Two passes: the deviation from the mean, not sum of squares minus square
    // of sums, which cancels catastrophically for metrics far from zero.
    double squares = 0.0;
    for (const auto& run : replicates) {
      if (!std::isnan(run[m])) squares += (run[m] - mu) * (run[m] - mu);
    }
    mean[m] = mu;
    std[m] = count > 1 ? std::sqrt(squares / static_cast<double>(count - 1)) : nan;
  }
}

std::int64_t series_length(const SweepSpec& spec) {
  if (!spec.timeseries) return 0;
  std::int64_t rounds = spec.model.rounds;
  for (const auto& axis : spec.axes) {
    if (axis.name != "rounds") continue;
    rounds = 0;
    for (const auto& value : axis.values) rounds = std::max(rounds, std::get<std::int64_t>(value));
  }
  for (const auto& sampled : spec.sample.parameters) {
    if (sampled.name == "rounds") rounds = std::get<std::int64_t>(sampled.high);
  }
  return rounds;
}

std::int64_t series_bytes(const SweepSpec& spec) {
  std::int64_t runs = spec.replicates * std::max<std::int64_t>(spec.sample.points(), 1);
  for (const auto& axis : spec.axes) runs *= static_cast<std::int64_t>(axis.values.size());
  return runs * series_length(spec) * static_cast<std::int64_t>(series_names.size() * sizeof(double));
}

std::optional<std::string> series_warning(const SweepSpec& spec) {
  const double bytes = static_cast<double>(series_bytes(spec));
  if (bytes <= spec.timeseries_limit_gb * 1e9) return std::nullopt;
  char text[256];
  std::snprintf(text, sizeof text,
                "the time series ([output] timeseries = true) will take about %.3g GB uncompressed "
                "(%zu series x %lld rounds per run), more than [output] timeseries_limit_gb = %g",
                bytes / 1e9, series_names.size(), static_cast<long long>(series_length(spec)),
                spec.timeseries_limit_gb);
  return std::string(text);
}

SweepReport write_sweep(const SweepSpec& spec, const std::filesystem::path& path, bool overwrite,
                        const ExecutionOptions& options) {
  StoreOptions store;
  store.overwrite = overwrite;
  return write_sweep(spec, path, store, options);
}

SweepReport write_sweep(const SweepSpec& spec, const std::filesystem::path& path, const StoreOptions& store,
                        const ExecutionOptions& options) {
  // Refused before anything is created, as for a bad spec. The general form
  // below checks nothing: its producer may run nothing here (a merge of shards)
  // or run elsewhere (MPI ranks, which check in compute_ranges).
  {
    const GridDesign design(spec);
    design.validate_all();
    check_memory(memory_need(design, spec.timeseries, resolve_threads(options.threads)), options.memory_limit);
  }
  return write_sweep(spec, path, store, options, [&](std::span<const RunRange> spans, const BlockSink& sink) {
    ExecutionOptions compute = options;
    compute.on_progress = nullptr;  // the store reports progress as it writes
    compute_spans(spec, compute, spans, sink);
  });
}

SweepReport write_sweep(const SweepSpec& spec, const std::filesystem::path& path, const StoreOptions& store,
                        const ExecutionOptions& options, const BlockProducer& produce) {
  const GridDesign design(spec);
  design.validate_all();
  const std::vector<RunRange> subset = normalized_subset(store.subset, design.run_count());
  const auto started = std::chrono::steady_clock::now();
  Session session;
  session.threads = store.threads > 0 ? store.threads : resolve_threads(options.threads);
  session.processes = store.processes;
  session.started = io::utc_now();
  session.note = store.note;
  const io::ResultsLayout layout = store_layout(spec, design, session, store, subset);
  io::OpenOptions open;
  open.overwrite = store.overwrite;
  open.resume = store.resume;
  open.session = session_note(session);
  io::ResultsFile file = [&] {
    // Refusals are bad input (exit status 2), made before anything changed.
    try {
      return io::ResultsFile::open(path, layout, open);
    } catch (const io::ResumeMismatch& error) {
      throw InputError(error.what());
    } catch (const io::FileBusy& error) {
      throw InputError(error.what());
    }
  }();

  SweepReport report;
  report.configurations = design.configuration_count();
  report.runs = design.run_count();
  report.file_runs = file.run_count();
  report.min_mean.fill(std::numeric_limits<double>::infinity());
  report.max_mean.fill(-std::numeric_limits<double>::infinity());
  report.argmin.fill(-1);
  report.argmax.fill(-1);
  const auto note_means = [&](std::int64_t configuration, std::span<const double> mu) {
    for (std::size_t m = 0; m < metric_count; ++m) {
      if (mu[m] < report.min_mean[m]) report.min_mean[m] = mu[m], report.argmin[m] = configuration;
      if (mu[m] > report.max_mean[m]) report.max_mean[m] = mu[m], report.argmax[m] = configuration;
    }
  };
  if (file.complete()) {
    report.already_complete = true;
    report.resumed_runs = report.file_runs;
    return report;
  }

  const std::int64_t replicates = design.replicates();
  const std::optional<ReplicationRule> rule =
      spec.replication.adaptive() ? std::optional(replication_rule(spec.replication)) : std::nullopt;
  // The runs still to do, in the sweep's run index space: after those a
  // resume found stored (the file's first runs), to the end of the file.
  // Adaptive blocks hold whole configurations, so checkpoints fall between
  // them; a resume restarts at the configuration in progress regardless.
  const std::int64_t resumed = rule ? file.committed_runs() - file.committed_runs() % replicates : file.committed_runs();
  report.resumed_runs = resumed;
  report.adaptive = rule.has_value();
  const auto note_counts = [&](std::span<const std::int64_t> counts) {
    for (const std::int64_t n : counts) {
      report.replicates_run += n;
      report.fewest_replicates = report.fewest_replicates == 0 ? n : std::min(report.fewest_replicates, n);
      report.most_replicates = std::max(report.most_replicates, n);
    }
  };
  std::vector<RunRange> todo;
  if (subset.empty()) {
    if (resumed < report.runs) todo.push_back({resumed, report.runs - resumed});
  } else {
    std::int64_t skip = resumed;
    for (const RunRange& range : subset) {
      const std::int64_t skipped = std::min(skip, range.count);
      skip -= skipped;
      if (skipped < range.count) todo.push_back({range.first + skipped, range.count - skipped});
    }
  }

  // Replicate summaries need whole configurations, which only a file of the
  // whole sweep is sure to hold.
  const bool summaries = subset.empty();
  std::vector<RunMetrics> current;  // replicates of the configuration in progress
  current.reserve(static_cast<std::size_t>(std::min<std::int64_t>(replicates, 1 << 16)));
  std::int64_t next_configuration = resumed / replicates;
  if (resumed > 0 && store.on_resume) store.on_resume(resumed, report.file_runs);
  if (resumed > 0 && summaries) {
    // The summary report covers the configurations finished before, read back in slabs.
    constexpr std::int64_t slab = 1 << 16;
    for (std::int64_t first = 0; first < next_configuration; first += slab) {
      const std::int64_t count = std::min(slab, next_configuration - first);
      const std::vector<double> means = file.read_means(first, count);
      for (std::int64_t c = 0; c < count; ++c) note_means(first + c, row_of(means, count, c));
      if (rule) note_counts(file.read_counts(first, count));
    }
    // The replicates already stored of the configuration the resume continues.
    const std::int64_t first_replicate = next_configuration * replicates;
    const std::int64_t stored = resumed - first_replicate;
    const std::vector<double> values = file.read_runs(first_replicate, stored);
    for (std::int64_t r = 0; r < stored; ++r) current.push_back(row_of(values, stored, r));
  }

  std::vector<double> columns;                    // a block's runs, metric-major
  std::vector<double> means, stds;                // finished configurations, metric-major
  std::vector<std::array<double, metric_count>> pending_mean, pending_std;
  std::int64_t written = resumed;                 // runs of the file (and their summaries) written so far
  std::size_t span = 0;                           // where the next block must start: todo[span], `offset` in
  std::int64_t offset = 0;
  auto last_checkpoint = std::chrono::steady_clock::now();

  const auto store_block = [&](const BlockResults& block) {
    const std::span<const RunMetrics> runs = block.runs;
    const auto count = runs.size();
    const auto n = static_cast<std::int64_t>(count);
    // A producer that delivers out of order or beyond the runs asked for
    // would store wrong data silently: refuse it.
    if (span >= todo.size() || block.first_run != todo[span].first + offset || n <= 0 ||
        n > todo[span].count - offset) {
      throw std::logic_error("write_sweep: a block of runs [" + std::to_string(block.first_run) + ", " +
                             std::to_string(block.first_run + n) + ") arrived out of order");
    }
    const std::size_t length = static_cast<std::size_t>(layout.series_length);
    if (!block.series.empty() && block.series.size() != series_names.size() * count * length) {
      throw std::logic_error("write_sweep: a block's series have the wrong size");
    }
    // With adaptive replication every block is whole configurations with the
    // replicates each ran; without it, no counts.
    if (rule ? (block.first_run % replicates != 0 || n % replicates != 0 ||
                static_cast<std::int64_t>(block.counts.size()) != n / replicates)
             : !block.counts.empty()) {
      throw std::logic_error("write_sweep: a block of runs [" + std::to_string(block.first_run) + ", " +
                             std::to_string(block.first_run + n) +
                             ") does not match the replication rule (whole configurations with their counts)");
    }
    offset += n;
    if (offset == todo[span].count) ++span, offset = 0;

    if (!block.counts.empty()) {
      file.write_counts(block.first_run / replicates, static_cast<std::int64_t>(block.counts.size()), block.counts);
      note_counts(block.counts);
    }

    columns.resize(count * metric_count);
    for (std::size_t i = 0; i < count; ++i) {
      for (std::size_t m = 0; m < metric_count; ++m) columns[m * count + i] = runs[i][m];
    }
    file.write_runs(written, n, columns);
    if (!block.series.empty()) file.write_series(written, n, block.series);

    if (summaries) {
      pending_mean.clear();
      pending_std.clear();
      const std::int64_t first_finished = next_configuration;
      for (const auto& run : runs) {
        current.push_back(run);
        if (static_cast<std::int64_t>(current.size()) == replicates) {
          std::array<double, metric_count> mu{}, sd{};
          summarize_replicates(current, mu, sd);
          note_means(next_configuration, mu);
          pending_mean.push_back(mu);
          pending_std.push_back(sd);
          current.clear();
          ++next_configuration;
        }
      }
      const auto finished = pending_mean.size();
      if (finished > 0) {
        means.resize(finished * metric_count);
        stds.resize(finished * metric_count);
        for (std::size_t c = 0; c < finished; ++c) {
          for (std::size_t m = 0; m < metric_count; ++m) {
            means[m * finished + c] = pending_mean[c][m];
            stds[m * finished + c] = pending_std[c][m];
          }
        }
        file.write_summaries(first_finished, static_cast<std::int64_t>(finished), means, stds);
      }
    }
    written += n;
    if (options.on_progress) options.on_progress(written, report.file_runs);
    // The summaries of every configuration finished so far are written
    // too, so a checkpoint here promises exactly what it says.
    const auto now = std::chrono::steady_clock::now();
    if (written < report.file_runs &&
        std::chrono::duration<double>(now - last_checkpoint).count() >= store.checkpoint_interval) {
      file.checkpoint(written);
      last_checkpoint = now;
    }
  };

  // An adaptive resume restarts below the runs committed; a checkpoint never
  // promises fewer than those.
  const auto keep = [&] { file.checkpoint(std::max(written, file.committed_runs())); };
  try {
    if (!todo.empty()) produce(todo, store_block);
  } catch (const Interrupted&) {
    // What was delivered before the stop is written: keep it for a resume.
    keep();
    throw Interrupted("stopped after " + std::to_string(written) + " of " + std::to_string(report.file_runs) +
                      " runs");
  } catch (const io::ResultsFileError&) {
    throw;  // the file itself failed; its last checkpoint stands
  } catch (...) {
    // The producer failed (a rank, a shard): keep what it delivered.
    try {
      keep();
    } catch (...) {
    }
    throw;
  }
  if (written != report.file_runs) {
    throw std::logic_error("write_sweep: the producer delivered " + std::to_string(written - resumed) + " of the " +
                           std::to_string(report.file_runs - resumed) + " runs asked for");
  }
  if (!rule) report.replicates_run = report.file_runs;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  file.finish(final_attributes(file.sessions(), seconds, report.file_runs, store));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

io::ResultsLayout results_layout(const SweepSpec& spec, const StoreOptions& store, int threads) {
  const GridDesign design(spec);
  design.validate_all();
  Session session;
  session.threads = threads;
  session.processes = store.processes;
  session.started = io::utc_now();
  session.note = store.note;
  return store_layout(spec, design, session, store, normalized_subset(store.subset, design.run_count()));
}

std::int64_t run_count(const SweepSpec& spec) { return GridDesign(spec).run_count(); }

std::int64_t block_size(const SweepSpec& spec, std::int64_t requested, std::int64_t runs, int threads) {
  const GridDesign design(spec);
  if (spec.replication.adaptive()) {
    const std::int64_t slots = design.replicates();
    return choose_adaptive_block_size(requested, (runs + slots - 1) / slots, slots,
                                      requested > 0 ? 1.0 : mean_design_work(design),
                                      replication_rule(spec.replication), resolve_threads(threads));
  }
  if (requested > 0) return requested;
  return choose_block_size(0, runs, mean_design_work(design), resolve_threads(threads));
}

void compute_spans(const SweepSpec& spec, const ExecutionOptions& options, std::span<const RunRange> spans,
                   const BlockSink& sink) {
  const GridDesign design(spec);
  std::int64_t runs = 0;
  for (const RunRange& range : spans) runs += std::max<std::int64_t>(range.count, 0);
  SpanSource source(spans, block_size(spec, options.block_size, runs, options.threads));
  compute(spec, design, options, source, sink);
}

void compute_ranges(const SweepSpec& spec, const ExecutionOptions& options,
                    const std::function<RunRange()>& next_range, const BlockSink& sink) {
  const GridDesign design(spec);
  // Each process that computes (an MPI rank, on its own node) checks its own memory.
  check_memory(memory_need(design, spec.timeseries, resolve_threads(options.threads)), options.memory_limit);
  FunctionSource source(next_range);
  compute(spec, design, options, source, sink);
}

SweepEstimate estimate_sweep(const SweepSpec& spec, const ExecutionOptions& options, std::int64_t runs_done,
                             double calibration_seconds) {
  const GridDesign design(spec);
  design.validate_all();
  // The calibration runs real configurations: refused before, like the sweep.
  check_memory(memory_need(design, spec.timeseries, resolve_threads(options.threads)), options.memory_limit);
  SweepEstimate estimate;
  estimate.configurations = design.configuration_count();
  estimate.runs = design.run_count();
  estimate.runs_left = std::max<std::int64_t>(0, estimate.runs - std::clamp<std::int64_t>(runs_done, 0, estimate.runs));
  const std::int64_t length = series_length(spec);
  const int threads = resolve_threads(options.threads);

  // Sample runs spread evenly over the run index space (so over the grid), in
  // rounds that double until one lasts long enough to time; the first round
  // also pays for starting the threads.
  ExecutionOptions calibration = options;
  calibration.block_size = 1;
  calibration.on_progress = nullptr;
  std::int64_t sample = std::min<std::int64_t>(estimate.runs, std::max(8, 4 * threads));
  const auto run_of = [&](std::int64_t k) { return k * estimate.runs / sample; };
  std::vector<double> values, series;
  double elapsed = 0.0;
  double sample_work = 0.0;
  while (true) {
    values.assign(metric_count * static_cast<std::size_t>(sample), 0.0);
    series.assign(series_names.size() * static_cast<std::size_t>(sample * length), 0.0);
    const auto n = static_cast<std::size_t>(sample);
    const auto start = std::chrono::steady_clock::now();
    run_all(
        0, sample, 1, length, spec.seed,
        [&](std::int64_t k) { return design.configuration(run_of(k) / design.replicates()); }, 1.0, calibration,
        [&](const Block& block) {
          const auto count = block.runs.size();
          for (std::size_t i = 0; i < count; ++i) {
            const auto k = static_cast<std::size_t>(block.first) + i;
            for (std::size_t m = 0; m < metric_count; ++m) values[m * n + k] = block.runs[i][m];
            for (std::size_t v = 0; v < series_names.size() && length > 0; ++v) {
              const auto len = static_cast<std::size_t>(length);
              std::copy_n(block.series.begin() + static_cast<std::ptrdiff_t>((v * count + i) * len), len,
                          series.begin() + static_cast<std::ptrdiff_t>((v * n + k) * len));
            }
          }
        });
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed >= calibration_seconds / 2 || sample >= estimate.runs) break;
    sample = std::min(estimate.runs, 2 * sample);
  }
  for (std::int64_t k = 0; k < sample; ++k) {
    sample_work += run_work(design.configuration(run_of(k) / design.replicates()));
  }
  estimate.calibration_runs = sample;
  estimate.calibration_seconds = elapsed;
  // Time scales with the work of a run (N (k + 1) T edge-rounds), which the
  // sample and a wider sample of the grid's configurations give.
  const double seconds_per_work = elapsed / std::max(sample_work, 1.0);
  estimate.seconds = seconds_per_work * mean_design_work(design, 4096) * static_cast<double>(estimate.runs_left);

  Session session;
  session.threads = threads;
  session.started = io::utc_now();
  const io::FileSizeEstimate sizes =
      io::estimate_file_size(results_layout(spec, design, session), sample, values, series);
  estimate.partial_bytes = sizes.partial_bytes;
  estimate.file_bytes = sizes.final_bytes;
  estimate.series_bytes = series_bytes(spec);
  return estimate;
}

}  // namespace coopsweep::sweep
