// Benchmark-only prototype for issue #5: SIMD lanes across REPLICATES that
// share a graph (4 replicates of one configuration on a ring, interleaved:
// edge e of replicate r at 4 e + r, firm i of replicate r at 4 i + r) against
// the production layout, lanes across the FIRMS of one replicate (SELL-4,
// kernels/src/vectorized.cpp). Nothing here is used by the engine.
//
// Both layouts run MODEL.md's round steps 1-5 for update_rule = none and
// error = 0, and nothing else: no window sums, metrics, strategy update, and
// no shortcut (no dormant-round skip, no replay of an exact fixed point). The
// SELL-4 side is a copy of the production round as it was when this was
// measured (decide_actions, the quality loop, play_firms and update_trust,
// verbatim but for their names; production's update_trust has since dropped
// the trust-moved flag, and error-free runs now take the course path) so that
// both time exactly the same steps from the same initial states. Each keeps
// the by-products that round returned (acts per replicate, whether d or trust
// moved, alliances left), so that they do the same work.
//
// At start the program checks, to the bit, that both layouts' trust, alliance
// state, differentiation and last payoffs after T rounds equal those of
// simulate_reference run on each replicate alone, and exits 1 if not.
//
//   bench_lanes [Google Benchmark flags]      check, then time
//   bench_lanes --check                       check only
//   bench_lanes --instructions interleaved|sell FIRMS PARTNERS ROUNDS
//       one run of one layout's rounds (4 replicates), for callgrind with
//       --toggle-collect='*interleaved_rounds*' or '*sell_rounds*'

#include <coopsweep/kernels/reference.hpp>
#include <coopsweep/kernels/vectorized.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

// As in kernels/src/vectorized.cpp: an x86-64-v3 (AVX2) clone and a baseline
// one, chosen at load time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(COOPSWEEP_NO_SIMD_CLONES)
#define COOPSWEEP_SIMD_CLONES [[gnu::target_clones("arch=x86-64-v3", "default")]]
#else
#define COOPSWEEP_SIMD_CLONES
#endif

