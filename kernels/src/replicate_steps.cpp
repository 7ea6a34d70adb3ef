#include "replicate_steps.hpp"

#include "exact_storage.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace coopsweep::kernels::detail {
namespace {

constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();

// floor(bits * bound / 2^64): a uniform index below `bound` from one 64-bit word.
// Its bias, at most bound / 2^64, is far below anything a simulation can see,
// and it keeps one Philox word per draw so a SIMD kernel can reproduce it.
std::uint64_t scaled_index(std::uint64_t bits, std::uint64_t bound) noexcept {
  return static_cast<std::uint64_t>((static_cast<uint128>(bits) * bound) >> 64);
}

Strategy random_strategy(std::uint64_t bits) noexcept { return static_cast<Strategy>(scaled_index(bits, 3)); }

}  // namespace

// Step 6, fermi: every firm with partners in G0 compares itself with one of them
// at once (synchronous), then every firm mutates with probability mu. The draws
// of firm i at round t are the words of block (strategy_update, t, i): the
// partner, the adoption, the mutation and the mutant strategy.
void fermi_update(const ModelParams& p, const ReplicateStream& stream, std::int64_t t, ReplicateState& s) {
  const AllianceGraph& g = s.graph;
  for (FirmIndex i = 0; i < g.firms; ++i) {
    const auto words = stream.block(Purpose::strategy_update, static_cast<std::uint64_t>(t),
                                    static_cast<std::uint64_t>(i));
    Strategy next = s.strategy[i];
    const FirmIndex degree = g.degree(i);
    if (degree > 0) {
      const FirmIndex j = g.target[g.offsets[i] + static_cast<EdgeIndex>(
                                                      scaled_index(words[0], static_cast<std::uint64_t>(degree)))];
      const double adopt = 1.0 / (1.0 + std::exp(-p.selection * (s.fitness[j] - s.fitness[i])));
      if (unit_interval(words[1]) < adopt) next = s.strategy[j];
    }
    if (unit_interval(words[2]) < p.mutation) next = random_strategy(words[3]);
    s.next_strategy[i] = next;
  }
  std::swap(s.strategy, s.next_strategy);
}

// Step 6, death_birth: `births` times in turn, a uniformly chosen firm i is
// replaced by a newcomer with the strategy of a partner j in G0 chosen with
// probability proportional to max(0, 1 - w + w P_j). The draws of birth b at
// round t are the words of block (strategy_update, t, b): the dying firm, the
// parent, the mutation and the mutant strategy. A firm without partners in G0
// has no parent to be replaced by and survives.
void death_birth_update(const ModelParams& p, const ReplicateStream& stream, std::int64_t t, ReplicateState& s) {
  const AllianceGraph& g = s.graph;
  for (std::int64_t b = 0; b < p.births; ++b) {
    const auto words = stream.block(Purpose::strategy_update, static_cast<std::uint64_t>(t),
                                    static_cast<std::uint64_t>(b));
    const auto i = static_cast<FirmIndex>(scaled_index(words[0], static_cast<std::uint64_t>(g.firms)));
    const EdgeIndex first = g.offsets[i];
    const EdgeIndex last = g.offsets[i + 1];
    if (first == last) continue;
    double total = 0.0;
    for (EdgeIndex e = first; e < last; ++e) {
      total += std::max(0.0, 1.0 - p.selection + p.selection * s.fitness[g.target[e]]);
    }
    const double u = unit_interval(words[1]);
    FirmIndex parent = g.target[first + static_cast<EdgeIndex>(u * (last - first))];
    if (total > 0.0) {
      // Roulette over the partners in G0 order; rounding can leave the target
      // just past the last partner with fitness, which then takes it.
      const double target = u * total;
      double cumulative = 0.0;
      for (EdgeIndex e = first; e < last; ++e) {
        const double fitness = std::max(0.0, 1.0 - p.selection + p.selection * s.fitness[g.target[e]]);
        if (fitness <= 0.0) continue;
        parent = g.target[e];
        cumulative += fitness;
        if (target < cumulative) break;
      }
    }
    Strategy newcomer = s.strategy[parent];
    if (unit_interval(words[2]) < p.mutation) newcomer = random_strategy(words[3]);
    s.strategy[i] = newcomer;
    s.differentiation[i] = 1.0;
    for (EdgeIndex e = first; e < last; ++e) {
      s.active[e] = 1;
      s.active[g.reverse[e]] = 1;
      s.trust[e] = p.trust_init;
      s.trust[g.reverse[e]] = p.trust_init;
    }
  }
}

bool update_fitness(const ModelParams& p, std::int64_t t, ReplicateState& s) {
  if (p.update_rule == UpdateRule::none) return false;
  const std::size_t n = s.payoff.size();
  for (std::size_t i = 0; i < n; ++i) s.update_payoff[i] += s.payoff[i];
  if (t % p.update_every != 0) return false;
  const auto u = static_cast<double>(p.update_every);
  for (std::size_t i = 0; i < n; ++i) {
    s.fitness[i] = s.update_payoff[i] / u;
    s.update_payoff[i] = 0.0;
  }
  return true;
}

void leak_powers(const ModelParams& p, std::int32_t max_acts, std::vector<double>& powers) {
  const double leak_factor = 1.0 - p.leakage * p.scope * p.scope;
  assign_exactly(powers, static_cast<std::size_t>(max_acts) + 1, 0.0);
  for (std::int32_t acts = 0; acts <= max_acts; ++acts) powers[static_cast<std::size_t>(acts)] = std::pow(leak_factor, acts);
}

