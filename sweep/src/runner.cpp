#include <coopsweep/sweep/runner.hpp>

#include <coopsweep/io/results_file.hpp>
#include <coopsweep/kernels/reference.hpp>
#include <coopsweep/version.hpp>

#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

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
};

// The shared engine of run_design and simulate: `params_of(configuration)`
// gives a configuration's resolved parameters.
template <typename ParamsOf>
void run_blocks(std::int64_t first_configuration, std::int64_t configurations, std::int64_t replicates,
                std::uint64_t seed, const ParamsOf& params_of, double mean_run_work,
                const ExecutionOptions& options, const BlockConsumer& consume) {
  const int threads = resolve_threads(options.threads);
  const std::int64_t total = configurations * replicates;
  const std::int64_t block_size = choose_block_size(options.block_size, total, mean_run_work, threads);
  tbb::enumerable_thread_specific<kernels::ReplicateState> states;
  std::int64_t next = 0;
  std::int64_t done = 0;
  bool stopped = false;

  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_pipeline(
        static_cast<std::size_t>(2 * threads + 2),
        tbb::make_filter<void, Block>(tbb::filter_mode::serial_in_order,
                                      [&](tbb::flow_control& control) {
                                        if (next >= total ||
                                            (options.stop && options.stop->load(std::memory_order_relaxed))) {
                                          stopped = next < total;
                                          control.stop();
                                          return Block{};
                                        }
                                        Block block;
                                        block.first = next;
                                        block.runs.resize(static_cast<std::size_t>(
                                            std::min(block_size, total - next)));
                                        next += static_cast<std::int64_t>(block.runs.size());
                                        return block;
                                      }) &
            tbb::make_filter<Block, Block>(
                tbb::filter_mode::parallel,
                [&](Block block) {
                  kernels::ReplicateState& state = states.local();
                  std::int64_t cached_configuration = -1;
                  kernels::ModelParams params;
                  for (std::size_t i = 0; i < block.runs.size(); ++i) {
                    const std::int64_t run = block.first + static_cast<std::int64_t>(i);
                    const std::int64_t configuration = first_configuration + run / replicates;
                    if (configuration != cached_configuration) {
                      params = params_of(configuration);
                      cached_configuration = configuration;
                    }
                    const kernels::ReplicateStream stream(seed, static_cast<std::uint64_t>(configuration),
                                                          static_cast<std::uint64_t>(run % replicates));
                    block.runs[i] = kernels::simulate_reference(params, stream, state);
                  }
                  return block;
                }) &
            tbb::make_filter<Block, void>(tbb::filter_mode::serial_in_order, [&](Block block) {
              consume(block.first, block.runs);
              done += static_cast<std::int64_t>(block.runs.size());
              if (options.on_progress) options.on_progress(done, total);
            }));
  });
  if (stopped) {
    throw Interrupted("stopped after " + std::to_string(done) + " of " + std::to_string(total) + " runs");
  }
}

