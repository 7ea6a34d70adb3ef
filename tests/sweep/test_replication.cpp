#include <coopsweep/sweep/replication.hpp>

#include <coopsweep/sweep/parameters.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

using namespace coopsweep;
using kernels::RunMetrics;

namespace {

std::vector<RunMetrics> runs_with(std::size_t metric, const std::vector<double>& values) {
  std::vector<RunMetrics> runs(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    runs[i].fill(0.0);
    runs[i][metric] = values[i];
  }
  return runs;
}

}  // namespace

TEST_CASE("Student's t quantiles match the tables", "[replication]") {
  // Two-sided 95% critical values (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
  CHECK(sweep::student_t_quantile(0.975, 1) == Approx(12.7062).epsilon(1e-5));
  CHECK(sweep::student_t_quantile(0.975, 2) == Approx(4.30265).epsilon(1e-5));
  CHECK(sweep::student_t_quantile(0.975, 5) == Approx(2.57058).epsilon(1e-5));
  CHECK(sweep::student_t_quantile(0.975, 10) == Approx(2.22814).epsilon(1e-5));
  CHECK(sweep::student_t_quantile(0.975, 30) == Approx(2.04227).epsilon(1e-5));
  CHECK(sweep::student_t_quantile(0.975, 1e7) == Approx(1.959964).epsilon(1e-5));
  CHECK(sweep::student_t_quantile(0.995, 7) == Approx(3.49948).epsilon(1e-5));
  CHECK(sweep::student_t_quantile(0.025, 10) == Approx(-2.22814).epsilon(1e-5));
  CHECK(sweep::student_t_quantile(0.5, 3) == 0.0);
  CHECK_THROWS_AS(sweep::student_t_quantile(1.0, 3), std::invalid_argument);
  CHECK_THROWS_AS(sweep::student_t_quantile(0.9, 0), std::invalid_argument);
}

TEST_CASE("the confidence width is that of Student's t interval, over the values that are not NaN", "[replication]") {
  const std::size_t m = 3;
  // 1, 2, 3, 4: mean 2.5, s = sqrt(5/3); width 2 t(0.975, 3) s / 2.
  const auto runs = runs_with(m, {1, 2, std::numeric_limits<double>::quiet_NaN(), 3, 4});
  CHECK(sweep::confidence_width(runs, m) == Approx(2 * 3.18245 * std::sqrt(5.0 / 3.0) / 2).epsilon(1e-5));
  CHECK(std::isinf(sweep::confidence_width(runs_with(m, {1.0}), m)));
  CHECK(std::isinf(sweep::confidence_width(runs_with(m, {1.0, std::nan("")}), m)));
  CHECK(sweep::confidence_width(runs_with(m, {0.5, 0.5, 0.5}), m) == 0.0);
}

TEST_CASE("a rule is met when every metric's interval is narrower than the target", "[replication]") {
  sweep::ReplicationSpec spec;
  spec.target_ci = 1.0;
  spec.metrics = {"cooperation", "payoff"};
  const sweep::ReplicationRule rule = sweep::replication_rule(spec);
  REQUIRE(rule.metrics == std::vector<std::size_t>{0, 3});
  std::vector<RunMetrics> runs(4);
  for (std::size_t i = 0; i < 4; ++i) {
    runs[i].fill(std::numeric_limits<double>::quiet_NaN());  // metrics outside the rule do not matter
    runs[i][0] = 0.5;
    runs[i][3] = static_cast<double>(i) * 0.1;  // width 2 t(3) 0.129 / 2 = 0.41
  }
  CHECK(sweep::precise_enough(runs, rule));
  runs[3][3] = 2.0;  // now 1.74 wide
  CHECK_FALSE(sweep::precise_enough(runs, rule));
  runs[3][3] = std::nan("");
  CHECK(sweep::precise_enough(runs, rule));  // 3 values left, 0.5 wide
  spec.metrics = {"cooperation", "nothing"};
  CHECK_THROWS_AS(sweep::replication_rule(spec), sweep::InputError);
}

TEST_CASE("replicates grow from min by doubling or by step, up to max", "[replication]") {
  sweep::ReplicationRule rule;
  rule.min = 5;
  rule.max = 50;
  CHECK(sweep::next_replicate_count(0, rule) == 5);
  CHECK(sweep::next_replicate_count(5, rule) == 10);
  CHECK(sweep::next_replicate_count(20, rule) == 40);
  CHECK(sweep::next_replicate_count(40, rule) == 50);
  rule.step = 8;
  CHECK(sweep::next_replicate_count(5, rule) == 13);
  CHECK(sweep::next_replicate_count(45, rule) == 50);
  rule.min = rule.max = 7;
  CHECK(sweep::next_replicate_count(0, rule) == 7);
}
