#include <coopsweep/sweep/sensitivity.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <vector>

using namespace coopsweep;
using sweep::UnitPoints;

namespace {

constexpr double pi = std::numbers::pi;

// Evaluates f on Saltelli's design of `base` samples over [low, high]^d.
std::vector<double> saltelli_outputs(std::int64_t base, std::int64_t d, std::uint64_t seed, double low, double high,
                                     const std::function<double(const std::vector<double>&)>& f) {
  const UnitPoints points = sweep::saltelli_points(base, d, seed);
  std::vector<double> y;
  std::vector<double> x(static_cast<std::size_t>(d));
  for (std::int64_t i = 0; i < points.count; ++i) {
    for (std::int64_t j = 0; j < d; ++j) x[static_cast<std::size_t>(j)] = low + (high - low) * points.at(i, j);
    y.push_back(f(x));
  }
  return y;
}

// Ishigami and Homma (1990): sin x1 + a sin^2 x2 + b x3^4 sin x1 on [-pi, pi]^3.
double ishigami(const std::vector<double>& x, double a = 7.0, double b = 0.1) {
  return std::sin(x[0]) + a * std::sin(x[1]) * std::sin(x[1]) + b * std::pow(x[2], 4) * std::sin(x[0]);
}

// Its indices in closed form (Saltelli et al. 2008, Global Sensitivity Analysis, 4.4).
struct Analytic {
  std::vector<double> first, total;
};
Analytic ishigami_indices(double a = 7.0, double b = 0.1) {
  const double v1 = 0.5 * std::pow(1.0 + b * std::pow(pi, 4) / 5.0, 2);
  const double v2 = a * a / 8.0;
  const double v13 = b * b * std::pow(pi, 8) * (1.0 / 18.0 - 1.0 / 50.0);
  const double v = v1 + v2 + v13;
  return {{v1 / v, v2 / v, 0.0}, {(v1 + v13) / v, v2 / v, v13 / v}};
}

// Sobol's g-function, prod (|4 x_i - 2| + a_i) / (1 + a_i) on [0, 1]^d, with the
// coefficients of Saltelli et al. (2010): V_i = 1 / (3 (1 + a_i)^2).
const std::vector<double> g_coefficients = {0, 1, 4.5, 9, 99, 99, 99, 99};
double g_function(const std::vector<double>& x) {
  double out = 1.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    out *= (std::abs(4.0 * x[i] - 2.0) + g_coefficients[i]) / (1.0 + g_coefficients[i]);
  }
  return out;
}
Analytic g_indices() {
  std::vector<double> partial;
  double product = 1.0;
  for (const double a : g_coefficients) {
    partial.push_back(1.0 / (3.0 * (1.0 + a) * (1.0 + a)));
    product *= 1.0 + partial.back();
  }
  const double v = product - 1.0;
  Analytic out;
  for (const double vi : partial) {
    out.first.push_back(vi / v);
    out.total.push_back(vi * product / (1.0 + vi) / v);
  }
  return out;
}

bool inside(double value, const sweep::Interval& interval) { return interval.low <= value && value <= interval.high; }

}  // namespace

TEST_CASE("the analytic indices of Ishigami's function are within the intervals of their estimates",
          "[sensitivity][sobol]") {
  const Analytic exact = ishigami_indices();
  // The textbook values, to the digits they are usually quoted with.
  CHECK(exact.first[0] == Approx(0.3139).margin(1e-4));
  CHECK(exact.first[1] == Approx(0.4424).margin(1e-4));
  CHECK(exact.total[0] == Approx(0.5576).margin(1e-4));
  CHECK(exact.total[2] == Approx(0.2437).margin(1e-4));

  const std::vector<double> y = saltelli_outputs(8192, 3, 2024, -pi, pi, [](const auto& x) { return ishigami(x); });
  const sweep::SobolIndices indices = sweep::sobol_indices(y, 3, {1000, 0.95, 1});
  REQUIRE(indices.base_samples == 8192);
  CHECK(indices.dropped == 0);
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("x" << i + 1 << ": S1 " << indices.first_order[i] << " [" << indices.first_order_ci[i].low << ", "
             << indices.first_order_ci[i].high << "] vs " << exact.first[i] << "; ST " << indices.total[i] << " ["
             << indices.total_ci[i].low << ", " << indices.total_ci[i].high << "] vs " << exact.total[i]);
    CHECK(inside(exact.first[i], indices.first_order_ci[i]));
    CHECK(inside(exact.total[i], indices.total_ci[i]));
    // And the intervals are informative: narrower than 0.1 at 8192 base samples.
    CHECK(indices.first_order_ci[i].high - indices.first_order_ci[i].low < 0.1);
    CHECK(indices.total_ci[i].high - indices.total_ci[i].low < 0.1);
  }
  // V of the Ishigami function is a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2 = 13.845.
  CHECK(indices.variance == Approx(7.0 * 7.0 / 8 + 0.1 * std::pow(pi, 4) / 5 + 0.01 * std::pow(pi, 8) / 18 + 0.5)
                                .epsilon(0.03));
}