bool fixated(const ReplicateState& s) {
  return std::all_of(s.strategy.begin(), s.strategy.end(), [&](Strategy x) { return x == s.strategy.front(); });
}

WindowSums::WindowSums(const ModelParams& p, ReplicateState& s)
    : may_stop_early_(p.stop_on_fixation && p.mutation == 0.0),
      capacity_(static_cast<std::size_t>(std::min(p.window, p.rounds))),
      known_window_start_(p.rounds - std::min(p.window, p.rounds) + 1) {
  if (may_stop_early_) {
    assign_exactly(s.recent_cooperation, capacity_, 0.0);
    assign_exactly(s.recent_trust, capacity_, 0.0);
    assign_exactly(s.recent_payoff, capacity_ * s.payoff.size(), 0.0);
  }
}

void WindowSums::add(std::int64_t t, double cooperation_t, double trust_t, ReplicateState& s) {
  const std::size_t n = s.payoff.size();
  if (may_stop_early_) {
    const auto slot = static_cast<std::size_t>(t - 1) % capacity_;
    s.recent_cooperation[slot] = cooperation_t;
    s.recent_trust[slot] = trust_t;
    std::copy(s.payoff.begin(), s.payoff.end(), s.recent_payoff.begin() + static_cast<std::ptrdiff_t>(slot * n));
    return;
  }
  cooperation_sum_ += cooperation_t;
  trust_sum_ += trust_t;
  // Two loops: the running sum is one serial chain, the per-firm sums are
  // independent and vectorize.
  for (std::size_t i = 0; i < n; ++i) payoff_sum_ += s.payoff[i];
  for (std::size_t i = 0; i < n; ++i) s.window_payoff[i] += s.payoff[i];
}

RunMetrics WindowSums::finish(const ModelParams& p, std::int64_t rounds, std::int64_t breakdown_round,
                              std::int64_t active_edges, ReplicateState& s) {
  const std::size_t n = s.payoff.size();
  const std::int64_t window = std::min(p.window, rounds);
  if (may_stop_early_) {
    for (std::int64_t t = rounds - window + 1; t <= rounds; ++t) {
      const auto slot = static_cast<std::size_t>(t - 1) % capacity_;
      cooperation_sum_ += s.recent_cooperation[slot];
      trust_sum_ += s.recent_trust[slot];
      const double* payoffs = s.recent_payoff.data() + slot * n;
      for (std::size_t i = 0; i < n; ++i) {
        payoff_sum_ += payoffs[i];
        s.window_payoff[i] += payoffs[i];
      }
    }
  }

  RunMetrics m{};
  const EdgeIndex edges = s.graph.directed_edges();
  const auto w = static_cast<double>(window);
  const auto firms = static_cast<double>(n);
  at(m, Metric::cooperation) = cooperation_sum_ / w;
  at(m, Metric::trust) = trust_sum_ / w;
  at(m, Metric::alliances) = edges > 0 ? static_cast<double>(active_edges) / edges : 1.0;
  at(m, Metric::payoff) = payoff_sum_ / (w * firms);
  at(m, Metric::payoff_gini) = payoff_gini(s.window_payoff, s.scratch);
  at(m, Metric::differentiation) =
      std::accumulate(s.differentiation.begin(), s.differentiation.end(), 0.0) / firms;

  std::int64_t counts[3] = {0, 0, 0};
  double defector_payoff = 0.0;
  double other_payoff = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    ++counts[static_cast<int>(s.strategy[i])];
    (s.strategy[i] == Strategy::defector ? defector_payoff : other_payoff) += s.window_payoff[i] / w;
  }
  const auto n_conditional = counts[static_cast<int>(Strategy::conditional)];
  const auto n_cooperator = counts[static_cast<int>(Strategy::cooperator)];
  const auto n_defector = counts[static_cast<int>(Strategy::defector)];
  at(m, Metric::share_conditional) = static_cast<double>(n_conditional) / firms;
  at(m, Metric::share_cooperator) = static_cast<double>(n_cooperator) / firms;
  at(m, Metric::share_defector) = static_cast<double>(n_defector) / firms;
  const auto n_other = n_conditional + n_cooperator;
  at(m, Metric::freerider_gap) =
      (n_defector > 0 && n_other > 0)
          ? defector_payoff / static_cast<double>(n_defector) - other_payoff / static_cast<double>(n_other)
          : nan_value;
  at(m, Metric::breakdown_round) = static_cast<double>(breakdown_round);
  at(m, Metric::rounds_run) = static_cast<double>(rounds);
  return m;
}

void record_round(const ReplicateState& s, std::int64_t t, double cooperation_t, double active_trust,
                  std::int64_t active_edges, RoundSeries& series) {
  if (t == 1) {
    for (auto* values : {&series.cooperation, &series.trust, &series.payoff, &series.alliances}) values->clear();
  }
  const EdgeIndex edges = s.graph.directed_edges();
  const double payoff_total = std::accumulate(s.payoff.begin(), s.payoff.end(), 0.0);
  series.cooperation.push_back(cooperation_t);
  series.trust.push_back(edges > 0 ? active_trust / edges : 0.0);
  series.payoff.push_back(payoff_total / static_cast<double>(s.payoff.size()));
  series.alliances.push_back(edges > 0 ? static_cast<double>(active_edges) / edges : 1.0);
}

}  // namespace coopsweep::kernels::detail
