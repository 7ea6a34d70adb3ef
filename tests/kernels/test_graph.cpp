// Tests of the alliance graph G0 (kernels/src/graph.cpp; MODEL.md, "Initialisation",
// step 1): CSR invariants, exact structure of the deterministic topologies, and
// statistical properties of the random ones.

#include <coopsweep/kernels/graph.hpp>

#include "../support/heap_peak.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ck = coopsweep::kernels;

namespace {

using Pair = std::pair<ck::FirmIndex, ck::FirmIndex>;
using PairSet = std::set<Pair>;

Pair ordered(ck::FirmIndex a, ck::FirmIndex b) { return a < b ? Pair{a, b} : Pair{b, a}; }

ck::GraphParams params(ck::Topology topology, std::int64_t firms, std::int64_t partners,
                       double rewire = 0.1) {
  ck::GraphParams p;
  p.topology = topology;
  p.firms = firms;
  p.partners = partners;
  p.rewire = rewire;
  return p;
}

ck::AllianceGraph build(const ck::GraphParams& p, const ck::ReplicateStream& stream) {
  ck::AllianceGraph g;
  ck::build_alliance_graph(p, stream, g);
  return g;
}

// A few distinct (seed, configuration, replicate) streams.
std::vector<ck::ReplicateStream> streams() {
  return {ck::ReplicateStream(1, 0, 0), ck::ReplicateStream(1, 0, 1), ck::ReplicateStream(42, 7, 3),
          ck::ReplicateStream(0xdeadbeefULL, 123456, 99)};
}

// The undirected edge set {min, max} of a graph.
PairSet undirected_edges(const ck::AllianceGraph& g) {
  PairSet edges;
  for (std::size_t e = 0; e < g.target.size(); ++e) {
    if (g.source[e] < g.target[e]) edges.insert({g.source[e], g.target[e]});
  }
  return edges;
}

PairSet ring_edges(ck::FirmIndex n, std::int64_t half) {
  PairSet edges;
  for (std::int64_t m = 1; m <= half; ++m) {
    for (ck::FirmIndex i = 0; i < n; ++i) edges.insert(ordered(i, static_cast<ck::FirmIndex>((i + m) % n)));
  }
  return edges;
}

bool same_graph(const ck::AllianceGraph& a, const ck::AllianceGraph& b) {
  return a.firms == b.firms && a.offsets == b.offsets && a.source == b.source && a.target == b.target &&
         a.reverse == b.reverse;
}

// CSR invariants: offsets consistent, sources match rows, targets strictly
// increasing within a row (no multi-edges), no self-loops, reverse an involution
// that swaps source and target. One REQUIRE per property keeps large graphs cheap.
void check_well_formed(const ck::AllianceGraph& g, std::int64_t firms) {
  REQUIRE(g.firms == firms);
  REQUIRE(g.offsets.size() == static_cast<std::size_t>(firms) + 1);
  REQUIRE(g.offsets.front() == 0);
  REQUIRE(g.offsets.back() == g.directed_edges());
  REQUIRE(g.source.size() == g.target.size());
  REQUIRE(g.reverse.size() == g.target.size());
  REQUIRE(g.directed_edges() % 2 == 0);

  bool offsets_monotone = true;
  bool sources_match = true;
  bool targets_in_range = true;
  bool no_self_loops = true;
  bool rows_sorted_unique = true;
  for (ck::FirmIndex i = 0; i < g.firms; ++i) {
    const auto begin = g.offsets[static_cast<std::size_t>(i)];
    const auto end = g.offsets[static_cast<std::size_t>(i) + 1];
    offsets_monotone = offsets_monotone && begin <= end;
    for (auto e = begin; e < end; ++e) {
      const auto ue = static_cast<std::size_t>(e);
      sources_match = sources_match && g.source[ue] == i;
      targets_in_range = targets_in_range && g.target[ue] >= 0 && g.target[ue] < g.firms;
      no_self_loops = no_self_loops && g.target[ue] != i;
      if (e > begin) rows_sorted_unique = rows_sorted_unique && g.target[ue - 1] < g.target[ue];
    }
  }
  REQUIRE(offsets_monotone);
  REQUIRE(sources_match);
  REQUIRE(targets_in_range);
  REQUIRE(no_self_loops);
  REQUIRE(rows_sorted_unique);

  bool reverse_ok = true;
  for (std::size_t e = 0; e < g.target.size() && reverse_ok; ++e) {
    const auto r = g.reverse[e];
    reverse_ok = r >= 0 && r < g.directed_edges() && r != static_cast<ck::EdgeIndex>(e) &&
                 g.reverse[static_cast<std::size_t>(r)] == static_cast<ck::EdgeIndex>(e) &&
                 g.source[static_cast<std::size_t>(r)] == g.target[e] &&
                 g.target[static_cast<std::size_t>(r)] == g.source[e];
  }
  REQUIRE(reverse_ok);
}

bool all_degrees(const ck::AllianceGraph& g, std::int64_t k) {
  for (ck::FirmIndex i = 0; i < g.firms; ++i) {
    if (g.degree(i) != k) return false;
  }
  return true;
}

ck::FirmIndex min_degree(const ck::AllianceGraph& g) {
  ck::FirmIndex d = g.firms;
  for (ck::FirmIndex i = 0; i < g.firms; ++i) d = std::min(d, g.degree(i));
  return d;
}

ck::FirmIndex max_degree(const ck::AllianceGraph& g) {
  ck::FirmIndex d = 0;
  for (ck::FirmIndex i = 0; i < g.firms; ++i) d = std::max(d, g.degree(i));
  return d;
}

bool allied(const ck::AllianceGraph& g, ck::FirmIndex i, ck::FirmIndex j) {
  const auto begin = g.target.begin() + g.offsets[static_cast<std::size_t>(i)];
  const auto end = g.target.begin() + g.offsets[static_cast<std::size_t>(i) + 1];
  return std::binary_search(begin, end, j);
}

std::int64_t undirected_count(const ck::AllianceGraph& g) { return g.directed_edges() / 2; }

}  // namespace