TEST_CASE("the analytic indices of Sobol's g-function are within the intervals of their estimates",
          "[sensitivity][sobol]") {
  const Analytic exact = g_indices();
  const std::vector<double> y = saltelli_outputs(8192, 8, 77, 0.0, 1.0, g_function);
  const sweep::SobolIndices indices = sweep::sobol_indices(y, 8, {1000, 0.95, 2});
  for (std::size_t i = 0; i < 8; ++i) {
    INFO("x" << i + 1 << ": S1 " << indices.first_order[i] << " [" << indices.first_order_ci[i].low << ", "
             << indices.first_order_ci[i].high << "] vs " << exact.first[i] << "; ST " << indices.total[i] << " ["
             << indices.total_ci[i].low << ", " << indices.total_ci[i].high << "] vs " << exact.total[i]);
    CHECK(inside(exact.first[i], indices.first_order_ci[i]));
    CHECK(inside(exact.total[i], indices.total_ci[i]));
  }
  // The ranking the g-function is built to show: a_1 = 0 dominates, a_i = 99 barely matters.
  CHECK(indices.first_order[0] > indices.first_order[1]);
  CHECK(indices.first_order[1] > indices.first_order[2]);
  CHECK(indices.total[7] < 0.01);
}

TEST_CASE("the intervals cover the analytic indices about as often as they claim", "[sensitivity][sobol]") {
  // Over 40 independent scramblings at 512 base samples, 240 (index, interval)
  // pairs of Ishigami's function: nominal 95% intervals that covered less than
  // 85% would be far too narrow (for true 95% coverage, fewer than 204 hits
  // has a probability below 1e-6). Quasi-random points make the bootstrap,
  // which treats them as random, err on the wide side, so the coverage found
  // may be higher.
  const Analytic exact = ishigami_indices();
  int covered = 0, total = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    const auto y = saltelli_outputs(512, 3, 1000 + seed, -pi, pi, [](const auto& x) { return ishigami(x); });
    const sweep::SobolIndices indices = sweep::sobol_indices(y, 3, {300, 0.95, seed});
    for (std::size_t i = 0; i < 3; ++i) {
      covered += inside(exact.first[i], indices.first_order_ci[i]);
      covered += inside(exact.total[i], indices.total_ci[i]);
      total += 2;
    }
  }
  INFO(covered << " of " << total << " covered");
  CHECK(covered >= 204);
}

TEST_CASE("Sobol' indices of simple functions are exact where the estimators are", "[sensitivity][sobol]") {
  // f = x1 + 2 x2 on [0, 1]^3, additive: S1 = ST = (1, 4, 0) / 5. The
  // estimators are exact for the total of an additive term (f(A) - f(AB_i)
  // depends on x_i alone), up to sampling error in V.
  const auto y = saltelli_outputs(4096, 3, 5, 0.0, 1.0, [](const auto& x) { return x[0] + 2.0 * x[1]; });
  const auto indices = sweep::sobol_indices(y, 3, {200, 0.95, 0});
  CHECK(indices.first_order[0] == Approx(0.2).margin(0.01));
  CHECK(indices.first_order[1] == Approx(0.8).margin(0.01));
  CHECK(indices.first_order[2] == Approx(0.0).margin(1e-12));
  CHECK(indices.total[2] == 0.0);
  CHECK(indices.total_ci[2].low == 0.0);
  CHECK(indices.total_ci[2].high == 0.0);

  SECTION("an offset in the output changes nothing") {
    auto shifted = y;
    for (double& v : shifted) v += 1e6;
    const auto again = sweep::sobol_indices(shifted, 3, {200, 0.95, 0});
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(again.first_order[i] == Approx(indices.first_order[i]).margin(1e-6));
      CHECK(again.total[i] == Approx(indices.total[i]).margin(1e-6));
    }
  }
  SECTION("a constant output has no indices") {
    const std::vector<double> constant(y.size(), 3.0);
    const auto none = sweep::sobol_indices(constant, 3, {10, 0.95, 0});
    CHECK(std::isnan(none.first_order[0]));
    CHECK(std::isnan(none.total[1]));
  }
}

TEST_CASE("base samples with a NaN output are left out and counted", "[sensitivity][sobol]") {
  auto y = saltelli_outputs(1024, 3, 8, -pi, pi, [](const auto& x) { return ishigami(x); });
  const auto full = sweep::sobol_indices(y, 3, {0, 0.95, 0});
  y[5 * 7 + 2] = std::numeric_limits<double>::quiet_NaN();  // AB_2 of base sample 7
  const auto partial = sweep::sobol_indices(y, 3, {0, 0.95, 0});
  CHECK(partial.base_samples == 1023);
  CHECK(partial.dropped == 1);
  CHECK(partial.first_order[1] == Approx(full.first_order[1]).margin(0.02));
  // Without resamples the intervals are NaN.
  CHECK(std::isnan(partial.first_order_ci[0].low));
  CHECK_THROWS_WITH(sweep::sobol_indices(std::vector<double>(9, 1.0), 3), Catch::Contains("not groups of 5"));
  CHECK_THROWS_WITH(sweep::sobol_indices(std::vector<double>(5, std::nan("")), 3), Catch::Contains("at least 2"));
  CHECK_THROWS_AS(sweep::sobol_indices(y, 3, {10, 1.5, 0}), std::invalid_argument);
}

