#pragma once
// Runs with neither strategy updates nor execution errors, computed once per
// alliance course and per partner mix instead of per edge and per firm
// (alliance_courses.cpp says why that is exact). simulate_vectorized takes
// this path for every such run; tests hold it to the reference to the bit.

#include <coopsweep/kernels/metrics.hpp>
#include <coopsweep/kernels/model_params.hpp>
#include <coopsweep/kernels/vectorized.hpp>

namespace coopsweep::kernels::detail {

// Whether play_by_courses computes runs of `p`: no update rule and no
// execution errors, so that the run is deterministic given its graph,
// strategies and sizes, and nothing feeds back from payoffs.
constexpr bool follows_courses(const ModelParams& p) noexcept {
  return p.update_rule == UpdateRule::none && p.error == 0.0;
}

// Rounds 1..T of the replicate initialised in v.replicate (initialise_replicate),
// for `p` with follows_courses(p); the metrics, and `series` when given, as
// simulate_reference computes them, to the bit. Uses the course workspace of
// `v` (firm_mix, mixes, mix_differentiation, leak_power, alliance_value,
// active_alliances, neighbour_quality, degree_plus_one), not its slots.
// Throws std::length_error for a firm of 2^20 or more partners.
RunMetrics play_by_courses(const ModelParams& p, VectorizedState& v, RoundSeries* series,
                           ShortcutCounts* shortcuts);

}  // namespace coopsweep::kernels::detail
