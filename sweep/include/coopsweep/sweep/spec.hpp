#pragma once
// The sweep spec: a TOML file (or text) that names a seed, a replicate count,
// fixed model parameters, full-factorial grid axes and an output path.
//
//   seed = 42
//   replicates = 16
//   [model]                 # fixed values; other parameters take MODEL.md's defaults
//   firms = 100
//   [grid]                  # axes: a list, or { start, stop, num } (inclusive, like numpy.linspace)
//   scope = [0.0, 0.5, 1.0]
//   trust_decay = { start = 0.0, stop = 0.2, num = 11 }
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

struct SweepSpec {
  std::string text;                 // the spec as written, kept for provenance
  std::string source;               // file name (or "<string>") for messages
  std::uint64_t seed = 0;
  std::int64_t replicates = 1;
  kernels::ModelParams model;       // defaults with [model] applied
  std::vector<std::string> fixed;   // names set in [model], in file order
  std::vector<GridAxis> axes;       // in file order; the first varies slowest
  std::string output_path;          // empty when the spec names none
  bool timeseries = false;          // store per-round series of every run
  double timeseries_limit_gb = 1.0; // warn above this many gigabytes (10^9 bytes) of series
};

// Parses and checks a spec: TOML syntax, known sections and keys, types and
// domains of every value, non-empty axes without repeated values, and no
// parameter both fixed and swept. The rules that tie parameters together are
// checked per configuration by GridDesign. Throws InputError with a one-line
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

}  // namespace coopsweep::sweep
