// Strategy evolution (MODEL.md steps 6 and 7) in the reference kernel, held to
// fixation probabilities computed exactly from the Markov chain over all 2^N
// states of small graphs.

#include <coopsweep/kernels/reference.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace coopsweep::kernels;

namespace {

// MODEL.md's donation game: trust switched off, s = 1, M = kappa = lambda = g = 0,
// one cooperator among defectors, one update per round, stop at fixation.
ModelParams donation_game(Topology topology, std::int64_t firms, std::int64_t partners, UpdateRule rule,
                          double benefit, double selection) {
  ModelParams p;
  p.topology = topology;
  p.firms = firms;
  p.partners = partners;
  p.trust_threshold = 0.0;
  p.trust_gain = 0.0;
  p.trust_loss = 0.0;
  p.trust_decay = 0.0;
  p.exit_threshold = 0.0;
  p.trust_init = 1.0;
  p.scope = 1.0;
  p.market = 0.0;
  p.upkeep = 0.0;
  p.leakage = 0.0;
  p.synergy = 0.0;
  p.benefit = benefit;
  p.cost = 1.0;
  p.cooperators = 1.0 / static_cast<double>(firms);
  p.defectors = 1.0 - 1.0 / static_cast<double>(firms);
  p.update_rule = rule;
  p.update_every = 1;
  p.births = 1;
  p.selection = selection;
  p.mutation = 0.0;
  p.stop_on_fixation = true;
  p.rounds = 1000000;
  p.window = 1;
  return p;
}

// The fixation probability of cooperation from one cooperator placed uniformly,
// solved exactly over the 2^N states (bit i set: firm i cooperates).
double exact_fixation(const ModelParams& p, const AllianceGraph& g) {
  const int n = g.firms;
  const std::uint32_t states = 1u << n;
  const std::uint32_t all = states - 1;
  auto cooperates = [](std::uint32_t state, int i) { return (state >> i) & 1u; };
  auto payoffs = [&](std::uint32_t state) {
    std::vector<double> pi(static_cast<std::size_t>(n), 0.0);
    for (int i = 0; i < n; ++i) {
      for (EdgeIndex e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
        pi[i] += p.benefit * cooperates(state, g.target[e]) - p.cost * cooperates(state, i);
      }
    }
    return pi;
  };
  // transition[from][to]
  std::vector<std::vector<double>> transition(states, std::vector<double>(states, 0.0));
  for (std::uint32_t state = 1; state < all; ++state) {
    const auto pi = payoffs(state);
    if (p.update_rule == UpdateRule::death_birth) {
      for (int i = 0; i < n; ++i) {
        const EdgeIndex first = g.offsets[i], last = g.offsets[i + 1];
        double total = 0.0;
        for (EdgeIndex e = first; e < last; ++e) total += std::max(0.0, 1 - p.selection + p.selection * pi[g.target[e]]);
        for (EdgeIndex e = first; e < last; ++e) {
          const int j = g.target[e];
          const double f = std::max(0.0, 1 - p.selection + p.selection * pi[j]);
          const double chosen = total > 0 ? f / total : 1.0 / (last - first);
          const std::uint32_t next = cooperates(state, j) ? (state | (1u << i)) : (state & ~(1u << i));
          transition[state][next] += chosen / n;
        }
      }
    } else {
      // Synchronous pairwise comparison: firms move independently.
      std::vector<double> becomes_cooperator(static_cast<std::size_t>(n), 0.0);
      for (int i = 0; i < n; ++i) {
        const EdgeIndex first = g.offsets[i], last = g.offsets[i + 1];
        for (EdgeIndex e = first; e < last; ++e) {
          const int j = g.target[e];
          const double adopt = 1.0 / (1.0 + std::exp(-p.selection * (pi[j] - pi[i])));
          const double keep_own = cooperates(state, i) ? 1.0 - adopt : 0.0;
          becomes_cooperator[i] += (cooperates(state, j) * adopt + keep_own) / (last - first);
        }
      }
      for (std::uint32_t next = 0; next < states; ++next) {
        double probability = 1.0;
        for (int i = 0; i < n; ++i) {
          probability *= cooperates(next, i) ? becomes_cooperator[i] : 1.0 - becomes_cooperator[i];
        }
        transition[state][next] += probability;
      }
    }
  }
  // x = T x on the transient states, x(all) = 1, x(0) = 0: solve (I - T) x = T[., all].
  const std::uint32_t m = states - 2;
  std::vector<std::vector<double>> a(m, std::vector<double>(m + 1, 0.0));
  for (std::uint32_t r = 0; r < m; ++r) {
    for (std::uint32_t c = 0; c < m; ++c) a[r][c] = (r == c ? 1.0 : 0.0) - transition[r + 1][c + 1];
    a[r][m] = transition[r + 1][all];
  }
  for (std::uint32_t col = 0; col < m; ++col) {
    std::uint32_t pivot = col;
    for (std::uint32_t r = col + 1; r < m; ++r) {
      if (std::abs(a[r][col]) > std::abs(a[pivot][col])) pivot = r;
    }
    std::swap(a[col], a[pivot]);
    for (std::uint32_t r = 0; r < m; ++r) {
      if (r == col) continue;
      const double factor = a[r][col] / a[col][col];
      for (std::uint32_t c = col; c <= m; ++c) a[r][c] -= factor * a[col][c];
    }
  }
  double mean = 0.0;
  for (int i = 0; i < n; ++i) {
    const std::uint32_t single = 1u << i;
    mean += a[single - 1][m] / a[single - 1][single - 1];
  }
  return mean / n;
}

struct Estimate {
  double probability;
  double standard_error;
};

Estimate simulated_fixation(const ModelParams& p, int replicates, std::uint64_t seed) {
  ReplicateState state;
  int fixed = 0;
  for (int r = 0; r < replicates; ++r) {
    const auto m = simulate_reference(p, ReplicateStream(seed, 0, static_cast<std::uint64_t>(r)), state);
    REQUIRE(at(m, Metric::rounds_run) < static_cast<double>(p.rounds));  // every run reached fixation
    fixed += at(m, Metric::share_cooperator) == 1.0 ? 1 : 0;
  }
  const double estimate = static_cast<double>(fixed) / replicates;
  return {estimate, std::sqrt(std::max(estimate * (1 - estimate), 1e-12) / replicates)};
}

AllianceGraph graph_of(const ModelParams& p) {
  AllianceGraph g;
  build_alliance_graph({p.topology, p.firms, p.partners, p.rewire}, ReplicateStream(0, 0, 0), g);
  return g;
}

}  // namespace

