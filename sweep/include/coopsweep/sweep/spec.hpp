#pragma once
// The sweep spec: a TOML file (or text) that names a seed, a replicate count,
// fixed model parameters, full-factorial grid axes, sampled parameters, an
// adaptive replication rule and an output path.
//
//   seed = 42
//   replicates = 16
//   [model]                 # fixed values; other parameters take MODEL.md's defaults
//   firms = 100
//   [grid]                  # axes: a list, or { start, stop, num } (inclusive, like numpy.linspace)
//   scope = [0.0, 0.5, 1.0]
//   trust_decay = { start = 0.0, stop = 0.2, num = 11 }
//   [sample]                # sampled parameters, crossed with the grid (docs/designs.md)
//   design = "lhs"          # "lhs", "sobol", "random", "saltelli", "morris"
//   samples = 1024          # points (saltelli: base samples N; morris: trajectories = r, levels = p)
//   [sample.ranges]
//   benefit = [1.0, 5.0]    # [low, high]; integer parameters sample integers of [low, high]
//   [replication]           # adaptive replication, instead of `replicates`
//   target_ci = 0.01        # stop when the 95% confidence interval of each metric is narrower
//   metrics = ["cooperation"]
//   min = 8                 # replicates first run, and the most (max); then doubling, or + step
//   max = 1024
//   [output]
//   path = "results.h5"     # relative to the working directory
//   timeseries = false      # also store per-round cooperation, trust, payoff and alliances
//   timeseries_limit_gb = 1 # warn (and estimate the size) when the series would take more

#include <coopsweep/kernels/model_params.hpp>
#include <coopsweep/sweep/parameters.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace coopsweep::sweep {

struct GridAxis {
  std::string name;                     // a MODEL.md parameter
  std::vector<ParameterValue> values;   // each valid for the parameter on its own
};

enum class SampleDesign { none, lhs, sobol, random, saltelli, morris };

// "lhs", "sobol", "random", "saltelli", "morris" ("none" for none).
std::string_view design_name(SampleDesign design) noexcept;

struct SampledParameter {
  std::string name;     // a MODEL.md parameter of integer or real kind
  ParameterValue low;   // std::int64_t for integer parameters, double for real ones;
  ParameterValue high;  // low < high, both in the parameter's domain
};

struct SampleSpec {
  SampleDesign design = SampleDesign::none;
  std::int64_t samples = 0;       // lhs, sobol, random: points; saltelli: base samples N
  std::int64_t trajectories = 0;  // morris: r
  std::int64_t levels = 4;        // morris: p (even)
  std::vector<SampledParameter> parameters;  // [sample.ranges], in file order

  // Points of the design: samples, N (d + 2) for saltelli, r (d + 1) for
  // morris; 0 without [sample].
  std::int64_t points() const noexcept;
};

struct ReplicationSpec {
  // Full width of the 95% confidence interval (Student's t) of the mean of
  // each metric below which a configuration stops adding replicates; 0 for a
  // fixed count (`replicates`).
  double target_ci = 0.0;
  std::vector<std::string> metrics;  // metric names; ["cooperation"] unless given
  std::int64_t min = 8;              // replicates run first (at least 2)
  std::int64_t max = 1024;           // replicates run at most
  std::int64_t step = 0;             // replicates added per round; 0 doubles the count

  bool adaptive() const noexcept { return target_ci > 0.0; }
};

struct SweepSpec {
  std::string text;                 // the spec as written, kept for provenance
  std::string source;               // file name (or "<string>") for messages
  std::uint64_t seed = 0;
  std::int64_t replicates = 1;      // with adaptive replication, its max
  kernels::ModelParams model;       // defaults with [model] applied
  std::vector<std::string> fixed;   // names set in [model], in file order
  std::vector<GridAxis> axes;       // in file order; the first varies slowest
  SampleSpec sample;                // design = none without [sample]
  ReplicationSpec replication;      // target_ci = 0 without [replication]
  std::string output_path;          // empty when the spec names none
  bool timeseries = false;          // store per-round series of every run
  double timeseries_limit_gb = 1.0; // warn above this many gigabytes (10^9 bytes) of series
};

// Parses and checks a spec: TOML syntax, known sections and keys, types and
// domains of every value, non-empty axes without repeated values, and no
// parameter both fixed and swept; for [sample], a known design, its sizes
// (powers of 2 for sobol and saltelli), and ranges of integer or real
// parameters inside their domains; for [replication], a positive target,
// known metrics and min <= max. The rules that tie parameters together are
// checked per configuration by Design. Throws InputError with a one-line
// message that names the key, the value and what is allowed.
SweepSpec parse_spec(std::string_view text, std::string_view source = "<string>");

// Reads and parses a spec file. Throws InputError when it cannot be read.
SweepSpec load_spec(const std::filesystem::path& path);

// The largest replicate count and grid size accepted.
inline constexpr std::int64_t max_replicates = std::int64_t{1} << 32;
inline constexpr std::int64_t max_runs = std::int64_t{1} << 48;
// The most values one { start, stop, num } axis may have; longer designs want
// sampling rather than a grid.
inline constexpr std::int64_t max_axis_values = 1'000'000;
// The most points a [sample] design may have (the design is held in memory).
inline constexpr std::int64_t max_sample_points = std::int64_t{1} << 22;

}  // namespace coopsweep::sweep