double mean_design_work(const GridDesign& design) {
  // Sample up to 64 configurations evenly: enough to see the grid's spread of
  // sizes without resolving millions of them.
  const std::int64_t count = design.configuration_count();
  const std::int64_t samples = std::min<std::int64_t>(count, 64);
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

io::ResultsLayout results_layout(const SweepSpec& spec, const GridDesign& design) {
  io::ResultsLayout layout;
  for (const auto& axis : design.axes()) {
    const ParameterInfo& info = find_parameter(axis.name);
    layout.axes.push_back({axis.name, axis_values(axis), std::string(info.meaning), ""});
  }
  layout.replicates = design.replicates();
  for (const auto& info : kernels::metric_info) {
    layout.metrics.push_back({std::string(info.name), std::string(info.long_name), std::string(info.units)});
  }
  auto& attributes = layout.attributes;
  attributes.push_back({"title", std::string("coopsweep parameter sweep")});
  attributes.push_back({"spec", spec.text});
  attributes.push_back({"spec_source", spec.source});
  attributes.push_back({"seed", static_cast<std::int64_t>(spec.seed)});
  attributes.push_back({"replicates", spec.replicates});
  attributes.push_back({"model_version", static_cast<std::int64_t>(model_version)});
  attributes.push_back({"engine_version", std::string(engine_version)});
  attributes.push_back({"summary_std_ddof", std::int64_t{1}});
  // Every parameter that is not a grid axis, defaults included, as its own
  // attribute, with the values the runs used (resolved: complete sets k = N - 1).
  const auto is_axis = [&](std::string_view name) {
    return std::any_of(design.axes().begin(), design.axes().end(),
                       [&](const GridAxis& a) { return a.name == name; });
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
      swept += (swept.empty() ? "" : " ") + std::string(info.name);
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
  return layout;
}

}  // namespace

void run_design(const GridDesign& design, std::uint64_t seed, const ExecutionOptions& options,
                const BlockConsumer& consume) {
  design.validate_all();
  run_blocks(
      0, design.configuration_count(), design.replicates(), seed,
      [&](std::int64_t configuration) { return design.configuration(configuration); }, mean_design_work(design),
      options, consume);
}

std::vector<RunMetrics> simulate(const kernels::ModelParams& params, std::uint64_t seed, std::int64_t replicates,
                                 std::int64_t configuration, const ExecutionOptions& options) {
  std::vector<RunMetrics> out(static_cast<std::size_t>(replicates));
  run_blocks(
      configuration, 1, replicates, seed, [&](std::int64_t) { return params; }, run_work(params), options,
      [&](std::int64_t first, std::span<const RunMetrics> runs) {
        std::copy(runs.begin(), runs.end(), out.begin() + first);
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

SweepReport write_sweep(const SweepSpec& spec, const std::filesystem::path& path, bool overwrite,
                        const ExecutionOptions& options) {
  const GridDesign design(spec);
  design.validate_all();
  const auto started = std::chrono::steady_clock::now();
  io::ResultsFile file = io::ResultsFile::create(path, results_layout(spec, design), overwrite);

  SweepReport report;
  report.configurations = design.configuration_count();
  report.runs = design.run_count();
  report.min_mean.fill(std::numeric_limits<double>::infinity());
  report.max_mean.fill(-std::numeric_limits<double>::infinity());
  report.argmin.fill(-1);
  report.argmax.fill(-1);

  const std::int64_t replicates = design.replicates();
  std::vector<RunMetrics> current;  // replicates of the configuration in progress
  current.reserve(static_cast<std::size_t>(std::min<std::int64_t>(replicates, 1 << 16)));
  std::vector<double> columns;                    // a block's runs, metric-major
  std::vector<double> means, stds;                // finished configurations, metric-major
  std::vector<std::array<double, metric_count>> pending_mean, pending_std;
  std::int64_t next_configuration = 0;

  run_blocks(
      0, design.configuration_count(), replicates, spec.seed,
      [&](std::int64_t configuration) { return design.configuration(configuration); }, mean_design_work(design),
      options, [&](std::int64_t first_run, std::span<const RunMetrics> runs) {
        const auto count = runs.size();
        columns.resize(count * metric_count);
        for (std::size_t i = 0; i < count; ++i) {
          for (std::size_t m = 0; m < metric_count; ++m) columns[m * count + i] = runs[i][m];
        }
        file.write_runs(first_run, static_cast<std::int64_t>(count), columns);

        pending_mean.clear();
        pending_std.clear();
        const std::int64_t first_finished = next_configuration;
        for (const auto& run : runs) {
          current.push_back(run);
          if (static_cast<std::int64_t>(current.size()) == replicates) {
            std::array<double, metric_count> mu{}, sd{};
            summarize_replicates(current, mu, sd);
            for (std::size_t m = 0; m < metric_count; ++m) {
              if (mu[m] < report.min_mean[m]) report.min_mean[m] = mu[m], report.argmin[m] = next_configuration;
              if (mu[m] > report.max_mean[m]) report.max_mean[m] = mu[m], report.argmax[m] = next_configuration;
            }
            pending_mean.push_back(mu);
            pending_std.push_back(sd);
            current.clear();
            ++next_configuration;
          }
        }
        const auto finished = pending_mean.size();
        if (finished == 0) return;
        means.resize(finished * metric_count);
        stds.resize(finished * metric_count);
        for (std::size_t c = 0; c < finished; ++c) {
          for (std::size_t m = 0; m < metric_count; ++m) {
            means[m * finished + c] = pending_mean[c][m];
            stds[m * finished + c] = pending_std[c][m];
          }
        }
        file.write_summaries(first_finished, static_cast<std::int64_t>(finished), means, stds);
      });
  file.finish();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace coopsweep::sweep
