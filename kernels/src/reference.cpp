#include <coopsweep/kernels/reference.hpp>

#include "exact_storage.hpp"
#include "replicate_steps.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace coopsweep::kernels {
namespace {

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
  return play_reference(p, stream, s, series);
}

RunMetrics play_reference(const ModelParams& p, const ReplicateStream& stream, ReplicateState& s,
                          RoundSeries* series) {
  const AllianceGraph& g = s.graph;
  const FirmIndex n = g.firms;
  const EdgeIndex edges = g.directed_edges();

  const double s_ = p.scope;
  const double v = cooperation_value(s_);
  const double leak_factor = 1.0 - p.leakage * s_ * s_;

  detail::WindowSums window(p, s);
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
    if (series != nullptr || window.needs(t)) {
      double active_trust = 0.0;
      std::int64_t active_edges = 0;
      for (EdgeIndex e = 0; e < edges; ++e) {
        if (s.active[e]) {
          active_trust += s.trust[e];
          ++active_edges;
        }
      }
      if (series != nullptr) detail::record_round(s, t, cooperation_t, active_trust, active_edges, *series);
      if (window.needs(t)) window.add(t, cooperation_t, edges > 0 ? active_trust / edges : 0.0, s);
    }

    // Step 6: strategy evolution on the mean payoff of the last u rounds.
    const bool updated = detail::update_fitness(p, t, s);
    if (updated) {
      if (p.update_rule == UpdateRule::fermi) {
        detail::fermi_update(p, stream, t, s);
      } else {
        detail::death_birth_update(p, stream, t, s);
      }
    }

    // Step 7: strategies only change in step 6, so fixation is checked after
    // round 1 and after each update.
    if (p.stop_on_fixation && p.mutation == 0.0 && (t == 1 || updated) && detail::fixated(s)) {
      rounds = t;
      break;
    }
  }

  std::int64_t active_edges = 0;
  for (EdgeIndex e = 0; e < edges; ++e) active_edges += s.active[e];
  return window.finish(p, rounds, breakdown_round, active_edges, s);
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
