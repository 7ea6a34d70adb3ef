// The scalar reference kernel against MODEL.md's exact cases and hand-computed
// small cases.

#include <coopsweep/kernels/reference.hpp>

#include "../support/heap_peak.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

using namespace coopsweep::kernels;

namespace {

double metric(const RunMetrics& m, Metric which) { return at(m, which); }

// MODEL.md's exact setting: every firm identical (same strategy, sigma = 0,
// epsilon = 0, k partners each), so every edge carries the same trust and act
// and one scalar recursion of the spec's equations gives every metric.
RunMetrics homogeneous_run(const ModelParams& p, Strategy strategy) {
  const double s = p.scope;
  const double v = s * (2.0 - s);
  const double k = static_cast<double>(p.partners);
  double tau = p.trust_init;
  double d = 1.0;
  bool active = true;
  const std::int64_t window_start = p.rounds - p.window + 1;
  double cooperation = 0, trust = 0, payoff = 0;
  std::int64_t breakdown = p.rounds + 1;
  for (std::int64_t t = 1; t <= p.rounds; ++t) {
    const bool intent = strategy == Strategy::cooperator ||
                        (strategy == Strategy::conditional && tau >= p.trust_threshold);
    const double x = active && intent ? 1.0 : 0.0;
    const double alliances = active ? k : 0.0;
    const double pi = alliances * (v * p.benefit * x - s * p.cost * x + v * p.synergy * x * x) +
                      (d > 0 ? p.market * (1 - s) * d : 0.0) - p.upkeep * alliances;
    d = std::pow(1 - p.leakage * s * s, k * x) * d;
    d = d + p.innovation * (1 - d);
    if (active) tau = x > 0 ? (1 - p.trust_decay) * (tau + p.trust_gain * (1 - tau))
                            : (1 - p.trust_decay) * (1 - p.trust_loss) * tau;
    if (active && tau < p.exit_threshold) active = false;
    if (breakdown > p.rounds && x < 0.05) breakdown = t;
    if (t >= window_start) {
      cooperation += x;
      trust += active ? tau : 0.0;
      payoff += pi;
    }
  }
  RunMetrics m{};
  const double w = static_cast<double>(p.window);
  at(m, Metric::cooperation) = cooperation / w;
  at(m, Metric::trust) = trust / w;
  at(m, Metric::alliances) = active ? 1.0 : 0.0;
  at(m, Metric::payoff) = payoff / w;
  at(m, Metric::payoff_gini) = payoff > 0 ? 0.0 : std::nan("");
  at(m, Metric::differentiation) = d;
  at(m, Metric::share_conditional) = strategy == Strategy::conditional ? 1.0 : 0.0;
  at(m, Metric::share_cooperator) = strategy == Strategy::cooperator ? 1.0 : 0.0;
  at(m, Metric::share_defector) = strategy == Strategy::defector ? 1.0 : 0.0;
  at(m, Metric::freerider_gap) = std::nan("");
  at(m, Metric::breakdown_round) = static_cast<double>(breakdown);
  at(m, Metric::rounds_run) = static_cast<double>(p.rounds);
  return m;
}

void require_metrics_equal(const RunMetrics& got, const RunMetrics& want) {
  for (std::size_t m = 0; m < metric_count; ++m) {
    INFO("metric " << metric_info[m].name << ": got " << got[m] << ", want " << want[m]);
    if (std::isnan(want[m])) {
      REQUIRE(std::isnan(got[m]));
    } else {
      REQUIRE(got[m] == Approx(want[m]).epsilon(1e-12).margin(1e-12));
    }
  }
}

ModelParams exact_case(Topology topology) {
  ModelParams p;
  p.topology = topology;
  p.defectors = 0.0;
  p.cooperators = 0.0;
  p.size_spread = 0.0;
  p.error = 0.0;
  return p;
}

}  // namespace

