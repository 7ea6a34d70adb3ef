// coopsweep: parameter sweeps of the co-opetitive network model (shared/MODEL.md).

#include "analyze.hpp"
#include "commands.hpp"
#include "plot.hpp"

#include <coopsweep/cluster/launch.hpp>
#include <coopsweep/version.hpp>
#ifdef COOPSWEEP_MPI
#include <coopsweep/cluster/mpi.hpp>
#endif

#include <CLI/CLI.hpp>

#include <iostream>
#include <optional>

namespace {

constexpr const char* description =
    "coopsweep: high-performance parameter sweeps of a co-opetitive network model.\n"
    "Firms cooperate with alliance partners on a share `scope` of their activities and\n"
    "compete on the rest; trust grows, breaks and decays; free riders, knowledge leakage\n"
    "and dissolving alliances. Results are reproducible to the bit for a given seed.";

constexpr const char* run_footer =
    "\nThe spec is TOML:\n"
    "  seed = 42\n"
    "  replicates = 16\n"
    "  [model]                 # fixed parameters; the rest take their defaults\n"
    "  firms = 100\n"
    "  [grid]                  # full-factorial axes: a list or { start, stop, num }\n"
    "  scope = [0.0, 0.5, 1.0]\n"
    "  trust_decay = { start = 0.0, stop = 0.2, num = 11 }\n"
    "  [sample]                # sampled parameters, crossed with the grid\n"
    "  design = \"lhs\"          # lhs, sobol, random, saltelli (Sobol' indices), morris\n"
    "  samples = 256           # points (saltelli: base samples; morris: trajectories, levels)\n"
    "  [sample.ranges]\n"
    "  benefit = [1.0, 5.0]\n"
    "  [replication]           # adaptive replication, instead of replicates\n"
    "  target_ci = 0.01        # until the 95% CI of each metric is narrower\n"
    "  metrics = [\"cooperation\"]\n"
    "  min = 8\n"
    "  max = 1024\n"
    "  [output]\n"
    "  path = \"results.h5\"\n"
    "\nThe HDF5 file opens in Python with xarray.open_dataset(path, engine=\"h5netcdf\"):\n"
    "one dimension per grid axis (in the spec's order), `sample` with one coordinate per sampled\n"
    "parameter, and `replicate`; one variable per metric, and <metric>_mean / <metric>_std over\n"
    "replicates; with [replication], replicates_run per configuration. It appears under its name\n"
    "only when complete; an interrupted or killed run leaves PATH.partial (root attribute\n"
    "completed = 0, readable) and PATH.partial.journal, and `run --resume` continues it.\n"
    "[output] timeseries = true also stores per-round cooperation, trust, payoff and alliances.\n"
    "See `coopsweep parameters` for every parameter and metric.\n"
    "\nOn a cluster: `--shard I/N` runs shard I of N (a Slurm job array, 0 <= I < N) and\n"
    "`coopsweep merge` joins the shard files; a build with -DCOOPSWEEP_MPI=ON started by\n"
    "`mpirun -np R` shares the sweep among R ranks and writes one file. See cluster/README.md.\n"
    "Exit status: 0 done, 1 failure while running, 2 bad input, 130 interrupted.";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{description, "coopsweep"};
  app.set_version_flag("--version", std::string("coopsweep ") + coopsweep::engine_version + " (model version " +
                                        std::to_string(coopsweep::model_version) +
#ifdef COOPSWEEP_MPI
                                        ", with MPI"
#endif
                                        ")");
  app.require_subcommand(1);
  app.footer("Run `coopsweep COMMAND --help` for the options of a command.");