TEST_CASE("graph_from_undirected_edges builds a sorted, linked CSR", "[graph]") {
  ck::AllianceGraph g;

  SECTION("a small hand-checked graph") {
    // Edges given unsorted and in both orientations.
    const std::vector<Pair> edges{{2, 0}, {0, 1}, {3, 2}, {1, 2}};
    ck::graph_from_undirected_edges(4, edges, g);
    check_well_formed(g, 4);
    CHECK(g.offsets == std::vector<ck::EdgeIndex>{0, 2, 4, 7, 8});
    CHECK(g.source == std::vector<ck::FirmIndex>{0, 0, 1, 1, 2, 2, 2, 3});
    CHECK(g.target == std::vector<ck::FirmIndex>{1, 2, 0, 2, 0, 1, 3, 2});
    CHECK(g.reverse == std::vector<ck::EdgeIndex>{2, 4, 0, 5, 1, 3, 7, 6});
  }

  SECTION("isolated firms and no edges") {
    ck::graph_from_undirected_edges(3, {}, g);
    check_well_formed(g, 3);
    CHECK(g.offsets == std::vector<ck::EdgeIndex>{0, 0, 0, 0});
    CHECK(g.target.empty());

    ck::graph_from_undirected_edges(5, {{4, 1}}, g);
    check_well_formed(g, 5);
    CHECK(g.offsets == std::vector<ck::EdgeIndex>{0, 0, 1, 1, 1, 2});
    CHECK(g.degree(0) == 0);
    CHECK(g.degree(1) == 1);
    CHECK(g.degree(4) == 1);
  }

  SECTION("reuses storage and fully overwrites a previous, larger graph") {
    std::vector<Pair> big;
    for (ck::FirmIndex i = 0; i < 50; ++i) {
      for (ck::FirmIndex j = i + 1; j < 50; ++j) big.emplace_back(j, i);
    }
    ck::graph_from_undirected_edges(50, big, g);
    check_well_formed(g, 50);
    CHECK(all_degrees(g, 49));
    const auto target_capacity = g.target.capacity();
    const auto reverse_capacity = g.reverse.capacity();
    const auto* target_data = g.target.data();

    ck::graph_from_undirected_edges(3, {{0, 1}, {1, 2}}, g);
    check_well_formed(g, 3);
    CHECK(g.target == std::vector<ck::FirmIndex>{1, 0, 2, 1});
    CHECK(g.target.capacity() == target_capacity);
    CHECK(g.reverse.capacity() == reverse_capacity);
    CHECK(g.target.data() == target_data);
  }

  SECTION("rejects self-loops, out-of-range firms and duplicates") {
    CHECK_THROWS_AS(ck::graph_from_undirected_edges(3, {{1, 1}}, g), std::invalid_argument);
    CHECK_THROWS_AS(ck::graph_from_undirected_edges(3, {{0, 3}}, g), std::invalid_argument);
    CHECK_THROWS_AS(ck::graph_from_undirected_edges(3, {{-1, 2}}, g), std::invalid_argument);
    CHECK_THROWS_AS(ck::graph_from_undirected_edges(3, {{0, 1}, {1, 0}}, g), std::invalid_argument);
  }
}

TEST_CASE("ring: every firm allied with i +- 1..k/2", "[graph]") {
  const std::vector<std::pair<std::int64_t, std::int64_t>> sizes{{3, 2},  {5, 2},   {5, 4},   {7, 6},
                                                                 {10, 2}, {100, 4}, {101, 6}, {1000, 10}};
  for (const auto& [n, k] : sizes) {
    for (const auto& stream : streams()) {
      INFO("N = " << n << ", k = " << k);
      const auto g = build(params(ck::Topology::ring, n, k), stream);
      check_well_formed(g, n);
      CHECK(all_degrees(g, k));
      CHECK(undirected_edges(g) == ring_edges(static_cast<ck::FirmIndex>(n), k / 2));
    }
  }
}