TEST_CASE("fixation probabilities match the exact Markov chain on small graphs", "[reference][evolution]") {
  struct Case {
    Topology topology;
    std::int64_t firms, partners;
    UpdateRule rule;
    double benefit, selection;
  };
  // Chosen so that every probability is well inside (0, 1): 0.03 to 0.32.
  const Case cases[] = {
      {Topology::ring, 6, 2, UpdateRule::death_birth, 4.0, 0.1},
      {Topology::ring, 6, 2, UpdateRule::death_birth, 8.0, 1.0},
      {Topology::ring, 8, 2, UpdateRule::death_birth, 8.0, 0.2},
      {Topology::complete, 5, 4, UpdateRule::death_birth, 2.0, 0.05},
      {Topology::ring, 6, 2, UpdateRule::fermi, 2.0, 0.05},
      {Topology::ring, 6, 2, UpdateRule::fermi, 2.0, 0.1},
      {Topology::complete, 5, 4, UpdateRule::fermi, 2.0, 0.05},
  };
  std::uint64_t seed = 100;
  for (const auto& c : cases) {
    const ModelParams p = donation_game(c.topology, c.firms, c.partners, c.rule, c.benefit, c.selection);
    const double exact = exact_fixation(p, graph_of(p));
    const Estimate estimate = simulated_fixation(p, 20000, seed++);
    INFO("topology " << static_cast<int>(c.topology) << " rule " << static_cast<int>(c.rule) << " w "
                     << c.selection << ": exact " << exact << ", simulated " << estimate.probability << " +- "
                     << estimate.standard_error);
    REQUIRE(exact > 0.02);
    CHECK(std::abs(estimate.probability - exact) < 4 * estimate.standard_error);
  }
}

TEST_CASE("the exact chain itself: neutral drift fixes with probability 1/N", "[reference][evolution]") {
  for (const auto rule : {UpdateRule::death_birth, UpdateRule::fermi}) {
    const ModelParams p = donation_game(Topology::ring, 6, 2, rule, 4.0, 0.0);
    CHECK(exact_fixation(p, graph_of(p)) == Approx(1.0 / 6.0).epsilon(1e-10));
  }
}

