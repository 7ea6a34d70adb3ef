#include "alliance_courses.hpp"

#include "exact_storage.hpp"
#include "replicate_steps.hpp"
#include "simd_clones.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

// Without strategy updates and execution errors, nothing outside an alliance
// acts on it: x_e depends on the source's strategy and tau_e (step 1), tau_e
// on x_rev(e) (step 4), dissolution on the two trusts (step 5); payoffs and
// differentiation feed back into nothing. So every alliance between a firm of
// strategy a and one of strategy b takes the same course, to the bit (the same
// operations on the same values), and there are at most 3 x 3 courses. A
// firm's acts n_i(t) are the sum of its courses' acts over its partners, and
// its d_i depends on nothing else (step 3), so firms with the same strategy
// and the same count of partners of each strategy in G0 (the same partner mix)
// share d_i. Only the window's payoffs and trust sums (and a series) need the
// graph, and they repeat whenever their inputs do. Each value is computed with
// the reference's operations in the reference's order (reference.cpp).

namespace coopsweep::kernels::detail {
namespace {

constexpr int strategies = 3;

class AllianceCourses {
 public:
  AllianceCourses(const ModelParams& p)
      : threshold_(p.trust_threshold),
        keep_(1.0 - p.trust_decay),
        keep_loss_((1.0 - p.trust_decay) * (1.0 - p.trust_loss)),
        gain_(p.trust_gain),
        exit_(p.exit_threshold) {
    for (Course& c : courses_) c = {p.trust_init, p.trust_init, true};
  }

  // Steps 1, 4 and 5 of one round for every course. Returns the courses
  // (bit a * 3 + b) whose trust values or alliance changed, bit for bit.
  std::uint32_t play_round() {
    std::uint32_t moved = 0;
    acted_ = 0;
    live_before_ = 0;
    for (int a = 0; a < strategies; ++a) {
      for (int b = 0; b < strategies; ++b) {
        Course& c = course(a, b);
        if (!c.live) continue;
        const std::uint32_t bit = 1u << (a * strategies + b);
        const bool acted = intends(a, c.trust_ab);
        const bool partner_acted = intends(b, c.trust_ba);
        acted_ |= acted ? bit : 0u;
        live_before_ |= bit;
        const double trust_ab = next_trust(c.trust_ab, partner_acted);
        const double trust_ba = next_trust(c.trust_ba, acted);
        // Step 5, decided on both trusts after step 4.
        const bool live = !(trust_ab < exit_ || trust_ba < exit_);
        const bool changed = std::bit_cast<std::uint64_t>(trust_ab) != std::bit_cast<std::uint64_t>(c.trust_ab) ||
                             std::bit_cast<std::uint64_t>(trust_ba) != std::bit_cast<std::uint64_t>(c.trust_ba) ||
                             !live;
        moved |= changed ? bit : 0u;
        c.trust_ab = trust_ab;
        c.trust_ba = trust_ba;
        c.live = live;
      }
    }
    return moved;
  }

  // Of the last round played: x of a firm of strategy a towards a partner of
  // strategy b, whether their alliance was active at its start, and after it
  // the trust and whether the alliance is still active.
  int act(int a, int b) const noexcept { return static_cast<int>(acted_ >> (a * strategies + b) & 1u); }
  bool live_before(int a, int b) const noexcept { return (live_before_ >> (a * strategies + b) & 1u) != 0; }
  double trust(int a, int b) const noexcept { return course(a, b).trust_ab; }
  bool live(int a, int b) const noexcept { return course(a, b).live; }

  // The acts and the alliances active at the start of the last round of the
  // courses in `present` (bit a * 3 + b), as bits: equal patterns give equal
  // alliance values A_i to firms whose partners' strategies only make those.
  std::uint32_t pattern(std::uint32_t present) const noexcept {
    return (acted_ & present) | (live_before_ & present) << (strategies * strategies);
  }

 private:
  struct Course {
    double trust_ab;  // trust of the firm of strategy a in its partner of strategy b
    double trust_ba;
    bool live;
  };

