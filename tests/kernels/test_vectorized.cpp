// The vectorized kernel against the scalar reference: the same metrics and the
// same round series to the bit, for every topology and option, and its exact
// shortcuts (dormant and replayed rounds) taken where they apply; its memory
// estimate against what it allocates.

#include <coopsweep/kernels/reference.hpp>
#include <coopsweep/kernels/vectorized.hpp>

#include <catch2/catch.hpp>

#include "../support/heap_peak.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>

using namespace coopsweep::kernels;

namespace {

std::string describe(const ModelParams& p) {
  std::ostringstream out;
  out << "topology=" << static_cast<int>(p.topology) << " firms=" << p.firms << " partners=" << p.partners
      << " rounds=" << p.rounds << " window=" << p.window << " scope=" << p.scope << " error=" << p.error
      << " size_spread=" << p.size_spread << " trust_init=" << p.trust_init << " trust_decay=" << p.trust_decay
      << " defectors=" << p.defectors << " cooperators=" << p.cooperators
      << " update_rule=" << static_cast<int>(p.update_rule) << " update_every=" << p.update_every
      << " births=" << p.births << " selection=" << p.selection << " mutation=" << p.mutation
      << " stop_on_fixation=" << p.stop_on_fixation;
  return out.str();
}

// Bit patterns, so that NaN equals NaN and 0 differs from -0.
void require_same_bits(const std::vector<double>& fast, const std::vector<double>& reference,
                       const std::string& what) {
  INFO(what);
  REQUIRE(fast.size() == reference.size());
  for (std::size_t i = 0; i < fast.size(); ++i) {
    INFO("element " << i << ": " << fast[i] << " vs " << reference[i]);
    REQUIRE(std::bit_cast<std::uint64_t>(fast[i]) == std::bit_cast<std::uint64_t>(reference[i]));
  }
}

// `shortcuts` counts the run with a series, `shortcuts_without_series` the
// one without (the course path then computes payoffs for the window only).
void require_same_run(const ModelParams& p, std::uint64_t configuration, std::uint64_t replicate,
                      ReplicateState& reference_state, VectorizedState& fast_state,
                      ShortcutCounts* shortcuts = nullptr, ShortcutCounts* shortcuts_without_series = nullptr) {
  INFO(describe(p) << " configuration=" << configuration << " replicate=" << replicate);
  const ReplicateStream stream(2026, configuration, replicate);
  RoundSeries reference_series;
  RoundSeries fast_series;
  const RunMetrics reference = simulate_reference(p, stream, reference_state, &reference_series);
  const RunMetrics fast = simulate_vectorized(p, stream, fast_state, &fast_series, shortcuts);
  require_same_bits({fast.begin(), fast.end()}, {reference.begin(), reference.end()}, "metrics");
  require_same_bits(fast_series.cooperation, reference_series.cooperation, "cooperation series");
  require_same_bits(fast_series.trust, reference_series.trust, "trust series");
  require_same_bits(fast_series.payoff, reference_series.payoff, "payoff series");
  require_same_bits(fast_series.alliances, reference_series.alliances, "alliances series");
  // Without a series only the window's payoffs and trust sums are computed.
  require_same_bits(
      [&] {
        const RunMetrics m = simulate_vectorized(p, stream, fast_state, nullptr, shortcuts_without_series);
        return std::vector<double>(m.begin(), m.end());
      }(),
      {reference.begin(), reference.end()}, "metrics without series");
}

// A partner count valid for the topology and firm count (MODEL.md's rules).
std::int64_t valid_partners(Topology topology, std::int64_t firms, std::int64_t wanted) {
  std::int64_t k = std::clamp<std::int64_t>(wanted, 1, firms - 1);
  const bool needs_even = topology == Topology::ring || topology == Topology::small_world ||
                          topology == Topology::scale_free;
  if (needs_even && k % 2 != 0) k = k > 1 ? k - 1 : 2;
  if (topology == Topology::scale_free) k = std::min<std::int64_t>(k, 2 * ((firms - 2) / 2));
  if (topology == Topology::regular && (firms * k) % 2 != 0) k = k > 1 ? k - 1 : k + 1;
  if (topology == Topology::complete) k = firms - 1;
  return std::max<std::int64_t>(k, needs_even ? 2 : 1);
}

constexpr Topology all_topologies[] = {Topology::ring,       Topology::regular, Topology::small_world,
                                       Topology::scale_free, Topology::random,  Topology::complete};

}  // namespace

