#include <coopsweep/sweep/sensitivity.hpp>

#include <coopsweep/kernels/random.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace coopsweep::sweep {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// Bootstrap draws: keyed apart from designs and runs, one lane per resample.
constexpr std::uint64_t bootstrap_stream = design_stream - 1;
constexpr auto bootstrap_purpose = static_cast<kernels::Purpose>(110);

// Indices of resample b: `count` draws with replacement from [0, count).
void resample(std::uint64_t seed, std::int64_t b, std::int64_t count, std::vector<std::int64_t>& out) {
  kernels::SequentialStream draws(kernels::ReplicateStream(seed, bootstrap_stream, static_cast<std::uint64_t>(b)),
                                  bootstrap_purpose);
  out.resize(static_cast<std::size_t>(count));
  for (auto& index : out) index = static_cast<std::int64_t>(draws.below(static_cast<std::uint64_t>(count)));
}

// The percentile interval of `values` (NaN skipped), linear between order
// statistics as numpy.quantile does by default.
Interval percentile_interval(std::vector<double> values, double confidence) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }), values.end());
  if (values.empty()) return {nan, nan};
  std::sort(values.begin(), values.end());
  const auto quantile = [&](double q) {
    const double position = q * static_cast<double>(values.size() - 1);
    const auto below = static_cast<std::size_t>(std::floor(position));
    const std::size_t above = std::min(below + 1, values.size() - 1);
    return values[below] + (position - static_cast<double>(below)) * (values[above] - values[below]);
  };
  return {quantile((1.0 - confidence) / 2.0), quantile((1.0 + confidence) / 2.0)};
}

void check_options(const BootstrapOptions& options) {
  if (options.resamples < 0 || !(options.confidence > 0.0 && options.confidence < 1.0)) {
    throw std::invalid_argument("bootstrap: resamples must be >= 0 and confidence lie in (0, 1)");
  }
}

// S1 and ST of the groups `rows` (indices of base groups) of centred outputs.
void sobol_estimates(const std::vector<double>& f, std::int64_t d, std::span<const std::int64_t> rows,
                     std::span<double> first, std::span<double> total) {
  const std::int64_t group = d + 2;
  const auto n = static_cast<double>(rows.size());
  double sum = 0.0, squares = 0.0;
  for (const std::int64_t row : rows) {
    const double a = f[static_cast<std::size_t>(row * group)];
    const double b = f[static_cast<std::size_t>(row * group + d + 1)];
    sum += a + b;
    squares += a * a + b * b;
  }
  const double mean = sum / (2.0 * n);
  const double variance = squares / (2.0 * n) - mean * mean;
  for (std::int64_t i = 0; i < d; ++i) {
    double s1 = 0.0, st = 0.0;
    for (const std::int64_t row : rows) {
      const double a = f[static_cast<std::size_t>(row * group)];
      const double ab = f[static_cast<std::size_t>(row * group + 1 + i)];
      const double b = f[static_cast<std::size_t>(row * group + d + 1)];
      s1 += b * (ab - a);
      st += (a - ab) * (a - ab);
    }
    const bool defined = variance > 0.0;
    first[static_cast<std::size_t>(i)] = defined ? s1 / n / variance : nan;
    total[static_cast<std::size_t>(i)] = defined ? st / (2.0 * n) / variance : nan;
  }
}

}  // namespace

SobolIndices sobol_indices(std::span<const double> y, std::int64_t dimensions, const BootstrapOptions& options) {
  check_options(options);
  if (dimensions < 1) throw std::invalid_argument("Sobol' indices: dimensions must be at least 1");
  const std::int64_t group = dimensions + 2;
  if (y.size() % static_cast<std::size_t>(group) != 0) {
    throw std::invalid_argument("Sobol' indices: " + std::to_string(y.size()) + " outputs are not groups of " +
                                std::to_string(group) + " (a Saltelli design of " + std::to_string(dimensions) +
                                " parameters)");
  }
  const auto groups = static_cast<std::int64_t>(y.size()) / group;
  std::vector<std::int64_t> used;
  for (std::int64_t j = 0; j < groups; ++j) {
    const auto values = y.subspan(static_cast<std::size_t>(j * group), static_cast<std::size_t>(group));
    if (std::none_of(values.begin(), values.end(), [](double v) { return std::isnan(v); })) used.push_back(j);
  }
  if (used.size() < 2) {
    throw std::invalid_argument("Sobol' indices: " + std::to_string(used.size()) + " of " + std::to_string(groups) +
                                " base samples have outputs without NaN; allowed: at least 2");
  }
  // Centred on the mean over A and B: the S1 estimator multiplies f(B) by a
  // difference whose mean is only near 0, so an offset in f adds its noise.
  double sum = 0.0;
  for (const std::int64_t j : used) {
    sum += y[static_cast<std::size_t>(j * group)] + y[static_cast<std::size_t>(j * group + dimensions + 1)];
  }
  const double centre = sum / (2.0 * static_cast<double>(used.size()));
  std::vector<double> f(y.begin(), y.end());
  for (double& v : f) v -= centre;

  SobolIndices out;
  const auto d = static_cast<std::size_t>(dimensions);
  out.first_order.resize(d);
  out.total.resize(d);
  out.base_samples = static_cast<std::int64_t>(used.size());
  out.dropped = groups - out.base_samples;
  sobol_estimates(f, dimensions, used, out.first_order, out.total);
  double squares = 0.0;
  for (const std::int64_t j : used) {
    squares += f[static_cast<std::size_t>(j * group)] * f[static_cast<std::size_t>(j * group)] +
               f[static_cast<std::size_t>(j * group + dimensions + 1)] * f[static_cast<std::size_t>(j * group + dimensions + 1)];
  }
  out.variance = squares / (2.0 * static_cast<double>(used.size()));

  std::vector<std::vector<double>> first(d), total(d);
  std::vector<std::int64_t> picks, rows(used.size());
  std::vector<double> s1(d), st(d);
  for (std::int64_t b = 0; b < options.resamples; ++b) {
    resample(options.seed, b, static_cast<std::int64_t>(used.size()), picks);
    for (std::size_t k = 0; k < picks.size(); ++k) rows[k] = used[static_cast<std::size_t>(picks[k])];
    sobol_estimates(f, dimensions, rows, s1, st);
    for (std::size_t i = 0; i < d; ++i) {
      first[i].push_back(s1[i]);
      total[i].push_back(st[i]);
    }
  }
  for (std::size_t i = 0; i < d; ++i) {
    out.first_order_ci.push_back(percentile_interval(std::move(first[i]), options.confidence));
    out.total_ci.push_back(percentile_interval(std::move(total[i]), options.confidence));
  }
  return out;
}

