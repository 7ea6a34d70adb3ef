#include <coopsweep/kernels/metrics.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <vector>

using namespace coopsweep::kernels;

namespace {
// The definition of MODEL.md, term by term.
double gini_by_definition(const std::vector<double>& y) {
  double pairs = 0, total = 0;
  for (double a : y) {
    total += a;
    for (double b : y) pairs += std::abs(a - b);
  }
  return total > 0 ? pairs / (2.0 * static_cast<double>(y.size()) * total) : std::nan("");
}
}  // namespace

TEST_CASE("payoff_gini matches the double-sum definition", "[metrics]") {
  std::vector<double> scratch;
  SECTION("hand-computed cases") {
    CHECK(payoff_gini(std::vector<double>{1, 1, 1, 1}, scratch) == 0.0);
    // Equal payoffs give exactly 0, never a rounding residue of either sign.
    CHECK(payoff_gini(std::vector<double>(37, 12.489795918367347), scratch) == 0.0);
    CHECK(payoff_gini(std::vector<double>(1000, 0.1), scratch) == 0.0);
    // |0-1|+|1-0| ... for {0, 0, 0, 4}: pairs = 2*3*4 = 24, 2*N*sum = 32.
    CHECK(payoff_gini(std::vector<double>{0, 4, 0, 0}, scratch) == Approx(0.75));
    CHECK(payoff_gini(std::vector<double>{1, 3}, scratch) == Approx(0.25));
  }
  SECTION("negative payoffs stay in the formula as written") {
    const std::vector<double> y = {-2, 5, 1, 3.5};
    CHECK(payoff_gini(y, scratch) == Approx(gini_by_definition(y)).epsilon(1e-13));
  }
  SECTION("NaN when the total is not positive") {
    CHECK(std::isnan(payoff_gini(std::vector<double>{-1, 1}, scratch)));
    CHECK(std::isnan(payoff_gini(std::vector<double>{-1, -2}, scratch)));
    CHECK(std::isnan(payoff_gini(std::vector<double>{0, 0}, scratch)));
  }
  SECTION("random vectors") {
    for (int n : {1, 2, 3, 10, 57}) {
      std::vector<double> y(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) y[i] = std::sin(i * 12.9898 + n) * 43758.5453 - std::floor(std::sin(i * 12.9898 + n) * 43758.5453) + 0.1;
      CHECK(payoff_gini(y, scratch) == Approx(gini_by_definition(y)).epsilon(1e-12));
      CHECK(payoff_gini(y, scratch) >= 0.0);
    }
  }
}

TEST_CASE("metric names follow MODEL.md in storage order", "[metrics]") {
  CHECK(metric_info[static_cast<std::size_t>(Metric::cooperation)].name == "cooperation");
  CHECK(metric_info[static_cast<std::size_t>(Metric::rounds_run)].name == "rounds_run");
  std::set<std::string_view> names;
  for (const auto& info : metric_info) names.insert(info.name);
  CHECK(names.size() == metric_count);
}