TEST_CASE("vectorized kernel equals the reference on the default model for every topology", "[vectorized]") {
  // Without errors the course path computes the run, with them the SIMD rounds.
  ReplicateState reference_state;
  VectorizedState fast_state;
  for (const Topology topology : all_topologies) {
    for (const double error : {0.0, 0.02}) {
      ModelParams p;
      p.topology = topology;
      p.partners = valid_partners(topology, p.firms, 4);
      p.error = error;
      for (std::uint64_t replicate = 0; replicate < 3; ++replicate) {
        ShortcutCounts shortcuts;
        require_same_run(p, 1, replicate, reference_state, fast_state, &shortcuts);
        CHECK(shortcuts.course_rounds == (error == 0.0 ? p.rounds : 0));
      }
    }
  }
}

TEST_CASE("vectorized kernel equals the reference across random configurations and options", "[vectorized]") {
  // Draws of every parameter over its whole domain, the edges included, from a
  // fixed stream: each topology with errors, size spread, both update rules,
  // mutation and the fixation stop.
  ReplicateState reference_state;
  VectorizedState fast_state;
  const ReplicateStream source(99, 0, 0);
  SequentialStream draws(source, Purpose::graph);
  const auto pick = [&](std::initializer_list<double> values) {
    return *(values.begin() + draws.below(values.size()));
  };
  int replayed_dormant = 0;  // SIMD rounds: trials that replayed after their alliances had dissolved
  int by_course = 0;         // trials that took the course path
  int course_replayed = 0;   // of those, trials that reused some round's payoffs
  for (int trial = 0; trial < 240; ++trial) {
    ModelParams p;
    p.topology = all_topologies[trial % 6];
    p.firms = static_cast<std::int64_t>(pick({3, 5, 8, 20, 61, 150}));
    p.partners = valid_partners(p.topology, p.firms, static_cast<std::int64_t>(pick({1, 2, 3, 4, 6, 9})));
    p.rewire = pick({0.0, 0.1, 1.0});
    p.rounds = static_cast<std::int64_t>(pick({1, 7, 40, 120}));
    p.window = std::min<std::int64_t>(p.rounds, static_cast<std::int64_t>(pick({1, 5, 50})));
    p.scope = pick({0.0, 0.3, 0.5, 1.0});
    p.benefit = pick({0.0, 3.0, 7.5});
    p.cost = pick({0.0, 1.0});
    p.synergy = pick({0.0, 0.5, 2.0});
    p.market = pick({0.0, 10.0});
    p.upkeep = pick({0.0, 0.2, 3.0});
    p.leakage = pick({0.0, 0.05, 1.0});
    p.innovation = pick({0.0, 0.1, 1.0});
    p.size_spread = pick({0.0, 0.5, 3.0, 40.0});
    p.trust_init = pick({0.0, 0.3, 0.6, 1.0});
    p.trust_threshold = pick({0.0, 0.5, 1.0});
    p.trust_gain = pick({0.0, 0.3, 1.0});
    p.trust_loss = pick({0.0, 0.3, 1.0});
    p.trust_decay = pick({0.0, 0.02, 0.3, 1.0});
    p.exit_threshold = pick({0.0, 0.05, 0.5, 1.0});
    p.error = pick({0.0, 0.0, 0.1, 1.0});
    p.defectors = pick({0.0, 0.1, 0.5, 1.0});
    p.cooperators = std::min(1.0 - p.defectors, pick({0.0, 0.2, 0.5}));
    p.update_rule = static_cast<UpdateRule>(draws.below(3));
    p.update_every = static_cast<std::int64_t>(pick({1, 3, 10}));
    p.births = static_cast<std::int64_t>(pick({1, 4}));
    p.selection = pick({0.0, 0.01, 1.0, 50.0});
    p.mutation = pick({0.0, 0.0, 0.05, 1.0});
    p.stop_on_fixation = draws.below(2) == 1;
    ShortcutCounts shortcuts;
    require_same_run(p, static_cast<std::uint64_t>(trial), 0, reference_state, fast_state, &shortcuts);
    if (shortcuts.course_rounds > 0) {
      ++by_course;
      if (shortcuts.replayed_rounds > 0) ++course_replayed;
    } else if (shortcuts.replayed_rounds > 0) {
      ++replayed_dormant;
    }
  }
  // The draws reach both paths and their replays (extreme rates settle within
  // a few rounds).
  CHECK(by_course > 20);
  CHECK(course_replayed > 5);
  CHECK(replayed_dormant > 3);
}

