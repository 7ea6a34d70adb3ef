#include <coopsweep/sweep/design.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>

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

TEST_CASE("a sample crossed with a grid: the sample point varies fastest, the same points in every cell",
          "[design][sample]") {
  const auto spec = sweep::parse_spec(R"(
seed = 4
replicates = 2
[model]
firms = 50
[grid]
topology = ["random", "regular"]
[sample]
design = "lhs"
samples = 10
[sample.ranges]
scope = [0.2, 0.6]
partners = [2, 6]
)");
  const sweep::Design design(spec);
  CHECK(design.sample_design() == sweep::SampleDesign::lhs);
  CHECK(design.sample_count() == 10);
  CHECK(design.grid_count() == 2);
  CHECK(design.configuration_count() == 20);
  CHECK(design.run_count() == 40);
  CHECK(design.shape() == std::vector<std::int64_t>{2, 10});
  CHECK(design.coordinates(13) == std::vector<std::int64_t>{1, 3});
  for (std::int64_t s = 0; s < 10; ++s) {
    const auto random_graph = design.configuration(s);
    const auto regular = design.configuration(10 + s);
    CHECK(random_graph.topology == kernels::Topology::random);
    CHECK(regular.topology == kernels::Topology::regular);
    CHECK(random_graph.scope == regular.scope);
    CHECK(random_graph.scope == std::get<double>(design.sample_value(s, 0)));
    CHECK(regular.partners == std::get<std::int64_t>(design.sample_value(s, 1)));
    CHECK((random_graph.scope >= 0.2 && random_graph.scope < 0.6));
    CHECK(random_graph.firms == 50);
    // The stored value is the unit point mapped onto the range.
    CHECK(random_graph.scope == std::lerp(0.2, 0.6, design.unit_points().at(s, 0)));
    CHECK(design.scaled_sample_value(s, 0) == Approx(design.unit_points().at(s, 0)));
  }
  // Stratified: the 10 points put two on each of the 5 integers 2..6.
  std::vector<int> counts(5);
  for (std::int64_t s = 0; s < 10; ++s) ++counts[static_cast<std::size_t>(std::get<std::int64_t>(design.sample_value(s, 1)) - 2)];
  CHECK(counts == std::vector<int>{2, 2, 2, 2, 2});
  CHECK_THAT(design.describe(13), Contains("topology='regular', sample=3, scope=") && Contains(", partners="));
}

TEST_CASE("sample points come from the spec's seed", "[design][sample]") {
  const auto text = [](int seed) {
    return "seed = " + std::to_string(seed) + "\n[sample]\ndesign = 'sobol'\nsamples = 16\n[sample.ranges]\nscope = [0, 1]";
  };
  const sweep::Design a(sweep::parse_spec(text(1)));
  CHECK(a.unit_points().values == sweep::Design(sweep::parse_spec(text(1))).unit_points().values);
  CHECK(a.unit_points().values != sweep::Design(sweep::parse_spec(text(2))).unit_points().values);
  CHECK(a.unit_points().values == sweep::scrambled_sobol(16, 1, 1).values);
  CHECK(sweep::Design(sweep::parse_spec("seed = 3\n[sample]\ndesign = 'random'\nsamples = 5\n[sample.ranges]\ncost = [0, 2]"))
            .unit_points().values == sweep::uniform_random(5, 1, 3).values);
}

