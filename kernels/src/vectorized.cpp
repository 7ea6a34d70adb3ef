#include <coopsweep/kernels/vectorized.hpp>

#include "alliance_courses.hpp"
#include "exact_storage.hpp"
#include "replicate_steps.hpp"
#include "simd_clones.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

// Runs without strategy updates or execution errors never reach the round
// below: play_vectorized hands them to the course path (alliance_courses.cpp),
// which computes them per alliance course instead of per edge.
//
// How the round is made SIMD, and why (measurements: benchmarks/README.md).
// - Lanes: across the firms of one replicate (SELL-4 slots, see
//   VectorizedState), not across replicates. Replicates of random topologies
//   have different graphs, so lanes across them would need the same gathers,
//   and their lockstep breaks when runs stop or alliances dissolve at
//   different rounds; lanes across firms keep one replicate's state compact.
//   Measured on rings, where replicates do share G0, lanes across 4
//   interleaved replicates ran round steps 1-5 only about 1.2 times as fast
//   (benchmarks/README.md, "Lanes across replicates, measured").
// - Edge loops (actions, trust and dissolution, counting) are branch-free
//   loops that GCC auto-vectorizes; tests/kernels/vectorization_report.py
//   holds it to that: every loop marked "SIMD loop" must appear in GCC's
//   -fopt-info-vec report. The chunk loop of steps 2-3 uses GCC/Clang vector
//   extensions because the auto-vectorizer does not take its per-firm sums
//   (plain C++ there took 1.5 times as long, measured).
// - Each SIMD function is compiled for x86-64-v3 (AVX2, FMA unused: see
//   -ffp-contract=off in kernels/CMakeLists.txt) and for the baseline, chosen
//   at load time. An x86-64-v4 (AVX-512) clone measured no faster here.
//   Both clones are held to the reference: tests/CMakeLists.txt also builds
//   these sources without clones for plain x86-64 (test_kernels_baseline).

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

constexpr int lanes = VectorizedState::vector_lanes;

// Step 1 without execution errors: x_e = 1 for a cooperator, [tau_e >= h] for
// a conditional firm, 0 for a defector and on dissolved alliances.
COOPSWEEP_SIMD_CLONES
void decide_actions(double threshold, std::int32_t slots, const double* __restrict live,
                    const double* __restrict always, const double* __restrict conditional,
                    const double* __restrict trust, double* __restrict act) {
  for (std::int32_t e = 0; e < slots; ++e) {  // SIMD loop
    const double trusting = trust[e] >= threshold ? 1.0 : 0.0;
    act[e] = live[e] * (always[e] + conditional[e] * trusting);
  }
}

// Step 1's execution errors: an intended act fails with probability epsilon,
// from the same counters as the reference (one Philox block serves the four
// G0 edges 4b..4b+3). The blocks of a round differ only in their index, so
// PhiloxIndexedBlocks computes the rest once per round. Returns the blocks drawn.
std::int64_t apply_execution_errors(double error, const ReplicateStream& stream, std::int64_t t, EdgeIndex edges,
                                    const std::int32_t* slot_of_edge, double* act) {
  const PhiloxIndexedBlocks blocks(stream, Purpose::execution_error, static_cast<std::uint64_t>(t));
  // unit_interval(w) < epsilon, in integers: spares each draw a conversion and
  // a product on the Philox block's latency chain. An act of 0 stays 0 whatever
  // the draw, so the select needs no branch.
  const std::uint64_t failing_below = below_in_units(error);
  const auto apply = [&](std::uint64_t word, double& x) { x = (word >> 11) < failing_below ? 0.0 : x; };
  // Whole blocks of 4 edges unrolled: the test for an intended act and the
  // draws then take a quarter of the instructions a loop over each block's
  // edges did (callgrind).
  const EdgeIndex whole = edges / 4 * 4;
  std::int64_t drawn = 0;
  for (EdgeIndex first = 0; first < whole; first += 4) {
    double& x0 = act[slot_of_edge[first]];
    double& x1 = act[slot_of_edge[first + 1]];
    double& x2 = act[slot_of_edge[first + 2]];
    double& x3 = act[slot_of_edge[first + 3]];
    if (!((x0 != 0.0) | (x1 != 0.0) | (x2 != 0.0) | (x3 != 0.0))) continue;
    const auto words = blocks.block(static_cast<std::uint64_t>(first) >> 2);
    ++drawn;
    apply(words[0], x0);
    apply(words[1], x1);
    apply(words[2], x2);
    apply(words[3], x3);
  }
  bool any = false;
  for (EdgeIndex e = whole; e < edges; ++e) any = any || act[slot_of_edge[e]] != 0.0;
  if (!any) return drawn;
  const auto words = blocks.block(static_cast<std::uint64_t>(whole) >> 2);
  for (EdgeIndex e = whole; e < edges; ++e) apply(words[static_cast<std::size_t>(e & 3)], act[slot_of_edge[e]]);
  return drawn + 1;
}

