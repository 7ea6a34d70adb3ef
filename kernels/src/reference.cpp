#include <coopsweep/kernels/reference.hpp>

#include "exact_storage.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace coopsweep::kernels {
namespace {

constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();

// floor(bits * bound / 2^64): a uniform index below `bound` from one 64-bit word.
// Its bias, at most bound / 2^64, is far below anything a simulation can see,
// and it keeps one Philox word per draw so a SIMD kernel can reproduce it.
std::uint64_t scaled_index(std::uint64_t bits, std::uint64_t bound) noexcept {
  return static_cast<std::uint64_t>((static_cast<uint128>(bits) * bound) >> 64);
}

Strategy random_strategy(std::uint64_t bits) noexcept { return static_cast<Strategy>(scaled_index(bits, 3)); }

// Initialisation step 3: a uniformly random set of round(f_D N) defectors and a
// disjoint one of round(f_C N) cooperators, from a partial Fisher-Yates shuffle.
void assign_strategies(const ModelParams& p, const ReplicateStream& stream, ReplicateState& s) {
  const auto n = static_cast<FirmIndex>(p.firms);
  const auto defectors = static_cast<FirmIndex>(std::llround(p.defectors * static_cast<double>(n)));
  // f_C + f_D <= 1 does not stop the two roundings from summing past N (N = 3,
  // f_C = f_D = 0.5); cooperators take what the defectors leave.
  const auto cooperators = std::min<FirmIndex>(
      static_cast<FirmIndex>(std::llround(p.cooperators * static_cast<double>(n))), n - defectors);
  detail::assign_exactly(s.permutation, static_cast<std::size_t>(n), FirmIndex{0});
  std::iota(s.permutation.begin(), s.permutation.end(), FirmIndex{0});
  SequentialStream draws(stream, Purpose::strategies);
  const FirmIndex chosen = defectors + cooperators;
  for (FirmIndex i = 0; i < chosen; ++i) {
    const auto j = i + static_cast<FirmIndex>(draws.below(static_cast<std::uint64_t>(n - i)));
    std::swap(s.permutation[i], s.permutation[j]);
  }
  detail::assign_exactly(s.strategy, static_cast<std::size_t>(n), Strategy::conditional);
  for (FirmIndex i = 0; i < defectors; ++i) s.strategy[s.permutation[i]] = Strategy::defector;
  for (FirmIndex i = defectors; i < chosen; ++i) s.strategy[s.permutation[i]] = Strategy::cooperator;
}

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

// Appends round t's values to `series`, emptied first at t = 1.
void record_round(const ReplicateState& s, std::int64_t t, double cooperation_t, RoundSeries& series) {
  if (t == 1) {
    for (auto* values : {&series.cooperation, &series.trust, &series.payoff, &series.alliances}) values->clear();
  }
  const EdgeIndex edges = s.graph.directed_edges();
  double active_trust = 0.0;
  std::int64_t active_edges = 0;
  for (EdgeIndex e = 0; e < edges; ++e) {
    if (s.active[e]) {
      active_trust += s.trust[e];
      ++active_edges;
    }
  }
  const double payoff_total = std::accumulate(s.payoff.begin(), s.payoff.end(), 0.0);
  series.cooperation.push_back(cooperation_t);
  series.trust.push_back(edges > 0 ? active_trust / edges : 0.0);
  series.payoff.push_back(payoff_total / static_cast<double>(s.payoff.size()));
  series.alliances.push_back(edges > 0 ? static_cast<double>(active_edges) / edges : 1.0);
}

bool fixated(const ReplicateState& s) {
  return std::all_of(s.strategy.begin(), s.strategy.end(), [&](Strategy x) { return x == s.strategy.front(); });
}

}  // namespace

