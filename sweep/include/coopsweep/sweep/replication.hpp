#pragma once
// Adaptive replication ([replication] in a spec): a configuration runs `min`
// replicates, then more in rounds (doubling, or `step` at a time) until the
// 95% confidence interval of the mean of each named metric is narrower than
// `target_ci`, or `max` replicates ran. The decision after a round looks only
// at the values of replicates 0..n-1 of that configuration, each a pure
// function of (seed, configuration, replicate), so how many replicates a
// configuration runs never depends on threads, blocks or processes.

#include <coopsweep/kernels/metrics.hpp>
#include <coopsweep/sweep/spec.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace coopsweep::sweep {

struct ReplicationRule {
  double target_ci = 0.0;            // full width of the 95% confidence interval
  std::vector<std::size_t> metrics;  // indices into kernels::metric_info
  std::int64_t min = 8;
  std::int64_t max = 1024;
  std::int64_t step = 0;             // 0 doubles
};

// The rule of a spec's [replication] (whose metric names parse_spec checked).
// Throws InputError for an unknown metric name.
ReplicationRule replication_rule(const ReplicationSpec& spec);

// The p-quantile of Student's t distribution with `df` degrees of freedom
// (p in (0, 1), df > 0), from the regularized incomplete beta function by
// bisection, to about 1e-12 relative. Thread-safe.
double student_t_quantile(double p, double df);

// Full width 2 t_(0.975, k-1) s / sqrt(k) of the 95% confidence interval of
// the mean of `metric` over the k runs where it is not NaN (s: the sample
// standard deviation); +infinity when k < 2. Thread-safe.
double confidence_width(std::span<const kernels::RunMetrics> runs, std::size_t metric);

// True when every metric of the rule has a confidence width below target_ci. Thread-safe.
bool precise_enough(std::span<const kernels::RunMetrics> runs, const ReplicationRule& rule);

// The replicate count after the next round, from `done` (0: min): the
// doubled count or done + step, at most max. Thread-safe.
std::int64_t next_replicate_count(std::int64_t done, const ReplicationRule& rule) noexcept;

}  // namespace coopsweep::sweep