TEST_CASE("vectorized kernel takes its exact shortcuts only where they hold", "[vectorized]") {
  // Execution errors keep these runs off the course path (tested below), in
  // the SIMD rounds whose shortcuts are tested here.
  ReplicateState reference_state;
  VectorizedState fast_state;
  ShortcutCounts shortcuts;
  ModelParams p;
  p.defectors = 0.0;
  p.rounds = 60;
  p.window = 20;
  p.error = 0.1;

  SECTION("every alliance dissolves at once and nothing rebuilds differentiation: rounds replay") {
    // tau0 < h: nobody cooperates and all alliances dissolve together (MODEL.md's
    // exact case); with rho = 0 every d_i stays 1, so the first dormant round
    // is already stationary.
    p.trust_init = 0.4;
    p.innovation = 0.0;
    require_same_run(p, 3, 0, reference_state, fast_state, &shortcuts);
    CHECK(shortcuts.course_rounds == 0);
    CHECK(shortcuts.dormant_rounds == 1);
    CHECK(shortcuts.replayed_rounds > 40);
  }
  SECTION("dormant rounds while differentiation still recovers") {
    // Unconditional cooperators leak knowledge in round 1; full decay then
    // dissolves every alliance, and d_i recovers for the rest of the run.
    p.cooperators = 1.0;
    p.trust_decay = 1.0;
    p.leakage = 0.5;
    p.scope = 1.0;
    p.innovation = 0.05;
    require_same_run(p, 4, 0, reference_state, fast_state, &shortcuts);
    CHECK(shortcuts.dormant_rounds == p.rounds - 1);
    CHECK(shortcuts.replayed_rounds == 0);
  }
  SECTION("a strategy update may re-form alliances, so nothing is replayed") {
    p.trust_init = 0.4;
    p.innovation = 0.0;
    p.update_rule = UpdateRule::death_birth;
    p.update_every = 20;  // after the alliances dissolve (round 6)
    p.births = 3;
    require_same_run(p, 5, 0, reference_state, fast_state, &shortcuts);
    CHECK(shortcuts.dormant_rounds > 0);
    CHECK(shortcuts.replayed_rounds == 0);
  }
  SECTION("execution errors draw every round: nothing active replays") {
    p.rounds = 1000;
    p.error = 0.01;
    p.defectors = 0.1;
    require_same_run(p, 9, 0, reference_state, fast_state, &shortcuts);
    CHECK(shortcuts.dormant_rounds == 0);
    CHECK(shortcuts.replayed_rounds == 0);
  }
  SECTION("strategy updates change the state: nothing replays") {
    p.rounds = 1000;
    p.error = 0.0;
    p.defectors = 0.1;
    p.update_rule = UpdateRule::fermi;
    require_same_run(p, 10, 0, reference_state, fast_state, &shortcuts);
    CHECK(shortcuts.course_rounds == 0);
    CHECK(shortcuts.replayed_rounds == 0);
  }
}

