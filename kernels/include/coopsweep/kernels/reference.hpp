#pragma once
// The scalar reference kernel: one replicate of the model, written to be read
// line by line against shared/MODEL.md. Faster kernels are held to it by tests.

#include <coopsweep/kernels/graph.hpp>
#include <coopsweep/kernels/metrics.hpp>
#include <coopsweep/kernels/model_params.hpp>
#include <coopsweep/kernels/random.hpp>

#include <cstdint>
#include <vector>

namespace coopsweep::kernels {

// Structure-of-arrays state of one replicate, reused between replicates so the
// round loop never allocates.
struct ReplicateState {
  AllianceGraph graph;
  // Per firm.
  std::vector<double> size;             // a_i
  std::vector<double> differentiation;  // d_i
  std::vector<Strategy> strategy;
  std::vector<double> payoff;           // pi_i of the current round
  std::vector<double> window_payoff;    // Y_i: pi_i summed over the window
  std::vector<double> quality;          // q_i = a_i d_i at the start of the round
  std::vector<std::int32_t> acts;       // n_i: cooperative acts of i this round
  std::vector<double> update_payoff;    // pi_i summed since the last strategy update
  std::vector<double> fitness;          // P_i: mean payoff over the last u rounds
  std::vector<Strategy> next_strategy;  // fermi's synchronous update
  // Per directed edge.
  std::vector<double> trust;            // tau_e
  std::vector<std::uint8_t> action;     // x_e
  std::vector<std::uint8_t> active;     // alliance of e active
  // The last min(W, T) rounds, when step 7 may end the run early.
  std::vector<double> recent_cooperation;
  std::vector<double> recent_trust;
  std::vector<double> recent_payoff;    // round-major, firms within a round
  // Scratch for metrics.
  std::vector<double> scratch;
  std::vector<FirmIndex> permutation;
};

// Heap bytes one ReplicateState (and, with `series`, one RoundSeries) holds at
// its peak while simulate_reference runs `params` (valid per MODEL.md), by
// part: the alliance graph while it is built, with the per-edge and per-firm
// state a worker keeps from its previous replicate, the window buffers of a run
// that may stop at fixation and the round series. A state reused across
// configurations keeps each part's largest storage, so a bound over several
// configurations is the sum of each part's maximum. Estimates from above,
// within the allocator's overhead (see alliance_graph_memory for the one
// exception, random graphs far above their mean size), made before anything is
// allocated so that a sweep too large for the machine is refused rather than
// killed. Pure arithmetic in double (no overflow); thread-safe.
struct ReplicateMemory {
  double graph = 0.0;   // the AllianceGraph
  double build = 0.0;   // held besides it while it is built
  double edges = 0.0;   // trust, action and active per directed edge
  double firms = 0.0;   // the per-firm arrays and the Gini's scratch
  double window = 0.0;  // the last min(W, T) rounds, where step 7 may end a run early
  double series = 0.0;  // the RoundSeries, when kept
  double slots = 0.0;   // vectorized_memory only: the SELL-4 slot arrays of a VectorizedState

  double total() const noexcept { return graph + build + edges + firms + window + series + slots; }
};
ReplicateMemory replicate_memory(const ModelParams& params, bool series = false);

// Builds G0 and the initial state of one replicate (MODEL.md "Initialisation").
void initialise_replicate(const ModelParams& params, const ReplicateStream& stream, ReplicateState& state);

// The round-by-round values behind the window metrics, one element per round
// that ran, each read where the kernel reads it for the metrics (after step 5,
// before step 6): sum_e x_e / E0, trust summed over edges of active alliances
// / E0 (both 0 when E0 = 0), the mean of pi_i over firms, and the share of the
// alliances of G0 still active (1 when E0 = 0).
struct RoundSeries {
  std::vector<double> cooperation;
  std::vector<double> trust;
  std::vector<double> payoff;
  std::vector<double> alliances;
};

// Runs one replicate (every step of MODEL.md's round, strategy evolution and
// the fixation stop included) and returns its metrics. Precondition: `params`
// valid per MODEL.md (see coopsweep::sweep::resolve_model). With `series`, also
// replaces its contents with the run's round-by-round values (the metrics are
// the same either way). Thread-safe for distinct `state` and `series`.
RunMetrics simulate_reference(const ModelParams& params, const ReplicateStream& stream, ReplicateState& state,
                              RoundSeries* series = nullptr);

// The rounds of simulate_reference alone: rounds 1..T and the metrics of the
// replicate that initialise_replicate(params, stream, state) set up in
// `state`. simulate_reference is the two in turn; the round-kernel benchmarks
// time this part.
RunMetrics play_reference(const ModelParams& params, const ReplicateStream& stream, ReplicateState& state,
                          RoundSeries* series = nullptr);

}  // namespace coopsweep::kernels
