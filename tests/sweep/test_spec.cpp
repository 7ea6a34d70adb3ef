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

TEST_CASE("a sample section parses a design, its size and ranges in file order", "[spec][sample]") {
  const auto spec = sweep::parse_spec(R"(
[grid]
topology = ["ring", "regular"]
[sample]
design = "lhs"
samples = 1024
[sample.ranges]
scope = [0.0, 1.0]
trust_decay = [0, 0.2]
partners = [2, 16]
)");
  CHECK(spec.sample.design == sweep::SampleDesign::lhs);
  CHECK(spec.sample.samples == 1024);
  CHECK(spec.sample.points() == 1024);
  REQUIRE(spec.sample.parameters.size() == 3);
  CHECK(spec.sample.parameters[0].name == "scope");
  CHECK(spec.sample.parameters[1].name == "trust_decay");
  CHECK(spec.sample.parameters[2].name == "partners");
  // Real ranges are doubles however written; integer ranges stay integers.
  CHECK(spec.sample.parameters[1].low == sweep::ParameterValue(0.0));
  CHECK(spec.sample.parameters[2].high == sweep::ParameterValue(std::int64_t{16}));
  CHECK(sweep::design_name(spec.sample.design) == "lhs");
  CHECK(sweep::parse_spec("").sample.design == sweep::SampleDesign::none);
  CHECK(sweep::parse_spec("").sample.points() == 0);

  const auto saltelli = sweep::parse_spec("[sample]\ndesign = 'saltelli'\nsamples = 64\n[sample.ranges]\n"
                                          "scope = [0, 1]\ncost = [0.5, 2]\nbenefit = [1, 5]");
  CHECK(saltelli.sample.points() == 64 * 5);
  const auto morris = sweep::parse_spec("[sample]\ndesign = 'morris'\ntrajectories = 10\nlevels = 6\n"
                                        "[sample.ranges]\nscope = [0, 1]\ncost = [0.5, 2]");
  CHECK(morris.sample.trajectories == 10);
  CHECK(morris.sample.levels == 6);
  CHECK(morris.sample.points() == 10 * 3);
  CHECK(sweep::parse_spec("[sample]\ndesign = 'morris'\ntrajectories = 3\n[sample.ranges]\nscope = [0, 1]")
            .sample.levels == 4);
}

TEST_CASE("bad sample sections are refused with one line naming what is wrong", "[spec][sample]") {
  const auto with = [](const std::string& sample, const std::string& ranges = "scope = [0.0, 1.0]") {
    return error_of("[sample]\n" + sample + "\n[sample.ranges]\n" + ranges);
  };
  CHECK_THAT(with("design = 'grid'\nsamples = 4"),
             Contains("'[sample] design' = 'grid'") && Contains("'lhs', 'sobol', 'random', 'saltelli', 'morris'"));
  CHECK_THAT(with("samples = 4"), Contains("'[sample] design' = missing"));
  CHECK_THAT(with("design = 'lhs'"), Contains("needs '[sample] samples'"));
  CHECK_THAT(with("design = 'lhs'\nsamples = 0"), Contains("'samples' = 0") && Contains("1 to 2^22"));
  CHECK_THAT(with("design = 'lhs'\nsamples = 4\nsize = 3"), Contains("unknown key 'size' in [sample]"));
  CHECK_THAT(with("design = 'sobol'\nsamples = 100"),
             Contains("'[sample] samples' = 100") && Contains("a power of 2") && Contains("64 or 128"));
  CHECK_THAT(with("design = 'saltelli'\nsamples = 1000"), Contains("a power of 2"));
  CHECK_THAT(with("design = 'morris'\nsamples = 8"), Contains("does not apply to design 'morris'"));
  CHECK_THAT(with("design = 'morris'"), Contains("needs '[sample] trajectories'"));
  CHECK_THAT(with("design = 'morris'\ntrajectories = 4\nlevels = 5"), Contains("'[sample] levels' = 5") && Contains("even"));
  CHECK_THAT(with("design = 'lhs'\nsamples = 4\nlevels = 4"), Contains("does not apply to design 'lhs'"));
  CHECK_THAT(error_of("[sample]\ndesign = 'lhs'\nsamples = 4"), Contains("needs [sample.ranges]"));
  SECTION("ranges: unknown, unsampleable, malformed, outside the domain, empty") {
    CHECK_THAT(with("design = 'lhs'\nsamples = 4", "scop = [0, 1]"),
               Contains("unknown parameter 'scop'") && Contains("'scope'"));
    CHECK_THAT(with("design = 'lhs'\nsamples = 4", "topology = ['ring', 'regular']"),
               Contains("'topology'") && Contains("cannot be sampled") && Contains("[grid]"));
    CHECK_THAT(with("design = 'lhs'\nsamples = 4", "scope = [0.5]"), Contains("'[sample.ranges] scope'") &&
                                                                           Contains("[low, high]"));
    CHECK_THAT(with("design = 'lhs'\nsamples = 4", "scope = [0.5, 1.5]"),
               Contains("parameter 'scope' = 1.5 is not allowed; allowed: [0, 1]"));
    CHECK_THAT(with("design = 'lhs'\nsamples = 4", "partners = [2, 6.5]"), Contains("'partners' = 6.5"));
    CHECK_THAT(with("design = 'lhs'\nsamples = 4", "benefit = [-1, 2]"), Contains("'benefit' = -1"));
    CHECK_THAT(with("design = 'lhs'\nsamples = 4", "scope = [0.8, 0.2]"),
               Contains("'[sample.ranges] scope' = [0.8, 0.2]") && Contains("low < high"));
    CHECK_THAT(with("design = 'lhs'\nsamples = 4", "scope = [0.5, 0.5]"), Contains("low < high"));
    CHECK_THAT(with("design = 'morris'\ntrajectories = 4\nlevels = 6", "partners = [2, 5]"),
               Contains("fewer integers than the 6 Morris levels"));
  }
  SECTION("a parameter fixed or swept elsewhere") {
    CHECK_THAT(error_of("[model]\nscope = 0.5\n[sample]\ndesign = 'lhs'\nsamples = 4\n[sample.ranges]\nscope = [0, 1]"),
               Contains("both fixed in [model] and sampled"));
    CHECK_THAT(error_of("[grid]\nscope = [0.5]\n[sample]\ndesign = 'lhs'\nsamples = 4\n[sample.ranges]\nscope = [0, 1]"),
               Contains("both swept in [grid] and sampled"));
  }
  SECTION("too many points") {
    CHECK_THAT(with("design = 'saltelli'\nsamples = 2097152", "scope = [0, 1]\ncost = [0, 1]"),
               Contains("8388608 points (2 parameters)") && Contains("at most 2^22"));
  }
}

