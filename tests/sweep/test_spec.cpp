#include <coopsweep/sweep/spec.hpp>

#include <catch2/catch.hpp>

#include <filesystem>

using namespace coopsweep;
using Catch::Matchers::Contains;
using sweep::InputError;

namespace {
std::string error_of(std::string_view text) {
  try {
    sweep::parse_spec(text, "test.toml");
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}
}  // namespace

TEST_CASE("the spec of the issue parses into axes in file order", "[spec]") {
  const auto spec = sweep::parse_spec(R"(
seed = 42
replicates = 16
[model]
firms = 100
topology = "regular"
[grid]
scope = [0.0, 0.25, 0.5, 0.75, 1.0]
partners = [2, 4, 8]
trust_decay = { start = 0.0, stop = 0.2, num = 11 }
[output]
path = "results.h5"
)");
  CHECK(spec.seed == 42);
  CHECK(spec.replicates == 16);
  CHECK(spec.model.firms == 100);
  REQUIRE(spec.axes.size() == 3);
  CHECK(spec.axes[0].name == "scope");
  CHECK(spec.axes[1].name == "partners");
  CHECK(spec.axes[2].name == "trust_decay");
  CHECK(spec.axes[1].values[2] == sweep::ParameterValue(std::int64_t{8}));
  REQUIRE(spec.axes[2].values.size() == 11);
  // numpy.linspace(0, 0.2, 11): start + i * step, the last value exactly stop.
  for (int i = 0; i < 10; ++i) CHECK(std::get<double>(spec.axes[2].values[i]) == i * (0.2 / 10));
  CHECK(std::get<double>(spec.axes[2].values[10]) == 0.2);
  CHECK(spec.output_path == "results.h5");
  CHECK(spec.text.find("trust_decay") != std::string::npos);
}

TEST_CASE("defaults are seed 0 and one replicate and no axes", "[spec]") {
  const auto spec = sweep::parse_spec("");
  CHECK(spec.seed == 0);
  CHECK(spec.replicates == 1);
  CHECK(spec.axes.empty());
  CHECK(spec.output_path.empty());
}

TEST_CASE("integer ranges and lists of every kind", "[spec]") {
  const auto spec = sweep::parse_spec(R"(
[grid]
topology = ["ring", "complete"]
firms = { start = 10, stop = 40, num = 4 }
stop_on_fixation = [false, true]
benefit = [1, 2.5]
)");
  CHECK(spec.axes[0].values[1] == sweep::ParameterValue(std::string("complete")));
  CHECK(spec.axes[1].values[3] == sweep::ParameterValue(std::int64_t{40}));
  CHECK(spec.axes[2].values[1] == sweep::ParameterValue(true));
  CHECK(spec.axes[3].values[0] == sweep::ParameterValue(std::int64_t{1}));
}

TEST_CASE("bad specs are refused with one line naming what is wrong", "[spec]") {
  SECTION("malformed TOML gives the place") {
    CHECK_THAT(error_of("seed = = 4"), Contains("malformed TOML") && Contains("line 1"));
    CHECK_THAT(error_of("[grid\nscope = [0.1]"), Contains("malformed TOML"));
  }
  SECTION("unknown keys and sections") {
    CHECK_THAT(error_of("seeds = 4"), Contains("unknown key 'seeds'") && Contains("allowed"));
    CHECK_THAT(error_of("[model]\nscop = 0.5"), Contains("unknown parameter 'scop'") && Contains("'scope'"));
    CHECK_THAT(error_of("[grid]\nfoo = [1]"), Contains("unknown parameter 'foo'"));
    CHECK_THAT(error_of("[output]\nformat = 'nc'"), Contains("unknown key 'format'"));
    CHECK_THAT(error_of("model = 3"), Contains("'model'") && Contains("table"));
  }
  SECTION("wrong types") {
    CHECK_THAT(error_of("[model]\nfirms = 'many'"), Contains("'firms'") && Contains("'many'"));
    CHECK_THAT(error_of("[model]\nfirms = 10.5"), Contains("'firms'") && Contains("10.5"));
    CHECK_THAT(error_of("[model]\nscope = [0.5]"), Contains("'scope'"));
    CHECK_THAT(error_of("seed = 'x'"), Contains("'seed'"));
    CHECK_THAT(error_of("replicates = 1.5"), Contains("'replicates'"));
    CHECK_THAT(error_of("[grid]\nscope = 0.5"), Contains("'scope'") && Contains("list"));
    CHECK_THAT(error_of("[output]\npath = 5"), Contains("path"));
  }
  SECTION("out of domain, NaN and infinity") {
    CHECK_THAT(error_of("[model]\nscope = 2.0"), Contains("'scope' = 2") && Contains("[0, 1]"));
    CHECK_THAT(error_of("[model]\nscope = nan"), Contains("'scope' = nan"));
    CHECK_THAT(error_of("[model]\nbenefit = inf"), Contains("'benefit' = inf"));
    CHECK_THAT(error_of("[grid]\nscope = [0.5, nan]"), Contains("'scope' = nan"));
    CHECK_THAT(error_of("[grid]\ntrust_decay = { start = 0.0, stop = 2.0, num = 3 }"), Contains("'trust_decay'"));
    CHECK_THAT(error_of("replicates = 0"), Contains("'replicates' = 0"));
    CHECK_THAT(error_of("seed = -1"), Contains("'seed' = -1"));
  }
  SECTION("empty, repeated or malformed axes") {
    CHECK_THAT(error_of("[grid]\nscope = []"), Contains("'scope'") && Contains("empty"));
    CHECK_THAT(error_of("[grid]\nscope = [0.5, 0.5]"), Contains("repeats"));
    CHECK_THAT(error_of("[grid]\nscope = { start = 0.0, stop = 1.0, num = 0 }"), Contains("'num'"));
    CHECK_THAT(error_of("[grid]\nscope = { start = 0.0, stop = 1.0 }"), Contains("'num'"));
    CHECK_THAT(error_of("[grid]\nscope = { start = 0.0, stop = 1.0, num = 3, step = 1 }"), Contains("'step'"));
    CHECK_THAT(error_of("[grid]\npartners = { start = 2, stop = 8, num = 5 }"), Contains("not an integer"));
    CHECK_THAT(error_of("[grid]\ntopology = { start = 0, stop = 1, num = 2 }"), Contains("list"));
  }
  SECTION("a parameter both fixed and swept") {
    CHECK_THAT(error_of("[model]\nscope = 0.5\n[grid]\nscope = [0.1]"), Contains("both"));
  }
}

TEST_CASE("load_spec reads files and reports unreadable ones", "[spec]") {
  CHECK_THROWS_AS(sweep::load_spec("/nonexistent/spec.toml"), InputError);
}
