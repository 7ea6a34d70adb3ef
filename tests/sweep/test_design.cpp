#include <coopsweep/sweep/design.hpp>

#include <catch2/catch.hpp>

using namespace coopsweep;
using Catch::Matchers::Contains;

TEST_CASE("configurations are row-major over the axes with the first slowest", "[design]") {
  const auto spec = sweep::parse_spec(R"(
replicates = 3
[model]
firms = 50
[grid]
scope = [0.1, 0.2]
partners = [2, 4, 6]
topology = ["ring", "regular"]
)");
  const sweep::GridDesign design(spec);
  CHECK(design.configuration_count() == 12);
  CHECK(design.run_count() == 36);
  CHECK(design.shape() == std::vector<std::int64_t>{2, 3, 2});
  CHECK(design.coordinates(0) == std::vector<std::int64_t>{0, 0, 0});
  CHECK(design.coordinates(1) == std::vector<std::int64_t>{0, 0, 1});
  CHECK(design.coordinates(7) == std::vector<std::int64_t>{1, 0, 1});
  const auto p = design.configuration(7);
  CHECK(p.scope == 0.2);
  CHECK(p.partners == 2);
  CHECK(p.topology == kernels::Topology::regular);
  CHECK(p.firms == 50);
  CHECK(design.describe(7) == "scope=0.2, partners=2, topology='regular'");
  CHECK_NOTHROW(design.validate_all());
}

TEST_CASE("a grid with one bad combination is refused before anything runs", "[design]") {
  const auto spec = sweep::parse_spec(R"(
[grid]
scope = [0.1, 0.2, 0.3]
topology = ["regular", "ring"]
partners = [2, 3]
)");
  const sweep::GridDesign design(spec);
  try {
    design.validate_all();
    FAIL("no error");
  } catch (const sweep::InputError& error) {
    CHECK_THAT(std::string(error.what()),
               Contains("'partners' = 3") && Contains("even") && Contains("topology='ring', partners=3"));
  }
}

TEST_CASE("a grid without axes is one configuration", "[design]") {
  const sweep::GridDesign design(sweep::parse_spec("replicates = 5"));
  CHECK(design.configuration_count() == 1);
  CHECK(design.run_count() == 5);
  CHECK(design.shape().empty());
  CHECK(design.describe(0).empty());
}

TEST_CASE("each rule is checked over the product of its own axes", "[design]") {
  const auto bad_window = sweep::parse_spec(R"(
[grid]
scope = { start = 0.0, stop = 1.0, num = 50 }
rounds = [100, 10]
window = [5, 20]
)");
  try {
    sweep::GridDesign(bad_window).validate_all();
    FAIL("no error");
  } catch (const sweep::InputError& error) {
    CHECK_THAT(std::string(error.what()), Contains("'window' = 20") && Contains("rounds = 10"));
  }
  const auto too_many = sweep::parse_spec(R"(
[grid]
firms = { start = 1000, stop = 20999, num = 20000 }
partners = { start = 1, stop = 10000, num = 10000 }
)");
  CHECK_THROWS_WITH(sweep::GridDesign(too_many).validate_all(), Contains("10^8"));
}