TEST_CASE("everlasting cooperation when tau0 >= h and tau* >= h (MODEL.md exact case)", "[reference][exact]") {
  for (const auto topology : {Topology::ring, Topology::regular}) {
    ModelParams p = exact_case(topology);
    p.trust_init = 0.6;
    p.trust_threshold = 0.5;
    p.trust_gain = 0.3;
    p.trust_decay = 0.02;  // tau* = 0.98 * 0.3 / (0.3 + 0.02 - 0.006) = 0.936 >= h
    ReplicateState state;
    const auto m = simulate_reference(p, ReplicateStream(7, 3, 1), state);
    CHECK(metric(m, Metric::cooperation) == 1.0);
    CHECK(metric(m, Metric::alliances) == 1.0);
    CHECK(metric(m, Metric::breakdown_round) == static_cast<double>(p.rounds + 1));

    // pi_t = k((b + g) v(s) - c s) + M (1 - s) d_t - kappa k, with the d_t recursion.
    const double s = p.scope, v = s * (2 - s), k = static_cast<double>(p.partners);
    double d = 1.0, payoff = 0.0, trust = 0.0, tau = p.trust_init;
    for (std::int64_t t = 1; t <= p.rounds; ++t) {
      const double pi = k * ((p.benefit + p.synergy) * v - p.cost * s) + p.market * (1 - s) * d - p.upkeep * k;
      tau = (1 - p.trust_decay) * (tau + p.trust_gain * (1 - tau));
      if (t > p.rounds - p.window) {
        payoff += pi;
        trust += tau;
      }
      d = p.innovation + (1 - p.innovation) * std::pow(1 - p.leakage * s * s, k) * d;
    }
    CHECK(metric(m, Metric::payoff) == Approx(payoff / static_cast<double>(p.window)).epsilon(1e-12));
    CHECK(metric(m, Metric::trust) == Approx(trust / static_cast<double>(p.window)).epsilon(1e-12));
    CHECK(metric(m, Metric::differentiation) == Approx(d).epsilon(1e-12));
    CHECK(metric(m, Metric::payoff_gini) == Approx(0.0).margin(1e-12));
    CHECK(std::isnan(metric(m, Metric::freerider_gap)));
    CHECK(metric(m, Metric::share_conditional) == 1.0);

    // Trust converges monotonically to tau* = (1 - delta) alpha / (alpha + delta - alpha delta).
    const double a = p.trust_gain, delta = p.trust_decay;
    const double tau_star = (1 - delta) * a / (a + delta - a * delta);
    CHECK(tau == Approx(tau_star).epsilon(1e-12));
  }
}

TEST_CASE("nobody cooperates when tau0 < h and all alliances dissolve together (MODEL.md exact case)",
          "[reference][exact]") {
  for (const auto topology : {Topology::ring, Topology::regular}) {
    ModelParams p = exact_case(topology);
    p.trust_init = 0.4;
    p.trust_threshold = 0.5;
    p.trust_loss = 0.3;
    p.trust_decay = 0.02;
    p.exit_threshold = 0.05;
    p.rounds = 20;
    p.window = 20;
    // tau_t = ((1 - delta)(1 - beta))^t tau0 first falls below theta at t*.
    const double factor = (1 - p.trust_decay) * (1 - p.trust_loss);
    std::int64_t t_star = 1;
    while (std::pow(factor, static_cast<double>(t_star)) * p.trust_init >= p.exit_threshold) ++t_star;
    REQUIRE(t_star == 6);  // 0.4 * 0.686^t: 0.0608 at t = 5, 0.0417 at t = 6
    ReplicateState state;
    const auto m = simulate_reference(p, ReplicateStream(1, 2, 3), state);
    CHECK(metric(m, Metric::cooperation) == 0.0);
    CHECK(metric(m, Metric::breakdown_round) == 1.0);
    CHECK(metric(m, Metric::alliances) == 0.0);
    // Trust counts while alliances are active: rounds 1 .. t* - 1 contribute tau_t.
    double trust = 0.0;
    for (std::int64_t t = 1; t < t_star; ++t) trust += std::pow(factor, static_cast<double>(t)) * p.trust_init;
    CHECK(metric(m, Metric::trust) == Approx(trust / 20.0).epsilon(1e-12));
    // Payoff: market M(1-s) every round (d stays 1), upkeep k*kappa for rounds 1..t*.
    const double k = static_cast<double>(p.partners);
    const double payoff = 20 * p.market * (1 - p.scope) - static_cast<double>(t_star) * p.upkeep * k;
    CHECK(metric(m, Metric::payoff) == Approx(payoff / 20.0).epsilon(1e-12));
    CHECK(metric(m, Metric::differentiation) == 1.0);
  }
}

