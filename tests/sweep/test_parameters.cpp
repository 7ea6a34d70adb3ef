#include <coopsweep/sweep/parameters.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace coopsweep;
using sweep::InputError;
using Catch::Matchers::Contains;

namespace {
std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}
}  // namespace

TEST_CASE("the parameter table is MODEL.md's with its defaults", "[parameters]") {
  CHECK(sweep::parameter_table().size() == 30);
  const kernels::ModelParams defaults;
  CHECK(sweep::get_parameter(defaults, "firms") == sweep::ParameterValue(std::int64_t{100}));
  CHECK(sweep::get_parameter(defaults, "topology") == sweep::ParameterValue(std::string("regular")));
  CHECK(sweep::get_parameter(defaults, "trust_decay") == sweep::ParameterValue(0.02));
  CHECK(sweep::get_parameter(defaults, "update_rule") == sweep::ParameterValue(std::string("none")));
  CHECK(sweep::get_parameter(defaults, "stop_on_fixation") == sweep::ParameterValue(false));
  for (const auto& info : sweep::parameter_table()) {
    CHECK_NOTHROW(sweep::get_parameter(defaults, info.name));
  }
}

TEST_CASE("set_parameter checks types and domains and names what is allowed", "[parameters]") {
  kernels::ModelParams p;
  SECTION("accepted values") {
    sweep::set_parameter(p, "scope", 0.25);
    sweep::set_parameter(p, "benefit", std::int64_t{4});  // an integer for a real
    sweep::set_parameter(p, "topology", std::string("small_world"));
    sweep::set_parameter(p, "stop_on_fixation", true);
    sweep::set_parameter(p, "firms", std::int64_t{2});
    CHECK(p.scope == 0.25);
    CHECK(p.benefit == 4.0);
    CHECK(p.topology == kernels::Topology::small_world);
    CHECK(p.stop_on_fixation);
    CHECK(p.firms == 2);
  }
  SECTION("out of domain: the message names parameter, value and domain") {
    CHECK_THAT(error_of([&] { sweep::set_parameter(p, "scope", 1.5); }),
               Contains("'scope'") && Contains("1.5") && Contains("[0, 1]"));
    CHECK_THAT(error_of([&] { sweep::set_parameter(p, "firms", std::int64_t{1}); }),
               Contains("'firms'") && Contains("= 1 ") && Contains("2 to 10^6"));
    CHECK_THAT(error_of([&] { sweep::set_parameter(p, "firms", std::int64_t{1000001}); }), Contains("'firms'"));
    CHECK_THAT(error_of([&] { sweep::set_parameter(p, "cost", -0.1); }), Contains("'cost'") && Contains(">= 0"));
    CHECK_THAT(error_of([&] { sweep::set_parameter(p, "rounds", std::int64_t{0}); }), Contains("'rounds'"));
    CHECK_THAT(error_of([&] { sweep::set_parameter(p, "error", 1.0000001); }), Contains("'error'"));
    CHECK_NOTHROW(sweep::set_parameter(p, "error", 1.0));
    CHECK_NOTHROW(sweep::set_parameter(p, "error", 0.0));
  }
  SECTION("wrong types") {
    CHECK_THAT(error_of([&] { sweep::set_parameter(p, "firms", 100.5); }),
               Contains("'firms'") && Contains("100.5") && Contains("integer"));
    CHECK_THAT(error_of([&] { sweep::set_parameter(p, "firms", 100.0); }), Contains("'firms'"));
    CHECK_THAT(error_of([&] { sweep::set_parameter(p, "scope", std::string("half")); }),
               Contains("'scope'") && Contains("'half'"));
    CHECK_THAT(error_of([&] { sweep::set_parameter(p, "topology", std::int64_t{3}); }),
               Contains("'topology'") && Contains("'ring'"));
    CHECK_THAT(error_of([&] { sweep::set_parameter(p, "topology", std::string("lattice")); }),
               Contains("'lattice'") && Contains("'small_world'"));
    CHECK_THAT(error_of([&] { sweep::set_parameter(p, "stop_on_fixation", std::int64_t{1}); }),
               Contains("'stop_on_fixation'") && Contains("true or false"));
  }
  SECTION("NaN and infinity") {
    CHECK_THAT(error_of([&] { sweep::set_parameter(p, "scope", std::nan("")); }),
               Contains("'scope'") && Contains("nan") && Contains("finite"));
    CHECK_THAT(error_of([&] { sweep::set_parameter(p, "benefit", std::numeric_limits<double>::infinity()); }),
               Contains("'benefit'") && Contains("inf"));
  }
  SECTION("unknown names, with a suggestion") {
    CHECK_THAT(error_of([&] { sweep::set_parameter(p, "scop", 0.5); }),
               Contains("unknown parameter 'scop'") && Contains("'scope'"));
    CHECK_THAT(error_of([&] { sweep::set_parameter(p, "colour", 0.5); }), Contains("unknown parameter 'colour'"));
  }
}