TEST_CASE("regular: a random simple k-regular graph", "[graph]") {
  // 6000 firms are enough for the other edge sets: neighbour rows (k <= 16), hash set.
  const std::vector<std::pair<std::int64_t, std::int64_t>> sizes{
      {2, 1},   {3, 2},  {4, 2},   {4, 3},    {6, 3},    {6, 5},     {8, 7},    {10, 3},
      {11, 10}, {50, 7}, {100, 4}, {1000, 6}, {6000, 3}, {6000, 16}, {6000, 20}};

  SECTION("simple, symmetric and exactly k-regular") {
    for (const auto& [n, k] : sizes) {
      for (const auto& stream : streams()) {
        INFO("N = " << n << ", k = " << k);
        const auto g = build(params(ck::Topology::regular, n, k), stream);
        check_well_formed(g, n);
        CHECK(all_degrees(g, k));
        CHECK(undirected_count(g) == n * k / 2);
      }
    }
  }

  SECTION("k = N - 1 is the complete graph") {
    for (const std::int64_t n : {2, 4, 8, 12}) {
      const auto g = build(params(ck::Topology::regular, n, n - 1), ck::ReplicateStream(5, 1, 2));
      check_well_formed(g, n);
      CHECK(undirected_count(g) == n * (n - 1) / 2);
    }
  }

  SECTION("swaps move it away from the circulant start") {
    PairSet circulant = ring_edges(100, 2);
    for (const auto& stream : streams()) {
      const auto g = build(params(ck::Topology::regular, 100, 4), stream);
      const auto edges = undirected_edges(g);
      CHECK(edges != circulant);
      // 20|E| swap attempts leave few of the 200 ring edges in place.
      std::size_t kept = 0;
      for (const auto& e : edges) kept += circulant.count(e);
      CHECK(kept < 40);
    }
    // Odd k: ring with (k-1)/2 plus the diameter chords.
    PairSet odd_start = ring_edges(10, 1);
    for (ck::FirmIndex i = 0; i < 5; ++i) odd_start.insert({i, i + 5});
    const auto g = build(params(ck::Topology::regular, 10, 3), ck::ReplicateStream(9, 9, 9));
    CHECK(undirected_edges(g) != odd_start);
  }

  SECTION("replicates differ, the same stream repeats") {
    const auto p = params(ck::Topology::regular, 100, 4);
    const auto a = build(p, ck::ReplicateStream(3, 4, 0));
    const auto b = build(p, ck::ReplicateStream(3, 4, 1));
    const auto c = build(p, ck::ReplicateStream(3, 5, 0));
    const auto d = build(p, ck::ReplicateStream(4, 4, 0));
    CHECK_FALSE(same_graph(a, b));
    CHECK_FALSE(same_graph(a, c));
    CHECK_FALSE(same_graph(a, d));
    CHECK(same_graph(a, build(p, ck::ReplicateStream(3, 4, 0))));
  }

  SECTION("N = 4, k = 2: the three labelled 4-cycles are equally likely") {
    // The three 4-cycles are equivalent under relabelling, so the swap chain
    // reaches each with probability 1/3.
    const int replicates = 3000;
    int with_01_23 = 0;  // the cycle 0-1-2-3-0 contains {0,1} and {2,3}
    int with_02_13 = 0;  // the cycles 0-2-1-3-0 and 0-2-3-1-0 contain {0,2}
    for (int r = 0; r < replicates; ++r) {
      const auto g = build(params(ck::Topology::regular, 4, 2),
                           ck::ReplicateStream(11, 0, static_cast<std::uint64_t>(r)));
      REQUIRE(all_degrees(g, 2));
      with_01_23 += allied(g, 0, 1) && allied(g, 2, 3) && allied(g, 1, 2) ? 1 : 0;
      with_02_13 += allied(g, 0, 2) ? 1 : 0;
    }
    const double sd1 = std::sqrt(replicates * (1.0 / 3.0) * (2.0 / 3.0));
    const double sd2 = std::sqrt(replicates * (2.0 / 3.0) * (1.0 / 3.0));
    CHECK(std::abs(with_01_23 - replicates / 3.0) < 5 * sd1);
    CHECK(std::abs(with_02_13 - 2.0 * replicates / 3.0) < 5 * sd2);
  }

  SECTION("N = 7, k = 4: dense graphs are uniform too, drawn through their complements") {
    // The complement of a 4-regular graph on 7 firms is 2-regular: a 7-cycle (360
    // labelled) or a triangle plus a 4-cycle (105). G has three mutually
    // unallied firms exactly when its complement has a triangle: 105 / 465.
    const int replicates = 4000;
    int independent_triple = 0;
    for (int r = 0; r < replicates; ++r) {
      const auto g = build(params(ck::Topology::regular, 7, 4),
                           ck::ReplicateStream(13, 2, static_cast<std::uint64_t>(r)));
      REQUIRE(all_degrees(g, 4));
      bool found = false;
      for (ck::FirmIndex a = 0; a < 7; ++a) {
        for (ck::FirmIndex b = a + 1; b < 7; ++b) {
          for (ck::FirmIndex c = b + 1; c < 7; ++c) {
            found = found || (!allied(g, a, b) && !allied(g, b, c) && !allied(g, a, c));
          }
        }
      }
      independent_triple += found ? 1 : 0;
    }
    const double p = 105.0 / 465.0;
    CHECK(std::abs(independent_triple - replicates * p) < 5 * std::sqrt(replicates * p * (1 - p)));
  }

  SECTION("N = 6, k = 3: K_{3,3} is drawn with its uniform probability 1/7") {
    // The 70 labelled cubic graphs on 6 firms are 10 copies of K_{3,3} (no
    // triangle) and 60 prisms: a uniform draw gives K_{3,3} with probability 1/7
    // (a chain stopped after a count of successful swaps would give 0.2).
    const int replicates = 5000;
    int bipartite = 0;
    for (int r = 0; r < replicates; ++r) {
      const auto g = build(params(ck::Topology::regular, 6, 3),
                           ck::ReplicateStream(12, 1, static_cast<std::uint64_t>(r)));
      REQUIRE(all_degrees(g, 3));
      bool triangle = false;
      for (ck::FirmIndex a = 0; a < 6; ++a) {
        for (ck::FirmIndex b = a + 1; b < 6; ++b) {
          for (ck::FirmIndex c = b + 1; c < 6; ++c) {
            triangle = triangle || (allied(g, a, b) && allied(g, b, c) && allied(g, a, c));
          }
        }
      }
      bipartite += triangle ? 0 : 1;
    }
    const double sd = std::sqrt(replicates * (1.0 / 7.0) * (6.0 / 7.0));
    CHECK(std::abs(bipartite - replicates / 7.0) < 5 * sd);
  }
}