TEST_CASE("the bootstrap depends on its seed alone", "[sensitivity]") {
  const auto y = saltelli_outputs(256, 3, 1, -pi, pi, [](const auto& x) { return ishigami(x); });
  const auto a = sweep::sobol_indices(y, 3, {200, 0.9, 4});
  const auto b = sweep::sobol_indices(y, 3, {200, 0.9, 4});
  const auto c = sweep::sobol_indices(y, 3, {200, 0.9, 5});
  CHECK(a.first_order_ci[0].low == b.first_order_ci[0].low);
  CHECK(a.total_ci[2].high == b.total_ci[2].high);
  CHECK(a.first_order_ci[0].low != c.first_order_ci[0].low);
  CHECK(a.first_order == c.first_order);  // the estimates themselves use no random draws
}

TEST_CASE("Morris effects of a linear function are its coefficients, without spread", "[sensitivity][morris]") {
  // f = 3 x1 - 2 x2 + 0 x3 (coordinates already on their ranges' scale).
  const UnitPoints points = sweep::morris_points(20, 3, 4, 6);
  std::vector<double> y;
  for (std::int64_t i = 0; i < points.count; ++i) y.push_back(3.0 * points.at(i, 0) - 2.0 * points.at(i, 1));
  const auto indices = sweep::morris_indices(y, points, {100, 0.95, 0});
  CHECK(indices.trajectories == 20);
  CHECK(indices.mu[0] == Approx(3.0));
  CHECK(indices.mu_star[0] == Approx(3.0));
  CHECK(indices.mu[1] == Approx(-2.0));
  CHECK(indices.mu_star[1] == Approx(2.0));
  CHECK(indices.mu_star[2] == 0.0);
  for (std::size_t j = 0; j < 3; ++j) CHECK(indices.sigma[j] == Approx(0.0).margin(1e-12));
  CHECK(indices.mu_star_ci[0].low == Approx(3.0));
  CHECK(indices.mu_star_ci[0].high == Approx(3.0));
}

TEST_CASE("Morris effects show interactions and non-linearity as spread", "[sensitivity][morris]") {
  // f = x1 x2 + x3^2: the effect of x1 is x2, of x3 is 2 x3 + Delta (sign
  // depending on the direction), so x1, x2 and x3 all have sigma > 0; mu* of
  // x1 is the mean of x2 over the start levels.
  const UnitPoints points = sweep::morris_points(200, 3, 4, 1);
  std::vector<double> y;
  for (std::int64_t i = 0; i < points.count; ++i) {
    y.push_back(points.at(i, 0) * points.at(i, 1) + points.at(i, 2) * points.at(i, 2));
  }
  const auto indices = sweep::morris_indices(y, points, {200, 0.95, 0});
  for (std::size_t j = 0; j < 3; ++j) CHECK(indices.sigma[j] > 0.1);
  // E|effect of x1| = E[x2] = 1/2 over the 4 levels; with 200 trajectories
  // its standard error is about 0.026, so 0.12 is 4.6 of them.
  CHECK(indices.mu_star[0] == Approx(0.5).margin(0.12));
}

TEST_CASE("Morris trajectories with a NaN output are left out and points that are not trajectories are refused",
          "[sensitivity][morris]") {
  const UnitPoints points = sweep::morris_points(5, 2, 4, 2);
  std::vector<double> y;
  for (std::int64_t i = 0; i < points.count; ++i) y.push_back(points.at(i, 0));
  y[4] = std::numeric_limits<double>::quiet_NaN();  // trajectory 1, point 1
  const auto indices = sweep::morris_indices(y, points, {10, 0.95, 0});
  CHECK(indices.trajectories == 4);
  CHECK(indices.dropped == 1);
  CHECK(indices.mu[0] == Approx(1.0));
  CHECK(indices.mu[1] == 0.0);

  UnitPoints bent = points;
  bent.values[2] = bent.values[0];  // the first step now moves nothing
  bent.values[3] = bent.values[1];
  y[4] = 0.0;
  CHECK_THROWS_WITH(sweep::morris_indices(y, bent), Catch::Contains("does not move exactly one coordinate"));
  CHECK_THROWS_WITH(sweep::morris_indices(std::vector<double>(3, 0.0), points), Catch::Contains("one output per point"));
  CHECK_THROWS_WITH(sweep::morris_indices(std::vector<double>(15, std::nan("")), points),
                    Catch::Contains("every one of the 5 trajectories"));
}
