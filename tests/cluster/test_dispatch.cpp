#include <coopsweep/cluster/dispatch.hpp>

#include <coopsweep/sweep/parameters.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <map>
#include <vector>

using namespace coopsweep;
using cluster::Dispatcher;
using Reply = Dispatcher::Reply;

TEST_CASE("the dispatcher hands out blocks of the spans in order", "[cluster][dispatch]") {
  Dispatcher d({{0, 5}, {10, 0}, {20, 3}}, 2, 1000);
  std::vector<sweep::RunRange> out;
  for (int i = 0; i < 5; ++i) {
    const auto a = d.assign(i % 2);
    REQUIRE(a.reply == Reply::block);
    out.push_back(a.range);
  }
  CHECK(out == std::vector<sweep::RunRange>{{0, 2}, {2, 2}, {4, 1}, {20, 2}, {22, 1}});
  // Everything is out: more work may only come back, so the answer is to wait.
  CHECK(d.assign(0).reply == Reply::wait);
  CHECK(d.held_runs() == 8);
  CHECK_FALSE(d.done());
}

TEST_CASE("results are released in run order, whatever order they come back in", "[cluster][dispatch]") {
  Dispatcher d({{0, 6}}, 2, 1000);
  REQUIRE(d.assign(0).range == sweep::RunRange{0, 2});
  REQUIRE(d.assign(1).range == sweep::RunRange{2, 2});
  REQUIRE(d.assign(2).range == sweep::RunRange{4, 2});
  d.complete(2, 4);
  d.complete(1, 2);
  CHECK_FALSE(d.release().has_value());  // block 0 is still out
  d.complete(0, 0);
  CHECK(d.release() == sweep::RunRange{0, 2});
  CHECK(d.release() == sweep::RunRange{2, 2});
  CHECK(d.release() == sweep::RunRange{4, 2});
  CHECK_FALSE(d.release().has_value());
  CHECK(d.done());
  CHECK(d.assign(1).reply == Reply::none);
  CHECK(d.held_runs() == 0);
  REQUIRE(d.stats().size() == 3);
  CHECK(d.stats()[2].blocks == 1);
  CHECK(d.stats()[2].runs == 2);
}

TEST_CASE("the window bounds the runs out or waiting, but one block may always go", "[cluster][dispatch]") {
  Dispatcher d({{0, 100}}, 10, 25);
  REQUIRE(d.assign(0).reply == Reply::block);  // 0..9
  REQUIRE(d.assign(1).reply == Reply::block);  // 10..19
  CHECK(d.assign(2).reply == Reply::wait);     // 30 > 25
  d.complete(1, 10);
  CHECK(d.assign(2).reply == Reply::wait);     // still held, not released: block 0 is slow
  d.complete(0, 0);
  CHECK(d.release() == sweep::RunRange{0, 10});
  CHECK(d.release() == sweep::RunRange{10, 10});
  CHECK(d.held_runs() == 0);
  CHECK(d.assign(2).range == sweep::RunRange{20, 10});
  SECTION("a window smaller than a block still makes progress") {
    Dispatcher small({{0, 30}}, 10, 3);
    CHECK(small.assign(0).reply == Reply::block);
    CHECK(small.assign(1).reply == Reply::wait);
    small.complete(0, 0);
    REQUIRE(small.release().has_value());
    CHECK(small.assign(1).reply == Reply::block);
  }
}

TEST_CASE("the blocks of a worker that leaves go to the others first", "[cluster][dispatch]") {
  Dispatcher d({{0, 8}}, 2, 1000);
  d.assign(0);                 // 0..1
  d.assign(1);                 // 2..3
  d.assign(1);                 // 4..5
  d.complete(1, 2);
  CHECK(d.leave(1) == 1);      // 4..5 undone; 2..3 came back and stays
  CHECK(d.assign(0).range == sweep::RunRange{4, 2});
  CHECK(d.assign(0).range == sweep::RunRange{6, 2});
  CHECK_THROWS_AS(d.complete(1, 4), std::logic_error);  // no longer its block
  d.complete(0, 0);
  d.complete(0, 4);
  d.complete(0, 6);
  std::vector<sweep::RunRange> released;
  while (auto r = d.release()) released.push_back(*r);
  CHECK(released == std::vector<sweep::RunRange>{{0, 2}, {2, 2}, {4, 2}, {6, 2}});
  CHECK(d.done());
}