void initialise_replicate(const ModelParams& p, const ReplicateStream& stream, ReplicateState& s) {
  build_alliance_graph({p.topology, p.firms, p.partners, p.rewire}, stream, s.graph);
  const auto n = static_cast<std::size_t>(p.firms);
  const auto edges = static_cast<std::size_t>(s.graph.directed_edges());

  // Step 2: log-normal sizes with mean 1; exactly 1 when sigma = 0.
  detail::assign_exactly(s.size, n, 1.0);
  if (p.size_spread > 0.0) {
    SequentialStream draws(stream, Purpose::sizes);
    const double sigma = p.size_spread;
    for (auto& a : s.size) a = std::exp(sigma * draws.next_normal() - sigma * sigma / 2.0);
  }

  assign_strategies(p, stream, s);

  // Step 4.
  detail::assign_exactly(s.differentiation, n, 1.0);
  detail::assign_exactly(s.payoff, n, 0.0);
  detail::assign_exactly(s.window_payoff, n, 0.0);
  detail::assign_exactly(s.quality, n, 0.0);
  detail::assign_exactly(s.acts, n, 0);
  detail::assign_exactly(s.update_payoff, n, 0.0);
  detail::assign_exactly(s.fitness, n, 0.0);
  detail::assign_exactly(s.next_strategy, n, Strategy::conditional);
  detail::assign_exactly(s.trust, edges, p.trust_init);
  detail::assign_exactly(s.action, edges, 0);
  detail::assign_exactly(s.active, edges, 1);
}