TEST_CASE("small_world: Watts-Strogatz rewiring of the ring", "[graph]") {
  SECTION("simple, symmetric, |E| = N k / 2, each firm keeps its k/2 own edges") {
    // 6000 firms: the hash set for k = 20, the bit matrix for k = 100 (as for every N <= 5792).
    const std::vector<std::pair<std::int64_t, std::int64_t>> sizes{
        {3, 2}, {5, 4}, {10, 2}, {20, 18}, {21, 10}, {100, 4}, {1000, 8}, {6000, 20}, {6000, 100}};
    for (const auto& [n, k] : sizes) {
      for (const double p : {0.0, 0.1, 0.5, 1.0}) {
        for (const auto& stream : streams()) {
          INFO("N = " << n << ", k = " << k << ", p = " << p);
          const auto g = build(params(ck::Topology::small_world, n, k, p), stream);
          check_well_formed(g, n);
          CHECK(undirected_count(g) == n * k / 2);
          CHECK(min_degree(g) >= k / 2);
        }
      }
    }
  }

  SECTION("p = 0 gives the ring exactly") {
    for (const auto& stream : streams()) {
      const auto g = build(params(ck::Topology::small_world, 100, 6, 0.0), stream);
      const auto ring = build(params(ck::Topology::ring, 100, 6), stream);
      CHECK(same_graph(g, ring));
    }
  }

  SECTION("p = 1 differs from the ring; a complete ring cannot be rewired") {
    for (const auto& stream : streams()) {
      const auto g = build(params(ck::Topology::small_world, 100, 4, 1.0), stream);
      CHECK(undirected_edges(g) != ring_edges(100, 2));
      // N = 5, k = 4: the ring is K_5, every firm is allied with every other.
      const auto full = build(params(ck::Topology::small_world, 5, 4, 1.0), stream);
      CHECK(all_degrees(full, 4));
    }
  }

  SECTION("about a share p of the edges leave the ring") {
    const std::int64_t n = 2000;
    const std::int64_t k = 4;
    const double p = 0.2;
    const auto ring = ring_edges(static_cast<ck::FirmIndex>(n), k / 2);
    const double edges = static_cast<double>(n * k / 2);
    for (const auto& stream : streams()) {
      const auto g = build(params(ck::Topology::small_world, n, k, p), stream);
      std::size_t off_ring = 0;
      for (const auto& e : undirected_edges(g)) off_ring += ring.count(e) == 0 ? 1 : 0;
      // A rewired edge lands back on a ring pair with probability about k / N.
      const double sd = std::sqrt(edges * p * (1 - p));
      CHECK(std::abs(static_cast<double>(off_ring) - edges * p) < 5 * sd + 0.01 * edges);
    }
  }

  SECTION("the new partner is uniform over non-neighbours") {
    // N = 1000, k = 2, p = 0.1: each off-ring edge (i, j) was rewired to j uniform
    // among the ~997 non-neighbours of i, so its cyclic distance is uniform on
    // 2..500 (each twice, 500 once): mean 249998 / 997, sd about 144.
    const std::int64_t n = 1000;
    double sum = 0;
    double near = 0;
    double count = 0;
    for (std::uint64_t r = 0; r < 20; ++r) {
      const auto g = build(params(ck::Topology::small_world, n, 2, 0.1), ck::ReplicateStream(21, 2, r));
      for (const auto& [a, b] : undirected_edges(g)) {
        const auto d = std::min((b - a + n) % n, (a - b + n) % n);
        if (d == 1) continue;
        sum += static_cast<double>(d);
        near += d <= 250 ? 1 : 0;
        ++count;
      }
    }
    REQUIRE(count > 1000);
    const double mean_sd = 144.0 / std::sqrt(count);
    CHECK(std::abs(sum / count - 249998.0 / 997.0) < 5 * mean_sd);
    // P(d <= 250) = 498 / 997.
    const double p_near = 498.0 / 997.0;
    CHECK(std::abs(near - count * p_near) < 5 * std::sqrt(count * p_near * (1 - p_near)));
  }

  SECTION("a single rewiring picks uniformly, by rejection and by enumeration") {
    // N = 20 and p = 0.01, so most graphs have at most one rewired edge. With one,
    // the rewired edge (i, j) has j uniform among i's ring non-neighbours, whose
    // cyclic distances k/2+1..9 occur twice and 10 once. k = 4 (degree 4 < N/2)
    // exercises rejection sampling, k = 10 (degree 10 >= N/2) the enumeration.
    const std::int64_t n = 20;
    for (const std::int64_t k : {4, 10}) {
      const auto ring = ring_edges(static_cast<ck::FirmIndex>(n), k / 2);
      std::vector<double> by_distance(static_cast<std::size_t>(n / 2 + 1), 0.0);
      double singles = 0;
      for (std::uint64_t r = 0; r < 12000; ++r) {
        const auto g = build(params(ck::Topology::small_world, n, k, 0.01),
                             ck::ReplicateStream(23, static_cast<std::uint64_t>(k), r));
        std::vector<Pair> off_ring;
        for (const auto& e : undirected_edges(g)) {
          if (ring.count(e) == 0) off_ring.push_back(e);
        }
        if (off_ring.size() != 1) continue;
        const auto [a, b] = off_ring.front();
        const auto d = std::min((b - a + n) % n, (a - b + n) % n);
        by_distance[static_cast<std::size_t>(d)] += 1;
        singles += 1;
      }
      INFO("k = " << k << ", graphs with one rewired edge: " << singles);
      REQUIRE(singles > 2000);
      const double options = static_cast<double>(2 * (n / 2 - k / 2 - 1) + 1);
      bool plausible = true;
      for (std::int64_t d = 1; d <= n / 2; ++d) {
        const double p = d <= k / 2 ? 0.0 : (d == n / 2 ? 1.0 : 2.0) / options;
        const double observed = by_distance[static_cast<std::size_t>(d)];
        plausible = plausible && std::abs(observed - singles * p) <= 5 * std::sqrt(singles * p * (1 - p));
      }
      CHECK(plausible);
    }
  }
}