TEST_CASE("a replication section parses an adaptive rule that replaces replicates", "[spec][replication]") {
  const auto spec = sweep::parse_spec(R"(
[replication]
target_ci = 0.01
metrics = ["cooperation", "payoff"]
min = 4
max = 200
step = 10
)");
  CHECK(spec.replication.adaptive());
  CHECK(spec.replication.target_ci == 0.01);
  CHECK(spec.replication.metrics == std::vector<std::string>{"cooperation", "payoff"});
  CHECK(spec.replication.min == 4);
  CHECK(spec.replication.max == 200);
  CHECK(spec.replication.step == 10);
  CHECK(spec.replicates == 200);  // the replicate dimension holds the most

  const auto defaults = sweep::parse_spec("[replication]\ntarget_ci = 1");
  CHECK(defaults.replication.metrics == std::vector<std::string>{"cooperation"});
  CHECK(defaults.replication.min == 8);
  CHECK(defaults.replication.max == 1024);
  CHECK(defaults.replication.step == 0);
  CHECK(sweep::parse_spec("[replication]\ntarget_ci = 1\nmin = 2000").replication.max == 2000);
  CHECK_FALSE(sweep::parse_spec("").replication.adaptive());
}

TEST_CASE("bad replication sections are refused with one line naming what is wrong", "[spec][replication]") {
  CHECK_THAT(error_of("[replication]\nmin = 4"), Contains("'[replication] target_ci' (missing)") &&
                                                     Contains("a number > 0"));
  CHECK_THAT(error_of("[replication]\ntarget_ci = 0"), Contains("target_ci") && Contains("> 0"));
  CHECK_THAT(error_of("[replication]\ntarget_ci = nan"), Contains("target_ci"));
  CHECK_THAT(error_of("[replication]\ntarget_ci = 'small'"), Contains("target_ci"));
  CHECK_THAT(error_of("[replication]\ntarget_ci = 0.1\nmetrics = ['coop']"),
             Contains("unknown metric 'coop'") && Contains("cooperation, trust"));
  CHECK_THAT(error_of("[replication]\ntarget_ci = 0.1\nmetrics = []"), Contains("non-empty list"));
  CHECK_THAT(error_of("[replication]\ntarget_ci = 0.1\nmetrics = ['payoff', 'payoff']"), Contains("repeats 'payoff'"));
  CHECK_THAT(error_of("[replication]\ntarget_ci = 0.1\nmin = 1"), Contains("'min' = 1") && Contains("2 to 2^32"));
  CHECK_THAT(error_of("[replication]\ntarget_ci = 0.1\nmin = 10\nmax = 5"),
             Contains("'[replication] max' = 5") && Contains("at least min = 10"));
  CHECK_THAT(error_of("[replication]\ntarget_ci = 0.1\nstep = 0"), Contains("'step' = 0"));
  CHECK_THAT(error_of("[replication]\ntarget_ci = 0.1\nwidth = 3"), Contains("unknown key 'width' in [replication]"));
  CHECK_THAT(error_of("replicates = 4\n[replication]\ntarget_ci = 0.1"),
             Contains("'replicates'") && Contains("exclude each other"));
}