TEST_CASE("vectorized kernel counts the Philox blocks its execution errors draw", "[vectorized]") {
  // One block per round and group of 4 consecutive G0 edges with an intended
  // act, the last group possibly shorter; none for a group with no act.
  ReplicateState reference_state;
  VectorizedState fast_state;
  ShortcutCounts shortcuts;
  ModelParams p;
  p.topology = Topology::ring;
  p.firms = 99;
  p.partners = 2;  // 198 directed edges: 49 whole groups and one of 2
  p.rounds = 60;
  p.window = 20;
  p.error = 0.05;
  p.defectors = 0.0;

  SECTION("unconditional cooperators whose trust never falls act on every edge in every round") {
    p.cooperators = 1.0;
    p.trust_loss = 0.0;
    p.trust_decay = 0.0;
    require_same_run(p, 11, 0, reference_state, fast_state, &shortcuts);
    CHECK(shortcuts.error_blocks == p.rounds * 50);
  }
  SECTION("defectors never intend to act and draw nothing") {
    p.defectors = 1.0;
    require_same_run(p, 12, 0, reference_state, fast_state, &shortcuts);
    CHECK(shortcuts.error_blocks == 0);
  }
  SECTION("without errors nothing is drawn") {
    p.cooperators = 1.0;
    p.error = 0.0;
    require_same_run(p, 13, 0, reference_state, fast_state, &shortcuts);
    CHECK(shortcuts.error_blocks == 0);
  }
}

TEST_CASE("vectorized kernel computes runs without updates or errors per alliance course", "[vectorized]") {
  ReplicateState reference_state;
  VectorizedState fast_state;
  ShortcutCounts with_series;
  ShortcutCounts without_series;
  ModelParams p;  // the default model: 10% defectors, every alliance with one dissolves
  p.rounds = 120;
  p.window = 30;
  const auto run = [&](std::uint64_t configuration) {
    require_same_run(p, configuration, 0, reference_state, fast_state, &with_series, &without_series);
  };

  SECTION("every topology, the three strategies, unequal sizes") {
    p.cooperators = 0.3;
    p.defectors = 0.2;
    for (const Topology topology : all_topologies) {
      p.topology = topology;
      p.partners = valid_partners(topology, p.firms, 6);
      for (const double spread : {0.0, 1.5}) {
        p.size_spread = spread;
        run(20);
        CHECK(with_series.course_rounds == p.rounds);
        CHECK(without_series.course_rounds == p.rounds);
      }
    }
  }
  SECTION("cooperation breaks down before the window") {
    // tau* = 0.3 * 0.7 / 0.79 < h: conditional firms cooperate while trust decays
    // from tau0 = 1 to below h (round 3), then stop.
    p.defectors = 0.0;
    p.trust_init = 1.0;
    p.trust_decay = 0.3;
    run(21);
    const RunMetrics m = simulate_vectorized(p, ReplicateStream(2026, 21, 0), fast_state);
    CHECK(at(m, Metric::breakdown_round) > 1.0);
    CHECK(at(m, Metric::breakdown_round) <= 90.0);
  }
  SECTION("trust and differentiation reach a fixed point: the window reuses the rounds' payoffs") {
    // The window reaches back over rounds computed and reused (fixed point by
    // round ~280), on three topologies and with unequal sizes.
    p.rounds = 1000;
    p.window = 800;
    for (const Topology topology : {Topology::ring, Topology::regular, Topology::scale_free}) {
      p.topology = topology;
      run(7);
      CHECK(with_series.replayed_rounds > 700);  // every round recorded, rounds ~280 to 1000 reused
      CHECK(without_series.replayed_rounds > 600);
    }
    p.size_spread = 1.5;
    run(8);
    CHECK(without_series.replayed_rounds > 600);
  }
  SECTION("alliances still settling: every window round computed") {
    p.trust_decay = 0.0;
    run(6);
    CHECK(without_series.course_rounds == p.rounds);
    CHECK(without_series.replayed_rounds == 0);
  }
  SECTION("every alliance dissolves: the window repeats once differentiation settles") {
    p.trust_init = 0.4;
    run(22);
    CHECK(without_series.replayed_rounds > 0);
  }
  SECTION("sparse random graphs: firms without partners") {
    p.topology = Topology::random;
    p.firms = 30;
    p.partners = 1;
    for (std::uint64_t configuration = 23; configuration < 33; ++configuration) run(configuration);
  }
  SECTION("a run that stops on fixation: only after round 1, when every firm is conditional") {
    p.stop_on_fixation = true;
    run(26);
    CHECK(without_series.course_rounds == p.rounds);
    p.defectors = 0.0;
    run(26);
    CHECK(without_series.course_rounds == 1);
  }
  SECTION("not the course path: execution errors, or a strategy update that reads the payoffs") {
    p.error = 0.05;
    run(24);
    CHECK(without_series.course_rounds == 0);
    p.error = 0.0;
    p.update_rule = UpdateRule::fermi;
    run(25);
    CHECK(without_series.course_rounds == 0);
  }
}