  coopsweep::cli::RunArgs run_args;
  auto* run = app.add_subcommand("run", "Run a sweep spec and write its results to HDF5");
  run->add_option("spec", run_args.spec, "sweep spec (TOML)")->required();
  run->add_option("-o,--output", run_args.output,
                  "results file (default: the spec's [output] path, else SPEC_NAME.h5)");
  run->add_option("--threads", run_args.threads, "worker threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  run->add_option("--block-size", run_args.block_size,
                  "runs per scheduling block (default: chosen from the cost of a run; results do not depend on it)")
      ->check(CLI::NonNegativeNumber);
  run->add_flag("--force", run_args.force, "overwrite an existing results file (and discard a partial one)");
  run->add_flag("--resume", run_args.resume,
                "continue an interrupted run from OUTPUT.partial and its journal; refused for another spec or "
                "engine version");
  run->add_flag("--dry-run", run_args.dry_run,
                "print the number of runs and estimates of the time (from a short calibration) and of the file "
                "size; run and write nothing");
  run->add_option("--checkpoint-interval", run_args.checkpoint_interval,
                  "seconds between checkpoints, the work a kill can lose (default 1; 0: after every block)")
      ->check(CLI::NonNegativeNumber);
  run->add_option("--memory-limit", run_args.memory_limit_gb,
                  "GB the runs may hold at once (default: the memory available); a sweep estimated to need "
                  "more is refused before it starts")
      ->check(CLI::NonNegativeNumber);
  run->add_option("--shard", run_args.shard,
                  "I/N: run and store only shard I of N (0 <= I < N; default output SPEC_NAME.shard-I-of-N.h5); "
                  "join the N files with `coopsweep merge`");
  run->add_flag("-q,--quiet", run_args.quiet, "no progress line and no summary");
  run->footer(run_footer);

  coopsweep::cli::MergeArgs merge_args;
  auto* merge = app.add_subcommand(
      "merge", "Join the shard files of `run --shard I/N` into the results file of the whole sweep");
  merge->add_option("shards", merge_args.shards, "the N shard files, in any order")->required();
  merge->add_option("-o,--output", merge_args.output, "results file to write")->required();
  merge->add_flag("--force", merge_args.force, "overwrite an existing results file (and discard a partial one)");
  merge->add_flag("--resume", merge_args.resume, "continue an interrupted merge from OUTPUT.partial");
  merge->add_option("--checkpoint-interval", merge_args.checkpoint_interval,
                    "seconds between checkpoints (default 1)")
      ->check(CLI::NonNegativeNumber);
  merge->add_flag("-q,--quiet", merge_args.quiet, "no progress line and no summary");
  merge->footer(
      "\nThe shards must be all N shards of one sweep (same spec, seed, grid, engine version), each once\n"
      "and finished; otherwise merge exits with status 2 and names the files and what differs.\n"
      "The result holds the data of a single run of the sweep bit for bit; only provenance differs.");

  std::string validate_spec;
  auto* validate = app.add_subcommand("validate", "Check a sweep spec without running it");
  validate->add_option("spec", validate_spec, "sweep spec (TOML)")->required();