// GCC/Clang vector extensions for the chunk loop, whose per-firm sums and
// partner lookups the auto-vectorizer does not take: one register holds one
// slot of the chunk's `lanes` firms. IEEE operations lane by lane, so each
// lane rounds exactly as the reference's scalar code.
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

// Lane-wise mask ? a : b, bit for bit.
[[gnu::always_inline]] inline Doubles select(Mask mask, Doubles a, Doubles b) {
  return reinterpret_cast<Doubles>((reinterpret_cast<Mask>(a) & mask) | (reinterpret_cast<Mask>(b) & ~mask));
}

// Steps 2 and 3, one chunk of firms at a time: each lane sums its firm's edge
// values, partners' qualities, acts and active alliances over the chunk's
// slots (G0 order; an inactive edge adds +0 to a sum that is never -0, which
// changes nothing), then computes the payoff and the new differentiation.
struct PlayedRound {
  std::int64_t acts_total = 0;        // sum_i n_i
  bool differentiation_moved = false;  // some d_i changed, bit for bit
};

COOPSWEEP_SIMD_CLONES
PlayedRound play_firms(const RoundConstants& k, std::int32_t chunks, const std::int32_t* __restrict chunk_start,
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
  // The firm part in a second pass, so that its two divisions per firm
  // pipeline across chunks instead of stalling each chunk (measured: a third
  // of this function's time when fused).
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

// Steps 4 and 5 in one pass. Dissolution needs the partner's trust after step 4,
// which is recomputed here from its own inputs (its partner's act is x_e) rather
// than read back, so the pass needs no second sweep; the new trust goes to
// `next_trust` because the old values are still read through `reverse`.
// Returns the count of directed edges of alliances left active.
COOPSWEEP_SIMD_CLONES
std::int64_t update_trust(const RoundConstants& k, std::int32_t slots, const std::int32_t* __restrict reverse,
                          const double* __restrict act, const double* __restrict partner_act,
                          const double* __restrict trust, double* __restrict live, double* __restrict next_trust) {
  const double keep = k.keep;
  const double keep_loss = k.keep_loss;
  const double gain = k.gain;
  const double exit = k.exit;
  std::uint64_t live_edges = 0;
  for (std::int32_t e = 0; e < slots; ++e) {  // SIMD loop
    const double tau = trust[e];
    const double tau_partner = trust[reverse[e]];
    const double own = partner_act[e] != 0.0 ? keep * (tau + gain * (1.0 - tau)) : keep_loss * tau;
    const double partner = act[e] != 0.0 ? keep * (tau_partner + gain * (1.0 - tau_partner)) : keep_loss * tau_partner;
    const bool was_live = live[e] != 0.0;
    const double tau_next = was_live ? own : tau;
    const double live_next = was_live && own >= exit && partner >= exit ? 1.0 : 0.0;
    // 1.0 has bits 0x3FF0...: its top three bits read 1, 0.0's read 0. Counted
    // from the double's bits so that the reduction stays in the 64-bit lanes
    // the loop's doubles use, which GCC vectorizes.
    live_edges += std::bit_cast<std::uint64_t>(live_next) >> 61;
    next_trust[e] = tau_next;
    live[e] = live_next;
  }
  return static_cast<std::int64_t>(live_edges);
}

COOPSWEEP_SIMD_CLONES
std::int64_t count_live(std::int32_t slots, const double* __restrict live) {
  std::int64_t count = 0;
  for (std::int32_t e = 0; e < slots; ++e) count += live[e] != 0.0 ? 1 : 0;  // SIMD loop
  return count;
}

// The per-slot strategy flags of the sources, after initialisation and after
// every strategy update.
void set_strategy_flags(const AllianceGraph& g, VectorizedState& v) {
  const ReplicateState& s = v.replicate;
  for (FirmIndex i = 0; i < g.firms; ++i) {
    const double always = s.strategy[i] == Strategy::cooperator ? 1.0 : 0.0;
    const double conditional = s.strategy[i] == Strategy::conditional ? 1.0 : 0.0;
    for (EdgeIndex e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
      v.always[v.slot_of_edge[e]] = always;
      v.conditional[v.slot_of_edge[e]] = conditional;
    }
  }
}

// Lays G0 out in slots and sets the replicate's initial state there.
void prepare(const ModelParams& p, VectorizedState& v) {
  ReplicateState& s = v.replicate;
  const AllianceGraph& g = s.graph;
  const FirmIndex n = g.firms;
  // Slots and padded firms are 32-bit indices like the graph's; the counts are
  // made in 64 bits and checked before anything is laid out.
  constexpr std::int64_t index_limit = std::numeric_limits<std::int32_t>::max();
  const std::int64_t padded_firms64 = (std::int64_t{n} + lanes - 1) / lanes * lanes;
  if (padded_firms64 + 1 > index_limit) {
    throw std::length_error("vectorized kernel: " + std::to_string(n) + " firms exceed its 32-bit firm index");
  }
  const auto chunks = static_cast<std::int32_t>(padded_firms64 / lanes);
  const auto padded_firms = static_cast<std::int32_t>(padded_firms64);
  const std::int32_t sentinel = padded_firms;

  detail::assign_exactly(v.chunk_start, static_cast<std::size_t>(chunks), 0);
  detail::assign_exactly(v.chunk_width, static_cast<std::size_t>(chunks), 0);
  std::int64_t slots64 = 0;
  FirmIndex max_degree = 0;
  for (std::int32_t c = 0; c < chunks; ++c) {
    std::int32_t width = 0;
    for (FirmIndex i = c * lanes; i < std::min(n, (c + 1) * lanes); ++i) width = std::max(width, g.degree(i));
    v.chunk_width[c] = width;
    slots64 += std::int64_t{width} * lanes;
    max_degree = std::max(max_degree, width);
  }
  if (slots64 > index_limit) {
    throw std::length_error("vectorized kernel: " + std::to_string(slots64) +
                            " slots exceed its 32-bit slot index (at most " + std::to_string(index_limit) + ")");
  }
  const auto slots = static_cast<std::int32_t>(slots64);
  std::int32_t start = 0;
  for (std::int32_t c = 0; c < chunks; ++c) {
    v.chunk_start[c] = start;
    start += v.chunk_width[c] * lanes;
  }
  const auto slot_count = static_cast<std::size_t>(slots);
  detail::assign_exactly(v.slot_of_edge, static_cast<std::size_t>(g.directed_edges()), 0);
  detail::assign_exactly(v.reverse_slot, slot_count, 0);
  detail::assign_exactly(v.target, slot_count, sentinel);
  for (std::int32_t slot = 0; slot < slots; ++slot) v.reverse_slot[slot] = slot;
  for (FirmIndex i = 0; i < n; ++i) {
    const std::int32_t c = i / lanes;
    for (EdgeIndex e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
      v.slot_of_edge[e] = v.chunk_start[c] + (e - g.offsets[i]) * lanes + i % lanes;
    }
  }
  for (EdgeIndex e = 0; e < g.directed_edges(); ++e) {
    v.reverse_slot[v.slot_of_edge[e]] = v.slot_of_edge[g.reverse[e]];
    v.target[v.slot_of_edge[e]] = g.target[e];
  }

  detail::assign_exactly(v.live, slot_count, 0.0);
  detail::assign_exactly(v.trust, slot_count, 0.0);
  for (EdgeIndex e = 0; e < g.directed_edges(); ++e) {
    v.live[v.slot_of_edge[e]] = 1.0;
    v.trust[v.slot_of_edge[e]] = s.trust[e];
  }
  detail::assign_exactly(v.next_trust, slot_count, 0.0);
  detail::assign_exactly(v.act, slot_count, 0.0);
  detail::assign_exactly(v.partner_act, slot_count, 0.0);
  detail::assign_exactly(v.always, slot_count, 0.0);
  detail::assign_exactly(v.conditional, slot_count, 0.0);
  set_strategy_flags(g, v);

  // The synergy term as the reference evaluates it, v(s) g times the size weight.
  const double v_s = cooperation_value(p.scope);
  detail::assign_exactly(v.synergy, slot_count, 0.0);
  for (FirmIndex i = 0; i < n; ++i) {
    for (EdgeIndex e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
      const double pair_size = s.size[i] + s.size[g.target[e]];
      v.synergy[v.slot_of_edge[e]] = v_s * p.synergy * (pair_size > 0.0 ? 2.0 * s.size[i] / pair_size : 1.0);
    }
  }

  const auto firm_slots = static_cast<std::size_t>(padded_firms) + 1;
  detail::assign_exactly(v.quality, firm_slots, 0.0);
  // Padding lanes start at d = 1, the fixed point of step 3 without acts, so
  // that they never move and never delay the replay of a stationary round.
  detail::assign_exactly(v.differentiation, firm_slots, 1.0);
  std::copy(s.differentiation.begin(), s.differentiation.end(), v.differentiation.begin());
  detail::assign_exactly(v.payoff, firm_slots, 0.0);
  detail::assign_exactly(v.alliance_value, firm_slots, 0.0);
  detail::assign_exactly(v.neighbour_quality, firm_slots, 0.0);
  detail::assign_exactly(v.active_alliances, firm_slots, 0.0);
  detail::assign_exactly(v.acts, firm_slots, 0);
  detail::assign_exactly(v.degree_plus_one, firm_slots, 1.0);
  for (FirmIndex i = 0; i < n; ++i) v.degree_plus_one[i] = 1.0 + g.degree(i);

  detail::leak_powers(p, max_degree, v.leak_power);
}

// Trust over the edges of active alliances, added in G0 order as the reference
// adds it (adding +0 for a dissolved alliance is exact).
double active_trust_sum(const VectorizedState& v) {
  double sum = 0.0;
  for (const std::int32_t slot : v.slot_of_edge) sum += v.live[slot] != 0.0 ? v.trust[slot] : 0.0;
  return sum;
}

}  // namespace