TEST_CASE("a stopped dispatcher hands out nothing and releases up to the first gap", "[cluster][dispatch]") {
  Dispatcher d({{0, 10}}, 2, 1000);
  d.assign(0);
  d.assign(1);
  d.assign(2);
  d.stop();
  CHECK(d.stopped());
  CHECK(d.assign(0).reply == Reply::none);
  d.complete(0, 0);
  d.complete(2, 4);
  d.leave(1);  // its block is not handed out again
  CHECK(d.assign(2).reply == Reply::none);
  CHECK(d.release() == sweep::RunRange{0, 2});
  CHECK_FALSE(d.release().has_value());
  CHECK_FALSE(d.done());
}

TEST_CASE("the dispatcher refuses what was never handed out", "[cluster][dispatch]") {
  CHECK_THROWS_AS(Dispatcher({{0, 4}}, 0, 10), std::invalid_argument);
  Dispatcher d({{0, 4}}, 2, 10);
  CHECK_THROWS_AS(d.complete(0, 0), std::logic_error);
  d.assign(0);
  CHECK_THROWS_AS(d.complete(1, 0), std::logic_error);
  CHECK_THROWS_AS(d.complete(0, 1), std::logic_error);
  d.complete(0, 0);
  CHECK_THROWS_AS(d.complete(0, 0), std::logic_error);  // twice
  CHECK_THROWS_AS(d.assign(-1), std::logic_error);
  Dispatcher empty({}, 2, 10);
  CHECK(empty.done());
  CHECK(empty.assign(0).reply == Reply::none);
}

// ---------------------------------------------------------------------------

namespace {

const char* spec_text = R"(
seed = 2
replicates = 4
[model]
firms = 20
rounds = 20
window = 5
[grid]
scope = [0.2, 0.5, 0.8]
[output]
timeseries = true
)";

std::map<std::int64_t, cluster::BlockPayload> drain(cluster::LocalWorker& worker) {
  std::map<std::int64_t, cluster::BlockPayload> out;
  while (!worker.finished()) {
    while (auto payload = worker.take()) out.emplace(payload->range.first, std::move(*payload));
    worker.wait(std::chrono::milliseconds(10));
  }
  return out;
}

}  // namespace

TEST_CASE("a local worker computes the blocks it is given, as the sweep computes them", "[cluster][dispatch]") {
  const auto spec = sweep::parse_spec(spec_text);
  std::vector<kernels::RunMetrics> reference(12);
  std::vector<double> series;
  const sweep::RunRange all{0, 12};
  sweep::compute_spans(spec, {}, std::span(&all, 1), [&](const sweep::BlockResults& block) {
    std::copy(block.runs.begin(), block.runs.end(), reference.begin() + block.first_run);
  });
  sweep::ExecutionOptions options;
  options.threads = 2;
  cluster::LocalWorker worker(spec, options);
  worker.give({8, 4});
  worker.give({0, 3});
  worker.give({3, 5});
  worker.close();
  const auto results = drain(worker);
  CHECK_FALSE(worker.error());
  CHECK(worker.abandoned().empty());
  REQUIRE(results.size() == 3);
  for (const auto& [first, payload] : results) {
    REQUIRE(payload.runs.size() == static_cast<std::size_t>(payload.range.count));
    CHECK(payload.series.size() == 4 * 20 * payload.runs.size());
    CHECK(std::memcmp(payload.runs.data(), reference.data() + first, payload.runs.size() * sizeof(kernels::RunMetrics)) == 0);
  }
}

TEST_CASE("a stopped local worker ends and tells which blocks it never started", "[cluster][dispatch]") {
  const auto spec = sweep::parse_spec(spec_text);
  std::atomic<bool> stop{true};
  sweep::ExecutionOptions options;
  options.threads = 1;
  options.stop = &stop;
  cluster::LocalWorker worker(spec, options);
  worker.give({0, 2});
  worker.give({2, 2});
  const auto results = drain(worker);  // ends without close(): the stop is seen
  CHECK(results.empty());
  CHECK(worker.abandoned() == std::vector<sweep::RunRange>{{0, 2}, {2, 2}});
  CHECK_FALSE(worker.error());
  SECTION("a failing block ends it with the error") {
    stop = false;
    cluster::LocalWorker failing(spec, options);
    failing.give({10, 5});  // beyond the sweep's 12 runs: configuration 3 does not exist
    failing.close();
    drain(failing);
    CHECK(failing.error() != nullptr);
  }
}
