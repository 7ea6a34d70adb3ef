#include <coopsweep/sweep/sampling.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace coopsweep;
using sweep::UnitPoints;

namespace {

// The first lines of Joe and Kuo's file new-joe-kuo-6.21201
// (https://web.maths.unsw.edu.au/~fkuo/sobol/), as published: d s a m_1 ... m_s.
constexpr const char* joe_kuo_published = R"(2 1 0 1
3 2 1 1 3
4 3 1 1 3 1
5 3 2 1 1 1
6 4 1 1 1 3 3
7 4 4 1 3 5 13
8 5 2 1 1 5 5 17
9 5 4 1 1 5 5 5
10 5 7 1 1 7 11 19
11 5 11 1 1 5 1 1
12 5 13 1 1 1 3 11
13 5 14 1 3 5 5 31
14 6 1 1 3 3 9 7 49
15 6 13 1 1 1 15 21 21
16 6 16 1 3 1 13 27 49
)";

// Sobol' points of the dimensions above by the textbook construction (Bratley
// and Fox 1988, Joe and Kuo 2003): direction numbers from the published lines,
// point i the XOR of the direction numbers of the bits of i's Gray code, 32 bits.
std::vector<std::vector<double>> textbook_sobol(int count) {
  std::vector<std::vector<std::uint32_t>> directions;
  directions.push_back({});
  for (int k = 1; k <= 32; ++k) directions.back().push_back(std::uint32_t{1} << (32 - k));  // dimension 1
  std::istringstream lines(joe_kuo_published);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    unsigned d = 0, s = 0, a = 0;
    fields >> d >> s >> a;
    std::vector<std::uint32_t> m(33);
    for (unsigned k = 1; k <= s; ++k) fields >> m[k];
    for (unsigned k = s + 1; k <= 32; ++k) {
      m[k] = m[k - s] ^ (m[k - s] << s);
      for (unsigned i = 1; i < s; ++i) {
        if ((a >> (s - 1 - i)) & 1U) m[k] ^= m[k - i] << i;
      }
    }
    std::vector<std::uint32_t> v;
    for (unsigned k = 1; k <= 32; ++k) v.push_back(m[k] << (32 - k));
    directions.push_back(v);
  }
  std::vector<std::vector<double>> points;
  for (int i = 0; i < count; ++i) {
    const auto gray = static_cast<std::uint32_t>(i ^ (i >> 1));
    std::vector<double> point;
    for (const auto& v : directions) {
      std::uint32_t x = 0;
      for (int bit = 0; bit < 32; ++bit) {
        if ((gray >> bit) & 1U) x ^= v[static_cast<std::size_t>(bit)];
      }
      point.push_back(std::ldexp(static_cast<double>(x), -32));
    }
    points.push_back(point);
  }
  return points;
}

// True when floor(x * count) of dimension j is a permutation of 0..count-1:
// one point in each of the count equal intervals.
bool stratified(const UnitPoints& points, std::int64_t j) {
  std::vector<char> seen(static_cast<std::size_t>(points.count), 0);
  for (std::int64_t i = 0; i < points.count; ++i) {
    const double x = points.at(i, j);
    if (!(x >= 0.0 && x < 1.0)) return false;
    const auto k = static_cast<std::size_t>(std::floor(x * static_cast<double>(points.count)));
    if (seen[k]) return false;
    seen[k] = 1;
  }
  return true;
}

}  // namespace