  Course& course(int a, int b) noexcept { return courses_[a * strategies + b]; }
  const Course& course(int a, int b) const noexcept { return courses_[a * strategies + b]; }

  bool intends(int strategy, double trust) const noexcept {
    switch (static_cast<Strategy>(strategy)) {
      case Strategy::cooperator: return true;
      case Strategy::defector: return false;
      case Strategy::conditional: return trust >= threshold_;
    }
    return false;
  }

  double next_trust(double tau, bool partner_acted) const noexcept {
    return partner_acted ? keep_ * (tau + gain_ * (1.0 - tau)) : keep_loss_ * tau;
  }

  double threshold_, keep_, keep_loss_, gain_, exit_;
  Course courses_[strategies * strategies] = {};
  // Bit a * 3 + b, of the last round: x of the firm of strategy a, and the
  // alliance active at the round's start.
  std::uint32_t acted_ = 0;
  std::uint32_t live_before_ = 0;
};

// A firm's strategy and its partners' counts by strategy in one word: 20 bits
// per count, as N <= 10^6 (MODEL.md) keeps every count below 2^20.
constexpr int mix_count_bits = 20;
constexpr std::uint64_t mix_count_mask = (std::uint64_t{1} << mix_count_bits) - 1;

std::uint64_t pack_mix(int strategy, const std::int64_t counts[strategies]) noexcept {
  std::uint64_t mix = static_cast<std::uint64_t>(strategy);
  for (int b = 0; b < strategies; ++b) mix = mix << mix_count_bits | static_cast<std::uint64_t>(counts[b]);
  return mix;
}

int mix_strategy(std::uint64_t mix) noexcept { return static_cast<int>(mix >> (strategies * mix_count_bits)); }

std::int32_t mix_count(std::uint64_t mix, int partner_strategy) noexcept {
  return static_cast<std::int32_t>((mix >> ((strategies - 1 - partner_strategy) * mix_count_bits)) &
                                   mix_count_mask);
}

// Step 2's firm part, in a loop of its own so that its two divisions per firm
// pipeline across firms and run in SIMD lanes (inside the loop over each
// firm's partners they stalled it: a fifth of the run's time, perf).
COOPSWEEP_SIMD_CLONES
void firm_payoffs(double market_scale, double upkeep, FirmIndex n, const double* __restrict quality,
                  const double* __restrict neighbour_quality, const double* __restrict degree_plus_one,
                  const double* __restrict differentiation, const double* __restrict alliance_value,
                  const double* __restrict active_alliances, double* __restrict payoff) {
  for (FirmIndex i = 0; i < n; ++i) {  // SIMD loop
    const double q = quality[i];
    const double mean_quality = (q + neighbour_quality[i]) / degree_plus_one[i];
    // With Q_i = 0 every q_j around i is 0, q_i included: i holds no market share.
    const double market_share = mean_quality > 0.0 ? market_scale * differentiation[i] * q / mean_quality : 0.0;
    payoff[i] = alliance_value[i] + market_share - upkeep * active_alliances[i];
  }
}

}  // namespace

RunMetrics play_by_courses(const ModelParams& p, VectorizedState& v, RoundSeries* series,
                           ShortcutCounts* shortcuts) {
  ReplicateState& s = v.replicate;
  const AllianceGraph& g = s.graph;
  const FirmIndex n = g.firms;
  const EdgeIndex edges = g.directed_edges();
  const auto strategy_of = [&](FirmIndex i) { return static_cast<int>(s.strategy[i]); };
  if (shortcuts != nullptr) *shortcuts = {};

  // Directed edges by course; each firm's mix, then its index among the
  // distinct mixes.
  std::int64_t course_edges[strategies][strategies] = {};
  FirmIndex max_degree = 0;
  assign_exactly(v.firm_mix, static_cast<std::size_t>(n), 0);
  for (FirmIndex i = 0; i < n; ++i) {
    // Counted in registers: incrementing counts[strategy] in memory chained
    // each partner's increment to the last one's store (perf: an eighth of
    // this function's time at N = 100, k = 4).
    std::int64_t counts[strategies] = {0, 0, 0};
    for (EdgeIndex e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
      const int b = strategy_of(g.target[e]);
      counts[0] += b == 0 ? 1 : 0;
      counts[1] += b == 1 ? 1 : 0;
      counts[2] += b == 2 ? 1 : 0;
    }
    for (int b = 0; b < strategies; ++b) course_edges[strategy_of(i)][b] += counts[b];
    max_degree = std::max(max_degree, g.degree(i));
    if (max_degree > static_cast<FirmIndex>(mix_count_mask)) {
      throw std::length_error("course path: a firm with " + std::to_string(max_degree) +
                              " partners exceeds its 20-bit partner counts (N <= 10^6)");
    }
    v.firm_mix[i] = pack_mix(strategy_of(i), counts);
  }
  assign_exactly(v.mixes, v.firm_mix.begin(), v.firm_mix.end());
  std::sort(v.mixes.begin(), v.mixes.end());
  v.mixes.erase(std::unique(v.mixes.begin(), v.mixes.end()), v.mixes.end());
  for (auto& mix : v.firm_mix) {
    mix = static_cast<std::uint64_t>(std::lower_bound(v.mixes.begin(), v.mixes.end(), mix) - v.mixes.begin());
  }
  const std::size_t mixes = v.mixes.size();
  assign_exactly(v.mix_differentiation, mixes, 1.0);
  // The courses some edge takes: only their changes call for new sums (the
  // others, for strategies absent here, often change in the same rounds, which
  // would hide a missed change from the tests).
  std::uint32_t present = 0;
  for (int a = 0; a < strategies; ++a) {
    for (int b = 0; b < strategies; ++b) present |= (course_edges[a][b] > 0 ? 1u : 0u) << (a * strategies + b);
  }

  leak_powers(p, max_degree, v.leak_power);

  const double v_s = cooperation_value(p.scope);
  const double market_scale = p.market * (1.0 - p.scope);
  assign_exactly(v.alliance_value, static_cast<std::size_t>(n), 0.0);
  assign_exactly(v.active_alliances, static_cast<std::size_t>(n), 0.0);
  assign_exactly(v.neighbour_quality, static_cast<std::size_t>(n), 0.0);
  assign_exactly(v.degree_plus_one, static_cast<std::size_t>(n), 0.0);
  for (FirmIndex i = 0; i < n; ++i) v.degree_plus_one[i] = 1.0 + g.degree(i);

  AllianceCourses courses(p);
  WindowSums window(p, s);
  std::int64_t breakdown_round = p.rounds + 1;
  std::int64_t rounds = p.rounds;
  // What the last computed payoffs and trust sum were computed from, so that
  // a round with the same inputs reuses them (the same operations on the same
  // values give the same bits).
  constexpr std::uint32_t no_pattern = ~std::uint32_t{0};
  std::uint32_t alliance_pattern = no_pattern;  // of v.alliance_value and v.active_alliances
  bool payoffs_current = false;                 // s.payoff holds this round's payoffs
  bool trust_current = false;                   // active_trust holds this round's sum
  double active_trust = 0.0;
  std::int64_t active_edges = edges;

  for (std::int64_t t = 1; t <= p.rounds; ++t) {
    const std::uint32_t moved = courses.play_round();
    trust_current = trust_current && (moved & present) == 0;
    std::int64_t acts_total = 0;
    active_edges = 0;
    for (int a = 0; a < strategies; ++a) {
      for (int b = 0; b < strategies; ++b) {
        acts_total += course_edges[a][b] * courses.act(a, b);
        active_edges += courses.live(a, b) ? course_edges[a][b] : 0;
      }
    }
    const double cooperation_t = edges > 0 ? static_cast<double>(acts_total) / edges : 0.0;
    if (breakdown_round > p.rounds && cooperation_t < 0.05) breakdown_round = t;

    const bool recorded = series != nullptr || window.needs(t);
    if (recorded) {
      // Step 2, from d at the start of the round.
      const std::uint32_t pattern = courses.pattern(present);
      if (pattern != alliance_pattern) {
        payoffs_current = false;
        alliance_pattern = pattern;
        for (FirmIndex i = 0; i < n; ++i) {
          const int a = strategy_of(i);
          double value = 0.0;
          std::int32_t alliances = 0;
          for (EdgeIndex e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
            const FirmIndex j = g.target[e];
            const int b = strategy_of(j);
            if (!courses.live_before(a, b)) continue;
            ++alliances;
            const double x = courses.act(a, b);
            const double y = courses.act(b, a);
            double edge_value = v_s * p.benefit * y - p.scope * p.cost * x;
            if (x * y > 0.0) {
              const double pair_size = s.size[i] + s.size[j];
              edge_value += v_s * p.synergy * (pair_size > 0.0 ? 2.0 * s.size[i] / pair_size : 1.0);
            }
            value += edge_value;
          }
          v.alliance_value[i] = value;
          v.active_alliances[i] = static_cast<double>(alliances);
        }
      }
      if (!payoffs_current) {
        for (FirmIndex i = 0; i < n; ++i) {
          s.differentiation[i] = v.mix_differentiation[v.firm_mix[i]];
          s.quality[i] = s.size[i] * s.differentiation[i];
        }
        for (FirmIndex i = 0; i < n; ++i) {
          double neighbour_quality = 0.0;
          for (EdgeIndex e = g.offsets[i]; e < g.offsets[i + 1]; ++e) neighbour_quality += s.quality[g.target[e]];
          v.neighbour_quality[i] = neighbour_quality;
        }
        firm_payoffs(market_scale, p.upkeep, n, s.quality.data(), v.neighbour_quality.data(),
                     v.degree_plus_one.data(), s.differentiation.data(), v.alliance_value.data(),
                     v.active_alliances.data(), s.payoff.data());
        payoffs_current = true;
      } else if (shortcuts != nullptr) {
        ++shortcuts->replayed_rounds;
      }
      if (!trust_current) {
        active_trust = 0.0;
        for (FirmIndex i = 0; i < n; ++i) {
          const int a = strategy_of(i);
          for (EdgeIndex e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
            const int b = strategy_of(g.target[e]);
            if (courses.live(a, b)) active_trust += courses.trust(a, b);
          }
        }
        trust_current = true;
      }
      if (series != nullptr) record_round(s, t, cooperation_t, active_trust, active_edges, *series);
      if (window.needs(t)) window.add(t, cooperation_t, edges > 0 ? active_trust / edges : 0.0, s);
    }

    // Step 3, per mix.
    bool differentiation_moved = false;
    for (std::size_t m = 0; m < mixes; ++m) {
      const std::uint64_t mix = v.mixes[m];
      const int a = mix_strategy(mix);
      std::int32_t acts = 0;
      for (int b = 0; b < strategies; ++b) acts += mix_count(mix, b) * courses.act(a, b);
      const double d_start = v.mix_differentiation[m];
      double d = v.leak_power[static_cast<std::size_t>(acts)] * d_start;
      d = d + p.innovation * (1.0 - d);
      differentiation_moved =
          differentiation_moved || std::bit_cast<std::uint64_t>(d) != std::bit_cast<std::uint64_t>(d_start);
      v.mix_differentiation[m] = d;
    }
    payoffs_current = payoffs_current && !differentiation_moved;

    // Step 7: strategies never change here, so only round 1 can find fixation.
    if (p.stop_on_fixation && p.mutation == 0.0 && t == 1 && fixated(s)) {
      rounds = t;
      break;
    }
  }

  if (shortcuts != nullptr) shortcuts->course_rounds = rounds;
  for (FirmIndex i = 0; i < n; ++i) s.differentiation[i] = v.mix_differentiation[v.firm_mix[i]];
  return window.finish(p, rounds, breakdown_round, active_edges, s);
}

}  // namespace coopsweep::kernels::detail
