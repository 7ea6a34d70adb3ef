#include <coopsweep/sweep/replication.hpp>

#include <coopsweep/sweep/parameters.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace coopsweep::sweep {
namespace {

// Continued fraction of the incomplete beta function (modified Lentz), valid
// for x < (a + 1) / (a + b + 2); the caller uses the symmetry otherwise.
double beta_fraction(double a, double b, double x) {
  constexpr double tiny = 1e-300;
  constexpr double epsilon = 1e-16;
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::abs(d) < tiny) d = tiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 10000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + aa * d;
    if (std::abs(d) < tiny) d = tiny;
    c = 1.0 + aa / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + aa * d;
    if (std::abs(d) < tiny) d = tiny;
    c = 1.0 + aa / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1.0) < epsilon) break;
  }
  return h;
}

// The regularized incomplete beta function I_x(a, b).
double incomplete_beta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_fraction(a, b, x) / a;
  return 1.0 - front * beta_fraction(b, a, 1.0 - x) / b;
}

}  // namespace

ReplicationRule replication_rule(const ReplicationSpec& spec) {
  ReplicationRule rule;
  rule.target_ci = spec.target_ci;
  rule.min = spec.min;
  rule.max = spec.max;
  rule.step = spec.step;
  for (const std::string& name : spec.metrics) {
    const auto it = std::find_if(kernels::metric_info.begin(), kernels::metric_info.end(),
                                 [&](const kernels::MetricInfo& info) { return info.name == name; });
    if (it == kernels::metric_info.end()) {
      throw InputError("unknown metric '" + name + "' in [replication] metrics; run 'coopsweep parameters' for the list");
    }
    rule.metrics.push_back(static_cast<std::size_t>(it - kernels::metric_info.begin()));
  }
  return rule;
}

double student_t_quantile(double p, double df) {
  if (!(p > 0.0 && p < 1.0) || !(df > 0.0)) {
    throw std::invalid_argument("student_t_quantile: p must lie in (0, 1) and df be positive");
  }
  if (p == 0.5) return 0.0;
  // For t > 0, P(T > t) = I_x(df / 2, 1 / 2) / 2 with x = df / (df + t^2),
  // which grows with x: bisect on x, then t = sqrt(df (1 - x) / x).
  const double tail = p > 0.5 ? 1.0 - p : p;
  double low = 0.0, high = 1.0;
  for (int i = 0; i < 200 && high - low > 1e-17; ++i) {
    const double mid = 0.5 * (low + high);
    if (0.5 * incomplete_beta(0.5 * df, 0.5, mid) < tail) {
      low = mid;
    } else {
      high = mid;
    }
  }
  const double x = 0.5 * (low + high);
  const double t = std::sqrt(df * (1.0 - x) / x);
  return p > 0.5 ? t : -t;
}

double confidence_width(std::span<const kernels::RunMetrics> runs, std::size_t metric) {
  double sum = 0.0;
  std::int64_t k = 0;
  for (const auto& run : runs) {
    if (!std::isnan(run[metric])) {
      sum += run[metric];
      ++k;
    }
  }
  if (k < 2) return std::numeric_limits<double>::infinity();
  const double mean = sum / static_cast<double>(k);
  double squares = 0.0;
  for (const auto& run : runs) {
    if (!std::isnan(run[metric])) squares += (run[metric] - mean) * (run[metric] - mean);
  }
  const double n = static_cast<double>(k);
  const double sd = std::sqrt(squares / (n - 1.0));
  return 2.0 * student_t_quantile(0.975, n - 1.0) * sd / std::sqrt(n);
}

bool precise_enough(std::span<const kernels::RunMetrics> runs, const ReplicationRule& rule) {
  return std::all_of(rule.metrics.begin(), rule.metrics.end(),
                     [&](std::size_t m) { return confidence_width(runs, m) < rule.target_ci; });
}

std::int64_t next_replicate_count(std::int64_t done, const ReplicationRule& rule) noexcept {
  if (done <= 0) return std::min(rule.min, rule.max);
  const std::int64_t next = rule.step > 0 ? done + std::min(rule.step, rule.max) : 2 * done;
  return std::min(next, rule.max);
}

}  // namespace coopsweep::sweep