TEST_CASE("unscrambled Sobol' points follow Joe and Kuo's published direction numbers", "[sampling][sobol]") {
  SECTION("the points of the published lines, built the textbook way") {
    const auto expected = textbook_sobol(4096);
    const UnitPoints points = sweep::sobol_sequence(4096, 16);
    for (std::int64_t i = 0; i < 4096; ++i) {
      for (std::int64_t j = 0; j < 16; ++j) {
        INFO("point " << i << ", dimension " << j + 1);
        REQUIRE(points.at(i, j) == expected[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)]);
      }
    }
  }
  SECTION("the first points and deep points of high dimensions, as SciPy's qmc.Sobol(scramble=False) gives them") {
    const UnitPoints points = sweep::sobol_sequence(4096, 1024);
    const double first[8][5] = {{0, 0, 0, 0, 0},
                                {0.5, 0.5, 0.5, 0.5, 0.5},
                                {0.75, 0.25, 0.25, 0.25, 0.75},
                                {0.25, 0.75, 0.75, 0.75, 0.25},
                                {0.375, 0.375, 0.625, 0.875, 0.375},
                                {0.875, 0.875, 0.125, 0.375, 0.875},
                                {0.625, 0.125, 0.875, 0.625, 0.625},
                                {0.125, 0.625, 0.375, 0.125, 0.125}};
    for (int i = 0; i < 8; ++i) {
      for (int j = 0; j < 5; ++j) CHECK(points.at(i, j) == first[i][j]);
    }
    // Point i of dimensions 1, 2, 10, 100, 500 and 1024, times 2^30.
    const std::int64_t dimensions[] = {1, 2, 10, 100, 500, 1024};
    const std::pair<std::int64_t, std::array<double, 6>> deep[] = {
        {1000, {235929600, 103809024, 74448896, 200278016, 273678336, 766509056}},
        {3000, {161218560, 363069440, 448528384, 284426240, 1016856576, 638320640}},
        {4095, {262144, 1010565120, 264503296, 1033633792, 1007943680, 380895232}}};
    for (const auto& [i, values] : deep) {
      for (std::size_t k = 0; k < 6; ++k) {
        INFO("point " << i << ", dimension " << dimensions[k]);
        CHECK(points.at(i, dimensions[k] - 1) * 0x1.0p30 == values[k]);
      }
    }
    // Beyond 2^16 points, in the first 10 dimensions.
    const UnitPoints many = sweep::sobol_sequence(70000, 10);
    const std::pair<std::int64_t, std::array<double, 3>> deeper[] = {{12345, {688193536, 873398272, 461307904}},
                                                                     {65535, {16384, 1073725440, 175980544}},
                                                                     {69999, {115761152, 713154560, 100261888}}};
    for (const auto& [i, values] : deeper) {
      for (std::size_t k = 0; k < 3; ++k) {
        INFO("point " << i << ", dimension " << dimensions[k]);
        CHECK(many.at(i, dimensions[k] - 1) * 0x1.0p30 == values[k]);
      }
    }
  }
  SECTION("sizes outside the table are refused") {
    CHECK_THROWS_AS(sweep::sobol_sequence(8, 1025), std::invalid_argument);
    CHECK_THROWS_AS(sweep::sobol_sequence(8, 0), std::invalid_argument);
    CHECK_THROWS_AS(sweep::sobol_sequence(-1, 2), std::invalid_argument);
    CHECK_THROWS_AS(sweep::scrambled_sobol(std::int64_t{1} << 32, 2, 0), std::invalid_argument);
  }
}

TEST_CASE("Sobol' points, scrambled or not, are stratified in every one-dimensional projection", "[sampling][sobol]") {
  for (const std::int64_t count : {1, 2, 8, 64, 1024, 4096}) {
    const UnitPoints plain = sweep::sobol_sequence(count, 64);
    for (std::int64_t j = 0; j < 64; ++j) {
      INFO("unscrambled, " << count << " points, dimension " << j);
      CHECK(stratified(plain, j));
    }
    for (const std::uint64_t seed : {0ULL, 1ULL, 12345ULL}) {
      const UnitPoints scrambled = sweep::scrambled_sobol(count, 64, seed);
      for (std::int64_t j = 0; j < 64; ++j) {
        INFO("seed " << seed << ", " << count << " points, dimension " << j);
        CHECK(stratified(scrambled, j));
      }
    }
  }
}

TEST_CASE("scrambling keeps the first two dimensions a (0, m, 2)-net", "[sampling][sobol]") {
  // Every box [a / 2^k, (a + 1) / 2^k) x [b / 2^(m-k), (b + 1) / 2^(m-k))
  // holds exactly one of the 2^m points, as for the unscrambled points.
  constexpr int m = 10;
  const UnitPoints points = sweep::scrambled_sobol(1 << m, 2, 99);
  for (int k = 0; k <= m; ++k) {
    std::set<std::pair<std::int64_t, std::int64_t>> boxes;
    for (std::int64_t i = 0; i < points.count; ++i) {
      boxes.insert({static_cast<std::int64_t>(std::ldexp(points.at(i, 0), k)),
                    static_cast<std::int64_t>(std::ldexp(points.at(i, 1), m - k))});
    }
    INFO("boxes of 2^" << k << " x 2^" << m - k);
    CHECK(boxes.size() == static_cast<std::size_t>(points.count));
  }
}