  coopsweep::cli::SimulateArgs simulate_args;
  auto* simulate = app.add_subcommand(
      "simulate", "Run one configuration and print its metrics as JSON, one value per replicate");
  simulate->add_option("--set", simulate_args.assignments, "NAME=VALUE for any model parameter (repeatable)")
      ->take_all()
      ->allow_extra_args(false);
  simulate->add_option("--replicates", simulate_args.replicates, "replicates to run (default 1)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 32));
  simulate->add_option("--seed", simulate_args.seed, "sweep seed (default 0)");
  simulate->add_option("--configuration", simulate_args.configuration,
                       "configuration index in the random streams (default 0): with a sweep's seed, "
                       "re-runs that configuration of the sweep to the bit")
      ->check(CLI::NonNegativeNumber);
  simulate->add_option("--threads", simulate_args.threads, "worker threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  simulate->add_option("--memory-limit", simulate_args.memory_limit_gb,
                       "GB the runs may hold at once (default: the memory available)")
      ->check(CLI::NonNegativeNumber);
  simulate->add_flag("-q,--quiet", simulate_args.quiet, "no progress line");
  simulate->footer(
      "\nExample: coopsweep simulate --set scope=0.8 --set topology=ring --replicates 4\n"
      "NaN metrics (payoff_gini, freerider_gap when undefined) print as null.");

  auto* parameters = app.add_subcommand("parameters", "List the model's parameters and metrics");

  std::string inspect_file;
  auto* inspect = app.add_subcommand(
      "inspect", "Describe a results file: dimensions, variables, provenance, completion and progress");
  inspect->add_option("file", inspect_file, "results file (PATH, or PATH.partial of an unfinished run)")->required();

  coopsweep::cli::AnalyzeArgs analyze_args;
  auto* analyze = app.add_subcommand(
      "analyze", "Sensitivity of a metric in a saltelli sweep (Sobol' indices) or a morris sweep (elementary effects)");
  analyze->add_option("file", analyze_args.file, "results file of a sweep with [sample] design saltelli or morris")
      ->required();
  analyze->add_option("--metric", analyze_args.metric, "the metric whose replicate means are analysed")->required();
  analyze->add_option("--bootstrap", analyze_args.bootstrap, "bootstrap resamples for the intervals (default 1000)")
      ->check(CLI::NonNegativeNumber);
  analyze->add_option("--confidence", analyze_args.confidence, "level of the percentile intervals (default 0.95)")
      ->check(CLI::Range(0.0, 1.0));
  analyze->add_option("--seed", analyze_args.seed, "seed of the bootstrap draws (default 0)");
  analyze->add_flag("--json", analyze_args.json, "print one JSON object instead of tables");
  analyze->footer(
      "\nS1 (first order, Saltelli et al. 2010) and ST (total, Jansen 1999) per sampled parameter, for each\n"
      "point of the grid, from the metric's replicate means; mu* (mean absolute effect), mu and sigma for\n"
      "morris, effects per whole range of each parameter. Intervals: percentile bootstrap over base\n"
      "samples (trajectories). Base samples where the metric is NaN are left out, and counted.");

  // Everything after `plot` goes to the Python package, --help included.
  auto* plot = app.add_subcommand(
      "plot", "Plot a results file: a phase diagram (--y) or lines with confidence bands (--hue); see `plot --help`");
  plot->prefix_command();
  plot->set_help_flag();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);  // --help, --version
    std::cerr << "coopsweep: error: " << error.what() << "\nRun with --help for usage.\n";
    return coopsweep::cli::exit_bad_input;
  }

  if (*run) {
#ifdef COOPSWEEP_MPI
    // Started by mpirun or srun: join the other ranks (one rank runs alone).
    std::optional<coopsweep::cluster::MpiRuntime> mpi;
    if (coopsweep::cluster::launched_by_mpi()) {
      try {
        mpi.emplace(argc, argv);
      } catch (const std::exception& error) {
        std::cerr << "coopsweep: error: " << error.what() << "\n";
        return coopsweep::cli::exit_failure;
      }
    }
    return coopsweep::cli::run_command(run_args, mpi ? &*mpi : nullptr);
#else
    if (const int processes = coopsweep::cluster::launched_processes(); processes > 1) {
      std::cerr << "coopsweep: error: started as one of " << processes
                << " MPI processes, but this coopsweep was built without MPI: each would run the whole sweep; "
                   "allowed: a build with -DCOOPSWEEP_MPI=ON, or --shard I/N per process\n";
      return coopsweep::cli::exit_bad_input;
    }
    return coopsweep::cli::run_command(run_args);
#endif
  }
  if (*merge) return coopsweep::cli::merge_command(merge_args);
  if (*validate) return coopsweep::cli::validate_command(validate_spec);
  if (*simulate) return coopsweep::cli::simulate_command(simulate_args);
  if (*parameters) return coopsweep::cli::parameters_command();
  if (*inspect) return coopsweep::cli::inspect_command(inspect_file);
  if (*analyze) return coopsweep::cli::analyze_command(analyze_args);
  if (*plot) return coopsweep::cli::plot_command(plot->remaining());
  return coopsweep::cli::exit_bad_input;
}
