#pragma once
// The high-throughput kernel: the same replicate as simulate_reference, with the
// round's edge and firm loops laid out for SIMD. Tests hold it to the reference
// to the bit (tests/kernels/test_vectorized.cpp).

#include <coopsweep/kernels/metrics.hpp>
#include <coopsweep/kernels/model_params.hpp>
#include <coopsweep/kernels/random.hpp>
#include <coopsweep/kernels/reference.hpp>

#include <vector>

namespace coopsweep::kernels {

// Workspace of the vectorized kernel, reused between replicates so the round
// loop never allocates. `replicate` holds the state the reference kernel uses
// (initialisation, strategy evolution and the window sums are shared code); the
// per-edge flags are held as 0.0 / 1.0 so that the compiler can turn every
// branch of a round into SIMD selects.
struct VectorizedState {
  ReplicateState replicate;
  // Per directed edge.
  std::vector<double> live;              // alliance active
  std::vector<double> act;               // x_e
  std::vector<double> partner_act;       // x_rev(e)
  std::vector<double> always;            // source is an unconditional cooperator
  std::vector<double> conditional;       // source is conditional
  std::vector<double> synergy;           // v(s) g 2 a_i / (a_i + a_j): the synergy when both cooperate
  std::vector<double> edge_value;        // this round's alliance value of e to its source
  std::vector<double> partner_quality;   // q_j of the target
  std::vector<double> next_trust;
  // Per firm.
  std::vector<double> degree_plus_one;   // 1 + |N0(i)|
  std::vector<double> alliance_value;    // A_i
  std::vector<double> neighbour_quality; // sum of q_j over N0(i)
  std::vector<double> active_alliances;
  std::vector<double> previous_differentiation;  // d_i before a dormant round
  // (1 - lambda s^2)^n for n = 0..max degree, each from std::pow as the reference computes it.
  std::vector<double> leak_power;
};

// How much of a run the exact shortcuts of simulate_vectorized skipped; for
// tests and benchmarks.
struct ShortcutCounts {
  std::int64_t dormant_rounds = 0;   // rounds with no active alliance: steps 1, 4 and 5 skipped
  std::int64_t replayed_rounds = 0;  // rounds that repeated a stationary dormant round without recomputing it
};

// Runs one replicate and returns its metrics, bit-identical to
// simulate_reference(params, stream, ...) for every valid `params` (and the same
// `series` when given). Precondition: `params` valid per MODEL.md. Shortcuts,
// each exact: a round with no active alliance skips the steps that only act on
// active alliances; once such a round leaves every d_i unchanged and nothing can
// re-form an alliance (no strategy update), every later round repeats it, so its
// payoffs are replayed into the window sums instead of being recomputed.
// Thread-safe for distinct `state`, `series` and `shortcuts`.
RunMetrics simulate_vectorized(const ModelParams& params, const ReplicateStream& stream, VectorizedState& state,
                               RoundSeries* series = nullptr, ShortcutCounts* shortcuts = nullptr);

}  // namespace coopsweep::kernels
