#include "coopsweep/io/file_info.hpp"

#include <catch2/catch.hpp>

#include "../support/temp_dir.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace fs = std::filesystem;
using namespace coopsweep::io;

namespace {

ResultsLayout layout() {
  ResultsLayout layout;
  layout.axes = {Axis{"scope", std::vector<double>{0.5, 1.0}, "share of activities", ""},
                 Axis{"graph", std::vector<std::string>{"ring", "grid", "tree"}, "", ""}};
  layout.replicates = 4;
  layout.metrics = {Variable{"coop", "cooperation", ""}, Variable{"pay", "payoff", "value"}};
  layout.series = {Variable{"coop_by_round", "cooperation per round", ""}};
  layout.series_length = 7;
  layout.attributes = {Attribute{"title", std::string("info test")}, Attribute{"seed", std::int64_t{5}},
                       Attribute{"host_name", std::string("here"), true}};
  return layout;
}

}  // namespace

TEST_CASE("read_file_info lists dimensions, variables and attributes in creation order", "[io][file_info]") {
  const coopsweep::testing::TempDir dir("coopsweep-test-info");
  const fs::path path = dir / "info.h5";
  ResultsFile file = ResultsFile::create(path, layout(), false);

  SECTION("of a partial file, being written") {
    const FileInfo info = read_file_info(file.partial_path());
    CHECK_FALSE(info.completed);
    REQUIRE(info.dimensions.size() == 4);
    CHECK(info.dimensions[0].name == "scope");
    CHECK(info.dimensions[0].size == 2);
    CHECK(info.dimensions[1].name == "graph");
    CHECK(info.dimensions[1].size == 3);
    CHECK(info.dimensions[2].name == "replicate");
    CHECK(info.dimensions[2].size == 4);
    CHECK(info.dimensions[3].name == "round");
    CHECK(info.dimensions[3].size == 7);
  }
  SECTION("of the finished file") {
    const std::vector<Attribute> final_attributes = {Attribute{"end_time", std::string("now"), true}};
    file.finish(final_attributes);
    const FileInfo info = read_file_info(path);
    CHECK(info.completed);
    REQUIRE(info.variables.size() == 7);
    CHECK(info.variables[0].name == "coop");
    CHECK(info.variables[0].dims == std::vector<std::string>{"scope", "graph", "replicate"});
    CHECK(info.variables[0].shape == std::vector<std::int64_t>{2, 3, 4});
    CHECK(info.variables[0].long_name == "cooperation");
    CHECK(info.variables[1].name == "coop_mean");
    CHECK(info.variables[1].dims == std::vector<std::string>{"scope", "graph"});
    CHECK(info.variables[4].name == "pay_mean");
    CHECK(info.variables[4].units == "value");
    CHECK(info.variables[6].name == "coop_by_round");
    CHECK(info.variables[6].dims == std::vector<std::string>{"scope", "graph", "replicate", "round"});
    std::vector<std::string> names;
    for (const auto& attribute : info.attributes) names.push_back(attribute.name);
    CHECK(names == std::vector<std::string>{"title", "seed", "host_name", "end_time", "completed"});
    CHECK(info.attributes[1].value == AttributeValue(std::int64_t{5}));
    CHECK(info.attributes[3].value == AttributeValue(std::string("now")));
  }
}

TEST_CASE("read_file_info names a missing file or one that is not HDF5", "[io][file_info]") {
  const coopsweep::testing::TempDir dir("coopsweep-test-info");
  CHECK_THROWS_WITH(read_file_info(dir / "none.h5"), Catch::Contains("none.h5") && Catch::Contains("does not exist"));
  std::ofstream(dir / "text.h5") << "not HDF5";
  CHECK_THROWS_WITH(read_file_info(dir / "text.h5"), Catch::Contains("is not an HDF5 file"));
}

TEST_CASE("attribute_text writes values as inspect shows them", "[io][file_info]") {
  CHECK(attribute_text(AttributeValue(std::string("ring"))) == "ring");
  CHECK(attribute_text(AttributeValue(std::int64_t{-42})) == "-42");
  CHECK(attribute_text(AttributeValue(0.1)) == "0.1");
  CHECK(attribute_text(AttributeValue(1e-5)) == "1e-05");
  CHECK(attribute_text(AttributeValue(3.0)) == "3");
}

TEST_CASE("read_variable reads a variable whole, integers as doubles, with its dimensions", "[io][file_info]") {
  const coopsweep::testing::TempDir dir("coopsweep-test-info");
  const fs::path path = dir / "info.h5";
  ResultsLayout sampled = layout();
  sampled.counts = {Variable{"runs", "", ""}};
  {
    ResultsFile file = ResultsFile::create(path, sampled, false);
    std::vector<double> values(2 * 2 * 3 * 4);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i) + 0.5;
    file.write_runs(0, 24, values);
    file.write_counts(0, 6, std::vector<std::int64_t>{1, 2, 3, 4, 5, 6});
    file.finish();
  }
  const VariableData coop = read_variable(path, "coop");
  CHECK(coop.dims == std::vector<std::string>{"scope", "graph", "replicate"});
  CHECK(coop.shape == std::vector<std::int64_t>{2, 3, 4});
  REQUIRE(coop.values.size() == 24);
  for (std::size_t i = 0; i < 24; ++i) CHECK(coop.values[i] == static_cast<double>(i) + 0.5);
  const VariableData runs = read_variable(path, "runs");
  CHECK(runs.dims == std::vector<std::string>{"scope", "graph"});
  CHECK(runs.values == std::vector<double>{1, 2, 3, 4, 5, 6});
  const VariableData scope = read_variable(path, "scope");
  CHECK(scope.values == std::vector<double>{0.5, 1.0});
  CHECK_THROWS_WITH(read_variable(path, "nothing"), Catch::Contains("has no variable 'nothing'"));
  CHECK_THROWS_WITH(read_variable(path, "graph"), Catch::Contains("variable 'graph' is not numeric"));
  CHECK_THROWS_WITH(read_variable(dir / "missing.h5", "coop"), Catch::Contains("does not exist"));
}