TEST_CASE("vectorized kernel reuses a dirty workspace without effect", "[vectorized]") {
  ModelParams small;
  small.firms = 12;
  small.topology = Topology::scale_free;
  ModelParams large;
  large.firms = 300;
  large.partners = 8;
  large.error = 0.2;
  ReplicateState reference_state;
  VectorizedState fast_state;
  require_same_run(large, 1, 0, reference_state, fast_state);
  require_same_run(small, 2, 0, reference_state, fast_state);
  require_same_run(large, 1, 1, reference_state, fast_state);
}

TEST_CASE("vectorized_memory bounds what the vectorized kernel allocates, state kept between runs included",
          "[vectorized][memory]") {
  struct Case {
    const char* what;
    Topology topology;
    std::int64_t firms;
    std::int64_t partners;
    double rewire;
    bool stop_on_fixation;
    bool series;
    UpdateRule update_rule = UpdateRule::fermi;  // none: the course path, which lays out no slots
  };
  // Sizes not divisible by the lanes leave a padded last chunk; random graphs
  // with one partner pad the most (about twice their edges in slots).
  const Case cases[] = {
      {"ring, padded last chunk", Topology::ring, 4001, 6, 0.0, false, false},
      {"regular, hash set", Topology::regular, 4000, 24, 0.0, false, false},
      {"small_world", Topology::small_world, 4002, 6, 0.5, false, false},
      {"scale_free with series", Topology::scale_free, 2000, 6, 0.0, false, true},
      {"scale_free, one partner per new firm", Topology::scale_free, 3001, 2, 0.0, false, false},
      {"random, window buffers of stop_on_fixation", Topology::random, 2000, 6, 0.0, true, false},
      {"random, one partner", Topology::random, 3003, 1, 0.0, false, false},
      {"complete", Topology::complete, 201, 1, 0.0, false, true},
      {"course path: ring", Topology::ring, 4001, 6, 0.0, false, false, UpdateRule::none},
      {"course path: scale_free with series", Topology::scale_free, 2000, 6, 0.0, false, true, UpdateRule::none},
      {"course path: random, stop_on_fixation", Topology::random, 3003, 1, 0.0, true, false, UpdateRule::none},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      ModelParams p;
      p.topology = c.topology;
      p.firms = c.firms;
      p.partners = c.partners;
      p.rewire = c.rewire;
      p.rounds = 30;
      p.window = 20;
      p.stop_on_fixation = c.stop_on_fixation;
      p.update_rule = c.update_rule;
      const ReplicateMemory estimate = vectorized_memory(p, c.series);
      VectorizedState state;
      RoundSeries series;
      const std::size_t before = coopsweep::testing::reset_heap_peak();
      // Each replicate builds its graph and lays it out while the one before
      // it is still held.
      for (std::uint64_t replicate = 0; replicate < 3; ++replicate) {
        simulate_vectorized(p, ReplicateStream(5, 0, replicate), state, c.series ? &series : nullptr);
      }
      const double peak = static_cast<double>(coopsweep::testing::heap_peak_bytes() - before);
      INFO("peak " << peak << " bytes, estimate " << estimate.total() << " (slots " << estimate.slots << ")");
      CHECK(peak <= estimate.total());
      CHECK(estimate.total() <= 1.5 * peak + 4096);
      // The layout's own arrays, what the reference's state does not hold.
      const double layout = static_cast<double>(state.live.capacity()) * 72.0;
      CHECK(layout <= estimate.slots);
      CHECK(estimate.slots <= 1.5 * layout);
    }
  }
}