TEST_CASE("homogeneous populations follow the spec's scalar recursion", "[reference][exact]") {
  // Random parameter sets in MODEL.md's exact setting, checked against a
  // one-edge recursion of the equations: covers breakdown after a cooperative
  // phase, dissolution, windows shorter than the run, and every rate.
  SequentialStream draws(ReplicateStream(2024, 0, 0), Purpose::graph);
  for (int trial = 0; trial < 300; ++trial) {
    const Strategy strategy = trial % 3 == 0 ? Strategy::conditional
                              : trial % 3 == 1 ? Strategy::cooperator
                                               : Strategy::defector;
    ModelParams p = exact_case(trial % 2 ? Topology::ring : Topology::regular);
    p.firms = 10 + static_cast<std::int64_t>(draws.below(40));
    p.partners = 2 * (1 + static_cast<std::int64_t>(draws.below(4)));
    p.rounds = 1 + static_cast<std::int64_t>(draws.below(120));
    p.window = 1 + static_cast<std::int64_t>(draws.below(static_cast<std::uint64_t>(p.rounds)));
    p.scope = draws.next_unit();
    p.benefit = 5 * draws.next_unit();
    p.cost = 2 * draws.next_unit();
    p.synergy = draws.next_unit();
    p.market = 20 * draws.next_unit();
    p.upkeep = draws.next_unit();
    p.leakage = draws.next_unit();
    p.innovation = draws.next_unit();
    p.trust_init = draws.next_unit();
    p.trust_threshold = draws.next_unit();
    p.trust_gain = draws.next_unit();
    p.trust_loss = draws.next_unit();
    p.trust_decay = 0.2 * draws.next_unit();
    p.exit_threshold = 0.3 * draws.next_unit();
    p.defectors = strategy == Strategy::defector ? 1.0 : 0.0;
    p.cooperators = strategy == Strategy::cooperator ? 1.0 : 0.0;
    INFO("trial " << trial << " firms " << p.firms << " partners " << p.partners << " rounds " << p.rounds);
    ReplicateState state;
    require_metrics_equal(simulate_reference(p, ReplicateStream(5, 6, 7), state), homogeneous_run(p, strategy));
  }
}

TEST_CASE("an execution error of 1 turns every intended act into a defection", "[reference][exact]") {
  ModelParams p = exact_case(Topology::ring);
  p.error = 1.0;
  p.cooperators = 1.0;
  ModelParams defectors = exact_case(Topology::ring);
  defectors.defectors = 1.0;
  ReplicateState state;
  auto with_error = simulate_reference(p, ReplicateStream(3, 0, 0), state);
  auto expected = homogeneous_run(defectors, Strategy::defector);
  at(expected, Metric::share_defector) = 0.0;
  at(expected, Metric::share_cooperator) = 1.0;
  require_metrics_equal(with_error, expected);
}

TEST_CASE("execution errors fail intended acts with probability epsilon", "[reference][stochastic]") {
  // Unconditional cooperators with trust switched off: every active edge intends
  // to cooperate every round, so cooperation is the share of acts that survive.
  ModelParams p = exact_case(Topology::ring);
  p.cooperators = 1.0;
  p.exit_threshold = 0.0;
  p.error = 0.3;
  p.firms = 200;
  p.rounds = 100;
  p.window = 100;
  ReplicateState state;
  const auto m = simulate_reference(p, ReplicateStream(11, 0, 0), state);
  const double draws = static_cast<double>(p.firms * p.partners * p.window);
  const double standard_error = std::sqrt(0.3 * 0.7 / draws);
  CHECK(std::abs(metric(m, Metric::cooperation) - 0.7) < 5 * standard_error);
}

