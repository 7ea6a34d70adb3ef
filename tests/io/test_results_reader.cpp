#include "coopsweep/io/results_reader.hpp"

#include "coopsweep/io/results_file.hpp"

#include <catch2/catch.hpp>

#include "../support/temp_dir.hpp"

#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace coopsweep::io;
using coopsweep::testing::TempDir;

namespace {

// A finished file of a 3 x 2 grid with 4 replicates (24 runs), metric m of run
// r holding 1000 m + r, series s of run r at round t holding 100000 s + 10 r + t.
fs::path finished_file(const TempDir& dir, bool partial_only = false) {
  ResultsLayout layout;
  layout.axes = {Axis{"a", std::vector<double>{0.5, 1.5, 2.5}, "", ""},
                 Axis{"b", std::vector<std::int64_t>{10, 20}, "", ""}};
  layout.replicates = 4;
  layout.metrics = {Variable{"m0", "", ""}, Variable{"m1", "", ""}};
  layout.series = {Variable{"s0", "", ""}, Variable{"s1", "", ""}};
  layout.series_length = 3;
  const fs::path path = dir / "r.h5";
  ResultsFile file = ResultsFile::create(path, layout, false);
  std::vector<double> values, series;
  for (int m = 0; m < 2; ++m) {
    for (int r = 0; r < 24; ++r) values.push_back(1000.0 * m + r);
  }
  for (int s = 0; s < 2; ++s) {
    for (int r = 0; r < 24; ++r) {
      for (int t = 0; t < 3; ++t) series.push_back(100000.0 * s + 10.0 * r + t);
    }
  }
  file.write_runs(0, 24, values);
  file.write_series(0, 24, series);
  if (partial_only) {
    file.checkpoint(24);
    return file.partial_path();
  }
  file.finish();
  return path;
}

}  // namespace

TEST_CASE("ResultsReader reads flat row-major ranges of variables, variable-major", "[io][reader]") {
  const TempDir dir("coopsweep-test-reader");
  ResultsReader reader(finished_file(dir));
  const std::vector<std::string> metrics{"m0", "m1"};
  SECTION("ranges that start and end inside rows and span several") {
    for (const auto& [first, count] : std::vector<std::pair<std::int64_t, std::int64_t>>{
             {0, 24}, {0, 1}, {3, 6}, {5, 13}, {23, 1}, {7, 0}}) {
      INFO("first " << first << ", count " << count);
      const std::vector<double> got = reader.read(metrics, first, count);
      REQUIRE(got.size() == static_cast<std::size_t>(2 * count));
      for (std::int64_t i = 0; i < count; ++i) {
        CHECK(got[static_cast<std::size_t>(i)] == static_cast<double>(first + i));
        CHECK(got[static_cast<std::size_t>(count + i)] == 1000.0 + static_cast<double>(first + i));
      }
    }
  }
  SECTION("series: runs [r, r + n) are elements [3 r, 3 (r + n))") {
    const std::vector<double> got = reader.read(std::vector<std::string>{"s0", "s1"}, 3 * 5, 3 * 2);
    CHECK(got == std::vector<double>{50, 51, 52, 60, 61, 62, 100050, 100051, 100052, 100060, 100061, 100062});
  }
  SECTION("reads repeat and interleave between variables") {
    CHECK(reader.read(std::vector<std::string>{"m1"}, 2, 2) == std::vector<double>{1002, 1003});
    CHECK(reader.read(std::vector<std::string>{"m0"}, 2, 2) == std::vector<double>{2, 3});
    CHECK(reader.read(std::vector<std::string>{"m1"}, 2, 2) == std::vector<double>{1002, 1003});
  }
  SECTION("integer coordinates and shapes") {
    CHECK(reader.read_integers("b") == std::vector<std::int64_t>{10, 20});
    CHECK(reader.read_integers("replicate") == std::vector<std::int64_t>{0, 1, 2, 3});
    CHECK(reader.shape("m0") == std::vector<std::int64_t>{3, 2, 4});
    CHECK(reader.shape("s1") == std::vector<std::int64_t>{3, 2, 4, 3});
    CHECK(reader.path() == dir / "r.h5");
  }
}

TEST_CASE("ResultsReader reads a partial file too", "[io][reader]") {
  const TempDir dir("coopsweep-test-reader");
  ResultsReader reader(finished_file(dir, true));
  CHECK(reader.read(std::vector<std::string>{"m1"}, 22, 2) == std::vector<double>{1022, 1023});
}

TEST_CASE("ResultsReader names the file and the variable in its errors", "[io][reader]") {
  const TempDir dir("coopsweep-test-reader");
  CHECK_THROWS_WITH(ResultsReader(dir / "missing.h5"), Catch::Contains("missing.h5") && Catch::Contains("does not exist"));
  {
    std::ofstream(dir / "text.h5") << "not HDF5";
  }
  CHECK_THROWS_WITH(ResultsReader(dir / "text.h5"), Catch::Contains("is not an HDF5 file"));
  ResultsReader reader(finished_file(dir));
  CHECK_THROWS_WITH(reader.read(std::vector<std::string>{"nope"}, 0, 1),
                    Catch::Contains("r.h5") && Catch::Contains("no variable 'nope'"));
  CHECK_THROWS_WITH(reader.read(std::vector<std::string>{"m0"}, 20, 5), Catch::Contains("lie outside 'm0'"));
  CHECK_THROWS_AS(reader.read(std::vector<std::string>{"m0"}, -1, 1), ResultsFileError);
  CHECK_THROWS_WITH(reader.read_integers("m0"), Catch::Contains("is not integer"));
  CHECK_THROWS_AS(reader.shape("nope"), ResultsFileError);
}