MorrisIndices morris_indices(std::span<const double> y, const UnitPoints& scaled, const BootstrapOptions& options) {
  check_options(options);
  const std::int64_t d = scaled.dimensions;
  const std::int64_t steps = d + 1;
  if (d < 1 || scaled.count % steps != 0 || static_cast<std::int64_t>(y.size()) != scaled.count) {
    throw std::invalid_argument("Morris indices: " + std::to_string(y.size()) + " outputs for " +
                                std::to_string(scaled.count) + " points of " + std::to_string(d) +
                                " dimensions; allowed: one output per point, trajectories of dimensions + 1 points");
  }
  const std::int64_t trajectories = scaled.count / steps;
  // effects[t * d + j]: trajectory t's effect of coordinate j.
  std::vector<double> effects;
  MorrisIndices out;
  for (std::int64_t t = 0; t < trajectories; ++t) {
    const auto outputs = y.subspan(static_cast<std::size_t>(t * steps), static_cast<std::size_t>(steps));
    if (std::any_of(outputs.begin(), outputs.end(), [](double v) { return std::isnan(v); })) {
      ++out.dropped;
      continue;
    }
    std::vector<double> effect(static_cast<std::size_t>(d), nan);
    for (std::int64_t k = 1; k < steps; ++k) {
      const auto before = scaled.point(t * steps + k - 1);
      const auto after = scaled.point(t * steps + k);
      std::int64_t moved = -1, count = 0;
      for (std::int64_t j = 0; j < d; ++j) {
        if (before[static_cast<std::size_t>(j)] != after[static_cast<std::size_t>(j)]) {
          moved = j;
          ++count;
        }
      }
      if (count != 1 || !std::isnan(effect[static_cast<std::size_t>(moved)])) {
        throw std::invalid_argument("Morris indices: step " + std::to_string(k) + " of trajectory " +
                                    std::to_string(t) + " does not move exactly one coordinate not moved before");
      }
      const double dx = after[static_cast<std::size_t>(moved)] - before[static_cast<std::size_t>(moved)];
      effect[static_cast<std::size_t>(moved)] =
          (outputs[static_cast<std::size_t>(k)] - outputs[static_cast<std::size_t>(k - 1)]) / dx;
    }
    effects.insert(effects.end(), effect.begin(), effect.end());
  }
  out.trajectories = static_cast<std::int64_t>(effects.size()) / d;
  if (out.trajectories == 0) {
    throw std::invalid_argument("Morris indices: every one of the " + std::to_string(trajectories) +
                                " trajectories has a NaN output");
  }
  const auto statistics = [&](std::span<const std::int64_t> rows, std::size_t j, double& mu, double& mu_star,
                              double& sigma) {
    double sum = 0.0, absolute = 0.0;
    for (const std::int64_t t : rows) {
      const double e = effects[static_cast<std::size_t>(t * d) + j];
      sum += e;
      absolute += std::abs(e);
    }
    const auto n = static_cast<double>(rows.size());
    mu = sum / n;
    mu_star = absolute / n;
    double squares = 0.0;
    for (const std::int64_t t : rows) {
      const double e = effects[static_cast<std::size_t>(t * d) + j];
      squares += (e - mu) * (e - mu);
    }
    sigma = rows.size() > 1 ? std::sqrt(squares / (n - 1.0)) : nan;
  };
  std::vector<std::int64_t> all(static_cast<std::size_t>(out.trajectories));
  for (std::size_t t = 0; t < all.size(); ++t) all[t] = static_cast<std::int64_t>(t);
  for (std::size_t j = 0; j < static_cast<std::size_t>(d); ++j) {
    double mu = 0, mu_star = 0, sigma = 0;
    statistics(all, j, mu, mu_star, sigma);
    out.mu.push_back(mu);
    out.mu_star.push_back(mu_star);
    out.sigma.push_back(sigma);
  }
  std::vector<std::vector<double>> boot(static_cast<std::size_t>(d));
  std::vector<std::int64_t> picks;
  for (std::int64_t b = 0; b < options.resamples; ++b) {
    resample(options.seed, b, out.trajectories, picks);
    for (std::size_t j = 0; j < static_cast<std::size_t>(d); ++j) {
      double mu = 0, mu_star = 0, sigma = 0;
      statistics(picks, j, mu, mu_star, sigma);
      boot[j].push_back(mu_star);
    }
  }
  for (auto& values : boot) out.mu_star_ci.push_back(percentile_interval(std::move(values), options.confidence));
  return out;
}

}  // namespace coopsweep::sweep