TEST_CASE("scale_free: Barabasi-Albert from K_{m+1}", "[graph]") {
  const std::vector<std::pair<std::int64_t, std::int64_t>> sizes{{3, 2},   {5, 4},    {7, 6},   {10, 2},
                                                                 {100, 4}, {101, 10}, {2000, 6}};
  SECTION("edge count, minimum degree, seed clique, m earlier partners per firm") {
    for (const auto& [n, k] : sizes) {
      for (const auto& stream : streams()) {
        INFO("N = " << n << ", k = " << k);
        const std::int64_t m = k / 2;
        const auto g = build(params(ck::Topology::scale_free, n, k), stream);
        check_well_formed(g, n);
        CHECK(undirected_count(g) == m * (m + 1) / 2 + m * (n - m - 1));
        CHECK(min_degree(g) >= m);
        bool clique = true;
        for (ck::FirmIndex i = 0; i <= m; ++i) {
          for (ck::FirmIndex j = i + 1; j <= m; ++j) clique = clique && allied(g, i, j);
        }
        CHECK(clique);
        bool m_earlier = true;
        for (auto t = static_cast<ck::FirmIndex>(m + 1); t < g.firms; ++t) {
          std::int64_t earlier = 0;
          for (auto e = g.offsets[static_cast<std::size_t>(t)];
               e < g.offsets[static_cast<std::size_t>(t) + 1]; ++e) {
            earlier += g.target[static_cast<std::size_t>(e)] < t ? 1 : 0;
          }
          m_earlier = m_earlier && earlier == m;
        }
        CHECK(m_earlier);
      }
    }
  }

  SECTION("preferential attachment gives hubs") {
    const std::int64_t n = 10000;
    const std::int64_t k = 4;
    for (const auto& stream : streams()) {
      const auto g = build(params(ck::Topology::scale_free, n, k), stream);
      // The expected largest degree grows like m sqrt(N) = 200; a uniform
      // attachment would give about m log N, below 30.
      CHECK(max_degree(g) > 60);
      // Early firms collect far more partners than late ones.
      double early = 0;
      double late = 0;
      for (ck::FirmIndex i = 0; i < 100; ++i) {
        early += g.degree(i);
        late += g.degree(static_cast<ck::FirmIndex>(n - 1 - i));
      }
      CHECK(early > 5 * late);
    }
  }
}