RunMetrics simulate_reference(const ModelParams& p, const ReplicateStream& stream, ReplicateState& s,
                              RoundSeries* series) {
  initialise_replicate(p, stream, s);
  const AllianceGraph& g = s.graph;
  const FirmIndex n = g.firms;
  const EdgeIndex edges = g.directed_edges();

  const double s_ = p.scope;
  const double v = cooperation_value(s_);
  const double leak_factor = 1.0 - p.leakage * s_ * s_;

  // Step 7 can end a run before T, so the window (the last min(W, R) rounds)
  // is only known at the end: then the last W rounds' values are kept in ring
  // buffers and summed in round order at the end, the same additions as the
  // running sums of a run of known length.
  const bool may_stop_early = p.stop_on_fixation && p.mutation == 0.0;
  const auto window_capacity = static_cast<std::size_t>(std::min(p.window, p.rounds));
  if (may_stop_early) {
    detail::assign_exactly(s.recent_cooperation, window_capacity, 0.0);
    detail::assign_exactly(s.recent_trust, window_capacity, 0.0);
    detail::assign_exactly(s.recent_payoff, window_capacity * static_cast<std::size_t>(n), 0.0);
  }
  const std::int64_t known_window_start = p.rounds - std::min(p.window, p.rounds) + 1;

  double cooperation_sum = 0.0;  // over window rounds, of sum_e x_e / E0
  double trust_sum = 0.0;        // over window rounds, of sum_active tau_e / E0
  double payoff_sum = 0.0;       // over window rounds and firms, of pi_i
  std::int64_t breakdown_round = p.rounds + 1;
  std::int64_t rounds = p.rounds;

  for (std::int64_t t = 1; t <= p.rounds; ++t) {
    // Step 1: actions.
    for (EdgeIndex e = 0; e < edges; ++e) {
      std::uint8_t x = 0;
      if (s.active[e]) {
        switch (s.strategy[g.source[e]]) {
          case Strategy::cooperator: x = 1; break;
          case Strategy::defector: x = 0; break;
          case Strategy::conditional: x = s.trust[e] >= p.trust_threshold ? 1 : 0; break;
        }
        if (x && p.error > 0.0 &&
            stream.lane_uniform(Purpose::execution_error, static_cast<std::uint64_t>(t),
                                static_cast<std::uint64_t>(e)) < p.error) {
          x = 0;
        }
      }
      s.action[e] = x;
    }

    // Step 2: payoffs, from the differentiation at the start of the round.
    for (FirmIndex i = 0; i < n; ++i) s.quality[i] = s.size[i] * s.differentiation[i];
    std::int64_t acts_total = 0;
    for (FirmIndex i = 0; i < n; ++i) {
      double alliance_value = 0.0;
      double neighbour_quality = 0.0;
      std::int32_t active_alliances = 0;
      std::int32_t acts = 0;
      for (EdgeIndex e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
        const FirmIndex j = g.target[e];
        neighbour_quality += s.quality[j];
        if (!s.active[e]) continue;
        ++active_alliances;
        const double x = s.action[e];
        const double y = s.action[g.reverse[e]];
        acts += s.action[e];
        double edge_value = v * p.benefit * y - s_ * p.cost * x;
        // The size weight only where synergy arises; sizes that underflow to 0
        // (a huge size_spread) are equal partners, the weight's limit.
        if (x * y > 0.0) {
          const double pair_size = s.size[i] + s.size[j];
          edge_value += v * p.synergy * (pair_size > 0.0 ? 2.0 * s.size[i] / pair_size : 1.0);
        }
        alliance_value += edge_value;
      }
      const double q = s.quality[i];
      const double mean_quality = (q + neighbour_quality) / (1.0 + g.degree(i));
      // With Q_i = 0 every q_j around i is 0, q_i included: i holds no market share.
      const double market_share =
          mean_quality > 0.0 ? p.market * (1.0 - s_) * s.differentiation[i] * q / mean_quality : 0.0;
      s.payoff[i] = alliance_value + market_share - p.upkeep * active_alliances;
      s.acts[i] = acts;
      acts_total += acts;
    }

    // Step 3: knowledge leaks with every cooperative act, then innovation rebuilds it.
    for (FirmIndex i = 0; i < n; ++i) {
      double d = std::pow(leak_factor, s.acts[i]) * s.differentiation[i];
      d = d + p.innovation * (1.0 - d);
      s.differentiation[i] = d;
    }

    // Step 4: trust follows the partner's act.
    for (EdgeIndex e = 0; e < edges; ++e) {
      if (!s.active[e]) continue;
      const double tau = s.trust[e];
      s.trust[e] = s.action[g.reverse[e]]
                       ? (1.0 - p.trust_decay) * (tau + p.trust_gain * (1.0 - tau))
                       : (1.0 - p.trust_decay) * (1.0 - p.trust_loss) * tau;
    }

    // Step 5: dissolution when either side's trust is below theta, decided on
    // the trust after step 4 for both directions before any alliance changes.
    for (EdgeIndex e = 0; e < edges; ++e) {
      const EdgeIndex r = g.reverse[e];
      if (e < r && s.active[e] && (s.trust[e] < p.exit_threshold || s.trust[r] < p.exit_threshold)) {
        s.active[e] = 0;
        s.active[r] = 0;
      }
    }

    // Round metrics, read after step 5 and before step 6 re-forms alliances.
    // With E0 = 0 the round's cooperation counts as 0 (MODEL.md).
    const double cooperation_t = edges > 0 ? static_cast<double>(acts_total) / edges : 0.0;
    if (breakdown_round > p.rounds && cooperation_t < 0.05) breakdown_round = t;
    if (series != nullptr) record_round(s, t, cooperation_t, *series);
    if (may_stop_early || t >= known_window_start) {
      double active_trust = 0.0;
      for (EdgeIndex e = 0; e < edges; ++e) {
        if (s.active[e]) active_trust += s.trust[e];
      }
      const double trust_t = edges > 0 ? active_trust / edges : 0.0;
      if (may_stop_early) {
        const auto slot = static_cast<std::size_t>(t - 1) % window_capacity;
        s.recent_cooperation[slot] = cooperation_t;
        s.recent_trust[slot] = trust_t;
        std::copy(s.payoff.begin(), s.payoff.end(), s.recent_payoff.begin() + static_cast<std::ptrdiff_t>(slot * n));
      } else {
        cooperation_sum += cooperation_t;
        trust_sum += trust_t;
        for (FirmIndex i = 0; i < n; ++i) {
          payoff_sum += s.payoff[i];
          s.window_payoff[i] += s.payoff[i];
        }
      }
    }

    // Step 6: strategy evolution on the mean payoff of the last u rounds.
    bool updated = false;
    if (p.update_rule != UpdateRule::none) {
      for (FirmIndex i = 0; i < n; ++i) s.update_payoff[i] += s.payoff[i];
      if (t % p.update_every == 0) {
        const auto u = static_cast<double>(p.update_every);
        for (FirmIndex i = 0; i < n; ++i) {
          s.fitness[i] = s.update_payoff[i] / u;
          s.update_payoff[i] = 0.0;
        }
        if (p.update_rule == UpdateRule::fermi) {
          fermi_update(p, stream, t, s);
        } else {
          death_birth_update(p, stream, t, s);
        }
        updated = true;
      }
    }

    // Step 7: strategies only change in step 6, so fixation is checked after
    // round 1 and after each update.
    if (may_stop_early && (t == 1 || updated) && fixated(s)) {
      rounds = t;
      break;
    }
  }

  const std::int64_t window = std::min(p.window, rounds);
  if (may_stop_early) {
    for (std::int64_t t = rounds - window + 1; t <= rounds; ++t) {
      const auto slot = static_cast<std::size_t>(t - 1) % window_capacity;
      cooperation_sum += s.recent_cooperation[slot];
      trust_sum += s.recent_trust[slot];
      const double* payoffs = s.recent_payoff.data() + slot * static_cast<std::size_t>(n);
      for (FirmIndex i = 0; i < n; ++i) {
        payoff_sum += payoffs[i];
        s.window_payoff[i] += payoffs[i];
      }
    }
  }

  RunMetrics m{};
  const auto w = static_cast<double>(window);
  const auto firms = static_cast<double>(n);
  at(m, Metric::cooperation) = cooperation_sum / w;
  at(m, Metric::trust) = trust_sum / w;
  std::int64_t active_edges = 0;
  for (EdgeIndex e = 0; e < edges; ++e) active_edges += s.active[e];
  at(m, Metric::alliances) = edges > 0 ? static_cast<double>(active_edges) / edges : 1.0;
  at(m, Metric::payoff) = payoff_sum / (w * firms);
  at(m, Metric::payoff_gini) = payoff_gini(s.window_payoff, s.scratch);
  at(m, Metric::differentiation) =
      std::accumulate(s.differentiation.begin(), s.differentiation.end(), 0.0) / firms;

  std::int64_t counts[3] = {0, 0, 0};
  double defector_payoff = 0.0;
  double other_payoff = 0.0;
  for (FirmIndex i = 0; i < n; ++i) {
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

ReplicateMemory replicate_memory(const ModelParams& p, bool series) {
  const GraphMemory graph = alliance_graph_memory({p.topology, p.firms, p.partners, p.rewire});
  const auto n = static_cast<double>(p.firms);
  ReplicateMemory out;
  out.graph = graph.graph;
  out.build = graph.build;
  out.edges = (sizeof(double) + 2.0 * sizeof(std::uint8_t)) * graph.directed_edges;
  // size, differentiation, payoff, window_payoff, quality, update_payoff,
  // fitness and the Gini's scratch; strategy and next_strategy; acts and permutation.
  out.firms = (8.0 * sizeof(double) + 2.0 * sizeof(Strategy) + sizeof(std::int32_t) + sizeof(FirmIndex)) * n;
  if (p.stop_on_fixation && p.mutation == 0.0) {
    const auto window = static_cast<double>(std::min(p.window, p.rounds));
    out.window = sizeof(double) * window * (2.0 + n);
  }
  if (series) {
    // Four series of one value per round, grown by push_back: up to twice that capacity.
    out.series = 2.0 * 4.0 * sizeof(double) * static_cast<double>(p.rounds);
  }
  return out;
}

}  // namespace coopsweep::kernels
