#pragma once
// Pieces of one replicate that every kernel shares: strategy evolution (step 6),
// the fixation check (step 7), and the window bookkeeping behind the metrics.
// They run at most once per round (step 6: once per update), so a faster kernel
// gains nothing from its own copy, and one copy keeps the kernels' results equal
// by construction where they are not hot.

#include <coopsweep/kernels/metrics.hpp>
#include <coopsweep/kernels/model_params.hpp>
#include <coopsweep/kernels/random.hpp>
#include <coopsweep/kernels/reference.hpp>

#include <cstdint>
#include <vector>

namespace coopsweep::kernels::detail {

// Step 6's fitness basis: adds round t's payoffs s.payoff to the running sums
// and, when t is a multiple of u, sets s.fitness to their mean over the last u
// rounds and restarts the sums. Returns whether round t has a strategy update.
bool update_fitness(const ModelParams& p, std::int64_t t, ReplicateState& s);

// Step 6, `fermi`: every firm with partners in G0 compares itself with one of
// them at once, then every firm mutates with probability mu.
void fermi_update(const ModelParams& p, const ReplicateStream& stream, std::int64_t t, ReplicateState& s);

// Step 6, `death_birth`: `births` replacements in turn. Re-formed alliances are
// written to s.active and s.trust.
void death_birth_update(const ModelParams& p, const ReplicateStream& stream, std::int64_t t, ReplicateState& s);

// Step 7: every firm holds the same strategy.
bool fixated(const ReplicateState& s);

// Step 3's leak factor (1 - lambda s^2)^n for n = 0..max_acts into `powers`,
// each from std::pow(x, n) with an int n, which is pow(x, double(n)), as the
// reference computes it inline.
void leak_powers(const ModelParams& p, std::int32_t max_acts, std::vector<double>& powers);

// The window sums of one run. The window is the last min(W, R) rounds of the R
// that ran; when step 7 may end the run early R is only known at the end, so
// then the last W rounds are kept in ring buffers and summed in round order at
// the end, the same additions as the running sums of a run of known length.
class WindowSums {
 public:
  // Sizes the ring buffers in `s` when the run may stop early.
  WindowSums(const ModelParams& p, ReplicateState& s);

  // Whether round t's values must be passed to add().
  bool needs(std::int64_t t) const noexcept { return may_stop_early_ || t >= known_window_start_; }

  // Round t's cooperation and trust (per edge of G0) and its payoffs s.payoff.
  void add(std::int64_t t, double cooperation_t, double trust_t, ReplicateState& s);

  // The metrics of a run of `rounds` rounds; `active_edges` directed edges of
  // active alliances at the end.
  RunMetrics finish(const ModelParams& p, std::int64_t rounds, std::int64_t breakdown_round,
                    std::int64_t active_edges, ReplicateState& s);

 private:
  bool may_stop_early_;
  std::size_t capacity_;
  std::int64_t known_window_start_;
  double cooperation_sum_ = 0.0;  // over window rounds, of sum_e x_e / E0
  double trust_sum_ = 0.0;        // over window rounds, of sum_active tau_e / E0
  double payoff_sum_ = 0.0;       // over window rounds and firms, of pi_i
};

// Appends round t's values to `series`, emptied first at t = 1; `active_trust`
// and `active_edges` are summed over the directed edges of active alliances.
void record_round(const ReplicateState& s, std::int64_t t, double cooperation_t, double active_trust,
                  std::int64_t active_edges, RoundSeries& series);

}  // namespace coopsweep::kernels::detail
