#pragma once
// The per-replicate metrics of MODEL.md ("Metrics"), in the order they are stored.

#include <array>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace coopsweep::kernels {

enum class Metric : std::size_t {
  cooperation,
  trust,
  alliances,
  payoff,
  payoff_gini,
  differentiation,
  share_conditional,
  share_cooperator,
  share_defector,
  freerider_gap,
  breakdown_round,
  rounds_run,
};
inline constexpr std::size_t metric_count = 12;

struct MetricInfo {
  std::string_view name;       // as in MODEL.md
  std::string_view long_name;  // one line for file attributes and --help
  std::string_view units;      // empty when dimensionless
};

inline constexpr std::array<MetricInfo, metric_count> metric_info = {{
    {"cooperation", "share of directed alliance edges with a cooperative act, mean over the window", ""},
    {"trust", "trust summed over edges of active alliances per edge of G0, mean over the window", ""},
    {"alliances", "share of the alliances of G0 still active at the end", ""},
    {"payoff", "payoff per firm and round, mean over the window", "value per firm per round"},
    {"payoff_gini", "Gini coefficient of firms' payoffs summed over the window", ""},
    {"differentiation", "mean differentiation of firms at the end", ""},
    {"share_conditional", "share of conditional firms at the end", ""},
    {"share_cooperator", "share of unconditional cooperators at the end", ""},
    {"share_defector", "share of free riders (defectors) at the end", ""},
    {"freerider_gap", "mean payoff per round of defectors minus that of the other firms, over the window",
     "value per firm per round"},
    {"breakdown_round", "first round with cooperation below 0.05 (rounds + 1 if none)", "rounds"},
    {"rounds_run", "rounds that ran", "rounds"},
}};

// The metrics of one replicate, indexed by Metric.
using RunMetrics = std::array<double, metric_count>;

constexpr double& at(RunMetrics& metrics, Metric m) noexcept { return metrics[static_cast<std::size_t>(m)]; }
constexpr double at(const RunMetrics& metrics, Metric m) noexcept {
  return metrics[static_cast<std::size_t>(m)];
}

// sum_i sum_j |Y_i - Y_j| / (2 N sum_i Y_i) when sum_i Y_i > 0, else NaN.
// Computed in O(N log N) from the sorted values, exactly 0 for equal payoffs;
// `scratch` is reused storage.
// Thread-safe for distinct scratch.
double payoff_gini(std::span<const double> window_payoffs, std::vector<double>& scratch);

}  // namespace coopsweep::kernels