TEST_CASE("two unequal firms: payoffs and market shares and Gini by hand", "[reference][metrics]") {
  // N = 2, k = 1: one alliance, both conditional, tau0 >= h, one round.
  ModelParams p = exact_case(Topology::regular);
  p.firms = 2;
  p.partners = 1;
  p.size_spread = 0.8;
  p.rounds = 1;
  p.window = 1;
  ReplicateState state;
  const auto m = simulate_reference(p, ReplicateStream(9, 9, 9), state);
  const double a0 = state.size[0], a1 = state.size[1];
  REQUIRE(a0 != a1);
  const double s = p.scope, v = s * (2 - s);
  // Round 1: both cooperate; d = 1 so q = a and Q = (a0 + a1) / 2 for both.
  const double shared = v * p.benefit - s * p.cost - p.upkeep;
  const double pi0 = shared + v * p.synergy * 2 * a0 / (a0 + a1) + p.market * (1 - s) * a0 / ((a0 + a1) / 2);
  const double pi1 = shared + v * p.synergy * 2 * a1 / (a0 + a1) + p.market * (1 - s) * a1 / ((a0 + a1) / 2);
  CHECK(metric(m, Metric::payoff) == Approx((pi0 + pi1) / 2).epsilon(1e-12));
  CHECK(metric(m, Metric::payoff_gini) == Approx(2 * std::abs(pi0 - pi1) / (2 * 2 * (pi0 + pi1))).epsilon(1e-12));
  CHECK(metric(m, Metric::cooperation) == 1.0);
  const double d = p.innovation + (1 - p.innovation) * (1 - p.leakage * s * s);
  CHECK(metric(m, Metric::differentiation) == Approx(d).epsilon(1e-12));
}

TEST_CASE("a free rider against a conditional firm: freerider_gap by hand", "[reference][metrics]") {
  // N = 2, one defector and one conditional firm, two rounds, window 2.
  ModelParams p = exact_case(Topology::regular);
  p.firms = 2;
  p.partners = 1;
  p.defectors = 0.5;
  p.rounds = 2;
  p.window = 2;
  p.trust_init = 0.6;
  p.trust_threshold = 0.5;
  p.trust_loss = 0.3;
  p.trust_decay = 0.02;
  p.exit_threshold = 0.05;
  ReplicateState state;
  const auto m = simulate_reference(p, ReplicateStream(4, 4, 4), state);
  const int defector = state.strategy[0] == Strategy::defector ? 0 : 1;
  REQUIRE(state.strategy[1 - defector] == Strategy::conditional);
  const double s = p.scope, v = s * (2 - s), M = p.market * (1 - s);
  // Round 1: the conditional firm cooperates (0.6 >= 0.5) and leaks; its trust
  // then falls to 0.98 * 0.7 * 0.6 = 0.4116 < h, so in round 2 nobody cooperates.
  const double d_c1 = 1.0;
  const double d_c2 = [&] { double d = (1 - p.leakage * s * s); return d + p.innovation * (1 - d); }();
  // Market share: q_i = d_i (sizes 1), Q = (d_c + d_d) / 2 for both firms.
  const double pi_c1 = -s * p.cost + M * d_c1 * d_c1 / ((d_c1 + 1) / 2) - p.upkeep;
  const double pi_d1 = v * p.benefit + M * 1 * 1 / ((d_c1 + 1) / 2) - p.upkeep;
  const double pi_c2 = M * d_c2 * d_c2 / ((d_c2 + 1) / 2) - p.upkeep;
  const double pi_d2 = M * 1 * 1 / ((d_c2 + 1) / 2) - p.upkeep;
  CHECK(metric(m, Metric::freerider_gap) == Approx((pi_d1 + pi_d2) / 2 - (pi_c1 + pi_c2) / 2).epsilon(1e-12));
  CHECK(metric(m, Metric::cooperation) == Approx(0.25).epsilon(1e-15));  // 1 of 2 edges, 1 of 2 rounds
  CHECK(metric(m, Metric::breakdown_round) == 2.0);
  CHECK(metric(m, Metric::share_defector) == 0.5);
  CHECK(metric(m, Metric::share_conditional) == 0.5);
  const double Y_c = pi_c1 + pi_c2, Y_d = pi_d1 + pi_d2;
  CHECK(metric(m, Metric::payoff_gini) == Approx(2 * std::abs(Y_c - Y_d) / (2 * 2 * (Y_c + Y_d))).epsilon(1e-12));
}