namespace {

using namespace coopsweep::kernels;

constexpr int lanes = 4;

// Copied from vectorized.cpp: every constant of a round, computed as the reference computes it.
struct RoundConstants {
  double threshold;
  double benefit_value;
  double effort;
  double market_scale;
  double upkeep;
  double innovation;
  double keep;
  double keep_loss;
  double gain;
  double exit;
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

using Doubles = double __attribute__((vector_size(lanes * sizeof(double))));
using Mask = std::int64_t __attribute__((vector_size(lanes * sizeof(double))));

[[gnu::always_inline]] inline Doubles load(const double* p) {
  Doubles v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

[[gnu::always_inline]] inline void store(double* p, Doubles v) { std::memcpy(p, &v, sizeof v); }

[[gnu::always_inline]] inline Doubles gather(const double* base, const std::int32_t* index) {
  Doubles v;
  for (int l = 0; l < lanes; ++l) v[l] = base[index[l]];
  return v;
}

[[gnu::always_inline]] inline Doubles select(Mask mask, Doubles a, Doubles b) {
  return reinterpret_cast<Doubles>((reinterpret_cast<Mask>(a) & mask) | (reinterpret_cast<Mask>(b) & ~mask));
}

// Step 1 without execution errors, verbatim from vectorized.cpp. Element-wise,
// so the same loop serves both layouts (slots there, 4 E interleaved edges here).
COOPSWEEP_SIMD_CLONES
void decide_actions(double threshold, std::int32_t slots, const double* __restrict live,
                    const double* __restrict always, const double* __restrict conditional,
                    const double* __restrict trust, double* __restrict act) {
  for (std::int32_t e = 0; e < slots; ++e) {
    const double trusting = trust[e] >= threshold ? 1.0 : 0.0;
    act[e] = live[e] * (always[e] + conditional[e] * trusting);
  }
}

// ---------------------------------------------------------------------------
// (b) SELL-4: lanes across the firms of one replicate (copy of vectorized.cpp).

struct SellState {
  std::vector<std::int32_t> chunk_start, chunk_width, slot_of_edge, reverse_slot, target;
  std::vector<double> live, trust, next_trust, act, partner_act, always, conditional, synergy;
  std::vector<double> size, quality, differentiation, payoff, alliance_value, neighbour_quality, active_alliances,
      degree_plus_one;
  std::vector<std::int32_t> acts;
  std::vector<double> leak_power;
  FirmIndex firms = 0;
};

struct PlayedRound {
  std::int64_t acts_total = 0;
  bool differentiation_moved = false;
};

COOPSWEEP_SIMD_CLONES
PlayedRound sell_play_firms(const RoundConstants& k, std::int32_t chunks, const std::int32_t* __restrict chunk_start,
                            const std::int32_t* __restrict chunk_width, const std::int32_t* __restrict reverse,
                            const std::int32_t* __restrict target, const double* __restrict live,
                            const double* __restrict act, const double* __restrict synergy,
                            const double* __restrict quality, const double* __restrict degree_plus_one,
                            const double* __restrict leak_power, double* __restrict partner_act,
                            double* __restrict alliance_value, double* __restrict neighbour_quality_sum,
                            double* __restrict active_alliances, double* __restrict differentiation,
                            double* __restrict payoff, std::int32_t* __restrict acts) {
  const Doubles zero = {};
  std::int64_t acts_total = 0;
  Mask moved = {};
  for (std::int32_t c = 0; c < chunks; ++c) {
    Doubles value = zero;
    Doubles neighbour_quality = zero;
    Doubles own_acts = zero;
    Doubles alliances = zero;
    const std::int32_t start = chunk_start[c];
    const std::int32_t width = chunk_width[c];
    for (std::int32_t m = 0; m < width; ++m) {
      const std::int32_t e = start + m * lanes;
      const Doubles x = load(act + e);
      const Doubles y = gather(act, reverse + e);
      const Doubles on = load(live + e);
      const Doubles base = k.benefit_value * y - k.effort * x;
      const Doubles edge_value = select(x * y > 0.0, base + load(synergy + e), base);
      store(partner_act + e, y);
      value += select(on != 0.0, edge_value, zero);
      neighbour_quality += gather(quality, target + e);
      own_acts += x;
      alliances += on;
    }
    const std::int32_t first = c * lanes;
    store(alliance_value + first, value);
    store(neighbour_quality_sum + first, neighbour_quality);
    store(active_alliances + first, alliances);
    for (int l = 0; l < lanes; ++l) {
      const auto n_i = static_cast<std::int32_t>(own_acts[l]);
      acts[first + l] = n_i;
      acts_total += n_i;
    }
  }
  for (std::int32_t first = 0; first < chunks * lanes; first += lanes) {
    const Doubles q = load(quality + first);
    const Doubles d_start = load(differentiation + first);
    const Doubles mean_quality = (q + load(neighbour_quality_sum + first)) / load(degree_plus_one + first);
    const Doubles market_share = select(mean_quality > 0.0, k.market_scale * d_start * q / mean_quality, zero);
    store(payoff + first, load(alliance_value + first) + market_share - k.upkeep * load(active_alliances + first));
    Doubles leaked;
    for (int l = 0; l < lanes; ++l) leaked[l] = leak_power[acts[first + l]];
    const Doubles d = leaked * d_start;
    const Doubles d_next = d + k.innovation * (1.0 - d);
    moved |= reinterpret_cast<Mask>(d_next) ^ reinterpret_cast<Mask>(d_start);
    store(differentiation + first, d_next);
  }
  bool differentiation_moved = false;
  for (int l = 0; l < lanes; ++l) differentiation_moved = differentiation_moved || moved[l] != 0;
  return {acts_total, differentiation_moved};
}

struct TrustUpdate {
  std::int64_t live_edges = 0;
  bool trust_moved = false;
};

COOPSWEEP_SIMD_CLONES
TrustUpdate sell_update_trust(const RoundConstants& k, std::int32_t slots, const std::int32_t* __restrict reverse,
                              const double* __restrict act, const double* __restrict partner_act,
                              const double* __restrict trust, double* __restrict live,
                              double* __restrict next_trust) {
  const double keep = k.keep;
  const double keep_loss = k.keep_loss;
  const double gain = k.gain;
  const double exit = k.exit;
  std::uint64_t moved = 0;
  std::uint64_t live_edges = 0;
  for (std::int32_t e = 0; e < slots; ++e) {
    const double tau = trust[e];
    const double tau_partner = trust[reverse[e]];
    const double own = partner_act[e] != 0.0 ? keep * (tau + gain * (1.0 - tau)) : keep_loss * tau;
    const double partner = act[e] != 0.0 ? keep * (tau_partner + gain * (1.0 - tau_partner)) : keep_loss * tau_partner;
    const bool was_live = live[e] != 0.0;
    const double tau_next = was_live ? own : tau;
    const double live_next = was_live && own >= exit && partner >= exit ? 1.0 : 0.0;
    moved |= std::bit_cast<std::uint64_t>(tau_next) ^ std::bit_cast<std::uint64_t>(tau);
    live_edges += std::bit_cast<std::uint64_t>(live_next) >> 61;
    next_trust[e] = tau_next;
    live[e] = live_next;
  }
  return {static_cast<std::int64_t>(live_edges), moved != 0};
}

// The layout and initial state of prepare() in vectorized.cpp, from an initialised replicate.
void prepare_sell(const ModelParams& p, const ReplicateState& s, SellState& v) {
  const AllianceGraph& g = s.graph;
  const FirmIndex n = g.firms;
  const std::int32_t padded_firms = (n + lanes - 1) / lanes * lanes;
  const std::int32_t chunks = padded_firms / lanes;
  const std::int32_t sentinel = padded_firms;
  v.firms = n;
  v.chunk_start.assign(static_cast<std::size_t>(chunks), 0);
  v.chunk_width.assign(static_cast<std::size_t>(chunks), 0);
  std::int32_t slots = 0;
  FirmIndex max_degree = 0;
  for (std::int32_t c = 0; c < chunks; ++c) {
    std::int32_t width = 0;
    for (FirmIndex i = c * lanes; i < std::min(n, (c + 1) * lanes); ++i) width = std::max(width, g.degree(i));
    v.chunk_width[c] = width;
    v.chunk_start[c] = slots;
    slots += width * lanes;
    max_degree = std::max(max_degree, width);
  }
  const auto slot_count = static_cast<std::size_t>(slots);
  v.slot_of_edge.assign(static_cast<std::size_t>(g.directed_edges()), 0);
  v.reverse_slot.resize(slot_count);
  v.target.assign(slot_count, sentinel);
  for (std::int32_t slot = 0; slot < slots; ++slot) v.reverse_slot[slot] = slot;
  for (FirmIndex i = 0; i < n; ++i) {
    for (EdgeIndex e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
      v.slot_of_edge[e] = v.chunk_start[i / lanes] + (e - g.offsets[i]) * lanes + i % lanes;
    }
  }
  for (EdgeIndex e = 0; e < g.directed_edges(); ++e) {
    v.reverse_slot[v.slot_of_edge[e]] = v.slot_of_edge[g.reverse[e]];
    v.target[v.slot_of_edge[e]] = g.target[e];
  }
  v.live.assign(slot_count, 0.0);
  v.trust.assign(slot_count, 0.0);
  v.always.assign(slot_count, 0.0);
  v.conditional.assign(slot_count, 0.0);
  v.synergy.assign(slot_count, 0.0);
  const double v_s = cooperation_value(p.scope);
  for (FirmIndex i = 0; i < n; ++i) {
    const double always = s.strategy[i] == Strategy::cooperator ? 1.0 : 0.0;
    const double conditional = s.strategy[i] == Strategy::conditional ? 1.0 : 0.0;
    for (EdgeIndex e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
      const std::int32_t slot = v.slot_of_edge[e];
      v.live[slot] = 1.0;
      v.trust[slot] = s.trust[e];
      v.always[slot] = always;
      v.conditional[slot] = conditional;
      const double pair_size = s.size[i] + s.size[g.target[e]];
      v.synergy[slot] = v_s * p.synergy * (pair_size > 0.0 ? 2.0 * s.size[i] / pair_size : 1.0);
    }
  }
  v.next_trust.assign(slot_count, 0.0);
  v.act.assign(slot_count, 0.0);
  v.partner_act.assign(slot_count, 0.0);
  const auto firm_slots = static_cast<std::size_t>(padded_firms) + 1;
  v.size.assign(s.size.begin(), s.size.end());
  v.quality.assign(firm_slots, 0.0);
  v.differentiation.assign(firm_slots, 1.0);
  std::copy(s.differentiation.begin(), s.differentiation.end(), v.differentiation.begin());
  v.payoff.assign(firm_slots, 0.0);
  v.alliance_value.assign(firm_slots, 0.0);
  v.neighbour_quality.assign(firm_slots, 0.0);
  v.active_alliances.assign(firm_slots, 0.0);
  v.acts.assign(firm_slots, 0);
  v.degree_plus_one.assign(firm_slots, 1.0);
  for (FirmIndex i = 0; i < n; ++i) v.degree_plus_one[i] = 1.0 + g.degree(i);
  const double leak_factor = 1.0 - p.leakage * p.scope * p.scope;
  v.leak_power.assign(static_cast<std::size_t>(max_degree) + 1, 0.0);
  for (FirmIndex acts = 0; acts <= max_degree; ++acts) v.leak_power[acts] = std::pow(leak_factor, acts);
}

// Rounds 1..rounds of steps 1-5, as simulate_vectorized's round loop runs them
// (without its dormant-round and replay shortcuts, its payoff copy and metrics).
// Returns a checksum of the by-products so that nothing is optimised away.
[[gnu::noinline]] std::int64_t sell_rounds(const RoundConstants& k, std::int64_t rounds, SellState& v) {
  const auto chunks = static_cast<std::int32_t>(v.chunk_start.size());
  const auto slots = static_cast<std::int32_t>(v.live.size());
  std::int64_t checksum = 0;
  for (std::int64_t t = 1; t <= rounds; ++t) {
    decide_actions(k.threshold, slots, v.live.data(), v.always.data(), v.conditional.data(), v.trust.data(),
                   v.act.data());
    for (FirmIndex i = 0; i < v.firms; ++i) v.quality[i] = v.size[i] * v.differentiation[i];
    const PlayedRound played =
        sell_play_firms(k, chunks, v.chunk_start.data(), v.chunk_width.data(), v.reverse_slot.data(),
                        v.target.data(), v.live.data(), v.act.data(), v.synergy.data(), v.quality.data(),
                        v.degree_plus_one.data(), v.leak_power.data(), v.partner_act.data(),
                        v.alliance_value.data(), v.neighbour_quality.data(), v.active_alliances.data(),
                        v.differentiation.data(), v.payoff.data(), v.acts.data());
    const TrustUpdate updated = sell_update_trust(k, slots, v.reverse_slot.data(), v.act.data(),
                                                  v.partner_act.data(), v.trust.data(), v.live.data(),
                                                  v.next_trust.data());
    std::swap(v.trust, v.next_trust);
    checksum += played.acts_total + updated.live_edges + played.differentiation_moved + updated.trust_moved;
  }
  return checksum;
}

// ---------------------------------------------------------------------------
// (a) Interleaved: lanes across 4 replicates that share G0.

struct InterleavedState {
  // G0, shared.
  FirmIndex firms = 0;
  EdgeIndex edges = 0;
  std::vector<EdgeIndex> offsets;
  std::vector<EdgeIndex> reverse;
  std::vector<FirmIndex> target;
  std::vector<double> degree_plus_one;  // per firm, the same in every replicate
  std::vector<double> leak_power;
  // Per edge x replicate, at 4 e + r.
  std::vector<double> live, trust, next_trust, act, partner_act, always, conditional, synergy;
  // Per firm x replicate, at 4 i + r.
  std::vector<double> size, quality, differentiation, payoff, alliance_value, neighbour_quality, active_alliances;
  std::vector<std::int32_t> acts;
};

// Per replicate (lane) by-products of one round, as the production round returns them for one replicate.
struct InterleavedRound {
  std::array<std::int64_t, lanes> acts_total{};
  std::array<std::int64_t, lanes> live_edges{};
  std::array<bool, lanes> differentiation_moved{};
  std::array<bool, lanes> trust_moved{};
};

// Steps 2 and 3: firm i's four replicates in one register; the partner's act
// and the neighbour's quality are contiguous loads at 4 reverse[e] and
// 4 target[e]. Same sums in the same (G0) order as play_firms, lane by lane.
COOPSWEEP_SIMD_CLONES
void interleaved_play_firms(const RoundConstants& k, FirmIndex firms, const EdgeIndex* __restrict offsets,
                            const EdgeIndex* __restrict reverse, const FirmIndex* __restrict target,
                            const double* __restrict live, const double* __restrict act,
                            const double* __restrict synergy, const double* __restrict quality,
                            const double* __restrict degree_plus_one, const double* __restrict leak_power,
                            double* __restrict partner_act, double* __restrict alliance_value,
                            double* __restrict neighbour_quality_sum, double* __restrict active_alliances,
                            double* __restrict differentiation, double* __restrict payoff,
                            std::int32_t* __restrict acts, InterleavedRound& out) {
  const Doubles zero = {};
  Doubles acts_total = zero;  // integers below 2^53: exact
  Mask moved = {};
  for (FirmIndex i = 0; i < firms; ++i) {
    Doubles value = zero;
    Doubles neighbour_quality = zero;
    Doubles own_acts = zero;
    Doubles alliances = zero;
    for (EdgeIndex e = offsets[i]; e < offsets[i + 1]; ++e) {
      const std::int64_t slot = std::int64_t{lanes} * e;
      const Doubles x = load(act + slot);
      const Doubles y = load(act + std::int64_t{lanes} * reverse[e]);
      const Doubles on = load(live + slot);
      const Doubles base = k.benefit_value * y - k.effort * x;
      const Doubles edge_value = select(x * y > 0.0, base + load(synergy + slot), base);
      store(partner_act + slot, y);
      value += select(on != 0.0, edge_value, zero);
      neighbour_quality += load(quality + std::int64_t{lanes} * target[e]);
      own_acts += x;
      alliances += on;
    }
    const std::int64_t first = std::int64_t{lanes} * i;
    store(alliance_value + first, value);
    store(neighbour_quality_sum + first, neighbour_quality);
    store(active_alliances + first, alliances);
    for (int l = 0; l < lanes; ++l) acts[first + l] = static_cast<std::int32_t>(own_acts[l]);
    acts_total += own_acts;
  }
  // The firm part in a second pass, as play_firms does (its divisions pipeline across firms).
  for (FirmIndex i = 0; i < firms; ++i) {
    const std::int64_t first = std::int64_t{lanes} * i;
    const Doubles q = load(quality + first);
    const Doubles d_start = load(differentiation + first);
    const Doubles mean_quality = (q + load(neighbour_quality_sum + first)) / degree_plus_one[i];
    const Doubles market_share = select(mean_quality > 0.0, k.market_scale * d_start * q / mean_quality, zero);
    store(payoff + first, load(alliance_value + first) + market_share - k.upkeep * load(active_alliances + first));
    Doubles leaked;
    for (int l = 0; l < lanes; ++l) leaked[l] = leak_power[acts[first + l]];
    const Doubles d = leaked * d_start;
    const Doubles d_next = d + k.innovation * (1.0 - d);
    moved |= reinterpret_cast<Mask>(d_next) ^ reinterpret_cast<Mask>(d_start);
    store(differentiation + first, d_next);
  }
  for (int l = 0; l < lanes; ++l) {
    out.acts_total[l] = static_cast<std::int64_t>(acts_total[l]);
    out.differentiation_moved[l] = moved[l] != 0;
  }
}

// Steps 4 and 5 in one pass, as update_trust: the partner's trust is a
// contiguous load at 4 reverse[e].
COOPSWEEP_SIMD_CLONES
void interleaved_update_trust(const RoundConstants& k, EdgeIndex edges, const EdgeIndex* __restrict reverse,
                              const double* __restrict act, const double* __restrict partner_act,
                              const double* __restrict trust, double* __restrict live,
                              double* __restrict next_trust, InterleavedRound& out) {
  const double keep = k.keep;
  const double keep_loss = k.keep_loss;
  const double gain = k.gain;
  const double exit = k.exit;
  const Doubles zero = {};
  const Doubles one = zero + 1.0;
  Mask moved = {};
  Mask live_edges = {};
  for (EdgeIndex e = 0; e < edges; ++e) {
    const std::int64_t slot = std::int64_t{lanes} * e;
    const Doubles tau = load(trust + slot);
    const Doubles tau_partner = load(trust + std::int64_t{lanes} * reverse[e]);
    const Doubles own = select(load(partner_act + slot) != 0.0, keep * (tau + gain * (1.0 - tau)), keep_loss * tau);
    const Doubles partner = select(load(act + slot) != 0.0, keep * (tau_partner + gain * (1.0 - tau_partner)),
                                   keep_loss * tau_partner);
    const Mask was_live = load(live + slot) != 0.0;
    const Doubles tau_next = select(was_live, own, tau);
    const Mask live_next = was_live & (own >= exit) & (partner >= exit);
    moved |= reinterpret_cast<Mask>(tau_next) ^ reinterpret_cast<Mask>(tau);
    live_edges -= live_next;  // true is -1
    store(next_trust + slot, tau_next);
    store(live + slot, select(live_next, one, zero));
  }
  for (int l = 0; l < lanes; ++l) {
    out.live_edges[l] = live_edges[l];
    out.trust_moved[l] = moved[l] != 0;
  }
}

// Lays out 4 initialised replicates of one configuration, which must share G0.
void prepare_interleaved(const ModelParams& p, const std::array<ReplicateState, lanes>& s, InterleavedState& v) {
  const AllianceGraph& g = s[0].graph;
  for (const ReplicateState& r : s) {
    if (r.graph.offsets != g.offsets || r.graph.target != g.target || r.graph.reverse != g.reverse) {
      throw std::invalid_argument("interleaved lanes need the same graph in every replicate");
    }
  }
  const FirmIndex n = g.firms;
  const EdgeIndex edges = g.directed_edges();
  v.firms = n;
  v.edges = edges;
  v.offsets = g.offsets;
  v.reverse = g.reverse;
  v.target = g.target;
  v.degree_plus_one.assign(static_cast<std::size_t>(n), 0.0);
  FirmIndex max_degree = 0;
  for (FirmIndex i = 0; i < n; ++i) {
    v.degree_plus_one[i] = 1.0 + g.degree(i);
    max_degree = std::max(max_degree, g.degree(i));
  }
  const double leak_factor = 1.0 - p.leakage * p.scope * p.scope;
  v.leak_power.assign(static_cast<std::size_t>(max_degree) + 1, 0.0);
  for (FirmIndex acts = 0; acts <= max_degree; ++acts) v.leak_power[acts] = std::pow(leak_factor, acts);

  const auto edge_lanes = static_cast<std::size_t>(edges) * lanes;
  for (auto* a : {&v.live, &v.trust, &v.next_trust, &v.act, &v.partner_act, &v.always, &v.conditional, &v.synergy}) {
    a->assign(edge_lanes, 0.0);
  }
  const auto firm_lanes = static_cast<std::size_t>(n) * lanes;
  for (auto* a : {&v.size, &v.quality, &v.differentiation, &v.payoff, &v.alliance_value, &v.neighbour_quality,
                  &v.active_alliances}) {
    a->assign(firm_lanes, 0.0);
  }
  v.acts.assign(firm_lanes, 0);
  const double v_s = cooperation_value(p.scope);
  for (int r = 0; r < lanes; ++r) {
    const ReplicateState& sr = s[static_cast<std::size_t>(r)];
    for (FirmIndex i = 0; i < n; ++i) {
      v.size[lanes * i + r] = sr.size[i];
      v.differentiation[lanes * i + r] = sr.differentiation[i];
      const double always = sr.strategy[i] == Strategy::cooperator ? 1.0 : 0.0;
      const double conditional = sr.strategy[i] == Strategy::conditional ? 1.0 : 0.0;
      for (EdgeIndex e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
        const std::size_t slot = static_cast<std::size_t>(lanes) * e + r;
        v.live[slot] = sr.active[e] ? 1.0 : 0.0;
        v.trust[slot] = sr.trust[e];
        v.always[slot] = always;
        v.conditional[slot] = conditional;
        const double pair_size = sr.size[i] + sr.size[g.target[e]];
        v.synergy[slot] = v_s * p.synergy * (pair_size > 0.0 ? 2.0 * sr.size[i] / pair_size : 1.0);
      }
    }
  }
}

[[gnu::noinline]] std::int64_t interleaved_rounds(const RoundConstants& k, std::int64_t rounds, InterleavedState& v) {
  const auto slots = static_cast<std::int32_t>(v.live.size());
  const FirmIndex firm_lanes = v.firms * lanes;
  std::int64_t checksum = 0;
  for (std::int64_t t = 1; t <= rounds; ++t) {
    InterleavedRound round;
    decide_actions(k.threshold, slots, v.live.data(), v.always.data(), v.conditional.data(), v.trust.data(),
                   v.act.data());
    for (FirmIndex i = 0; i < firm_lanes; ++i) v.quality[i] = v.size[i] * v.differentiation[i];
    interleaved_play_firms(k, v.firms, v.offsets.data(), v.reverse.data(), v.target.data(), v.live.data(),
                           v.act.data(), v.synergy.data(), v.quality.data(), v.degree_plus_one.data(),
                           v.leak_power.data(), v.partner_act.data(), v.alliance_value.data(),
                           v.neighbour_quality.data(), v.active_alliances.data(), v.differentiation.data(),
                           v.payoff.data(), v.acts.data(), round);
    interleaved_update_trust(k, v.edges, v.reverse.data(), v.act.data(), v.partner_act.data(), v.trust.data(),
                             v.live.data(), v.next_trust.data(), round);
    std::swap(v.trust, v.next_trust);
    for (int l = 0; l < lanes; ++l) {
      checksum += round.acts_total[l] + round.live_edges[l] + round.differentiation_moved[l] + round.trust_moved[l];
    }
  }
  return checksum;
}

// ---------------------------------------------------------------------------
// Initial states of one configuration's 4 replicates, and the check.

struct Initial {
  ModelParams params;
  RoundConstants constants;
  std::array<ReplicateState, lanes> replicates;
  InterleavedState interleaved;
  std::array<SellState, lanes> sell;
};

void initialise(const ModelParams& p, std::uint64_t seed, std::uint64_t configuration, Initial& out) {
  out.params = p;
  out.constants = round_constants(p);
  for (int r = 0; r < lanes; ++r) {
    const auto ru = static_cast<std::size_t>(r);
    initialise_replicate(p, ReplicateStream(seed, configuration, ru), out.replicates[ru]);
    prepare_sell(p, out.replicates[ru], out.sell[ru]);
  }
  prepare_interleaved(p, out.replicates, out.interleaved);
}

bool same_bits(double a, double b) { return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b); }

// Runs both layouts for p.rounds from the initial states and compares every
// replicate's final trust, alliance state, differentiation and last payoffs
// with simulate_reference's to the bit (simulate_vectorized equals it, and
// takes its course path for these error-free runs, which keeps no slots).
// Prints one line; returns whether equal.
bool check(const ModelParams& p, std::uint64_t seed, std::uint64_t configuration, const char* name) {
  Initial init;
  initialise(p, seed, configuration, init);
  interleaved_rounds(init.constants, p.rounds, init.interleaved);
  for (SellState& s : init.sell) sell_rounds(init.constants, p.rounds, s);
  std::int64_t compared = 0;
  std::int64_t interleaved_mismatches = 0;
  std::int64_t sell_mismatches = 0;
  std::int64_t live_edges = 0;
  const InterleavedState& il = init.interleaved;
  for (int r = 0; r < lanes; ++r) {
    const auto ru = static_cast<std::size_t>(r);
    ReplicateState v;
    simulate_reference(p, ReplicateStream(seed, configuration, ru), v);
    const SellState& sell = init.sell[ru];
    const AllianceGraph& g = v.graph;
    for (EdgeIndex e = 0; e < g.directed_edges(); ++e) {
      const std::size_t lane = static_cast<std::size_t>(lanes) * e + ru;
      const std::int32_t sell_slot = sell.slot_of_edge[e];
      const double live = v.active[e] ? 1.0 : 0.0;
      compared += 2;
      interleaved_mismatches += !same_bits(il.trust[lane], v.trust[e]) + !same_bits(il.live[lane], live);
      sell_mismatches += !same_bits(sell.trust[sell_slot], v.trust[e]) + !same_bits(sell.live[sell_slot], live);
      live_edges += v.active[e];
    }
    for (FirmIndex i = 0; i < g.firms; ++i) {
      const std::size_t lane = static_cast<std::size_t>(lanes) * i + ru;
      compared += 2;
      interleaved_mismatches += !same_bits(il.differentiation[lane], v.differentiation[i]) +
                                !same_bits(il.payoff[lane], v.payoff[i]);
      sell_mismatches += !same_bits(sell.differentiation[i], v.differentiation[i]) +
                         !same_bits(sell.payoff[i], v.payoff[i]);
    }
  }
  std::printf("check %-40s values %8lld  mismatches interleaved %lld sell %lld  (live edges at end %lld of %lld)\n",
              name, static_cast<long long>(compared), static_cast<long long>(interleaved_mismatches),
              static_cast<long long>(sell_mismatches), static_cast<long long>(live_edges),
              static_cast<long long>(il.edges) * lanes);
  return interleaved_mismatches == 0 && sell_mismatches == 0;
}

ModelParams ring(std::int64_t firms, std::int64_t partners, std::int64_t rounds) {
  ModelParams p;
  p.topology = Topology::ring;
  p.firms = firms;
  p.partners = partners;
  p.rounds = rounds;
  return p;
}

bool check_all() {
  bool ok = true;
  // The benchmarked configurations (the default model on rings).
  ok = check(ring(100, 4, 200), 42, 0, "ring N=100 k=4 T=200") && ok;
  ok = check(ring(1000, 4, 200), 42, 1, "ring N=1000 k=4 T=200") && ok;
  // Variants: unequal sizes, alliances dissolving at different rounds per
  // replicate, all three strategies, N not a multiple of 4, a complete graph.
  ModelParams p = ring(100, 4, 200);
  p.size_spread = 0.7;
  ok = check(p, 7, 3, "ring N=100 k=4 sigma=0.7") && ok;
  p = ring(102, 6, 150);
  p.trust_init = 0.45;
  p.trust_decay = 0.01;
  ok = check(p, 7, 4, "ring N=102 k=6 tau0=0.45 (dissolving)") && ok;
  p = ring(50, 2, 80);
  p.defectors = 0.3;
  p.cooperators = 0.3;
  p.trust_loss = 0.6;
  ok = check(p, 9, 5, "ring N=50 k=2 fD=fC=0.3 beta=0.6") && ok;
  p = ring(13, 12, 60);
  p.topology = Topology::complete;
  p.size_spread = 0.3;
  ok = check(p, 9, 6, "complete N=13 sigma=0.3") && ok;
  return ok;
}

// ---------------------------------------------------------------------------
// Benchmarks: the same 4 replicates (same initial states) per iteration, rounds only.

void restore(const Initial& init, InterleavedState& v) {
  std::copy(init.interleaved.live.begin(), init.interleaved.live.end(), v.live.begin());
  std::copy(init.interleaved.trust.begin(), init.interleaved.trust.end(), v.trust.begin());
  std::copy(init.interleaved.differentiation.begin(), init.interleaved.differentiation.end(),
            v.differentiation.begin());
}

void restore(const SellState& init, SellState& v) {
  std::copy(init.live.begin(), init.live.end(), v.live.begin());
  std::copy(init.trust.begin(), init.trust.end(), v.trust.begin());
  std::copy(init.differentiation.begin(), init.differentiation.end(), v.differentiation.begin());
}

void set_counters(benchmark::State& state, const Initial& init) {
  const double edge_rounds = static_cast<double>(init.interleaved.edges) * lanes * static_cast<double>(init.params.rounds);
  state.counters["edge_rounds_per_second"] =
      benchmark::Counter(edge_rounds * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["edge_rounds_per_iteration"] = edge_rounds;
}

void BM_Interleaved(benchmark::State& state) {
  Initial init;
  initialise(ring(state.range(0), state.range(1), state.range(2)), 42, 0, init);
  InterleavedState work = init.interleaved;
  for (auto _ : state) {
    state.PauseTiming();
    restore(init, work);
    state.ResumeTiming();
    benchmark::DoNotOptimize(interleaved_rounds(init.constants, init.params.rounds, work));
    benchmark::ClobberMemory();
  }
  set_counters(state, init);
}

void BM_Sell4(benchmark::State& state) {
  Initial init;
  initialise(ring(state.range(0), state.range(1), state.range(2)), 42, 0, init);
  std::array<SellState, lanes> work = init.sell;
  for (auto _ : state) {
    state.PauseTiming();
    for (std::size_t r = 0; r < lanes; ++r) restore(init.sell[r], work[r]);
    state.ResumeTiming();
    for (SellState& s : work) benchmark::DoNotOptimize(sell_rounds(init.constants, init.params.rounds, s));
    benchmark::ClobberMemory();
  }
  set_counters(state, init);
}

void arguments(benchmark::internal::Benchmark* b) {
  b->ArgNames({"firms", "partners", "rounds"});
  b->Args({100, 4, 200});
  b->Args({1000, 4, 200});
}

BENCHMARK(BM_Interleaved)->Apply(arguments);
BENCHMARK(BM_Sell4)->Apply(arguments);

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "--instructions") {
    if (argc != 6) {
      std::fprintf(stderr, "usage: %s --instructions interleaved|sell FIRMS PARTNERS ROUNDS\n", argv[0]);
      return 2;
    }
    const std::string layout = argv[2];
    Initial init;
    initialise(ring(std::stoll(argv[3]), std::stoll(argv[4]), std::stoll(argv[5])), 42, 0, init);
    std::int64_t checksum = 0;
    if (layout == "interleaved") {
      checksum = interleaved_rounds(init.constants, init.params.rounds, init.interleaved);
    } else if (layout == "sell") {
      for (SellState& s : init.sell) checksum += sell_rounds(init.constants, init.params.rounds, s);
    } else {
      std::fprintf(stderr, "unknown layout %s\n", layout.c_str());
      return 2;
    }
    std::printf("%s edge_rounds %lld checksum %lld\n", layout.c_str(),
                static_cast<long long>(init.interleaved.edges) * lanes * init.params.rounds,
                static_cast<long long>(checksum));
    return 0;
  }
  if (!check_all()) {
    std::fprintf(stderr, "bit-equality check FAILED: no timing\n");
    return 1;
  }
  if (argc >= 2 && std::string(argv[1]) == "--check") return 0;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
