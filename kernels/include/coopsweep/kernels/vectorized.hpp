#pragma once
// The high-throughput kernel: the same replicate as simulate_reference, with the
// round's edge and firm loops laid out for SIMD. Tests hold it to the reference
// to the bit (tests/kernels/test_vectorized.cpp).

#include <coopsweep/kernels/metrics.hpp>
#include <coopsweep/kernels/model_params.hpp>
#include <coopsweep/kernels/random.hpp>
#include <coopsweep/kernels/reference.hpp>

#include <cstdint>
#include <vector>

namespace coopsweep::kernels {

// Workspace of the vectorized kernel, reused between replicates so the round
// loop never allocates. `replicate` holds the state the reference kernel uses
// (initialisation, strategy evolution and the window sums are shared code).
//
// Edge data are in a sliced ELLPACK layout (SELL-C, C = vector_lanes): firms
// are taken in chunks of C consecutive firms, and slot m of the C firms of a
// chunk sits in C adjacent elements, so a SIMD register holds the m-th edge of
// C firms and each firm's sums over its edges are lane-wise vector additions in
// G0 order, the order the reference adds them. A chunk is padded to its
// largest degree with slots that are inactive and point at a sentinel firm of
// quality 0; adding their zeros is exact. Flags are 0.0 / 1.0 so that every
// branch of a round becomes a SIMD select.
struct VectorizedState {
  static constexpr int vector_lanes = 4;

  ReplicateState replicate;
  // Layout: chunk c's slots start at chunk_start[c] and number
  // vector_lanes * chunk_width[c]; slot_of_edge maps a G0 edge to its slot.
  std::vector<std::int32_t> chunk_start;
  std::vector<std::int32_t> chunk_width;
  std::vector<std::int32_t> slot_of_edge;
  // Per slot.
  std::vector<std::int32_t> reverse_slot;  // the slot of the reverse edge (itself for padding)
  std::vector<std::int32_t> target;        // the partner firm (the sentinel for padding)
  std::vector<double> live;                // alliance active
  std::vector<double> trust;               // tau_e
  std::vector<double> next_trust;
  std::vector<double> act;                 // x_e
  std::vector<double> partner_act;         // x_rev(e)
  std::vector<double> always;              // source is an unconditional cooperator
  std::vector<double> conditional;         // source is conditional
  std::vector<double> synergy;             // v(s) g 2 a_i / (a_i + a_j): the synergy when both cooperate
  // Per firm, padded to whole chunks, plus the sentinel.
  std::vector<double> quality;             // q_i = a_i d_i at the start of the round
  std::vector<double> differentiation;     // d_i
  std::vector<double> payoff;              // pi_i
  std::vector<double> alliance_value;      // A_i
  std::vector<double> neighbour_quality;   // sum of q_j over N0(i)
  std::vector<double> active_alliances;
  std::vector<double> degree_plus_one;     // 1 + |N0(i)|
  std::vector<std::int32_t> acts;          // n_i
  // (1 - lambda s^2)^n for n = 0..max degree, each from std::pow as the reference computes it.
  std::vector<double> leak_power;
  // The course path (runs without updates or errors, see simulate_vectorized),
  // which uses leak_power, alliance_value, active_alliances, neighbour_quality
  // and degree_plus_one (per firm, unpadded) and these, not the slots: per
  // firm, its partner mix packed into
  // one word, then the index of its mix among `mixes` (sorted, distinct); per
  // mix, its firms' d_i.
  std::vector<std::uint64_t> firm_mix;
  std::vector<std::uint64_t> mixes;
  std::vector<double> mix_differentiation;
};

// Heap bytes one VectorizedState (and, with `series`, one RoundSeries) holds at
// its peak while simulate_vectorized runs `params` (valid per MODEL.md), by the
// parts of replicate_memory, which its `replicate` holds as the reference's
// state does, with the layout added where it grows alike: `edges` also holds
// slot_of_edge, `firms` the per-firm arrays padded to whole chunks, the chunk
// table and the leak table, and `slots` the ten per-slot arrays. For runs the
// course path computes (no update rule, no errors) there are no slots, and
// `firms` adds the course path's eight per-firm arrays instead. The slots are
// the chunks' largest degrees times vector_lanes: exact for ring, regular and
// complete graphs; for random, small-world and scale-free graphs the mean of
// the largest of a chunk's degrees is bounded from their distribution (for
// scale-free, the Yule-process approximation of preferential attachment), plus
// 4 standard deviations of the sum over chunks. As replicate_memory, a bound
// over several configurations is the sum of each part's maximum; estimates
// from above within the allocator's overhead, except for graphs drawn far
// above their expected size. Pure arithmetic in double; thread-safe.
ReplicateMemory vectorized_memory(const ModelParams& params, bool series = false);

// How much of a run the exact shortcuts of simulate_vectorized skipped; for
// tests and benchmarks.
struct ShortcutCounts {
  std::int64_t dormant_rounds = 0;    // rounds with no active alliance: steps 1, 4 and 5 skipped
  std::int64_t replayed_rounds = 0;   // rounds that repeated a stationary round without recomputing it
  std::int64_t course_rounds = 0;     // rounds computed per alliance course and partner mix (the course path)
  // Philox blocks drawn for execution errors in the SIMD rounds: one per round
  // and group of 4 consecutive G0 edges with an intended act (a group whose 4
  // acts are all 0 needs no draw and is skipped). benchmarks/peers/run_peers.py
  // prices them to bound what any kernel on these draws can reach.
  std::int64_t error_blocks = 0;
};

// Runs one replicate and returns its metrics, bit-identical to
// simulate_reference(params, stream, ...) for every valid `params` (and the same
// `series` when given). Precondition: `params` valid per MODEL.md. Shortcuts,
// each exact:
// - The course path. With neither strategy updates nor execution errors,
//   nothing outside an alliance acts on it: its course (acts, trust,
//   dissolution) depends only on its two firms' strategies, and a firm's d_i
//   only on its own acts, so on its strategy and its partners' strategies in
//   G0 (its partner mix). Such runs are computed once per course (at most 9)
//   and per mix, and the graph is visited only for the payoffs and trust sums
//   that a metric or the series reads: those of the window. A round whose
//   inputs (acts, alliances, d_i) repeat the last computed ones reuses its
//   payoffs, and trust sums are reused likewise (`replayed_rounds`): trust
//   and differentiation converge geometrically and in floating point stop
//   moving (the default model by round 260 to 280).
// - Otherwise (the SIMD round loop), a round with no active alliance skips the
//   steps that only act on active alliances; and once such a dormant round
//   leaves every d_i unchanged to the bit with no strategy update to come,
//   every later round repeats it and is replayed instead of recomputed.
// Throws std::length_error when the layout needs more than 2^31 - 1 slots or
// padded firms (its 32-bit indices), or the course path a firm of 2^20 or more
// partners (its packed partner counts; MODEL.md's N <= 10^6 keeps below). Thread-safe for distinct `state`, `series`
// and `shortcuts`.
RunMetrics simulate_vectorized(const ModelParams& params, const ReplicateStream& stream, VectorizedState& state,
                               RoundSeries* series = nullptr, ShortcutCounts* shortcuts = nullptr);

// The rounds of simulate_vectorized alone, as play_reference: for the replicate
// that initialise_replicate(params, stream, state.replicate) set up.
RunMetrics play_vectorized(const ModelParams& params, const ReplicateStream& stream, VectorizedState& state,
                           RoundSeries* series = nullptr, ShortcutCounts* shortcuts = nullptr);

}  // namespace coopsweep::kernels