TEST_CASE("vectorized_memory adds the layout to the reference's parts, exactly for regular graphs",
          "[vectorized][memory]") {
  ModelParams p;
  p.topology = Topology::ring;
  p.firms = 1001;  // 251 chunks, 1004 padded firms
  p.partners = 6;
  {
    // The course path: eight arrays of 8 bytes per firm, no slots.
    const ReplicateMemory reference = replicate_memory(p);
    const ReplicateMemory courses = vectorized_memory(p);
    CHECK(courses.slots == 0.0);
    CHECK(courses.edges == reference.edges);
    CHECK(courses.firms == reference.firms + 64.0 * 1001);
    CHECK(courses.total() == Approx(reference.total() + 64.0 * 1001));
  }
  p.error = 0.1;  // the SIMD rounds
  const ReplicateMemory reference = replicate_memory(p);
  const ReplicateMemory fast = vectorized_memory(p);
  CHECK(reference.slots == 0.0);
  CHECK(fast.slots == 72.0 * 1004 * 6);
  CHECK(fast.edges == reference.edges + 4.0 * 1001 * 6);
  CHECK(fast.firms == reference.firms + 60.0 * 1005 + 8.0 * 251 + 8.0 * 1001);
  CHECK(fast.graph == reference.graph);
  CHECK(fast.build == reference.build);
  CHECK(fast.total() == Approx(reference.total() + fast.slots + 4.0 * 1001 * 6 + 60.0 * 1005 + 8.0 * 251 + 8.0 * 1001));

  SECTION("complete: every chunk as wide as N - 1") {
    p.topology = Topology::complete;
    p.firms = 10;
    CHECK(vectorized_memory(p).slots == 72.0 * 12 * 9);
  }
  SECTION("random graphs: never beyond every pair, and more slots with more spread") {
    p.topology = Topology::random;
    p.firms = 10;
    p.partners = 8;
    CHECK(vectorized_memory(p).slots <= 72.0 * 12 * 9);
    p.firms = 100000;
    p.partners = 1;
    const double one = vectorized_memory(p).slots;
    CHECK(one > 72.0 * 100000 * 2);  // the largest of 4 Poisson(1) degrees is about 2
    p.partners = 40;
    const double forty = vectorized_memory(p).slots;
    CHECK(forty < 72.0 * 100000 * 40 * 1.25);
    CHECK(forty > 72.0 * 100000 * 40);
  }
  SECTION("sizes no machine holds are finite") {
    p.firms = 2000000000;
    p.partners = 1000;
    for (const auto topology : {Topology::random, Topology::scale_free, Topology::small_world}) {
      p.topology = topology;
      CHECK(std::isfinite(vectorized_memory(p).total()));
      CHECK(vectorized_memory(p).slots >= 72.0 * 2e9 * 1000);
    }
  }
}

TEST_CASE("vectorized_memory: a workspace reused across configurations stays within each part's maximum",
          "[vectorized][memory]") {
  // Many firms with few slots, then few firms with many, then a third shape: a
  // worker keeps the largest storage of each array, which the sum of the
  // parts' maxima (as sweep::memory_need adds them) must cover.
  std::vector<ModelParams> configurations(3);
  configurations[0].topology = Topology::scale_free;
  configurations[0].firms = 6001;
  configurations[0].partners = 2;
  configurations[1].topology = Topology::regular;
  configurations[1].firms = 500;
  configurations[1].partners = 60;
  configurations[2].topology = Topology::random;
  configurations[2].firms = 3000;
  configurations[2].partners = 8;
  configurations[2].stop_on_fixation = true;
  ReplicateMemory most;
  for (auto& p : configurations) {
    p.rounds = 30;
    p.window = 20;
    const ReplicateMemory m = vectorized_memory(p);
    most.graph = std::max(most.graph, m.graph);
    most.build = std::max(most.build, m.build);
    most.edges = std::max(most.edges, m.edges);
    most.firms = std::max(most.firms, m.firms);
    most.window = std::max(most.window, m.window);
    most.slots = std::max(most.slots, m.slots);
  }
  VectorizedState state;
  const std::size_t before = coopsweep::testing::reset_heap_peak();
  for (std::uint64_t round = 0; round < 2; ++round) {
    for (std::size_t c = 0; c < configurations.size(); ++c) {
      simulate_vectorized(configurations[c], ReplicateStream(9, c, round), state);
    }
  }
  const double peak = static_cast<double>(coopsweep::testing::heap_peak_bytes() - before);
  INFO("peak " << peak << " bytes, bound " << most.total());
  CHECK(peak <= most.total());
  CHECK(most.total() <= 1.5 * peak + 4096);
}