TEST_CASE("a graph without alliances has cooperation and trust 0 and alliances 1", "[reference][metrics]") {
  // G(3, 1/2) is empty with probability 1/8: find such a replicate.
  ModelParams p = exact_case(Topology::random);
  p.firms = 3;
  p.partners = 1;
  ReplicateState state;
  bool found = false;
  for (std::uint64_t replicate = 0; replicate < 200 && !found; ++replicate) {
    const auto m = simulate_reference(p, ReplicateStream(1, 0, replicate), state);
    if (state.graph.directed_edges() != 0) continue;
    found = true;
    CHECK(metric(m, Metric::cooperation) == 0.0);
    CHECK(metric(m, Metric::trust) == 0.0);
    CHECK(metric(m, Metric::alliances) == 1.0);
    CHECK(metric(m, Metric::breakdown_round) == 1.0);
    CHECK(metric(m, Metric::payoff) == Approx(p.market * (1 - p.scope)).epsilon(1e-12));
  }
  REQUIRE(found);
}

TEST_CASE("initial strategies have exact counts and are disjoint and uniformly placed", "[reference][init]") {
  ModelParams p;
  p.firms = 50;
  p.defectors = 0.3;
  p.cooperators = 0.2;
  ReplicateState state;
  std::vector<int> defector_hits(50, 0);
  const int replicates = 2000;
  for (int r = 0; r < replicates; ++r) {
    initialise_replicate(p, ReplicateStream(8, 0, static_cast<std::uint64_t>(r)), state);
    REQUIRE(std::count(state.strategy.begin(), state.strategy.end(), Strategy::defector) == 15);
    REQUIRE(std::count(state.strategy.begin(), state.strategy.end(), Strategy::cooperator) == 10);
    for (int i = 0; i < 50; ++i) defector_hits[i] += state.strategy[i] == Strategy::defector;
  }
  // Each firm is a defector with probability 0.3: binomial, 5 standard errors.
  const double sd = std::sqrt(replicates * 0.3 * 0.7);
  for (int hits : defector_hits) CHECK(std::abs(hits - replicates * 0.3) < 5 * sd);

  SECTION("roundings that would overflow N leave cooperators what is left") {
    p.firms = 3;
    p.partners = 2;
    p.defectors = 0.5;
    p.cooperators = 0.5;
    initialise_replicate(p, ReplicateStream(8, 0, 0), state);
    CHECK(std::count(state.strategy.begin(), state.strategy.end(), Strategy::defector) == 2);
    CHECK(std::count(state.strategy.begin(), state.strategy.end(), Strategy::cooperator) == 1);
  }
}

TEST_CASE("firm sizes are log-normal with mean 1", "[reference][init]") {
  ModelParams p;
  p.firms = 20000;
  p.size_spread = 0.5;
  ReplicateState state;
  initialise_replicate(p, ReplicateStream(3, 1, 4), state);
  std::vector<double> logs(state.size.size());
  std::transform(state.size.begin(), state.size.end(), logs.begin(), [](double a) { return std::log(a); });
  const double n = static_cast<double>(logs.size());
  const double mean_log = std::accumulate(logs.begin(), logs.end(), 0.0) / n;
  double var_log = 0;
  for (double x : logs) var_log += (x - mean_log) * (x - mean_log);
  var_log /= n - 1;
  // log a = sigma z - sigma^2 / 2: mean -0.125, variance 0.25.
  CHECK(std::abs(mean_log + 0.125) < 5 * std::sqrt(0.25 / n));
  CHECK(std::abs(var_log - 0.25) < 5 * 0.25 * std::sqrt(2 / (n - 1)));
  SECTION("sigma = 0 gives equal firms") {
    p.size_spread = 0.0;
    initialise_replicate(p, ReplicateStream(3, 1, 4), state);
    CHECK(std::all_of(state.size.begin(), state.size.end(), [](double a) { return a == 1.0; }));
  }
}

