#include <coopsweep/kernels/vectorized.hpp>

#include "replicate_steps.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

// SIMD by compiler auto-vectorization of branch-free loops over structure-of-
// arrays, compiled twice: for x86-64-v3 (AVX2 with hardware gathers for the
// reverse-edge and neighbour lookups) and for the baseline, chosen at load time.
// Measured on the development machine (benchmarks/README.md): explicit SIMD
// libraries gave nothing over this because the loops are gather- and
// memory-bound, and this keeps the kernel plain C++ that reads against the
// reference. tests/kernels/check_vectorized.sh holds the compiler to it: every
// loop marked "SIMD loop" must appear in GCC's vectorization report.
// x86-64-v4 (AVX-512) clones were slower here than v3 (narrower gather
// throughput per element on this CPU), so v4 is not built.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(COOPSWEEP_NO_SIMD_CLONES)
#define COOPSWEEP_SIMD_CLONES [[gnu::target_clones("arch=x86-64-v3", "default")]]
#else
#define COOPSWEEP_SIMD_CLONES
#endif

namespace coopsweep::kernels {
namespace {

// Every constant of a round, each computed exactly as the reference computes it
// so that the products below round the same way.
struct RoundConstants {
  double threshold;      // h
  double benefit_value;  // v(s) b
  double effort;         // s c
  double market_scale;   // M (1 - s)
  double upkeep;         // kappa
  double innovation;     // rho
  double keep;           // 1 - delta
  double keep_loss;      // (1 - delta)(1 - beta)
  double gain;           // alpha
  double exit;           // theta
};

RoundConstants round_constants(const ModelParams& p) {
  const double v = cooperation_value(p.scope);
  return {p.trust_threshold,
          v * p.benefit,
          p.scope * p.cost,
          p.market * (1.0 - p.scope),
          p.upkeep,
          p.innovation,
          1.0 - p.trust_decay,
          (1.0 - p.trust_decay) * (1.0 - p.trust_loss),
          p.trust_gain,
          p.exit_threshold};
}

// Step 1 without execution errors: x_e = 1 for a cooperator, [tau_e >= h] for
// a conditional firm, 0 for a defector and on dissolved alliances.
COOPSWEEP_SIMD_CLONES
void decide_actions(double threshold, EdgeIndex edges, const double* __restrict live,
                    const double* __restrict always, const double* __restrict conditional,
                    const double* __restrict trust, double* __restrict act) {
  for (EdgeIndex e = 0; e < edges; ++e) {  // SIMD loop
    const double trusting = trust[e] >= threshold ? 1.0 : 0.0;
    act[e] = live[e] * (always[e] + conditional[e] * trusting);
  }
}

// Step 1's execution errors: an intended act fails with probability epsilon,
// from the same counter as the reference (one Philox block serves four edges).
void apply_execution_errors(double error, const ReplicateStream& stream, std::int64_t t, EdgeIndex edges,
                            double* act) {
  for (EdgeIndex first = 0; first < edges; first += 4) {
    const EdgeIndex last = std::min<EdgeIndex>(first + 4, edges);
    bool any = false;
    for (EdgeIndex e = first; e < last; ++e) any = any || act[e] != 0.0;
    if (!any) continue;
    const auto words = stream.block(Purpose::execution_error, static_cast<std::uint64_t>(t),
                                    static_cast<std::uint64_t>(first) >> 2);
    for (EdgeIndex e = first; e < last; ++e) {
      if (act[e] != 0.0 && unit_interval(words[static_cast<std::size_t>(e & 3)]) < error) act[e] = 0.0;
    }
  }
}

// Step 2, per edge: the alliance value of e to its source (0 on dissolved
// alliances) and the quality of its target. An inactive edge's 0 added to the
// source's sum is exact: that sum starts at +0 and no edge value is -0.
COOPSWEEP_SIMD_CLONES
void edge_payoffs(const RoundConstants& k, EdgeIndex edges, const EdgeIndex* __restrict reverse,
                  const FirmIndex* __restrict target, const double* __restrict live, const double* __restrict act,
                  const double* __restrict synergy, const double* __restrict quality, double* __restrict partner_act,
                  double* __restrict edge_value, double* __restrict partner_quality) {
  const double benefit_value = k.benefit_value;
  const double effort = k.effort;
  for (EdgeIndex e = 0; e < edges; ++e) {  // SIMD loop
    const double x = act[e];
    const double y = act[reverse[e]];
    const double base = benefit_value * y - effort * x;
    const double value = x * y > 0.0 ? base + synergy[e] : base;
    partner_act[e] = y;
    edge_value[e] = live[e] != 0.0 ? value : 0.0;
    partner_quality[e] = quality[target[e]];
  }
}

// Step 2 without alliances: only the neighbours' qualities.
COOPSWEEP_SIMD_CLONES
void partner_qualities(EdgeIndex edges, const FirmIndex* __restrict target, const double* __restrict quality,
                       double* __restrict partner_quality) {
  for (EdgeIndex e = 0; e < edges; ++e) partner_quality[e] = quality[target[e]];  // SIMD loop
}

// Step 2's market share and payoff, and step 3, per firm. `alliance_value`,
// `neighbour_quality`, `acts` and `active_alliances` are the per-firm sums over
// its edges in G0 order.
COOPSWEEP_SIMD_CLONES
void firm_payoffs(const RoundConstants& k, FirmIndex firms, const double* __restrict alliance_value,
                  const double* __restrict neighbour_quality, const std::int32_t* __restrict acts,
                  const double* __restrict active_alliances, const double* __restrict degree_plus_one,
                  const double* __restrict quality, const double* __restrict leak_power,
                  double* __restrict differentiation, double* __restrict payoff) {
  const double market_scale = k.market_scale;
  const double upkeep = k.upkeep;
  const double innovation = k.innovation;
  for (FirmIndex i = 0; i < firms; ++i) {  // SIMD loop
    const double q = quality[i];
    const double d_start = differentiation[i];
    const double mean_quality = (q + neighbour_quality[i]) / degree_plus_one[i];
    const double market_share = mean_quality > 0.0 ? market_scale * d_start * q / mean_quality : 0.0;
    payoff[i] = alliance_value[i] + market_share - upkeep * active_alliances[i];
    const double d = leak_power[acts[i]] * d_start;
    differentiation[i] = d + innovation * (1.0 - d);
  }
}

// Steps 4 and 5 in one pass. Dissolution needs the partner's trust after step 4,
// which is recomputed here from its own inputs (its partner's act is x_e) rather
// than read back, so the pass needs no second sweep; the new trust goes to
// `next_trust` because the old values are still read through `reverse`.
COOPSWEEP_SIMD_CLONES
void update_trust(const RoundConstants& k, EdgeIndex edges, const EdgeIndex* __restrict reverse,
                  const double* __restrict act, const double* __restrict partner_act, const double* __restrict trust,
                  double* __restrict live, double* __restrict next_trust) {
  const double keep = k.keep;
  const double keep_loss = k.keep_loss;
  const double gain = k.gain;
  const double exit = k.exit;
  for (EdgeIndex e = 0; e < edges; ++e) {  // SIMD loop
    const double tau = trust[e];
    const double tau_partner = trust[reverse[e]];
    const double own = partner_act[e] != 0.0 ? keep * (tau + gain * (1.0 - tau)) : keep_loss * tau;
    const double partner = act[e] != 0.0 ? keep * (tau_partner + gain * (1.0 - tau_partner)) : keep_loss * tau_partner;
    const bool was_live = live[e] != 0.0;
    next_trust[e] = was_live ? own : tau;
    live[e] = was_live && own >= exit && partner >= exit ? 1.0 : 0.0;
  }
}

COOPSWEEP_SIMD_CLONES
std::int64_t count_live(EdgeIndex edges, const double* __restrict live) {
  std::int64_t count = 0;
  for (EdgeIndex e = 0; e < edges; ++e) count += live[e] != 0.0 ? 1 : 0;  // SIMD loop
  return count;
}

// The per-firm sums over each firm's edges, in G0 order as the reference adds
// them; returns sum_i n_i. Scalar: short independent chains, one per firm,
// which the CPU overlaps.
std::int64_t firm_sums(const AllianceGraph& g, VectorizedState& v) {
  ReplicateState& s = v.replicate;
  std::int64_t acts_total = 0;
  for (FirmIndex i = 0; i < g.firms; ++i) {
    double value = 0.0;
    double quality = 0.0;
    double alliances = 0.0;
    std::int32_t acts = 0;
    for (EdgeIndex e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
      value += v.edge_value[e];
      quality += v.partner_quality[e];
      alliances += v.live[e];
      acts += v.act[e] != 0.0 ? 1 : 0;
    }
    v.alliance_value[i] = value;
    v.neighbour_quality[i] = quality;
    v.active_alliances[i] = alliances;
    s.acts[i] = acts;
    acts_total += acts;
  }
  return acts_total;
}

// Sum of q_j over each firm's partners in G0, in G0 order.
void neighbour_sums(const AllianceGraph& g, VectorizedState& v) {
  for (FirmIndex i = 0; i < g.firms; ++i) {
    double quality = 0.0;
    for (EdgeIndex e = g.offsets[i]; e < g.offsets[i + 1]; ++e) quality += v.partner_quality[e];
    v.neighbour_quality[i] = quality;
  }
}

// The per-edge strategy flags of the sources, after initialisation and after
// every strategy update.
void set_strategy_flags(const AllianceGraph& g, VectorizedState& v) {
  const ReplicateState& s = v.replicate;
  for (EdgeIndex e = 0; e < g.directed_edges(); ++e) {
    const Strategy source = s.strategy[g.source[e]];
    v.always[e] = source == Strategy::cooperator ? 1.0 : 0.0;
    v.conditional[e] = source == Strategy::conditional ? 1.0 : 0.0;
  }
}

void prepare(const ModelParams& p, VectorizedState& v) {
  ReplicateState& s = v.replicate;
  const AllianceGraph& g = s.graph;
  const auto n = static_cast<std::size_t>(g.firms);
  const auto edges = static_cast<std::size_t>(g.directed_edges());
  v.live.assign(edges, 1.0);
  v.act.assign(edges, 0.0);
  v.partner_act.assign(edges, 0.0);
  v.always.resize(edges);
  v.conditional.resize(edges);
  v.edge_value.assign(edges, 0.0);
  v.partner_quality.assign(edges, 0.0);
  v.next_trust.assign(edges, 0.0);
  set_strategy_flags(g, v);

  // The synergy term as the reference evaluates it, v(s) g times the size weight.
  const double v_s = cooperation_value(p.scope);
  v.synergy.resize(edges);
  for (FirmIndex i = 0; i < g.firms; ++i) {
    for (EdgeIndex e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
      const double pair_size = s.size[i] + s.size[g.target[e]];
      v.synergy[e] = v_s * p.synergy * (pair_size > 0.0 ? 2.0 * s.size[i] / pair_size : 1.0);
    }
  }

  v.degree_plus_one.resize(n);
  FirmIndex max_degree = 0;
  for (FirmIndex i = 0; i < g.firms; ++i) {
    v.degree_plus_one[i] = 1.0 + g.degree(i);
    max_degree = std::max(max_degree, g.degree(i));
  }
  v.alliance_value.assign(n, 0.0);
  v.neighbour_quality.assign(n, 0.0);
  v.active_alliances.assign(n, 0.0);

  // std::pow(x, n) with an int n is pow(x, double(n)) in the reference; the
  // table holds exactly those values.
  const double leak_factor = 1.0 - p.leakage * p.scope * p.scope;
  v.leak_power.resize(static_cast<std::size_t>(max_degree) + 1);
  for (FirmIndex acts = 0; acts <= max_degree; ++acts) v.leak_power[acts] = std::pow(leak_factor, acts);
}

double active_trust_sum(EdgeIndex edges, const double* live, const double* trust) {
  // In edge order, as the reference adds it; adding +0 for a dissolved
  // alliance is exact.
  double sum = 0.0;
  for (EdgeIndex e = 0; e < edges; ++e) sum += live[e] != 0.0 ? trust[e] : 0.0;
  return sum;
}

}  // namespace

RunMetrics simulate_vectorized(const ModelParams& p, const ReplicateStream& stream, VectorizedState& v,
                               RoundSeries* series, ShortcutCounts* shortcuts) {
  ReplicateState& s = v.replicate;
  initialise_replicate(p, stream, s);
  prepare(p, v);
  const AllianceGraph& g = s.graph;
  const FirmIndex n = g.firms;
  const EdgeIndex edges = g.directed_edges();
  const RoundConstants k = round_constants(p);

  detail::WindowSums window(p, s);
  std::int64_t breakdown_round = p.rounds + 1;
  std::int64_t rounds = p.rounds;
  std::int64_t live_edges = edges;
  // A dormant round (no active alliance) that left every d_i as it was: with
  // no strategy update, every later round repeats it to the bit.
  bool stationary = false;
  if (shortcuts != nullptr) *shortcuts = {};

  for (std::int64_t t = 1; t <= p.rounds; ++t) {
    const bool dormant = live_edges == 0;
    std::int64_t acts_total = 0;
    if (stationary) {
      if (shortcuts != nullptr) ++shortcuts->replayed_rounds;
    } else if (dormant) {
      // Steps 1, 4 and 5 act only on active alliances; with none, x = 0, A_i = 0,
      // n_i = 0 and (1 - lambda s^2)^0 = 1, and only the market remains.
      if (shortcuts != nullptr) ++shortcuts->dormant_rounds;
      for (FirmIndex i = 0; i < n; ++i) s.quality[i] = s.size[i] * s.differentiation[i];
      partner_qualities(edges, g.target.data(), s.quality.data(), v.partner_quality.data());
      neighbour_sums(g, v);
      std::fill(v.alliance_value.begin(), v.alliance_value.end(), 0.0);
      std::fill(v.active_alliances.begin(), v.active_alliances.end(), 0.0);
      std::fill(s.acts.begin(), s.acts.end(), 0);
      v.previous_differentiation.assign(s.differentiation.begin(), s.differentiation.end());
      firm_payoffs(k, n, v.alliance_value.data(), v.neighbour_quality.data(), s.acts.data(),
                   v.active_alliances.data(), v.degree_plus_one.data(), s.quality.data(), v.leak_power.data(),
                   s.differentiation.data(), s.payoff.data());
      stationary = p.update_rule == UpdateRule::none &&
                   s.differentiation == v.previous_differentiation;
    } else {
      decide_actions(k.threshold, edges, v.live.data(), v.always.data(), v.conditional.data(), s.trust.data(),
                     v.act.data());
      if (p.error > 0.0) apply_execution_errors(p.error, stream, t, edges, v.act.data());
      for (FirmIndex i = 0; i < n; ++i) s.quality[i] = s.size[i] * s.differentiation[i];
      edge_payoffs(k, edges, g.reverse.data(), g.target.data(), v.live.data(), v.act.data(), v.synergy.data(),
                   s.quality.data(), v.partner_act.data(), v.edge_value.data(), v.partner_quality.data());
      acts_total = firm_sums(g, v);
      firm_payoffs(k, n, v.alliance_value.data(), v.neighbour_quality.data(), s.acts.data(),
                   v.active_alliances.data(), v.degree_plus_one.data(), s.quality.data(), v.leak_power.data(),
                   s.differentiation.data(), s.payoff.data());
      update_trust(k, edges, g.reverse.data(), v.act.data(), v.partner_act.data(), s.trust.data(), v.live.data(),
                   v.next_trust.data());
      std::swap(s.trust, v.next_trust);
      live_edges = count_live(edges, v.live.data());
    }

    const double cooperation_t = edges > 0 ? static_cast<double>(acts_total) / edges : 0.0;
    if (breakdown_round > p.rounds && cooperation_t < 0.05) breakdown_round = t;
    if (series != nullptr || window.needs(t)) {
      const double active_trust = live_edges > 0 ? active_trust_sum(edges, v.live.data(), s.trust.data()) : 0.0;
      if (series != nullptr) detail::record_round(s, t, cooperation_t, active_trust, live_edges, *series);
      if (window.needs(t)) window.add(t, cooperation_t, edges > 0 ? active_trust / edges : 0.0, s);
    }

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
          detail::fermi_update(p, stream, t, s);
        } else {
          // death_birth re-forms the alliances of each replaced firm in s.active.
          std::fill(s.active.begin(), s.active.end(), std::uint8_t{0});
          detail::death_birth_update(p, stream, t, s);
          for (EdgeIndex e = 0; e < edges; ++e) {
            if (s.active[e]) v.live[e] = 1.0;
          }
          live_edges = count_live(edges, v.live.data());
        }
        set_strategy_flags(g, v);
        updated = true;
      }
    }

    if (p.stop_on_fixation && p.mutation == 0.0 && (t == 1 || updated) && detail::fixated(s)) {
      rounds = t;
      break;
    }
  }

  return window.finish(p, rounds, breakdown_round, live_edges, s);
}

}  // namespace coopsweep::kernels
