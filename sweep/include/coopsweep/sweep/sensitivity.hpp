#pragma once
// Sensitivity analysis of the outputs of sampled designs: Sobol' indices from
// Saltelli's design and Morris's elementary effects, with bootstrap confidence
// intervals. Pure functions of the outputs (and, for Morris, the points); the
// bootstrap draws come from Philox keyed by the options' seed, so results are
// the same on every machine. All functions are thread-safe.

#include <coopsweep/sweep/sampling.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace coopsweep::sweep {

struct Interval {
  double low = 0.0;
  double high = 0.0;
};

struct BootstrapOptions {
  std::int64_t resamples = 1000;  // bootstrap resamples; 0 leaves the intervals NaN
  double confidence = 0.95;       // level of the percentile intervals, in (0, 1)
  std::uint64_t seed = 0;         // of the resampling draws
};

struct SobolIndices {
  std::vector<double> first_order;          // S1_i per parameter
  std::vector<double> total;                // ST_i per parameter
  std::vector<Interval> first_order_ci;     // percentile bootstrap intervals
  std::vector<Interval> total_ci;
  double variance = 0.0;                    // of the output over A and B
  std::int64_t base_samples = 0;            // groups used
  std::int64_t dropped = 0;                 // groups left out for a NaN output
};

// First-order and total Sobol' indices of the outputs `y` of Saltelli's
// design (saltelli_points: base groups of dimensions + 2 values, A_j, AB_1j,
// ..., AB_dj, B_j): S1_i = mean(f(B) (f(AB_i) - f(A))) / V (Saltelli et al.
// 2010, eq. (b) of their table 2) and ST_i = mean((f(A) - f(AB_i))^2) / (2 V)
// (Jansen 1999), with V the variance of f over A and B, after centring f on
// its mean over A and B. Percentile intervals come from resampling the base
// groups with replacement. A group with a NaN output is left out (counted in
// `dropped`). With V = 0 the indices are NaN. Throws std::invalid_argument
// when y.size() is not a multiple of dimensions + 2, or fewer than 2 groups
// remain.
SobolIndices sobol_indices(std::span<const double> y, std::int64_t dimensions, const BootstrapOptions& options = {});

struct MorrisIndices {
  std::vector<double> mu;             // mean elementary effect per parameter
  std::vector<double> mu_star;        // mean absolute elementary effect (Campolongo et al. 2007)
  std::vector<double> sigma;          // standard deviation (ddof = 1) of the effects; NaN for 1 trajectory
  std::vector<Interval> mu_star_ci;   // percentile bootstrap intervals over trajectories
  std::int64_t trajectories = 0;      // used
  std::int64_t dropped = 0;           // left out for a NaN output
};

// Elementary effects of the outputs `y` of Morris trajectories with points
// `scaled` (morris_points' layout: trajectories of dimensions + 1 points, each
// step moving one coordinate; coordinates on the scale of their ranges, so
// that an effect is the change of the output per whole range): the effect of
// a step is (y_k - y_(k-1)) / (x_k - x_(k-1)) in the coordinate that moved.
// A trajectory with a NaN output is left out. Throws std::invalid_argument
// when the sizes disagree, a step moves other than exactly one coordinate, or
// no trajectory remains.
MorrisIndices morris_indices(std::span<const double> y, const UnitPoints& scaled,
                             const BootstrapOptions& options = {});

}  // namespace coopsweep::sweep