TEST_CASE("stop_on_fixation ends a run of one strategy after round 1", "[reference]") {
  ModelParams p = exact_case(Topology::ring);
  p.stop_on_fixation = true;
  ReplicateState state;
  auto m = simulate_reference(p, ReplicateStream(1, 1, 1), state);
  CHECK(metric(m, Metric::rounds_run) == 1.0);
  CHECK(metric(m, Metric::breakdown_round) == static_cast<double>(p.rounds + 1));
  SECTION("not with mutation, nor with mixed strategies") {
    p.mutation = 0.1;
    CHECK(metric(simulate_reference(p, ReplicateStream(1, 1, 1), state), Metric::rounds_run) == static_cast<double>(p.rounds));
    p.mutation = 0.0;
    p.defectors = 0.1;
    CHECK(metric(simulate_reference(p, ReplicateStream(1, 1, 1), state), Metric::rounds_run) == static_cast<double>(p.rounds));
  }
}

TEST_CASE("a replicate is a pure function of its stream", "[reference][determinism]") {
  ModelParams p;
  p.topology = Topology::small_world;
  p.error = 0.1;
  p.size_spread = 0.5;
  ReplicateState state, other;
  const auto a = simulate_reference(p, ReplicateStream(42, 5, 3), state);
  simulate_reference(p, ReplicateStream(42, 5, 4), state);  // a dirty workspace changes nothing
  const auto b = simulate_reference(p, ReplicateStream(42, 5, 3), state);
  const auto c = simulate_reference(p, ReplicateStream(42, 5, 3), other);
  for (std::size_t m = 0; m < metric_count; ++m) {
    CHECK(std::memcmp(&a[m], &b[m], sizeof(double)) == 0);
    CHECK(std::memcmp(&a[m], &c[m], sizeof(double)) == 0);
  }
  const auto d = simulate_reference(p, ReplicateStream(42, 5, 4), state);
  CHECK(a != d);
}