RunMetrics simulate_vectorized(const ModelParams& p, const ReplicateStream& stream, VectorizedState& v,
                               RoundSeries* series, ShortcutCounts* shortcuts) {
  initialise_replicate(p, stream, v.replicate);
  return play_vectorized(p, stream, v, series, shortcuts);
}

RunMetrics play_vectorized(const ModelParams& p, const ReplicateStream& stream, VectorizedState& v,
                           RoundSeries* series, ShortcutCounts* shortcuts) {
  ReplicateState& s = v.replicate;
  if (detail::follows_courses(p)) return detail::play_by_courses(p, v, series, shortcuts);
  prepare(p, v);
  const AllianceGraph& g = s.graph;
  const FirmIndex n = g.firms;
  const EdgeIndex edges = g.directed_edges();
  const auto chunks = static_cast<std::int32_t>(v.chunk_start.size());
  const auto slots = static_cast<std::int32_t>(v.live.size());
  const RoundConstants k = round_constants(p);

  detail::WindowSums window(p, s);
  std::int64_t breakdown_round = p.rounds + 1;
  std::int64_t rounds = p.rounds;
  std::int64_t live_edges = edges;
  // A dormant round that left every d_i as it was, bit for bit, with no
  // strategy update to come: the next round starts from the same state, so
  // every later round repeats it to the bit, and its outputs are replayed.
  // (Runs with active alliances and neither updates nor errors took the
  // course path above, which reuses repeated rounds itself.)
  bool stationary = false;
  const bool replay_dormant = p.update_rule == UpdateRule::none;
  std::int64_t acts_total = 0;  // of the last round computed, which a replayed round repeats
  if (shortcuts != nullptr) *shortcuts = {};

  for (std::int64_t t = 1; t <= p.rounds; ++t) {
    if (stationary) {
      if (shortcuts != nullptr) ++shortcuts->replayed_rounds;
    } else {
      // With no active alliance, steps 1, 4 and 5 change nothing (x = 0 stays
      // from the round the last alliance dissolved in, as step 1 would set it).
      const bool dormant = live_edges == 0;
      if (dormant) {
        if (shortcuts != nullptr) ++shortcuts->dormant_rounds;
        std::fill(v.act.begin(), v.act.end(), 0.0);
      } else {
        decide_actions(k.threshold, slots, v.live.data(), v.always.data(), v.conditional.data(), v.trust.data(),
                       v.act.data());
        if (p.error > 0.0) {
          const std::int64_t drawn =
              apply_execution_errors(p.error, stream, t, edges, v.slot_of_edge.data(), v.act.data());
          if (shortcuts != nullptr) shortcuts->error_blocks += drawn;
        }
      }
      for (FirmIndex i = 0; i < n; ++i) v.quality[i] = s.size[i] * v.differentiation[i];
      const PlayedRound played =
          play_firms(k, chunks, v.chunk_start.data(), v.chunk_width.data(), v.reverse_slot.data(), v.target.data(),
                     v.live.data(), v.act.data(), v.synergy.data(), v.quality.data(), v.degree_plus_one.data(),
                     v.leak_power.data(), v.partner_act.data(), v.alliance_value.data(), v.neighbour_quality.data(),
                     v.active_alliances.data(), v.differentiation.data(), v.payoff.data(), v.acts.data());
      acts_total = played.acts_total;
      std::copy_n(v.payoff.begin(), n, s.payoff.begin());
      if (dormant) {
        stationary = replay_dormant && !played.differentiation_moved;
      } else {
        live_edges = update_trust(k, slots, v.reverse_slot.data(), v.act.data(), v.partner_act.data(),
                                  v.trust.data(), v.live.data(), v.next_trust.data());
        std::swap(v.trust, v.next_trust);
      }
    }

    const double cooperation_t = edges > 0 ? static_cast<double>(acts_total) / edges : 0.0;
    if (breakdown_round > p.rounds && cooperation_t < 0.05) breakdown_round = t;
    if (series != nullptr || window.needs(t)) {
      const double active_trust = live_edges > 0 ? active_trust_sum(v) : 0.0;
      if (series != nullptr) detail::record_round(s, t, cooperation_t, active_trust, live_edges, *series);
      if (window.needs(t)) window.add(t, cooperation_t, edges > 0 ? active_trust / edges : 0.0, s);
    }

    const bool updated = detail::update_fitness(p, t, s);
    if (updated) {
      if (p.update_rule == UpdateRule::fermi) {
        detail::fermi_update(p, stream, t, s);
      } else {
        // death_birth resets d_i and re-forms alliances in the shared state;
        // they are carried over to the slots.
        std::copy_n(v.differentiation.begin(), n, s.differentiation.begin());
        std::fill(s.active.begin(), s.active.end(), std::uint8_t{0});
        detail::death_birth_update(p, stream, t, s);
        std::copy_n(s.differentiation.begin(), n, v.differentiation.begin());
        for (EdgeIndex e = 0; e < edges; ++e) {
          if (s.active[e]) {
            v.live[v.slot_of_edge[e]] = 1.0;
            v.trust[v.slot_of_edge[e]] = s.trust[e];
          }
        }
        live_edges = count_live(slots, v.live.data());
      }
      set_strategy_flags(g, v);
    }

    if (p.stop_on_fixation && p.mutation == 0.0 && (t == 1 || updated) && detail::fixated(s)) {
      rounds = t;
      break;
    }
  }

  std::copy_n(v.differentiation.begin(), n, s.differentiation.begin());
  return window.finish(p, rounds, breakdown_round, live_edges, s);
}