TEST_CASE("parse_parameter_text reads command-line values", "[parameters]") {
  CHECK(sweep::parse_parameter_text("firms", "50") == sweep::ParameterValue(std::int64_t{50}));
  CHECK(sweep::parse_parameter_text("scope", "0.5") == sweep::ParameterValue(0.5));
  CHECK(sweep::parse_parameter_text("stop_on_fixation", "true") == sweep::ParameterValue(true));
  CHECK(sweep::parse_parameter_text("topology", "ring") == sweep::ParameterValue(std::string("ring")));
  CHECK_THROWS_AS(sweep::parse_parameter_text("firms", "5x"), InputError);
  CHECK_THROWS_AS(sweep::parse_parameter_text("firms", "5.5"), InputError);
  CHECK_THROWS_AS(sweep::parse_parameter_text("scope", ""), InputError);
  CHECK_THROWS_AS(sweep::parse_parameter_text("stop_on_fixation", "yes"), InputError);
  CHECK_THROWS_AS(sweep::parse_parameter_text("nope", "1"), InputError);
  // "nan" parses as a number and is then refused by set_parameter.
  kernels::ModelParams p;
  CHECK_THROWS_AS(sweep::set_parameter(p, "scope", sweep::parse_parameter_text("scope", "nan")), InputError);
}

TEST_CASE("resolve_model applies MODEL.md's rules between parameters", "[parameters]") {
  kernels::ModelParams p;
  SECTION("partners at most N - 1") {
    p.firms = 10;
    p.partners = 10;
    CHECK_THAT(error_of([&] { sweep::resolve_model(p); }), Contains("'partners' = 10") && Contains("firms - 1 = 9"));
    p.partners = 9;
    p.topology = kernels::Topology::random;
    CHECK_NOTHROW(sweep::resolve_model(p));
  }
  SECTION("ring, small_world and scale_free need an even k") {
    p.partners = 3;
    for (auto t : {kernels::Topology::ring, kernels::Topology::small_world, kernels::Topology::scale_free}) {
      p.topology = t;
      CHECK_THAT(error_of([&] { sweep::resolve_model(p); }), Contains("'partners' = 3") && Contains("even"));
    }
    p.topology = kernels::Topology::random;
    CHECK_NOTHROW(sweep::resolve_model(p));
  }
  SECTION("regular needs N k even") {
    p.topology = kernels::Topology::regular;
    p.firms = 9;
    p.partners = 3;
    CHECK_THAT(error_of([&] { sweep::resolve_model(p); }), Contains("'partners' = 3") && Contains("firms = 9"));
    p.firms = 10;
    CHECK_NOTHROW(sweep::resolve_model(p));
  }
  SECTION("complete sets k = N - 1") {
    p.topology = kernels::Topology::complete;
    p.firms = 7;
    p.partners = 2;
    CHECK(sweep::resolve_model(p).partners == 6);
  }
  SECTION("window at most T") {
    p.rounds = 10;
    p.window = 11;
    CHECK_THAT(error_of([&] { sweep::resolve_model(p); }), Contains("'window' = 11") && Contains("rounds = 10"));
  }
  SECTION("f_C + f_D <= 1") {
    p.defectors = 0.6;
    p.cooperators = 0.5;
    CHECK_THAT(error_of([&] { sweep::resolve_model(p); }), Contains("'cooperators' = 0.5") && Contains("<= 1"));
    p.defectors = 0.7;
    p.cooperators = 0.3;
    CHECK_NOTHROW(sweep::resolve_model(p));
  }
  SECTION("sizes beyond the engine's edge limit") {
    p.firms = 1000000;
    p.partners = 999998;
    CHECK_THAT(error_of([&] { sweep::resolve_model(p); }), Contains("directed alliance edges"));
  }
}

TEST_CASE("format_value gives the shortest round-trip text", "[parameters]") {
  CHECK(sweep::format_value(0.1) == "0.1");
  CHECK(sweep::format_value(1000.0) == "1000");
  CHECK(sweep::format_value(0.06000000000000001) == "0.06000000000000001");
  CHECK(sweep::format_value(std::int64_t{7}) == "7");
  CHECK(sweep::format_value(std::string("ring")) == "'ring'");
  CHECK(sweep::format_value(true) == "true");
}
