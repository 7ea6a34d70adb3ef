#include "commands.hpp"

#include <coopsweep/io/results_file.hpp>
#include <coopsweep/sweep/design.hpp>
#include <coopsweep/sweep/parameters.hpp>
#include <coopsweep/sweep/progress.hpp>
#include <coopsweep/sweep/runner.hpp>
#include <coopsweep/sweep/spec.hpp>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
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

// Where the results go, checked before anything runs: an existing file (or a
// partial one from an interrupted run) is only replaced with --force.
fs::path output_path(const RunArgs& args, const sweep::SweepSpec& spec) {
  std::string chosen = args.output.empty() ? spec.output_path : args.output;
  if (chosen.empty()) {
    chosen = fs::path(args.spec).stem().string() + ".h5";
  }
  const fs::path path(chosen);
  const fs::path partial = path.string() + ".partial";
  if (fs::exists(path) && !args.force) {
    throw sweep::InputError("output file '" + path.string() + "' exists; allowed: a new path, or --force to overwrite it");
  }
  if (fs::exists(partial) && !args.force) {
    throw sweep::InputError("partial file '" + partial.string() +
                            "' from an interrupted run exists; allowed: --force to discard it");
  }
  const fs::path directory = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (!fs::is_directory(directory)) {
    throw sweep::InputError("output directory '" + directory.string() + "' does not exist; allowed: an existing directory");
  }
  if (access(directory.c_str(), W_OK) != 0) {
    throw sweep::InputError("output directory '" + directory.string() + "' is not writable");
  }
  return path;
}

void print_report(const sweep::SweepReport& report, const sweep::GridDesign& design, const fs::path& path,
                  int threads) {
  std::printf("coopsweep: %lld configurations x %lld replicates = %lld runs in %.2f s (%s runs/s, %d threads)\n",
              static_cast<long long>(report.configurations), static_cast<long long>(design.replicates()),
              static_cast<long long>(report.runs), report.seconds,
              sweep::ProgressLine::format_rate(static_cast<double>(report.runs) / std::max(report.seconds, 1e-9))
                  .c_str(),
              threads);
  std::printf("wrote %s\n", path.string().c_str());
  if (design.configuration_count() > 1) {
    std::printf("replicate means across the grid:\n");
    for (const auto metric : {kernels::Metric::cooperation, kernels::Metric::trust, kernels::Metric::alliances,
                              kernels::Metric::payoff, kernels::Metric::freerider_gap}) {
      const auto m = static_cast<std::size_t>(metric);
      if (report.argmin[m] < 0) continue;
      std::printf("  %-14s lowest %9.4g at %s\n", std::string(metric_info[m].name).c_str(), report.min_mean[m],
                  design.describe(report.argmin[m]).c_str());
      std::printf("  %-14s highest %8.4g at %s\n", "", report.max_mean[m], design.describe(report.argmax[m]).c_str());
    }
  }
  std::printf("open it with: xarray.open_dataset(\"%s\", engine=\"h5netcdf\")\n", path.string().c_str());
}

}  // namespace

int run_command(const RunArgs& args) {
  fs::path path;
  sweep::SweepSpec spec;
  try {
    spec = sweep::load_spec(args.spec);
    sweep::GridDesign(spec).validate_all();
    path = output_path(args, spec);
  } catch (const sweep::InputError& error) {
    return bad_input(error.what());
  }

  const int threads = args.threads > 0 ? args.threads : tbb::info::default_concurrency();
  // The process-wide limit is main's to set (library code only takes a count);
  // it also lets --threads exceed the core count when asked to.
  tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
  const bool interactive = isatty(STDERR_FILENO) != 0;
  sweep::ProgressLine progress(std::cerr, interactive);
  sweep::ExecutionOptions options;
  options.threads = threads;
  options.block_size = args.block_size;
  options.stop = &stop_requested;
  if (!args.quiet) options.on_progress = [&](std::int64_t done, std::int64_t total) { progress.update(done, total); };
  install_stop_handlers();

  try {
    const auto report = sweep::write_sweep(spec, path, args.force, options);
    progress.finish();
    if (!args.quiet) print_report(report, sweep::GridDesign(spec), path, threads);
    return exit_ok;
  } catch (const sweep::Interrupted& error) {
    progress.finish();
    std::cerr << "coopsweep: interrupted (" << error.what() << "); finished runs are in '" << path.string()
              << ".partial', marked incomplete\n";
    return exit_interrupted;
  } catch (const sweep::InputError& error) {
    progress.finish();
    return bad_input(error.what());
  } catch (const std::exception& error) {
    progress.finish();
    std::cerr << "coopsweep: error: " << error.what() << "\n";
    return exit_failure;
  }
}

int validate_command(const std::string& spec_path) {
  try {
    const auto spec = sweep::load_spec(spec_path);
    const sweep::GridDesign design(spec);
    design.validate_all();
    std::printf("%s: valid; %lld configurations x %lld replicates = %lld runs\n", spec_path.c_str(),
                static_cast<long long>(design.configuration_count()), static_cast<long long>(design.replicates()),
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

}  // namespace coopsweep::cli