namespace {

// An estimate from above of the slots prepare() lays out for a graph of
// `params`: vector_lanes times the sum over chunks of the chunk's largest
// degree. Within a chunk the degrees are taken as independent draws of one
// distribution with mean `mu` and variance `var` (for scale-free, the one of the
// chunk's first and oldest firm, which dominates the others'); the mean of the
// largest of L such draws is at most mu + sigma (L - 1) / sqrt(2L - 1)
// (Hartley and David 1954, Gumbel 1954, for any distribution), and the variance
// of the largest at most L var, which gives the allowance of 4 standard
// deviations for the sum. Measured against 3 to 200 drawn graphs each of
// 5 to 10^5 firms and 1 to 200 partners, it was never below the slots laid out,
// and at most 20% above them from 10^4 firms on, 10% from 10^5.
double slot_estimate(const ModelParams& p) {
  const auto n = static_cast<double>(p.firms);
  const double k = static_cast<double>(p.topology == Topology::complete ? p.firms - 1 : p.partners);
  const double chunks = std::ceil(n / lanes);
  const double every_pair = lanes * chunks * (n - 1.0);  // every chunk as wide as a firm allied with all others
  const double spread = (lanes - 1.0) / std::sqrt(2.0 * lanes - 1.0);
  const auto independent = [&](double mu, double var) {
    return std::min(every_pair, lanes * chunks * (mu + spread * std::sqrt(var)) +
                                    4.0 * lanes * std::sqrt(chunks * lanes * var));
  };
  switch (p.topology) {
    case Topology::ring:
      return lanes * chunks * 2.0 * std::floor(k / 2.0);
    case Topology::regular:
      return lanes * chunks * k;
    case Topology::complete:
      return every_pair;
    case Topology::random:
      // G(N, p) with p = k / (N - 1): binomial degrees.
      return k >= n - 1.0 ? every_pair : independent(k, k * (1.0 - k / (n - 1.0)));
    case Topology::small_world: {
      // A firm keeps its own k/2 ring alliances, each of the k/2 that reach it
      // from behind survives with probability 1 - rewire, and the rewired ones
      // land on it about as a Poisson count of mean k/2 rewire.
      const double half = std::floor(k / 2.0);
      return independent(2.0 * half, half * p.rewire * (1.0 - p.rewire) + half * p.rewire);
    }
    case Topology::scale_free: {
      // Preferential attachment as a Yule process: a firm that joined at total
      // degree 2 m t has, at the end (2 m T), m plus a negative binomial count
      // with m successes of probability q = sqrt(t / T): mean m / q, variance
      // m (1 - q) / q^2. The seed clique counts as joining at t = (m + 1) / 2.
      const double m = std::floor(k / 2.0);
      const double final_time = n - (m + 1.0) / 2.0;
      double sum = 0.0;
      double var_sum = 0.0;
      // The first 1024 chunks one by one, the later ones in groups of a 256th
      // of their index, each as its first: its bound decreases with the index,
      // slowly enough there that grouping adds under 0.5%, and a sweep's check
      // visits every configuration in some thousand steps.
      for (double c = 0.0; c < chunks;) {
        const double count = std::min(c < 1024.0 ? 1.0 : std::floor(c / 256.0), chunks - c);
        const double time = std::max(lanes * c, m) + 1.0 - (m + 1.0) / 2.0;
        const double q = std::sqrt(std::min(1.0, time / final_time));
        const double var = m * (1.0 - q) / (q * q);
        sum += count * (m / q + spread * std::sqrt(var));
        var_sum += count * lanes * var;
        c += count;
      }
      return std::min(every_pair, lanes * sum + 4.0 * lanes * std::sqrt(var_sum));
    }
  }
  return every_pair;
}

}  // namespace