TEST_CASE("scrambled points depend on the seed alone and are uniform", "[sampling][sobol]") {
  const UnitPoints a = sweep::scrambled_sobol(256, 5, 7);
  CHECK(a.values == sweep::scrambled_sobol(256, 5, 7).values);
  CHECK(a.values != sweep::scrambled_sobol(256, 5, 8).values);
  // The first 5 dimensions do not change with more dimensions or points.
  const UnitPoints wider = sweep::scrambled_sobol(512, 9, 7);
  for (std::int64_t i = 0; i < 256; ++i) {
    for (std::int64_t j = 0; j < 5; ++j) REQUIRE(a.at(i, j) == wider.at(i, j));
  }
  // Point 0 (the origin, unscrambled) becomes a uniform point: its mean over
  // 4000 seeds lies within 5 standard errors of 1/2 (sd 1 / sqrt(12 x 4000)).
  double sum = 0.0;
  for (std::uint64_t seed = 0; seed < 4000; ++seed) sum += sweep::scrambled_sobol(1, 1, seed).at(0, 0);
  CHECK(std::abs(sum / 4000 - 0.5) < 5 * std::sqrt(1.0 / (12 * 4000.0)));
}

TEST_CASE("Latin hypercubes are stratified in every one-dimensional projection", "[sampling][lhs]") {
  for (const std::int64_t count : {1, 2, 7, 100, 1000}) {
    for (const std::int64_t dimensions : {1, 5, 30}) {
      const UnitPoints points = sweep::latin_hypercube(count, dimensions, 42);
      REQUIRE(points.values.size() == static_cast<std::size_t>(count * dimensions));
      for (std::int64_t j = 0; j < dimensions; ++j) {
        INFO(count << " points, dimension " << j << " of " << dimensions);
        CHECK(stratified(points, j));
      }
    }
  }
  CHECK(sweep::latin_hypercube(50, 3, 1).values == sweep::latin_hypercube(50, 3, 1).values);
  CHECK(sweep::latin_hypercube(50, 3, 1).values != sweep::latin_hypercube(50, 3, 2).values);
  // The permutations of different dimensions differ (they are not all the same shuffle).
  const UnitPoints points = sweep::latin_hypercube(100, 2, 3);
  std::int64_t same = 0;
  for (std::int64_t i = 0; i < 100; ++i) same += std::floor(points.at(i, 0) * 100) == std::floor(points.at(i, 1) * 100);
  CHECK(same < 10);
  CHECK_THROWS_AS(sweep::latin_hypercube(0, 0, 1), std::invalid_argument);
}

TEST_CASE("random points are uniform on the unit interval", "[sampling][random]") {
  const UnitPoints points = sweep::uniform_random(100000, 2, 5);
  for (std::int64_t j = 0; j < 2; ++j) {
    double sum = 0.0, squares = 0.0;
    for (std::int64_t i = 0; i < points.count; ++i) {
      const double x = points.at(i, j);
      REQUIRE((x >= 0.0 && x < 1.0));
      sum += x;
      squares += x * x;
    }
    const double mean = sum / 100000;
    // Mean within 5 standard errors of 1/2; variance within 5% of 1/12.
    CHECK(std::abs(mean - 0.5) < 5 * std::sqrt(1.0 / 12 / 100000));
    CHECK(squares / 100000 - mean * mean == Approx(1.0 / 12).epsilon(0.05));
  }
}

TEST_CASE("Saltelli's design is A, AB_1 ... AB_d, B per base sample", "[sampling][saltelli]") {
  const std::int64_t base = 64, d = 4;
  const UnitPoints points = sweep::saltelli_points(base, d, 11);
  REQUIRE(points.count == base * (d + 2));
  REQUIRE(points.dimensions == d);
  const UnitPoints ab = sweep::scrambled_sobol(base, 2 * d, 11);
  UnitPoints a{base, d, {}}, b{base, d, {}};
  for (std::int64_t j = 0; j < base; ++j) {
    const auto row = [&](std::int64_t k) { return points.point(j * (d + 2) + k); };
    for (std::int64_t i = 0; i < d; ++i) {
      CHECK(row(0)[static_cast<std::size_t>(i)] == ab.at(j, i));
      CHECK(row(d + 1)[static_cast<std::size_t>(i)] == ab.at(j, d + i));
      a.values.push_back(row(0)[static_cast<std::size_t>(i)]);
      b.values.push_back(row(d + 1)[static_cast<std::size_t>(i)]);
      for (std::int64_t k = 1; k <= d; ++k) {
        // AB_k: column k - 1 from B, the others from A.
        CHECK(row(k)[static_cast<std::size_t>(i)] == (i == k - 1 ? row(d + 1) : row(0))[static_cast<std::size_t>(i)]);
      }
    }
  }
  for (std::int64_t i = 0; i < d; ++i) {
    CHECK(stratified(a, i));
    CHECK(stratified(b, i));
  }
  CHECK_THROWS_WITH(sweep::saltelli_points(100, 3, 0), Catch::Contains("a power of 2"));
  CHECK_THROWS_AS(sweep::saltelli_points(64, 513, 0), std::invalid_argument);
}