TEST_CASE("random: Erdos-Renyi G(N, k / (N - 1))", "[graph]") {
  SECTION("simple and symmetric") {
    const std::vector<std::pair<std::int64_t, std::int64_t>> sizes{{2, 1},   {3, 1},   {3, 2},    {10, 3},
                                                                   {100, 4}, {101, 5}, {1000, 20}};
    for (const auto& [n, k] : sizes) {
      for (const auto& stream : streams()) {
        INFO("N = " << n << ", k = " << k);
        const auto g = build(params(ck::Topology::random, n, k), stream);
        check_well_formed(g, n);
      }
    }
  }

  SECTION("edge count within 5 sd of the binomial mean, mean degree near k") {
    const std::int64_t n = 2000;
    const std::int64_t k = 4;
    const double pairs = static_cast<double>(n) * (n - 1) / 2.0;
    const double p = static_cast<double>(k) / static_cast<double>(n - 1);
    const double mean = pairs * p;
    const double sd = std::sqrt(pairs * p * (1 - p));
    double total = 0;
    int replicates = 0;
    for (std::uint64_t r = 0; r < 20; ++r) {
      const auto g = build(params(ck::Topology::random, n, k), ck::ReplicateStream(31, 2, r));
      check_well_formed(g, n);
      const auto edges = static_cast<double>(undirected_count(g));
      CHECK(std::abs(edges - mean) < 5 * sd);
      total += edges;
      ++replicates;
    }
    // The mean over 20 replicates: sd shrinks by sqrt(20).
    CHECK(std::abs(total / replicates - mean) < 5 * sd / std::sqrt(20.0));
    const double mean_degree = 2 * total / replicates / static_cast<double>(n);
    CHECK(std::abs(mean_degree - static_cast<double>(k)) < 0.1);
  }

  SECTION("p = 1 (k = N - 1) gives the complete graph") {
    for (const std::int64_t n : {2, 3, 10, 57}) {
      const auto g = build(params(ck::Topology::random, n, n - 1), ck::ReplicateStream(8, 8, 8));
      check_well_formed(g, n);
      CHECK(all_degrees(g, n - 1));
    }
  }

  SECTION("every pair is included with probability p, independently of its position") {
    // Small N so that every pair's inclusion frequency can be checked: an
    // off-by-one in the geometric skipping would bias particular pairs.
    for (const auto& [n, k] : std::vector<std::pair<std::int64_t, std::int64_t>>{{5, 2}, {10, 1}, {8, 5}}) {
      const double p = static_cast<double>(k) / static_cast<double>(n - 1);
      const int replicates = 8000;
      std::vector<int> count(static_cast<std::size_t>(n * n), 0);
      std::vector<int> edge_counts;
      for (int r = 0; r < replicates; ++r) {
        const auto g =
            build(params(ck::Topology::random, n, k),
                  ck::ReplicateStream(17, static_cast<std::uint64_t>(n), static_cast<std::uint64_t>(r)));
        for (const auto& [a, b] : undirected_edges(g)) ++count[static_cast<std::size_t>(a * n + b)];
        edge_counts.push_back(static_cast<int>(undirected_count(g)));
      }
      const double sd = std::sqrt(replicates * p * (1 - p));
      bool all_plausible = true;
      for (ck::FirmIndex a = 0; a < n; ++a) {
        for (ck::FirmIndex b = a + 1; b < n; ++b) {
          const double c = count[static_cast<std::size_t>(a * n + b)];
          all_plausible = all_plausible && std::abs(c - replicates * p) < 5 * sd;
        }
      }
      INFO("N = " << n << ", k = " << k);
      CHECK(all_plausible);
      // Independence: the edge count's variance is binomial, M p (1 - p).
      const double pairs = static_cast<double>(n * (n - 1) / 2);
      double sum = 0;
      double sum_sq = 0;
      for (const int c : edge_counts) {
        sum += c;
        sum_sq += static_cast<double>(c) * c;
      }
      const double mean = sum / replicates;
      const double variance = sum_sq / replicates - mean * mean;
      const double expected_variance = pairs * p * (1 - p);
      CHECK(std::abs(variance / expected_variance - 1.0) < 0.1);
    }
  }
}

TEST_CASE("complete: all pairs, partners ignored", "[graph]") {
  for (const std::int64_t n : {2, 3, 4, 10, 200}) {
    for (const std::int64_t partners : {1, 4}) {
      INFO("N = " << n << ", partners = " << partners);
      const auto g = build(params(ck::Topology::complete, n, partners), ck::ReplicateStream(1, 2, 3));
      check_well_formed(g, n);
      CHECK(all_degrees(g, n - 1));
      CHECK(undirected_count(g) == n * (n - 1) / 2);
    }
  }
  const auto g3 = build(params(ck::Topology::complete, 3, 2), ck::ReplicateStream(0, 0, 0));
  CHECK(undirected_edges(g3) == PairSet{{0, 1}, {0, 2}, {1, 2}});
}

