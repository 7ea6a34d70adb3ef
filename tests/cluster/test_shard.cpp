#include <coopsweep/cluster/shard.hpp>

#include <coopsweep/sweep/parameters.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

using namespace coopsweep;
using cluster::Shard;

TEST_CASE("parse_shard reads I/N with 0 <= I < N", "[cluster][shard]") {
  CHECK(cluster::parse_shard("0/1") == Shard{0, 1});
  CHECK(cluster::parse_shard("3/4") == Shard{3, 4});
  CHECK(cluster::parse_shard("41/1000") == Shard{41, 1000});
  for (const char* bad : {"", "4/4", "5/4", "-1/4", "1/0", "1", "1/", "/4", "a/4", "1/4x", "1 /4", "1.0/4", "1/4/5"}) {
    INFO("'" << bad << "'");
    CHECK_THROWS_WITH(cluster::parse_shard(bad), Catch::Contains("--shard '" + std::string(bad) + "' is not I/N") &&
                                                      Catch::Contains("SLURM_ARRAY_TASK_ID"));
  }
}

TEST_CASE("shards deal stripes round-robin and cover every run exactly once", "[cluster][shard]") {
  for (const std::int64_t runs : {1, 2, 7, 64, 100, 1000, 12345, 100003}) {
    for (const std::int64_t count : {1, 2, 3, 7, 64, 200}) {
      if (count > runs) continue;
      INFO(runs << " runs in " << count << " shards");
      const std::int64_t stripe = cluster::shard_stripe(runs, count);
      CHECK(stripe == std::max<std::int64_t>(1, (runs + 64 * count - 1) / (64 * count)));
      std::vector<int> owner(static_cast<std::size_t>(runs), -1);
      std::int64_t smallest = runs;
      std::int64_t largest = 0;
      for (std::int64_t index = 0; index < count; ++index) {
        const auto ranges = cluster::shard_ranges(runs, {index, count});
        std::int64_t mine = 0;
        std::int64_t previous_end = -1;
        bool disjoint = true;
        bool positions = true;
        for (const sweep::RunRange& range : ranges) {
          // Ascending; adjacent only when one shard holds everything.
          CHECK((count == 1 ? range.first >= previous_end : range.first > previous_end));
          CHECK(range.count >= 1);
          CHECK(range.count <= stripe);
          previous_end = range.first + range.count;
          for (std::int64_t r = range.first; r < range.first + range.count; ++r) {
            disjoint = disjoint && owner[static_cast<std::size_t>(r)] == -1;
            owner[static_cast<std::size_t>(r)] = static_cast<int>(index);
            // shard_position agrees with the ranges: the shard and the index in its file.
            const auto at = cluster::shard_position(runs, count, r);
            positions = positions && at.shard == index && at.index == mine;
            ++mine;
          }
        }
        CHECK(disjoint);
        CHECK(positions);
        CHECK(mine >= 1);  // no empty shard
        smallest = std::min(smallest, mine);
        largest = std::max(largest, mine);
      }
      CHECK(std::count(owner.begin(), owner.end(), -1) == 0);
      // Balanced to within one stripe.
      CHECK(largest - smallest <= stripe);
    }
  }
}

TEST_CASE("a shard spreads over the whole sweep, not one end of it", "[cluster][shard]") {
  // 4 x 1000 runs in 4 shards: every shard holds runs of every quarter, so a
  // cost that grows along the slowest axis falls on all shards alike.
  const std::int64_t runs = 4000;
  for (std::int64_t index = 0; index < 4; ++index) {
    std::vector<std::int64_t> per_quarter(4, 0);
    for (const auto& range : cluster::shard_ranges(runs, {index, 4})) {
      for (std::int64_t r = range.first; r < range.first + range.count; ++r) ++per_quarter[static_cast<std::size_t>(r / 1000)];
    }
    for (const std::int64_t n : per_quarter) CHECK(n == Approx(250).margin(16));
  }
}

TEST_CASE("shard_ranges refuses shards that do not exist or would be empty", "[cluster][shard]") {
  CHECK_THROWS_WITH(cluster::shard_ranges(10, {11, 11}), Catch::Contains("does not exist"));
  CHECK_THROWS_WITH(cluster::shard_ranges(10, {0, 11}),
                    Catch::Contains("the sweep has only 10 runs") && Catch::Contains("at most 10 shards"));
  CHECK_THROWS_AS(cluster::shard_ranges(10, {-1, 2}), sweep::InputError);
  CHECK_THROWS_AS(cluster::shard_ranges(10, {0, 0}), sweep::InputError);
  CHECK(cluster::shard_ranges(10, {9, 10}) == std::vector<sweep::RunRange>{{9, 1}});
}

TEST_CASE("shard_store sets the subset and the attributes that identify a shard", "[cluster][shard]") {
  const auto spec = sweep::parse_spec("replicates = 5\n[grid]\nscope = [0.1, 0.2, 0.3, 0.4]\n");
  sweep::StoreOptions base;
  base.checkpoint_interval = 3.0;
  const sweep::StoreOptions store = cluster::shard_store(spec, {1, 3}, base);
  CHECK(store.checkpoint_interval == 3.0);
  CHECK(store.subset == cluster::shard_ranges(20, {1, 3}));
  REQUIRE(store.attributes.size() == 2);
  CHECK(store.attributes[0].name == "shard_index");
  CHECK(store.attributes[0].value == io::AttributeValue{std::int64_t{1}});
  CHECK_FALSE(store.attributes[0].provenance);
  CHECK(store.attributes[1].name == "shard_count");
  CHECK(store.attributes[1].value == io::AttributeValue{std::int64_t{3}});
  CHECK_THROWS_AS(cluster::shard_store(spec, {0, 21}, base), sweep::InputError);
}

TEST_CASE("shard_store refuses adaptive replication, whose configurations a shard would cut", "[cluster][shard]") {
  const auto spec = sweep::parse_spec(
      "[grid]\nscope = [0.1, 0.2]\n[replication]\ntarget_ci = 0.1\nmin = 4\nmax = 16\n");
  CHECK_THROWS_WITH(cluster::shard_store(spec, {0, 2}, {}),
                    Catch::Contains("--shard 0/2: adaptive replication ([replication]) cannot be sharded"));
}