ReplicateMemory vectorized_memory(const ModelParams& p, bool series) {
  ReplicateMemory out = replicate_memory(p, series);
  const auto n = static_cast<double>(p.firms);
  if (detail::follows_courses(p)) {
    // The course path lays out no slots: per firm alliance_value,
    // active_alliances, neighbour_quality, degree_plus_one, firm_mix and, at
    // most one entry per firm each, mixes, mix_differentiation and the leak table.
    out.firms += (6.0 * sizeof(double) + 2.0 * sizeof(std::uint64_t)) * n;
    return out;
  }
  const double chunks = std::ceil(n / lanes);
  const GraphMemory graph = alliance_graph_memory({p.topology, p.firms, p.partners, p.rewire});
  out.edges += sizeof(std::int32_t) * graph.directed_edges;  // slot_of_edge
  // Seven double arrays and acts over the padded firms and the sentinel;
  // chunk_start and chunk_width; the leak table, of at most one entry per
  // firm (max degree + 1 <= N).
  out.firms += (7.0 * sizeof(double) + sizeof(std::int32_t)) * (lanes * chunks + 1.0) +
               2.0 * sizeof(std::int32_t) * chunks + sizeof(double) * n;
  // reverse_slot and target; live, trust, next_trust, act, partner_act,
  // always, conditional and synergy.
  out.slots = (2.0 * sizeof(std::int32_t) + 8.0 * sizeof(double)) * slot_estimate(p);
  return out;
}

}  // namespace coopsweep::kernels