TEST_CASE("every topology is a pure function of the replicate stream", "[graph]") {
  struct Case {
    ck::Topology topology;
    std::int64_t firms;
    std::int64_t partners;
    double rewire;
  };
  const std::vector<Case> cases{
      {ck::Topology::ring, 50, 4, 0.1},        {ck::Topology::regular, 60, 5, 0.1},
      {ck::Topology::small_world, 80, 6, 0.3}, {ck::Topology::small_world, 30, 20, 0.9},
      {ck::Topology::scale_free, 90, 4, 0.1},  {ck::Topology::random, 120, 6, 0.1},
      {ck::Topology::complete, 12, 3, 0.1},
  };
  // A graph to overwrite, larger than any case, to check storage reuse is clean.
  ck::AllianceGraph reused;
  ck::build_alliance_graph(params(ck::Topology::complete, 150, 149), ck::ReplicateStream(0, 0, 0), reused);

  for (const auto& c : cases) {
    const auto p = params(c.topology, c.firms, c.partners, c.rewire);
    for (const auto& stream : streams()) {
      INFO("topology " << static_cast<int>(c.topology));
      const auto first = build(p, stream);
      check_well_formed(first, c.firms);
      const ck::ReplicateStream copy(stream);
      const auto second = build(p, copy);
      CHECK(same_graph(first, second));
      ck::build_alliance_graph(p, stream, reused);
      CHECK(same_graph(first, reused));
    }
    // Random topologies depend on the stream.
    if (c.topology != ck::Topology::ring && c.topology != ck::Topology::complete) {
      CHECK_FALSE(same_graph(build(p, ck::ReplicateStream(1, 0, 0)), build(p, ck::ReplicateStream(1, 0, 1))));
    }
  }
}

TEST_CASE("build_alliance_graph rejects parameters outside the topology rules", "[graph]") {
  ck::AllianceGraph g;
  const ck::ReplicateStream s(1, 1, 1);
  CHECK_THROWS_AS(ck::build_alliance_graph(params(ck::Topology::ring, 10, 3), s, g), std::invalid_argument);
  CHECK_THROWS_AS(ck::build_alliance_graph(params(ck::Topology::small_world, 10, 3), s, g),
                  std::invalid_argument);
  CHECK_THROWS_AS(ck::build_alliance_graph(params(ck::Topology::scale_free, 10, 5), s, g),
                  std::invalid_argument);
  CHECK_THROWS_AS(ck::build_alliance_graph(params(ck::Topology::regular, 9, 3), s, g), std::invalid_argument);
  CHECK_THROWS_AS(ck::build_alliance_graph(params(ck::Topology::regular, 10, 10), s, g),
                  std::invalid_argument);
  CHECK_THROWS_AS(ck::build_alliance_graph(params(ck::Topology::random, 10, 0), s, g), std::invalid_argument);
  CHECK_THROWS_AS(ck::build_alliance_graph(params(ck::Topology::complete, 1, 1), s, g),
                  std::invalid_argument);
  CHECK_THROWS_AS(ck::build_alliance_graph(params(ck::Topology::small_world, 10, 4, 1.5), s, g),
                  std::invalid_argument);
  // 10^6 firms with k = N - 1 would need ~10^12 directed edges: beyond EdgeIndex.
  CHECK_THROWS_AS(ck::build_alliance_graph(params(ck::Topology::complete, 1000000, 1), s, g),
                  std::length_error);
}

TEST_CASE("alliance_graph_memory bounds the bytes a graph is built with and holds", "[graph][memory]") {
  struct Case {
    const char* what;
    ck::Topology topology;
    std::int64_t firms;
    std::int64_t partners;
    double rewire;
  };
  // Every generator, and for regular and small_world each edge set they pick.
  const std::vector<Case> cases{
      {"ring", ck::Topology::ring, 3000, 8, 0.1},
      {"regular, bit matrix", ck::Topology::regular, 400, 10, 0.1},
      {"regular, neighbour rows", ck::Topology::regular, 8000, 8, 0.1},
      {"regular, hash set", ck::Topology::regular, 8000, 24, 0.1},
      {"regular, dense (complement)", ck::Topology::regular, 300, 250, 0.1},
      {"small_world, bit matrix", ck::Topology::small_world, 500, 6, 0.3},
      {"small_world, hash set", ck::Topology::small_world, 8000, 6, 0.3},
      {"small_world, no rewiring", ck::Topology::small_world, 3000, 6, 0.0},
      {"scale_free", ck::Topology::scale_free, 3000, 6, 0.1},
      {"random", ck::Topology::random, 3000, 6, 0.1},
      {"random, k = N - 1", ck::Topology::random, 200, 199, 0.1},
      {"complete", ck::Topology::complete, 300, 1, 0.1},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      const auto p = params(c.topology, c.firms, c.partners, c.rewire);
      const ck::GraphMemory estimate = ck::alliance_graph_memory(p);
      // As a worker builds them: each replicate's graph into the storage of the one before.
      // Nothing else allocates between the reset and the reading.
      ck::AllianceGraph g;
      const auto all = streams();
      ck::EdgeIndex most_edges = 0;
      const std::size_t before = coopsweep::testing::reset_heap_peak();
      for (const auto& stream : all) {
        ck::build_alliance_graph(p, stream, g);
        most_edges = std::max(most_edges, g.directed_edges());
      }
      const double peak = static_cast<double>(coopsweep::testing::heap_peak_bytes() - before);
      const double held = static_cast<double>(coopsweep::testing::heap_live_bytes() - before);
      CHECK(static_cast<double>(most_edges) <= estimate.directed_edges);
      INFO("peak " << peak << ", held " << held << "; estimated graph " << estimate.graph << ", build "
                   << estimate.build);
      CHECK(held <= estimate.graph);
      CHECK(peak <= estimate.graph + estimate.build);
      // Close, not merely above: within a tenth of what really peaked, plus the
      // random graph's allowance of four standard deviations.
      CHECK(estimate.graph + estimate.build <= 1.1 * peak + 16.0 * std::sqrt(estimate.directed_edges) + 1024);
    }
  }
}