TEST_CASE("neutral drift: with w = 0 cooperation fixes with probability 1/N on any graph",
          "[reference][evolution][stochastic]") {
  // A Barabasi-Albert graph has unequal degrees, so only the uniform placement
  // of the first cooperator makes the mean fixation probability 1/N.
  for (const auto rule : {UpdateRule::death_birth, UpdateRule::fermi}) {
    const ModelParams p = donation_game(Topology::scale_free, 10, 2, rule, 4.0, 0.0);
    const Estimate estimate = simulated_fixation(p, 20000, rule == UpdateRule::fermi ? 7 : 8);
    INFO("simulated " << estimate.probability << " +- " << estimate.standard_error);
    CHECK(std::abs(estimate.probability - 0.1) < 4 * estimate.standard_error);
  }
}

TEST_CASE("death_birth re-forms the newcomer's alliances with trust tau0", "[reference][evolution]") {
  // Free riders on a ring with tau0 below theta: every alliance dissolves in
  // round 1 and again whenever it is re-formed, so at the end only the last
  // newcomer's two alliances (re-formed in step 6 of round T) are active.
  ModelParams p;
  p.topology = Topology::ring;
  p.firms = 10;
  p.partners = 2;
  p.defectors = 1.0;
  p.trust_init = 0.04;
  p.exit_threshold = 0.05;
  p.update_rule = UpdateRule::death_birth;
  p.update_every = 1;
  p.rounds = 30;
  p.window = 5;
  ReplicateState state;
  const auto m = simulate_reference(p, ReplicateStream(1, 2, 3), state);
  CHECK(at(m, Metric::alliances) == Approx(0.2));
  CHECK(at(m, Metric::trust) == 0.0);  // the window reads trust after step 5, before re-forming
  CHECK(at(m, Metric::share_defector) == 1.0);
}

TEST_CASE("mutation draws uniformly from the three strategies", "[reference][evolution][stochastic]") {
  ModelParams p;
  p.firms = 300;
  p.update_rule = UpdateRule::fermi;
  p.update_every = 5;
  p.mutation = 1.0;
  p.rounds = 5;
  p.window = 5;
  ReplicateState state;
  const auto m = simulate_reference(p, ReplicateStream(4, 0, 0), state);
  // Every firm was just set to a uniformly random strategy.
  const double sd = std::sqrt((1.0 / 3) * (2.0 / 3) / 300);
  CHECK(std::abs(at(m, Metric::share_conditional) - 1.0 / 3) < 5 * sd);
  CHECK(std::abs(at(m, Metric::share_cooperator) - 1.0 / 3) < 5 * sd);
  CHECK(std::abs(at(m, Metric::share_defector) - 1.0 / 3) < 5 * sd);
}

TEST_CASE("a run stopped by fixation takes its window from the rounds that ran", "[reference][evolution]") {
  // Free riders everywhere except one cooperator on a complete graph with strong
  // selection: cooperation dies out within a few rounds, ending the run.
  ModelParams p = donation_game(Topology::complete, 8, 7, UpdateRule::death_birth, 2.0, 1.0);
  p.rounds = 10000;
  p.window = 50;
  ReplicateState state;
  const auto stopped = simulate_reference(p, ReplicateStream(3, 3, 3), state);
  const double rounds = at(stopped, Metric::rounds_run);
  REQUIRE(rounds < 10000);
  // Re-running with T = R and no stop gives the same window and metrics.
  ModelParams fixed_length = p;
  fixed_length.rounds = static_cast<std::int64_t>(rounds);
  fixed_length.window = std::min<std::int64_t>(50, fixed_length.rounds);
  fixed_length.stop_on_fixation = false;
  const auto full = simulate_reference(fixed_length, ReplicateStream(3, 3, 3), state);
  for (const auto metric : {Metric::cooperation, Metric::trust, Metric::payoff, Metric::payoff_gini,
                            Metric::share_cooperator, Metric::alliances}) {
    const double a = at(stopped, metric), b = at(full, metric);
    CHECK(((std::isnan(a) && std::isnan(b)) || a == b));
  }
}
