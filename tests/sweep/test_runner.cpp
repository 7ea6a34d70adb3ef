#include <coopsweep/sweep/runner.hpp>

#include <coopsweep/io/results_file.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

using namespace coopsweep;
using kernels::RunMetrics;

namespace {

const char* small_grid = R"(
seed = 7
replicates = 5
[model]
firms = 30
rounds = 40
window = 10
error = 0.05
size_spread = 0.3
[grid]
topology = ["ring", "small_world", "scale_free", "random"]
scope = [0.2, 0.8]
trust_decay = [0.0, 0.1]
)";

std::vector<RunMetrics> collect(const sweep::GridDesign& design, std::uint64_t seed, int threads,
                                std::int64_t block_size) {
  std::vector<RunMetrics> out(static_cast<std::size_t>(design.run_count()));
  std::int64_t expected_next = 0;
  sweep::ExecutionOptions options;
  options.threads = threads;
  options.block_size = block_size;
  sweep::run_design(design, seed, options, [&](std::int64_t first, std::span<const RunMetrics> runs) {
    REQUIRE(first == expected_next);  // blocks arrive in run order
    expected_next += static_cast<std::int64_t>(runs.size());
    std::copy(runs.begin(), runs.end(), out.begin() + first);
  });
  REQUIRE(expected_next == design.run_count());
  return out;
}

bool bitwise_equal(const std::vector<RunMetrics>& a, const std::vector<RunMetrics>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(RunMetrics)) == 0;
}

}  // namespace

TEST_CASE("results do not depend on thread count or block size", "[runner][determinism]") {
  const auto spec = sweep::parse_spec(small_grid);
  const sweep::GridDesign design(spec);
  const auto reference = collect(design, spec.seed, 1, 1);
  CHECK(bitwise_equal(reference, collect(design, spec.seed, 2, 0)));
  CHECK(bitwise_equal(reference, collect(design, spec.seed, 2, 7)));
  CHECK(bitwise_equal(reference, collect(design, spec.seed, 4, 1000)));
  SECTION("another seed gives other results") {
    CHECK_FALSE(bitwise_equal(reference, collect(design, spec.seed + 1, 2, 0)));
  }
}

TEST_CASE("one configuration re-run alone gives the sweep's numbers", "[runner][determinism]") {
  const auto spec = sweep::parse_spec(small_grid);
  const sweep::GridDesign design(spec);
  const auto all = collect(design, spec.seed, 2, 0);
  for (std::int64_t configuration : {0, 5, 15}) {
    const auto alone = sweep::simulate(design.configuration(configuration), spec.seed, design.replicates(),
                                       configuration, sweep::ExecutionOptions{});
    const std::vector<RunMetrics> slice(all.begin() + configuration * design.replicates(),
                                        all.begin() + (configuration + 1) * design.replicates());
    CHECK(bitwise_equal(alone, slice));
  }
}

TEST_CASE("summarize_replicates gives mean and sample deviation and skips NaN", "[runner]") {
  std::vector<RunMetrics> runs(3);
  for (std::size_t r = 0; r < 3; ++r) runs[r].fill(static_cast<double>(r + 1));  // 1, 2, 3
  runs[1][4] = std::nan("");                                                     // payoff_gini of one replicate
  for (auto& run : runs) run[9] = std::nan("");                                  // freerider_gap everywhere
  std::array<double, kernels::metric_count> mean{}, sd{};
  sweep::summarize_replicates(runs, mean, sd);
  CHECK(mean[0] == 2.0);
  CHECK(sd[0] == 1.0);
  CHECK(mean[4] == 2.0);  // (1 + 3) / 2
  CHECK(sd[4] == Approx(std::sqrt(2.0)));
  CHECK(std::isnan(mean[9]));
  CHECK(std::isnan(sd[9]));
  SECTION("one replicate has no deviation") {
    sweep::summarize_replicates(std::span(runs).first(1), mean, sd);
    CHECK(mean[0] == 1.0);
    CHECK(std::isnan(sd[0]));
  }
}

TEST_CASE("a stop request ends the run early and leaves only a partial file", "[runner]") {
  const auto dir = std::filesystem::temp_directory_path() / ("coopsweep-runner-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "stopped.h5";
  std::atomic<bool> stop{false};
  sweep::ExecutionOptions options;
  options.threads = 1;
  options.block_size = 1;
  options.stop = &stop;
  options.on_progress = [&](std::int64_t done, std::int64_t) {
    if (done >= 3) stop = true;
  };
  CHECK_THROWS_AS(sweep::write_sweep(sweep::parse_spec(small_grid), path, false, options), sweep::Interrupted);
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(std::filesystem::exists(path.string() + ".partial"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("write_sweep refuses a bad spec before creating anything", "[runner]") {
  const auto dir = std::filesystem::temp_directory_path() / ("coopsweep-runner-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "bad.h5";
  const auto spec = sweep::parse_spec("[grid]\ntopology = ['ring']\npartners = [3]");
  CHECK_THROWS_AS(sweep::write_sweep(spec, path, false, {}), sweep::InputError);
  CHECK(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}
