#include "commands.hpp"

#include <coopsweep/cluster/merge.hpp>
#include <coopsweep/cluster/shard.hpp>
#ifdef COOPSWEEP_MPI
#include <coopsweep/cluster/mpi.hpp>
#endif
#include <coopsweep/io/file_info.hpp>
#include <coopsweep/io/journal.hpp>
#include <coopsweep/io/results_file.hpp>
#include <coopsweep/sweep/design.hpp>
#include <coopsweep/sweep/memory.hpp>
#include <coopsweep/sweep/parameters.hpp>
#include <coopsweep/sweep/progress.hpp>
#include <coopsweep/sweep/runner.hpp>
#include <coopsweep/sweep/spec.hpp>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <optional>
#include <type_traits>
#include <sstream>
#include <unistd.h>

namespace coopsweep::cli {
namespace {

namespace fs = std::filesystem;
using kernels::metric_count;
using kernels::metric_info;

std::atomic<bool> stop_requested{false};

extern "C" void request_stop(int) { stop_requested.store(true); }

// SIGINT and SIGTERM (Ctrl-C, Slurm's pre-emption) stop the sweep at the next
// block boundary; the partial file stays, marked incomplete.
void install_stop_handlers() {
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
}

int bad_input(const std::string& message) {
  std::cerr << "coopsweep: error: " << message << "\n";
  return exit_bad_input;
}

std::string shortest(double x) {
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text, x);
  return std::string(text, result.ptr);
}

// An existing file (or a partial one from an interrupted run) is only
// replaced with --force, or continued with --resume; the directory must take it.
void check_output(const fs::path& path, bool resume, bool force) {
  if (resume && force) {
    throw sweep::InputError("--resume and --force exclude each other; allowed: --resume to continue an "
                            "interrupted run, or --force to start over");
  }
  const fs::path partial = io::partial_path_of(path);
  if (!resume && fs::exists(path) && !force) {
    throw sweep::InputError("output file '" + path.string() + "' exists; allowed: a new path, or --force to overwrite it");
  }
  if (!resume && fs::exists(partial) && !force) {
    throw sweep::InputError("partial file '" + partial.string() +
                            "' from an interrupted run exists; allowed: --resume to continue it, or --force to "
                            "discard it");
  }
  const fs::path directory = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (!fs::is_directory(directory)) {
    std::error_code ec;
    throw sweep::InputError("output directory '" + directory.string() + "' " +
                            (fs::exists(directory, ec) ? "is not a directory" : "does not exist") +
                            "; allowed: an existing directory");
  }
  // access() asks the kernel, so a read-only mount refuses even root (EROFS).
  if (access(directory.c_str(), W_OK) != 0) {
    throw sweep::InputError("output directory '" + directory.string() + "' is not writable (" +
                            std::strerror(errno) + "); allowed: a directory this user can write to");
  }
}

// Where the results go, checked before anything runs. A shard's default name
// carries its index, so that the tasks of a job array never share a file.
fs::path output_path(const RunArgs& args, const sweep::SweepSpec& spec, const std::optional<cluster::Shard>& shard) {
  std::string chosen = args.output.empty() ? spec.output_path : args.output;
  if (chosen.empty()) {
    chosen = fs::path(args.spec).stem().string() + ".h5";
  }
  fs::path path(chosen);
  if (shard && args.output.empty()) {
    path.replace_filename(path.stem().string() + ".shard-" + std::to_string(shard->index) + "-of-" +
                          std::to_string(shard->count) + path.extension().string());
  }
  check_output(path, args.resume, args.force);
  return path;
}

// "52.1 kB", "1.23 GB": decimal units, three significant digits.
std::string format_bytes(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  std::size_t u = 0;
  while (bytes >= 1000.0 && u + 1 < std::size(units)) {
    bytes /= 1000.0;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.3g %s", bytes, units[u]);
  return text;
}

std::string format_seconds(double seconds) {
  if (seconds >= 60.0) return sweep::ProgressLine::format_duration(seconds);
  char text[32];
  std::snprintf(text, sizeof text, "%.2g s", seconds);
  return text;
}

int dry_run(const RunArgs& args, const sweep::SweepSpec& spec, const fs::path& path, const sweep::ExecutionOptions& options) {
  std::int64_t runs_done = 0;
  if (args.resume) {
    const io::JournalState journal = io::read_journal(io::journal_path_of(path));
    if (journal.valid && journal.ready) runs_done = journal.runs_done;
  }
  const sweep::SweepEstimate estimate = sweep::estimate_sweep(spec, options, runs_done);
  const sweep::GridDesign design(spec);
  std::printf("dry run of %s: %lld configurations x %s%lld replicates = %s%lld runs", args.spec.c_str(),
              static_cast<long long>(estimate.configurations), spec.replication.adaptive() ? "at most " : "",
              static_cast<long long>(design.replicates()), spec.replication.adaptive() ? "at most " : "",
              static_cast<long long>(estimate.runs));
  if (runs_done > 0) {
    std::printf(" (%lld done in '%s', %lld left)", static_cast<long long>(runs_done),
                io::partial_path_of(path).string().c_str(), static_cast<long long>(estimate.runs_left));
  }
  std::printf("\ntime: %s %s on %d threads (calibrated on %lld runs in %s)\n",
              spec.replication.adaptive() ? "at most about" : "about", format_seconds(estimate.seconds).c_str(),
              options.threads, static_cast<long long>(estimate.calibration_runs),
              format_seconds(estimate.calibration_seconds).c_str());
  std::printf("file: about %s when finished ('%s'); %s uncompressed while running ('%s')\n",
              format_bytes(static_cast<double>(estimate.file_bytes)).c_str(), path.string().c_str(),
              format_bytes(static_cast<double>(estimate.partial_bytes)).c_str(),
              io::partial_path_of(path).string().c_str());
  if (estimate.series_bytes > 0) {
    std::printf("time series: %s of the uncompressed size (%zu series x %lld rounds per run)\n",
                format_bytes(static_cast<double>(estimate.series_bytes)).c_str(), sweep::series_names.size(),
                static_cast<long long>(sweep::series_length(spec)));
  }
  std::printf("nothing was run or written\n");
  return exit_ok;
}

void print_report(const sweep::SweepReport& report, const sweep::GridDesign& design, const fs::path& path,
                  int threads, int processes, const std::optional<cluster::Shard>& shard) {
  const std::string where = processes > 1 ? std::to_string(threads) + " threads on " + std::to_string(processes) +
                                                " processes"
                                          : std::to_string(threads) + " threads";
  // Runs that ran in this call: an adaptive resume restarts at whole
  // configurations and counts every replicate it ran.
  const std::string rate = sweep::ProgressLine::format_rate(
      static_cast<double>(report.replicates_run - (report.adaptive ? 0 : report.resumed_runs)) /
      std::max(report.seconds, 1e-9));
  if (shard) {
    std::printf("coopsweep: shard %lld/%lld: %lld of the sweep's %lld runs in %.2f s (%s runs/s, %s)\n",
                static_cast<long long>(shard->index), static_cast<long long>(shard->count),
                static_cast<long long>(report.file_runs), static_cast<long long>(report.runs), report.seconds,
                rate.c_str(), where.c_str());
  } else if (report.adaptive) {
    std::printf("coopsweep: %lld configurations x %lld to %lld replicates (adaptive, at most %lld) = %lld runs in "
                "%.2f s (%s runs/s, %s)\n",
                static_cast<long long>(report.configurations), static_cast<long long>(report.fewest_replicates),
                static_cast<long long>(report.most_replicates), static_cast<long long>(design.replicates()),
                static_cast<long long>(report.replicates_run), report.seconds, rate.c_str(), where.c_str());
  } else {
    std::printf("coopsweep: %lld configurations x %lld replicates = %lld runs in %.2f s (%s runs/s, %s)\n",
                static_cast<long long>(report.configurations), static_cast<long long>(design.replicates()),
                static_cast<long long>(report.runs), report.seconds, rate.c_str(), where.c_str());
  }
  std::printf("wrote %s\n", path.string().c_str());
  if (shard) {
    std::printf("join the shards with: coopsweep merge SHARDS... -o OUT\n");
    return;
  }
  if (design.configuration_count() > 1) {
    std::printf("replicate means across the grid:\n");
    for (const auto metric : {kernels::Metric::cooperation, kernels::Metric::trust, kernels::Metric::alliances,
                              kernels::Metric::payoff, kernels::Metric::freerider_gap}) {
      const auto m = static_cast<std::size_t>(metric);
      if (report.argmin[m] < 0) continue;
      std::printf("  %-14s lowest %9.4g at %s\n", std::string(metric_info[m].name).c_str(), report.min_mean[m],
                  design.describe(report.argmin[m], 4).c_str());
      std::printf("  %-14s highest %8.4g at %s\n", "", report.max_mean[m], design.describe(report.argmax[m], 4).c_str());
    }
  }
  std::printf("open it with: xarray.open_dataset(\"%s\", engine=\"h5netcdf\")\n", path.string().c_str());
}

// The store options `run` and `merge` take from their command line (--force,
// --resume, --checkpoint-interval), with the resume message and the progress
// line's baseline; `progress` and `args` must outlive `store`.
template <typename Args>
void set_store_options(const Args& args, sweep::ProgressLine& progress, const fs::path& path,
                       sweep::StoreOptions& store) {
  store.overwrite = args.force;
  store.resume = args.resume;
  store.checkpoint_interval = args.checkpoint_interval;
  store.on_resume = [&args, &progress, path](std::int64_t done, std::int64_t total) {
    progress.set_baseline(done);
    if (!args.quiet) {
      std::cerr << "coopsweep: resuming '" << io::partial_path_of(path).string() << "' after " << done << " of "
                << total << " runs\n";
    }
  };
}

// `coopsweep run` on one process, or on rank 0 of an MPI run (with `pool`).
// `threads` is resolved; the stop handlers are installed.
template <typename Pool>
int run_sweep(const RunArgs& args, int threads, Pool* pool) {
  fs::path path;
  sweep::SweepSpec spec;
  std::optional<cluster::Shard> shard;
  sweep::StoreOptions store;
  try {
    spec = sweep::load_spec(args.spec);
    sweep::GridDesign(spec).validate_all();
    if (!args.shard.empty()) {
      shard = cluster::parse_shard(args.shard);
      store = cluster::shard_store(spec, *shard, store);
    }
    path = output_path(args, spec, shard);
  } catch (const sweep::InputError& error) {
    return bad_input(error.what());
  }
  if (const auto warning = sweep::series_warning(spec)) std::cerr << "coopsweep: warning: " << *warning << "\n";

  const bool interactive = isatty(STDERR_FILENO) != 0;
  sweep::ProgressLine progress(std::cerr, interactive);
  sweep::ExecutionOptions options;
  options.threads = threads;
  options.block_size = args.block_size;
  options.stop = &stop_requested;
  options.memory_limit = args.memory_limit_gb * 1e9;
  if (!args.quiet) options.on_progress = [&](std::int64_t done, std::int64_t total) { progress.update(done, total); };
  if (args.dry_run) {
    try {
      const int status = dry_run(args, spec, path, options);
      if (shard) {
        std::printf("shard %lld/%lld holds %lld of these runs (its share of the time and of the sizes)\n",
                    static_cast<long long>(shard->index), static_cast<long long>(shard->count),
                    static_cast<long long>(std::accumulate(store.subset.begin(), store.subset.end(), std::int64_t{0},
                                                           [](std::int64_t sum, const sweep::RunRange& r) {
                                                             return sum + r.count;
                                                           })));
      }
      return status;
    } catch (const sweep::InputError& error) {
      return bad_input(error.what());
    } catch (const sweep::Interrupted&) {
      return exit_interrupted;
    } catch (const std::exception& error) {
      std::cerr << "coopsweep: error: " << error.what() << "\n";
      return exit_failure;
    }
  }

  set_store_options(args, progress, path, store);
  int processes = 1;
  int all_threads = threads;
  if constexpr (!std::is_same_v<Pool, void>) {
    processes = pool->processes();
    all_threads = pool->threads();
    store.processes = processes;
    store.threads = all_threads;
    store.note = pool->note();
  }
  const auto resume_hint = [&] {
    return std::string(processes > 1 ? "mpirun -np " + std::to_string(processes) + " " : "") + "coopsweep run " +
           args.spec + (shard ? " --shard " + args.shard : "") + " -o " + path.string() + " --resume";
  };
  try {
    sweep::SweepReport report;
    if constexpr (std::is_same_v<Pool, void>) {
      report = sweep::write_sweep(spec, path, store, options);
    } else {
      // Rank 0 computes too: it refuses a sweep too large for its own node
      // before the file exists, as one process does; the other ranks check
      // their nodes in compute_ranges.
      sweep::check_memory(sweep::memory_need(sweep::GridDesign(spec), spec.timeseries, threads),
                          options.memory_limit);
      report = sweep::write_sweep(spec, path, store, options, pool->producer(spec, options));
    }
    progress.finish();
    if (report.already_complete) {
      if (!args.quiet) std::printf("coopsweep: '%s' is already complete; nothing to resume\n", path.string().c_str());
      return exit_ok;
    }
    if (!args.quiet) {
      print_report(report, sweep::GridDesign(spec), path, all_threads, processes, shard);
      if constexpr (!std::is_same_v<Pool, void>) {
        std::printf("blocks per rank (dynamic assignment):");
        for (std::size_t r = 0; r < pool->ranks().size(); ++r) {
          const auto& rank = pool->ranks()[r];
          std::printf("%s %zu: %lld (%lld runs, %s)", r ? "," : "", r, static_cast<long long>(rank.blocks),
                      static_cast<long long>(rank.runs), rank.host.c_str());
        }
        std::printf("\n");
      }
    }
    return exit_ok;
  } catch (const sweep::Interrupted& error) {
    progress.finish();
    std::cerr << "coopsweep: interrupted (" << error.what() << "); finished runs are in '"
              << io::partial_path_of(path).string() << "', marked incomplete; continue with: " << resume_hint()
              << "\n";
    return exit_interrupted;
  } catch (const sweep::InputError& error) {
    progress.finish();
    return bad_input(error.what());
  } catch (const std::exception& error) {
    progress.finish();
    std::cerr << "coopsweep: error: " << error.what();
    if (fs::exists(io::journal_path_of(path)) && fs::exists(io::partial_path_of(path))) {
      std::cerr << "; finished runs are kept in '" << io::partial_path_of(path).string()
                << "'; continue with: " << resume_hint();
    }
    std::cerr << "\n";
    return exit_failure;
  }
}

}  // namespace

int run_command(const RunArgs& args, [[maybe_unused]] const cluster::MpiRuntime* mpi) {
  const int threads = args.threads > 0 ? args.threads : tbb::info::default_concurrency();
  // The process-wide limit is main's to set (library code only takes a count);
  // it also lets --threads exceed the core count when asked to.
  tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
  install_stop_handlers();
#ifdef COOPSWEEP_MPI
  if (mpi != nullptr && mpi->size() > 1) {
    if (mpi->rank() != 0) {
      sweep::ExecutionOptions options;
      options.threads = threads;
      options.stop = &stop_requested;
      try {
        return cluster::serve(*mpi, options);
      } catch (const std::exception& error) {
        std::cerr << "coopsweep: error: rank " << mpi->rank() << ": " << error.what() << "\n";
        return exit_failure;
      }
    }
    try {
      cluster::RankPool pool(*mpi, threads);
      const int status = run_sweep(args, threads, &pool);
      pool.release(status);
      return status;
    } catch (const std::exception& error) {
      std::cerr << "coopsweep: error: " << error.what() << "\n";
      return exit_failure;
    }
  }
#endif
  return run_sweep<void>(args, threads, nullptr);
}

int merge_command(const MergeArgs& args) {
  const fs::path path(args.output);
  std::vector<fs::path> shards(args.shards.begin(), args.shards.end());
  try {
    check_output(path, args.resume, args.force);
  } catch (const sweep::InputError& error) {
    return bad_input(error.what());
  }
  install_stop_handlers();
  sweep::ProgressLine progress(std::cerr, isatty(STDERR_FILENO) != 0);
  sweep::ExecutionOptions options;
  options.threads = 1;  // reading and writing: one thread
  options.stop = &stop_requested;
  if (!args.quiet) options.on_progress = [&](std::int64_t done, std::int64_t total) { progress.update(done, total); };
  sweep::StoreOptions store;
  set_store_options(args, progress, path, store);
  std::string again = "coopsweep merge";
  for (const auto& shard : args.shards) again += " " + shard;
  again += " -o " + path.string() + " --resume";
  try {
    const sweep::SweepReport report = cluster::merge_shards(shards, path, store, options);
    progress.finish();
    if (report.already_complete) {
      if (!args.quiet) std::printf("coopsweep: '%s' is already complete; nothing to resume\n", path.string().c_str());
      return exit_ok;
    }
    if (!args.quiet) {
      std::printf("coopsweep: merged %zu shards: %lld configurations, %lld runs in %.2f s\nwrote %s\n",
                  shards.size(), static_cast<long long>(report.configurations), static_cast<long long>(report.runs),
                  report.seconds, path.string().c_str());
    }
    return exit_ok;
  } catch (const sweep::Interrupted& error) {
    progress.finish();
    std::cerr << "coopsweep: interrupted (" << error.what() << "); continue with: " << again << "\n";
    return exit_interrupted;
  } catch (const sweep::InputError& error) {
    progress.finish();
    return bad_input(error.what());
  } catch (const std::exception& error) {
    progress.finish();
    std::cerr << "coopsweep: error: " << error.what();
    if (fs::exists(io::journal_path_of(path)) && fs::exists(io::partial_path_of(path))) {
      std::cerr << "; continue with: " << again;
    }
    std::cerr << "\n";
    return exit_failure;
  }
}

int validate_command(const std::string& spec_path) {
  try {
    const auto spec = sweep::load_spec(spec_path);
    const sweep::GridDesign design(spec);
    design.validate_all();
    std::printf("%s: valid; %lld configurations x %s%lld replicates = %s%lld runs\n", spec_path.c_str(),
                static_cast<long long>(design.configuration_count()), spec.replication.adaptive() ? "at most " : "",
                static_cast<long long>(design.replicates()), spec.replication.adaptive() ? "at most " : "",
                static_cast<long long>(design.run_count()));
    for (const auto& axis : design.axes()) {
      std::printf("  axis %-16s %zu values: ", axis.name.c_str(), axis.values.size());
      for (std::size_t i = 0; i < axis.values.size(); ++i) {
        if (i == 3 && axis.values.size() > 5) {
          std::printf("..., ");
          i = axis.values.size() - 1;
        }
        std::printf("%s%s", sweep::format_value(axis.values[i]).c_str(), i + 1 < axis.values.size() ? ", " : "\n");
      }
    }
    if (design.sample_design() != sweep::SampleDesign::none) {
      std::printf("  sample: %s design, %lld points\n", std::string(sweep::design_name(design.sample_design())).c_str(),
                  static_cast<long long>(design.sample_count()));
      for (const auto& p : design.sampled()) {
        std::printf("    %-16s [%s, %s]%s\n", p.name.c_str(), sweep::format_value(p.low).c_str(),
                    sweep::format_value(p.high).c_str(),
                    std::holds_alternative<std::int64_t>(p.low) ? " (integers)" : "");
      }
    }
    if (spec.replication.adaptive()) {
      std::string names;
      for (const auto& name : spec.replication.metrics) names += (names.empty() ? "" : ", ") + name;
      std::string rounds = "doubling";
      if (spec.replication.step > 0) {
        rounds = std::to_string(spec.replication.step);
        rounds += " more per round";
      }
      std::printf("  replication: adaptive, %lld to %lld replicates (%s), until the 95%% interval of %s is narrower "
                  "than %g\n",
                  static_cast<long long>(spec.replication.min), static_cast<long long>(spec.replication.max),
                  rounds.c_str(), names.c_str(), spec.replication.target_ci);
    }
    return exit_ok;
  } catch (const sweep::InputError& error) {
    return bad_input(error.what());
  }
}

int simulate_command(const SimulateArgs& args) {
  kernels::ModelParams params;
  try {
    for (const auto& assignment : args.assignments) {
      const auto equals = assignment.find('=');
      if (equals == std::string::npos || equals == 0) {
        throw sweep::InputError("--set '" + assignment + "' is not NAME=VALUE; allowed: e.g. --set scope=0.5");
      }
      const std::string name = assignment.substr(0, equals);
      sweep::set_parameter(params, name, sweep::parse_parameter_text(name, assignment.substr(equals + 1)));
    }
    params = sweep::resolve_model(params);
  } catch (const sweep::InputError& error) {
    return bad_input(error.what());
  }

  const int threads = args.threads > 0 ? args.threads : tbb::info::default_concurrency();
  tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
  sweep::ProgressLine progress(std::cerr, isatty(STDERR_FILENO) != 0);
  sweep::ExecutionOptions options;
  options.threads = threads;
  options.stop = &stop_requested;
  options.memory_limit = args.memory_limit_gb * 1e9;
  if (!args.quiet) options.on_progress = [&](std::int64_t done, std::int64_t total) { progress.update(done, total); };
  install_stop_handlers();
  std::vector<kernels::RunMetrics> runs;
  try {
    runs = sweep::simulate(params, args.seed, args.replicates, args.configuration, options);
    progress.finish();
  } catch (const sweep::Interrupted& error) {
    progress.finish();
    std::cerr << "coopsweep: interrupted (" << error.what() << ")\n";
    return exit_interrupted;
  } catch (const sweep::InputError& error) {
    progress.finish();
    return bad_input(error.what());
  } catch (const std::exception& error) {
    progress.finish();
    std::cerr << "coopsweep: error: " << error.what() << "\n";
    return exit_failure;
  }

  std::string json = "{";
  for (std::size_t m = 0; m < metric_count; ++m) {
    json += (m ? ", \"" : "\"") + std::string(metric_info[m].name) + "\": [";
    for (std::size_t r = 0; r < runs.size(); ++r) {
      const double x = runs[r][m];
      json += (r ? ", " : "") + (std::isfinite(x) ? shortest(x) : std::string("null"));
    }
    json += "]";
  }
  json += "}\n";
  std::fputs(json.c_str(), stdout);
  return exit_ok;
}

int parameters_command() {
  kernels::ModelParams defaults;
  std::printf("%-17s %-8s %-40s %-10s %s\n", "name", "symbol", "domain", "default", "meaning");
  for (const auto& info : sweep::parameter_table()) {
    std::printf("%-17s %-8s %-40s %-10s %s\n", std::string(info.name).c_str(), std::string(info.symbol).c_str(),
                std::string(info.domain).c_str(),
                sweep::format_value(sweep::get_parameter(defaults, info.name)).c_str(),
                std::string(info.meaning).c_str());
  }
  std::printf("\nmetrics (one value per replicate, plus <metric>_mean and <metric>_std over replicates):\n");
  for (const auto& info : metric_info) {
    std::printf("  %-18s %s\n", std::string(info.name).c_str(), std::string(info.long_name).c_str());
  }
  return exit_ok;
}

namespace {

std::string join_dims(const std::vector<std::string>& dims) {
  std::string text;
  for (const auto& dim : dims) text += (text.empty() ? "" : " x ") + (dim.empty() ? std::string("?") : dim);
  return text;
}

// Attributes that tell how a file was made, in the order inspect shows them.
constexpr std::string_view provenance_names[] = {
    "engine_version", "model_version", "git_commit", "build_type", "compiler", "host_name", "threads",
    "processes", "start_time", "end_time", "wall_time_seconds", "sessions", "seed", "replicates",
    "timeseries", "grid_axes", "sample_design", "sample_parameters", "sample_ranges", "sample_points",
    "saltelli_base_samples", "morris_trajectories", "morris_levels", "replication_target_ci", "replication_metrics",
    "replication_min", "replication_max", "replication_step", "summary_std_ddof", "shard_index", "shard_count"};

}  // namespace

int inspect_command(const std::string& argument) {
  fs::path file(argument);
  std::string note;
  if (!fs::exists(file) && fs::exists(io::partial_path_of(file))) {
    file = io::partial_path_of(file);
    note = " (no '" + argument + "' yet)";
  }
  io::FileInfo info;
  try {
    info = io::read_file_info(file);
  } catch (const io::ResultsFileError& error) {
    return bad_input(error.what());
  }
  const auto attribute = [&](std::string_view name) -> const io::AttributeValue* {
    for (const auto& a : info.attributes) {
      if (a.name == name) return &a.value;
    }
    return nullptr;
  };

  // Runs: the size of the first variable laid out over `replicate`.
  std::int64_t runs = -1;
  std::int64_t replicates = 1;
  for (const auto& variable : info.variables) {
    if (!variable.dims.empty() && variable.dims.back() == "replicate") {
      runs = 1;
      for (std::int64_t size : variable.shape) runs *= size;
      replicates = variable.shape.back();
      break;
    }
  }

  std::printf("file: %s%s\n", file.string().c_str(), note.c_str());
  const fs::path journal_path = file.string().ends_with(".partial") ? fs::path(file.string() + ".journal")
                                                                      : io::journal_path_of(file);
  if (info.completed) {
    std::printf("status: complete (completed = 1)");
    if (runs >= 0) {
      std::printf(": %lld runs, %lld configurations", static_cast<long long>(runs),
                  static_cast<long long>(runs / std::max<std::int64_t>(replicates, 1)));
    }
    std::printf("\n");
  } else {
    std::printf("status: incomplete (completed = 0)");
    const io::JournalState journal = io::read_journal(journal_path);
    if (journal.valid && journal.ready) {
      const double share = journal.runs > 0 ? 100.0 * static_cast<double>(journal.runs_done) / static_cast<double>(journal.runs) : 100.0;
      std::printf(": %lld of %lld runs stored (%.1f%%), %lld of %lld configurations\n",
                  static_cast<long long>(journal.runs_done), static_cast<long long>(journal.runs), share,
                  static_cast<long long>(journal.runs_done / std::max<std::int64_t>(replicates, 1)),
                  static_cast<long long>(journal.configurations));
      std::printf("progress: from the journal '%s', %zu session%s%s\n", journal_path.string().c_str(),
                  journal.sessions.size(), journal.sessions.size() == 1 ? "" : "s",
                  io::journal_locked(journal_path) ? "; a sweep is writing it now" : "");
      for (const auto& session : journal.sessions) {
        std::printf("  %s %s: runs %lld to %lld\n", session.started.c_str(), session.note.c_str(),
                    static_cast<long long>(session.first_run), static_cast<long long>(session.runs_done));
      }
      std::printf("  runs after the last of these read as NaN or may be partly written; "
                  "`coopsweep run SPEC -o PATH --resume` continues the sweep\n");
    } else {
      std::printf("; no journal '%s' records which runs are stored (unwritten runs read as NaN)\n",
                  journal_path.string().c_str());
    }
  }

  std::string dims;
  for (const auto& dimension : info.dimensions) {
    dims += (dims.empty() ? "" : ", ") + dimension.name + " = " + std::to_string(dimension.size);
  }
  std::printf("dimensions: %s\n", dims.c_str());
  // Variables grouped by their dimensions; a metric's _mean and _std are named once for all.
  const auto has_variable = [&](const std::string& name) {
    return std::any_of(info.variables.begin(), info.variables.end(),
                       [&](const io::VariableInfo& v) { return v.name == name; });
  };
  std::string group;
  for (const auto& variable : info.variables) {
    const bool summarized = has_variable(variable.name + "_mean") && has_variable(variable.name + "_std");
    if ((variable.name.ends_with("_mean") && has_variable(variable.name.substr(0, variable.name.size() - 5))) ||
        (variable.name.ends_with("_std") && has_variable(variable.name.substr(0, variable.name.size() - 4)))) {
      continue;
    }
    const std::string heading =
        "variables (" + join_dims(variable.dims) + ")" +
        (summarized ? ", each with <name>_mean and <name>_std over replicates" : "") + ":";
    if (heading != group) {
      std::printf("%s\n", heading.c_str());
      group = heading;
    }
    std::string description = variable.long_name;
    if (!variable.units.empty()) description += " [" + variable.units + "]";
    std::printf("  %-22s %s\n", variable.name.c_str(), description.c_str());
  }

  std::printf("provenance:\n");
  for (const auto name : provenance_names) {
    if (const auto* value = attribute(name)) {
      std::printf("  %-18s %s\n", std::string(name).c_str(), io::attribute_text(*value).c_str());
    }
  }
  if (const auto* history = attribute("history")) {
    std::printf("history:\n");
    std::istringstream lines(io::attribute_text(*history));
    for (std::string line; std::getline(lines, line);) std::printf("  %s\n", line.c_str());
  }
  std::string parameters;
  for (const auto& parameter : sweep::parameter_table()) {
    if (const auto* value = attribute(parameter.name)) {
      parameters += (parameters.empty() ? "" : ", ") + std::string(parameter.name) + " = " +
                    io::attribute_text(*value);
    }
  }
  if (!parameters.empty()) std::printf("parameters (not swept): %s\n", parameters.c_str());
  if (const auto* spec = attribute("spec")) {
    const auto* source = attribute("spec_source");
    std::printf("spec%s:\n", source ? (" (" + io::attribute_text(*source) + ")").c_str() : "");
    std::istringstream lines(io::attribute_text(*spec));
    for (std::string line; std::getline(lines, line);) std::printf("  | %s\n", line.c_str());
  }
  return exit_ok;
}

}  // namespace coopsweep::cli
