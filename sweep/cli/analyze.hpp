#pragma once
// `coopsweep analyze FILE --metric M`: the Sobol' indices of a saltelli sweep,
// or the elementary effects of a morris sweep, of a metric's replicate means.

#include <cstdint>
#include <string>

namespace coopsweep::cli {

struct AnalyzeArgs {
  std::string file;
  std::string metric;
  std::int64_t bootstrap = 1000;  // resamples for the confidence intervals
  double confidence = 0.95;
  std::uint64_t seed = 0;         // of the bootstrap draws
  bool json = false;              // one JSON object instead of tables
};

// Prints the indices for each point of the file's grid (one table each, or one
// JSON object for all). Returns exit status 0, or 2 (with one line on stderr)
// for a file that is missing, unfinished or not from a saltelli or morris
// design, or an unknown metric.
int analyze_command(const AnalyzeArgs& args);

}  // namespace coopsweep::cli