TEST_CASE("Saltelli and Morris designs map their points onto the ranges", "[design][sample]") {
  const sweep::Design saltelli(sweep::parse_spec(
      "seed = 9\n[sample]\ndesign = 'saltelli'\nsamples = 8\n[sample.ranges]\nbenefit = [1, 5]\nrounds = [50, 60]"));
  CHECK(saltelli.sample_count() == 8 * 4);
  CHECK(saltelli.unit_points().values == sweep::saltelli_points(8, 2, 9).values);
  // AB_1 of base sample 3 takes benefit from B and rounds from A, also after mapping.
  CHECK(saltelli.configuration(3 * 4 + 1).benefit == saltelli.configuration(3 * 4 + 3).benefit);
  CHECK(saltelli.configuration(3 * 4 + 1).rounds == saltelli.configuration(3 * 4 + 0).rounds);

  const sweep::Design morris(sweep::parse_spec(
      "[sample]\ndesign = 'morris'\ntrajectories = 6\nlevels = 4\n[sample.ranges]\ntrust_decay = [0.1, 0.3]\n"
      "partners = [2, 8]"));
  CHECK(morris.sample_count() == 6 * 3);
  for (std::int64_t s = 0; s < morris.sample_count(); ++s) {
    const double u = morris.unit_points().at(s, 0);
    const double decay = std::get<double>(morris.sample_value(s, 0));
    // Level 1 is exactly the upper bound; the others lie on the level grid.
    if (u == 1.0) CHECK(decay == 0.3);
    CHECK(morris.scaled_sample_value(s, 0) == Approx(u));
    // Integer levels 0, 1/3, 2/3, 1 of [2, 8] are 2, 4, 6, 8.
    const std::int64_t k = std::get<std::int64_t>(morris.sample_value(s, 1));
    CHECK(k == 2 + 2 * std::llround(morris.unit_points().at(s, 1) * 3));
  }
}

TEST_CASE("every sampled point is validated like a grid point, naming the parameter and the point",
          "[design][sample]") {
  const auto error_of = [](const std::string& text) {
    try {
      sweep::Design(sweep::parse_spec(text)).validate_all();
    } catch (const sweep::InputError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  // Odd partner counts on a ring: the grid's rule, met by a sampled value.
  CHECK_THAT(error_of("[model]\ntopology = 'ring'\n[sample]\ndesign = 'lhs'\nsamples = 8\n[sample.ranges]\n"
                      "partners = [2, 9]\nscope = [0, 1]"),
             Contains("parameter 'partners' = ") && Contains("even") && Contains("(in the configuration sample="));
  CHECK_THAT(error_of("[model]\nfirms = 10\n[sample]\ndesign = 'random'\nsamples = 50\n[sample.ranges]\n"
                      "partners = [2, 12]"),
             Contains("'partners' = ") && Contains("firms - 1"));
  CHECK_THAT(error_of("[sample]\ndesign = 'lhs'\nsamples = 20\n[sample.ranges]\ncooperators = [0, 0.5]\n"
                      "defectors = [0.4, 0.9]"),
             Contains("f_C + f_D <= 1") || Contains("cooperators"));
  CHECK_THAT(error_of("[model]\nrounds = 50\n[grid]\nscope = [0.1, 0.2]\n[sample]\ndesign = 'lhs'\nsamples = 20\n"
                      "[sample.ranges]\nwindow = [10, 60]"),
             Contains("'window' = ") && Contains("sample="));
  // A sampled rounds range crossed with a grid of windows: each pairing is checked.
  CHECK_THAT(error_of("[grid]\nwindow = [5, 40]\n[sample]\ndesign = 'lhs'\nsamples = 8\n[sample.ranges]\nrounds = [10, 100]"),
             Contains("'window' = 40") && Contains("window=40, sample="));
  CHECK(error_of("[grid]\nwindow = [5, 10]\n[sample]\ndesign = 'lhs'\nsamples = 8\n[sample.ranges]\nrounds = [10, 100]")
            .empty());
  CHECK(error_of("[model]\ntopology = 'regular'\n[sample]\ndesign = 'lhs'\nsamples = 64\n[sample.ranges]\n"
                 "partners = [2, 16]\nscope = [0, 1]")
            .empty());
}

TEST_CASE("descriptions of sampled points may round the sampled reals", "[design][sample]") {
  const sweep::Design design(sweep::parse_spec(
      "[grid]\nrounds = [100]\n[sample]\ndesign = 'random'\nsamples = 3\n[sample.ranges]\nscope = [0, 1]\npartners = [2, 9]"));
  const std::string exact = design.describe(1);
  const std::string rounded = design.describe(1, 3);
  const std::string scope = sweep::format_value(design.sample_value(1, 0));
  CHECK_THAT(exact, Contains("rounds=100, sample=1, scope=" + scope + ", partners="));
  char text[32];
  std::snprintf(text, sizeof text, "scope=%.3g,", std::get<double>(design.sample_value(1, 0)));
  CHECK_THAT(rounded, Contains(text));
  CHECK(rounded.substr(rounded.find("partners=")) == exact.substr(exact.find("partners=")));
}