TEST_CASE("parameters at the edges of their domains give finite metrics or the NaN MODEL.md defines",
          "[reference][numerics]") {
  // Each rate at 0 and at 1, alone, for several topologies and strategy mixes;
  // then extreme sizes. payoff_gini is NaN exactly when the window payoffs do
  // not sum above 0, freerider_gap exactly when a group is empty.
  using Rate = double ModelParams::*;
  const Rate rates[] = {&ModelParams::rewire,         &ModelParams::scope,       &ModelParams::leakage,
                        &ModelParams::innovation,     &ModelParams::trust_init,  &ModelParams::trust_threshold,
                        &ModelParams::trust_gain,     &ModelParams::trust_loss,  &ModelParams::trust_decay,
                        &ModelParams::exit_threshold, &ModelParams::error,       &ModelParams::mutation,
                        &ModelParams::defectors,      &ModelParams::cooperators};
  std::vector<ModelParams> cases;
  for (const auto rule : {UpdateRule::none, UpdateRule::fermi, UpdateRule::death_birth}) {
    for (const Rate rate : rates) {
      for (const double value : {0.0, 1.0}) {
        ModelParams p;
        p.topology = Topology::small_world;
        p.firms = 30;
        p.rounds = 60;
        p.window = 20;
        p.update_rule = rule;
        p.update_every = 3;
        p.size_spread = 0.5;
        p.*rate = value;
        if (rate == &ModelParams::defectors && value == 1.0) p.cooperators = 0.0;
        if (rate == &ModelParams::cooperators && value == 1.0) p.defectors = 0.0;
        cases.push_back(p);
      }
    }
  }
  for (const double spread : {5.0, 40.0, 1000.0}) {
    ModelParams p;
    p.size_spread = spread;
    p.cooperators = 0.5;
    p.defectors = 0.2;
    cases.push_back(p);
  }
  ModelParams tiny;
  tiny.firms = 2;
  tiny.partners = 1;
  tiny.rounds = 1;
  tiny.window = 1;
  cases.push_back(tiny);

  ReplicateState state;
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const auto m = simulate_reference(cases[c], ReplicateStream(5, c, 0), state);
    INFO("case " << c);
    for (std::size_t k = 0; k < metric_count; ++k) {
      const auto metric = static_cast<Metric>(k);
      INFO("metric " << metric_info[k].name << " = " << m[k]);
      if (metric == Metric::payoff_gini) {
        const double total = std::accumulate(state.window_payoff.begin(), state.window_payoff.end(), 0.0);
        CHECK(std::isnan(m[k]) == !(total > 0.0));
      } else if (metric == Metric::freerider_gap) {
        const bool empty_group = at(m, Metric::share_defector) == 0.0 || at(m, Metric::share_defector) == 1.0;
        CHECK(std::isnan(m[k]) == empty_group);
      } else {
        CHECK(std::isfinite(m[k]));
      }
    }
  }
}

TEST_CASE("replicate_memory bounds what replicates allocate, state kept between them included",
          "[reference][memory]") {
  struct Case {
    const char* what;
    Topology topology;
    std::int64_t firms;
    std::int64_t partners;
    bool stop_on_fixation;
    bool series;
  };
  const Case cases[] = {
      {"regular, hash set", Topology::regular, 4000, 24, false, false},
      {"small_world", Topology::small_world, 4000, 6, false, false},
      {"scale_free with series", Topology::scale_free, 2000, 6, false, true},
      {"random, window buffers of stop_on_fixation", Topology::random, 2000, 6, true, false},
      {"complete", Topology::complete, 200, 1, false, true},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      ModelParams p;
      p.topology = c.topology;
      p.firms = c.firms;
      p.partners = c.partners;
      p.rounds = 30;
      p.window = 20;
      p.stop_on_fixation = c.stop_on_fixation;
      p.update_rule = UpdateRule::fermi;
      const double estimate = replicate_memory(p, c.series).total();
      ReplicateState state;
      RoundSeries series;
      const std::size_t before = coopsweep::testing::reset_heap_peak();
      // The second replicate builds its graph while the first one's state is still held.
      for (std::uint64_t replicate = 0; replicate < 3; ++replicate) {
        simulate_reference(p, ReplicateStream(5, 0, replicate), state, c.series ? &series : nullptr);
      }
      const double peak = static_cast<double>(coopsweep::testing::heap_peak_bytes() - before);
      INFO("peak " << peak << " bytes, estimate " << estimate);
      CHECK(peak <= estimate);
      CHECK(estimate <= 1.5 * peak + 4096);
    }
  }
  SECTION("the window buffers count only where a run may stop early, the series only when kept") {
    ModelParams p;
    p.firms = 1000;
    p.rounds = 500;
    p.window = 400;
    const ReplicateMemory plain = replicate_memory(p);
    CHECK(plain.window == 0.0);
    CHECK(plain.series == 0.0);
    CHECK(plain.total() == plain.graph + plain.build + plain.edges + plain.firms);
    p.stop_on_fixation = true;
    CHECK(replicate_memory(p).window == 8.0 * 400 * (2 + 1000));
    p.mutation = 0.01;  // mutation keeps a run going to T: no buffers
    CHECK(replicate_memory(p).window == 0.0);
    CHECK(replicate_memory(p, true).series == 64.0 * 500);
    CHECK(replicate_memory(p, true).total() == Approx(plain.total() + 64.0 * 500));
  }
}