TEST_CASE("alliance_graph_memory of sizes no machine holds is finite and needs no allocation", "[graph][memory]") {
  // 10^6 firms with k near N - 1: about 10^12 directed edges, so many terabytes.
  for (const auto topology : {ck::Topology::regular, ck::Topology::random, ck::Topology::complete}) {
    const ck::GraphMemory m = ck::alliance_graph_memory(params(topology, 1000000, 999998));
    CHECK(std::isfinite(m.graph));
    CHECK(m.graph + m.build > 1e13);
  }
  const ck::GraphMemory small = ck::alliance_graph_memory(params(ck::Topology::ring, 2, 1));
  CHECK(small.directed_edges == 0.0);
}

TEST_CASE("random graphs are pinned to the draws of published results", "[graph][pinned]") {
  // FNV-1a (one firm index per step) over the sorted undirected edge list,
  // recorded with the code that produced the published results. A change to which
  // draws are made, in which order, or how they are used changes these, and so
  // every result.
  struct Case {
    const char* what;
    ck::Topology topology;
    std::int64_t firms;
    std::int64_t partners;
    double rewire;
    std::uint64_t seed;
    std::uint64_t configuration;
    std::uint64_t replicate;
    std::uint64_t expected;
  };
  const std::vector<Case> cases{
      {"bit matrix", ck::Topology::regular, 100, 4, 0.1, 1, 0, 0, 0xed79b57de686eb07ULL},
      {"bit matrix", ck::Topology::regular, 100, 4, 0.1, 42, 7, 3, 0xe42478bdd6ab6ed9ULL},
      {"bit matrix", ck::Topology::regular, 100, 4, 0.1, 0xdeadbeef, 123456, 99, 0xfc212cab10164fcdULL},
      {"bit matrix", ck::Topology::regular, 1000, 8, 0.1, 1, 0, 0, 0x2ef16e7320faf6e3ULL},
      {"bit matrix", ck::Topology::regular, 1000, 8, 0.1, 42, 7, 3, 0x3ab360179704fcfdULL},
      {"bit matrix, odd k", ck::Topology::regular, 1000, 5, 0.1, 1, 0, 1, 0x67690538cfb1911dULL},
      {"bit matrix, odd k", ck::Topology::regular, 1000, 5, 0.1, 42, 7, 3, 0x2c546a557fa03fe1ULL},
      {"bit matrix, prefetched", ck::Topology::regular, 2000, 8, 0.1, 1, 0, 0, 0xc6eb786e1ffd8681ULL},
      {"bit matrix, prefetched", ck::Topology::regular, 2000, 8, 0.1, 42, 7, 3, 0x7e03250e398e2ee3ULL},
      {"neighbour rows, prefetched", ck::Topology::regular, 8000, 8, 0.1, 1, 0, 0, 0xddb54ff50a57d6b3ULL},
      {"rows, odd k", ck::Topology::regular, 8000, 3, 0.1, 42, 7, 3, 0x99aa7595c3ca36c9ULL},
      {"hash set, prefetched", ck::Topology::regular, 8000, 24, 0.1, 1, 0, 0, 0x399c08cd00d319e3ULL},
      {"complement", ck::Topology::regular, 300, 250, 0.1, 42, 7, 3, 0xcd38d7129ba1cecbULL},
      {"small_world", ck::Topology::small_world, 1000, 6, 0.3, 1, 0, 0, 0xf442beb8072cae55ULL},
      {"scale_free", ck::Topology::scale_free, 1000, 6, 0.1, 1, 0, 0, 0x5d414e4a959bbb05ULL},
      {"random", ck::Topology::random, 1000, 6, 0.1, 1, 0, 0, 0x50c59fd0b9cedadeULL},
  };
  for (const auto& c : cases) {
    const auto g = build(params(c.topology, c.firms, c.partners, c.rewire),
                         ck::ReplicateStream(c.seed, c.configuration, c.replicate));
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (const auto& [a, b] : undirected_edges(g)) {
      for (const ck::FirmIndex firm : {a, b}) {
        hash ^= static_cast<std::uint32_t>(firm);
        hash *= 0x100000001b3ULL;
      }
    }
    INFO(c.what << ", N = " << c.firms << ", k = " << c.partners << ", stream (" << c.seed << ", "
                << c.configuration << ", " << c.replicate << ")");
    CHECK(hash == c.expected);
  }
}