TEST_CASE("Morris trajectories move each coordinate once by Delta on the level grid", "[sampling][morris]") {
  for (const std::int64_t levels : {2, 4, 6, 10}) {
    // 60 trajectories: a coordinate is never first with probability (4/5)^60 < 2e-6.
    const std::int64_t r = 60, d = 5;
    const UnitPoints points = sweep::morris_points(r, d, levels, 3);
    REQUIRE(points.count == r * (d + 1));
    const double delta = sweep::morris_delta(levels);
    CHECK(delta == Approx(static_cast<double>(levels) / (2.0 * static_cast<double>(levels - 1))));
    std::set<std::int64_t> first_moved;
    for (std::int64_t t = 0; t < r; ++t) {
      std::set<std::int64_t> moved;
      for (std::int64_t k = 0; k <= d; ++k) {
        for (std::int64_t j = 0; j < d; ++j) {
          const double x = points.at(t * (d + 1) + k, j);
          const double level = x * static_cast<double>(levels - 1);
          INFO("levels " << levels << ", trajectory " << t << ", point " << k);
          CHECK(level == Approx(std::round(level)).margin(1e-12));
          CHECK((x >= 0.0 && x <= 1.0));
        }
        if (k == 0) continue;
        std::int64_t changes = 0;
        for (std::int64_t j = 0; j < d; ++j) {
          const double step = points.at(t * (d + 1) + k, j) - points.at(t * (d + 1) + k - 1, j);
          if (step != 0.0) {
            ++changes;
            CHECK(std::abs(step) == Approx(delta));
            moved.insert(j);
            if (k == 1) first_moved.insert(j);
          }
        }
        CHECK(changes == 1);
      }
      CHECK(moved.size() == static_cast<std::size_t>(d));
    }
    // The order of the steps is random: every coordinate moves first in some trajectory.
    CHECK(first_moved.size() == static_cast<std::size_t>(d));
  }
  CHECK_THROWS_WITH(sweep::morris_points(4, 3, 5, 0), Catch::Contains("even"));
  CHECK_THROWS_AS(sweep::morris_points(0, 3, 4, 0), std::invalid_argument);
}

TEST_CASE("integers keep a stratified design's balance", "[sampling]") {
  SECTION("each integer is taken floor or ceil of strata / values times") {
    for (const auto& [strata, low, high] : {std::tuple{100, 2, 16}, std::tuple{7, 0, 2}, std::tuple{16, 1, 16},
                                            std::tuple{10, 5, 40}, std::tuple{1024, -3, 3}}) {
      const UnitPoints points = sweep::latin_hypercube(strata, 1, 9);
      std::vector<int> counts(static_cast<std::size_t>(high - low + 1));
      for (std::int64_t i = 0; i < strata; ++i) {
        const std::int64_t v = sweep::integer_from_unit(points.at(i, 0), low, high, strata);
        REQUIRE((v >= low && v <= high));
        ++counts[static_cast<std::size_t>(v - low)];
      }
      const int values = high - low + 1;
      INFO(strata << " strata over [" << low << ", " << high << "]");
      for (const int c : counts) CHECK((c == strata / values || c == (strata + values - 1) / values));
    }
  }
  SECTION("without strata, the integer under u") {
    CHECK(sweep::integer_from_unit(0.0, 2, 5, 0) == 2);
    CHECK(sweep::integer_from_unit(0.2499, 2, 5, 0) == 2);
    CHECK(sweep::integer_from_unit(0.25, 2, 5, 0) == 3);
    CHECK(sweep::integer_from_unit(0.999999, 2, 5, 0) == 5);
    CHECK(sweep::integer_from_unit(1.0, 2, 5, 0) == 5);
  }
}
