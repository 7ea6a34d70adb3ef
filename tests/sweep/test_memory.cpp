// The memory a sweep needs against what the machine offers (sweep/src/memory.cpp).

#include <coopsweep/sweep/memory.hpp>

#include <coopsweep/kernels/vectorized.hpp>
#include <coopsweep/sweep/parameters.hpp>
#include <coopsweep/sweep/spec.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>

using namespace coopsweep;
using Catch::Matchers::Contains;

namespace {

std::string refusal(const sweep::MemoryNeed& need, double limit) {
  try {
    sweep::check_memory(need, limit);
  } catch (const sweep::InputError& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("available_memory reads a positive, finite amount and says where from", "[memory]") {
  const sweep::MemoryBudget budget = sweep::available_memory();
  CHECK(budget.bytes > 0.0);
  CHECK(std::isfinite(budget.bytes));
  CHECK_FALSE(budget.source.empty());
}

TEST_CASE("memory_need takes the largest configuration and one run per thread", "[memory]") {
  const auto spec = sweep::parse_spec(R"(
replicates = 3
[model]
rounds = 60
window = 20
[grid]
firms = [100, 2000, 500]
partners = [4, 8]
topology = ["ring", "regular"]
scope = [0.2, 0.8]
)");
  const sweep::GridDesign design(spec);
  const sweep::MemoryNeed need = sweep::memory_need(design, false, 4);
  // A worker may keep the per-firm storage of one configuration and the
  // per-edge storage of another: the bound is the sum of the parts' maxima,
  // for the state of the kernel the runner calls (the vectorized one: the
  // reference's state and its slot layout).
  kernels::ReplicateMemory most;
  double largest = 0.0;
  for (std::int64_t c = 0; c < design.configuration_count(); ++c) {
    const kernels::ReplicateMemory m = kernels::vectorized_memory(design.configuration(c));
    CHECK(m.total() > kernels::replicate_memory(design.configuration(c)).total());
    largest = std::max(largest, m.total());
    most.graph = std::max(most.graph, m.graph);
    most.build = std::max(most.build, m.build);
    most.edges = std::max(most.edges, m.edges);
    most.firms = std::max(most.firms, m.firms);
    most.slots = std::max(most.slots, m.slots);
  }
  CHECK(need.bytes_per_run == most.total());
  CHECK(need.bytes_per_run >= largest);
  CHECK(need.largest.firms == 2000);
  CHECK(need.largest.partners == 8);
  CHECK(need.held == 4);
  CHECK(need.total() == 4 * most.total());
  CHECK(sweep::memory_need(design, false, 1000).held == design.run_count());

  SECTION("with series, their rounds count") {
    CHECK(sweep::memory_need(design, true, 4).bytes_per_run > most.total());
  }
  SECTION("one configuration: the runs it has, at most") {
    const auto one = sweep::memory_need(design.configuration(0), 3, false, 8);
    CHECK(one.held == 3);
    CHECK(one.bytes_per_run == kernels::vectorized_memory(design.configuration(0)).total());
  }
}

TEST_CASE("memory_need covers the largest rounds, window and stop_on_fixation of any configuration", "[memory]") {
  // The window buffers of stop_on_fixation grow with firms x window: the largest
  // run has the most firms, the longest window and stops, though no single axis says so.
  const auto spec = sweep::parse_spec(R"(
[model]
rounds = 400
[grid]
firms = [50, 5000]
window = [10, 300]
stop_on_fixation = [false, true]
)");
  const sweep::GridDesign design(spec);
  const sweep::MemoryNeed need = sweep::memory_need(design, false, 1);
  kernels::ModelParams worst = design.configuration(design.configuration_count() - 1);
  REQUIRE(worst.firms == 5000);
  REQUIRE(worst.window == 300);
  REQUIRE(worst.stop_on_fixation);
  CHECK(need.bytes_per_run >= kernels::vectorized_memory(worst).total());
  CHECK(need.largest.stop_on_fixation);
}

TEST_CASE("memory_need covers sampled firms, partners, rounds and window at every sample point", "[memory]") {
  // Sampled integers spread over their ranges: the largest graph is at some
  // sample point, not at the grid's, and the window buffers take the longest
  // sampled window.
  const auto spec = sweep::parse_spec(R"(
seed = 3
[model]
rounds = 300
stop_on_fixation = true
topology = "random"
[grid]
scope = [0.2, 0.8]
trust_decay = [0.0, 0.1, 0.2]
[sample]
design = "lhs"
samples = 16
[sample.ranges]
firms = [100, 4000]
partners = [2, 12]
window = [10, 200]
)");
  const sweep::GridDesign design(spec);
  design.validate_all();
  const sweep::MemoryNeed need = sweep::memory_need(design, false, 2);
  double largest = 0.0;
  for (std::int64_t c = 0; c < design.configuration_count(); ++c) {
    kernels::ModelParams p = design.configuration(c);
    largest = std::max(largest, kernels::vectorized_memory(p).total());
    p.window = 200;  // no sample point need have the longest window with the most firms
    CHECK(need.bytes_per_run >= kernels::vectorized_memory(p).total());
  }
  CHECK(need.bytes_per_run >= largest);
  CHECK(need.largest.window == 200);
  CHECK(need.held == 2);

  SECTION("sampled rounds count at their high end with series") {
    const auto long_runs = sweep::parse_spec(R"(
[sample]
design = "random"
samples = 4
[sample.ranges]
rounds = [100, 5000]
)");
    const sweep::GridDesign sampled(long_runs);
    kernels::ModelParams p = sampled.configuration(0);
    p.rounds = 5000;
    CHECK(sweep::memory_need(sampled, true, 1).bytes_per_run >= kernels::vectorized_memory(p, true).total());
  }
}

TEST_CASE("check_memory refuses a need above the limit with the parameters, the sizes and the limit",
          "[memory]") {
  kernels::ModelParams p;
  p.firms = 1000000;
  p.partners = 1000;
  const sweep::MemoryNeed need = sweep::memory_need(p, 64, false, 2);
  CHECK(need.bytes_per_run > 2e10);  // 10^9 directed edges: tens of GB

  const std::string message = refusal(need, 1e9);
  CHECK_THAT(message, Contains("firms = 1000000") && Contains("partners = 1000") &&
                          Contains("topology = 'regular'") && Contains("GB of memory per run") &&
                          Contains("for the 2 runs that 2 threads hold at once") &&
                          Contains("allowed: at most 1 GB (the memory limit asked for)"));
  CHECK(refusal(need, 1e15).empty());

  SECTION("the window and the series are named where they count") {
    p.stop_on_fixation = true;
    p.window = 50;
    const std::string with_window = refusal(sweep::memory_need(p, 1, true, 1), 1e6);
    CHECK_THAT(with_window, Contains("window = 50 (stop_on_fixation") && Contains("rounds = 200 (timeseries)"));
    CHECK_THAT(with_window, !Contains("threads hold"));
  }
  SECTION("without a limit, what the machine offers") {
    // Needs far more than any machine has: 64 threads of a 10^9-edge graph.
    const std::string machine = refusal(sweep::memory_need(p, 64, false, 64), 0.0);
    CHECK_THAT(machine, Contains("allowed: at most") && Contains(sweep::available_memory().source));
    kernels::ModelParams small;
    CHECK(refusal(sweep::memory_need(small, 1, false, 1), 0.0).empty());
  }
}
