#include "coopsweep/io/results_file.hpp"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "../support/temp_dir.hpp"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace fs = std::filesystem;
using namespace coopsweep::io;

using coopsweep::testing::TempDir;

namespace {

// ---------------------------------------------------------------------------
// Fixtures

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// Swaps the descriptor HDF5 holds on `file` for /dev/full, which fails every
// write with ENOSPC as a full disk does. False (and a warning) where
// /proc/self/fd cannot show which descriptor that is.
bool make_disk_full(const fs::path& file) {
  const fs::path target = fs::canonical(file);
  int swapped = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd", ec)) {
    std::error_code link_error;
    if (fs::read_symlink(entry.path(), link_error) != target || link_error) continue;
    const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
    REQUIRE(full >= 0);
    REQUIRE(::dup2(full, std::stoi(entry.path().filename().string())) >= 0);
    ::close(full);
    ++swapped;
  }
  if (swapped != 1) WARN("cannot find the results file's descriptor; skipped");
  return swapped == 1;
}

// ---------------------------------------------------------------------------
// Reading back with the plain HDF5 C API, independently of the writer

struct Id {
  hid_t id;
  herr_t (*closer)(hid_t);
  Id(hid_t i, herr_t (*c)(hid_t)) : id(i), closer(c) { REQUIRE(id >= 0); }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  ~Id() { closer(id); }
  operator hid_t() const { return id; }
};

struct Reader {
  Id file;
  explicit Reader(const fs::path& path) : file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose) {}

  std::vector<hsize_t> dims(const std::string& name) const {
    const Id dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
    const Id space(H5Dget_space(dataset), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space);
    std::vector<hsize_t> out(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space, out.data(), nullptr);
    return out;
  }

  std::vector<double> doubles(const std::string& name) const {
    const Id dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
    const Id space(H5Dget_space(dataset), H5Sclose);
    std::vector<double> out(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    REQUIRE(H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0);
    return out;
  }

  std::vector<std::int64_t> int64s(const std::string& name) const {
    const Id dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
    const Id type(H5Dget_type(dataset), H5Tclose);
    CHECK(H5Tequal(type, H5T_STD_I64LE) > 0);
    const Id space(H5Dget_space(dataset), H5Sclose);
    std::vector<std::int64_t> out(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    REQUIRE(H5Dread(dataset, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0);
    return out;
  }

  std::vector<std::string> strings(const std::string& name) const {
    const Id dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
    const Id type(H5Dget_type(dataset), H5Tclose);
    CHECK(H5Tis_variable_str(type) > 0);
    CHECK(H5Tget_cset(type) == H5T_CSET_UTF8);
    const Id space(H5Dget_space(dataset), H5Sclose);
    std::vector<char*> raw(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    REQUIRE(H5Dread(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) >= 0);
    std::vector<std::string> out(raw.begin(), raw.end());
    H5Dvlen_reclaim(type, space, H5P_DEFAULT, raw.data());
    return out;
  }

  bool has_attribute(const std::string& object, const std::string& name) const {
    return H5Aexists_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT) > 0;
  }

  std::string string_attribute(const std::string& object, const std::string& name) const {
    const Id attribute(H5Aopen_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                       H5Aclose);
    const Id type(H5Aget_type(attribute), H5Tclose);
    REQUIRE(H5Tis_variable_str(type) > 0);
    CHECK(H5Tget_cset(type) == H5T_CSET_UTF8);
    const Id space(H5Aget_space(attribute), H5Sclose);
    CHECK(H5Sget_simple_extent_type(space) == H5S_SCALAR);
    char* raw = nullptr;
    REQUIRE(H5Aread(attribute, type, &raw) >= 0);
    std::string out(raw);
    H5free_memory(raw);
    return out;
  }

  template <typename T>
  T numeric_attribute(const std::string& object, const std::string& name, hid_t expected_type,
                      hid_t memory_type) const {
    const Id attribute(H5Aopen_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                       H5Aclose);
    const Id type(H5Aget_type(attribute), H5Tclose);
    CHECK(H5Tequal(type, expected_type) > 0);
    T out{};
    REQUIRE(H5Aread(attribute, memory_type, &out) >= 0);
    return out;
  }

  // Checks that `completed` is an int8 flag (netCDF has no boolean) and returns it.
  bool completed() const {
    const Id attribute(H5Aopen(file, "completed", H5P_DEFAULT), H5Aclose);
    const Id type(H5Aget_type(attribute), H5Tclose);
    REQUIRE(H5Tget_class(type) == H5T_INTEGER);
    REQUIRE(H5Tget_size(type) == 1);
    std::int8_t value = -1;
    REQUIRE(H5Aread(attribute, H5T_NATIVE_INT8, &value) >= 0);
    REQUIRE((value == 0 || value == 1));
    return value == 1;
  }

  std::string scale_name(const std::string& name) const {
    const Id dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
    REQUIRE(H5DSis_scale(dataset) > 0);
    char buffer[256] = {};
    REQUIRE(H5DSget_scale_name(dataset, buffer, sizeof buffer) > 0);
    return buffer;
  }

  bool is_attached(const std::string& variable, const std::string& scale, unsigned index) const {
    const Id dataset(H5Dopen2(file, variable.c_str(), H5P_DEFAULT), H5Dclose);
    const Id scale_dataset(H5Dopen2(file, scale.c_str(), H5P_DEFAULT), H5Dclose);
    return H5DSis_attached(dataset, scale_dataset, index) > 0;
  }

  std::vector<hsize_t> chunk(const std::string& name) const {
    const Id dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
    const Id dcpl(H5Dget_create_plist(dataset), H5Pclose);
    REQUIRE(H5Pget_layout(dcpl) == H5D_CHUNKED);
    std::vector<hsize_t> out(8);
    const int rank = H5Pget_chunk(dcpl, static_cast<int>(out.size()), out.data());
    out.resize(static_cast<std::size_t>(rank));
    return out;
  }
};

// ---------------------------------------------------------------------------
// Layouts

ResultsLayout three_axis_layout() {
  ResultsLayout layout;
  layout.axes = {
      Axis{"b", std::vector<double>{0.5, 1.5, 2.5}, "benefit", "payoff units"},
      Axis{"n", std::vector<std::int64_t>{10, 20}, "", ""},
      Axis{"graph", std::vector<std::string>{"ring", "grid", "scale-free é"}, "graph family", ""},
  };
  layout.replicates = 4;
  layout.metrics = {Variable{"coop", "cooperator fraction", "1"}, Variable{"rounds", "", ""}};
  layout.attributes = {Attribute{"title", std::string("unit test")},
                       Attribute{"seed", std::int64_t{-42}}, Attribute{"epsilon", 0.125}};
  return layout;
}

// A distinct, recognisable value per (metric, flat index).
double run_value(std::size_t metric, std::int64_t run) {
  return static_cast<double>(metric) * 1000.0 + static_cast<double>(run) + 0.25;
}

std::vector<double> run_values(std::size_t metrics, std::int64_t first, std::int64_t count) {
  std::vector<double> values;
  for (std::size_t m = 0; m < metrics; ++m) {
    for (std::int64_t i = 0; i < count; ++i) values.push_back(run_value(m, first + i));
  }
  return values;
}

std::vector<double> scaled(std::vector<double> values, double factor) {
  for (double& v : values) v *= factor;
  return values;
}

// ---------------------------------------------------------------------------
// boxes_for_flat_range

std::int64_t element_count(const std::vector<std::int64_t>& shape) {
  std::int64_t total = 1;
  for (std::int64_t size : shape) total *= size;
  return total;
}

// Flat indices of a box in row-major iteration order.
std::vector<std::int64_t> flatten(const std::vector<std::int64_t>& shape, const Box& box) {
  const std::size_t rank = shape.size();
  std::vector<std::int64_t> out;
  if (rank == 0) return {0};
  std::vector<std::int64_t> index(rank, 0);
  while (true) {
    std::int64_t flat = 0;
    for (std::size_t d = 0; d < rank; ++d) flat = flat * shape[d] + box.start[d] + index[d];
    out.push_back(flat);
    std::size_t d = rank;
    while (d > 0) {
      --d;
      if (++index[d] < box.count[d]) break;
      index[d] = 0;
      if (d == 0) return out;
    }
  }
}

}  // namespace

TEST_CASE("boxes_for_flat_range covers every range exactly in row-major order", "[io][boxes]") {
  const std::vector<std::vector<std::int64_t>> shapes = {
      {3, 4, 2}, {5}, {1, 3, 1, 2}, {}, {1}, {2, 1}, {1, 1, 1}, {2, 3, 2, 3}, {4, 1, 3}};
  for (const auto& shape : shapes) {
    const std::int64_t total = element_count(shape);
    const std::size_t max_boxes = shape.empty() ? 1 : 2 * shape.size() - 1;
    for (std::int64_t begin = 0; begin <= total; ++begin) {
      for (std::int64_t end = begin; end <= total; ++end) {
        INFO("shape rank " << shape.size() << ", range [" << begin << ", " << end << ")");
        const std::vector<Box> boxes = boxes_for_flat_range(shape, begin, end);
        CHECK(boxes.size() <= max_boxes);
        std::vector<std::int64_t> covered;
        for (const Box& box : boxes) {
          REQUIRE(box.start.size() == shape.size());
          REQUIRE(box.count.size() == shape.size());
          for (std::size_t d = 0; d < shape.size(); ++d) {
            REQUIRE(box.count[d] >= 1);
            REQUIRE(box.start[d] >= 0);
            REQUIRE(box.start[d] + box.count[d] <= shape[d]);
          }
          const std::vector<std::int64_t> flat = flatten(shape, box);
          covered.insert(covered.end(), flat.begin(), flat.end());
        }
        // Exactly begin, begin + 1, ..., end - 1 proves disjoint, ordered and complete.
        std::vector<std::int64_t> expected;
        for (std::int64_t i = begin; i < end; ++i) expected.push_back(i);
        REQUIRE(covered == expected);
      }
    }
  }
}

TEST_CASE("boxes_for_flat_range uses one box for whole rows", "[io][boxes]") {
  const std::vector<std::int64_t> shape{3, 4, 2};
  REQUIRE(boxes_for_flat_range(shape, 0, 24).size() == 1);
  REQUIRE(boxes_for_flat_range(shape, 8, 16).size() == 1);
  REQUIRE(boxes_for_flat_range(shape, 2, 8).size() == 1);
}

TEST_CASE("boxes_for_flat_range rejects ranges outside the shape", "[io][boxes]") {
  const std::vector<std::int64_t> shape{3, 4};
  CHECK_THROWS_AS(boxes_for_flat_range(shape, -1, 2), std::invalid_argument);
  CHECK_THROWS_AS(boxes_for_flat_range(shape, 3, 2), std::invalid_argument);
  CHECK_THROWS_AS(boxes_for_flat_range(shape, 0, 13), std::invalid_argument);
  CHECK_THROWS_AS(boxes_for_flat_range(std::vector<std::int64_t>{}, 0, 2), std::invalid_argument);
  CHECK(boxes_for_flat_range(std::vector<std::int64_t>{3, 0}, 0, 0).empty());
}

// ---------------------------------------------------------------------------
// ResultsFile

TEST_CASE("a finished results file holds the layout and the values and completed = 1",
          "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "results.h5";
  const ResultsLayout layout = three_axis_layout();
  const std::size_t metrics = layout.metrics.size();
  {
    ResultsFile file = ResultsFile::create(path, layout, false);
    REQUIRE(file.run_count() == 3 * 2 * 3 * 4);
    REQUIRE(file.configuration_count() == 3 * 2 * 3);
    REQUIRE(file.path() == path);
    REQUIRE(file.partial_path() == fs::path(path.string() + ".partial"));
    REQUIRE(fs::exists(file.partial_path()));
    REQUIRE_FALSE(fs::exists(path));

    // Ranges that start and end mid-row exercise the multi-box selections;
    // runs [0, 5) and [60, 72) stay unwritten.
    file.write_runs(5, 13, run_values(metrics, 5, 13));
    file.write_runs(18, 0, {});
    file.write_runs(18, 42, run_values(metrics, 18, 42));
    // Configurations [0, 4) and [11, 18) stay unwritten.
    file.write_summaries(4, 7, scaled(run_values(metrics, 4, 7), 2.0),
                         scaled(run_values(metrics, 4, 7), -1.0));
    file.finish();
    REQUIRE_FALSE(fs::exists(file.partial_path()));
    CHECK_THROWS_AS(file.write_runs(0, 1, run_values(metrics, 0, 1)), ResultsFileError);
    CHECK_THROWS_AS(file.finish(), ResultsFileError);
  }
  REQUIRE(fs::exists(path));

  const Reader reader(path);
  CHECK(reader.completed());

  // Coordinates of all three axis types, plus replicate.
  CHECK(reader.doubles("b") == std::vector<double>{0.5, 1.5, 2.5});
  CHECK(reader.int64s("n") == std::vector<std::int64_t>{10, 20});
  CHECK(reader.strings("graph") == std::vector<std::string>{"ring", "grid", "scale-free é"});
  CHECK(reader.int64s("replicate") == std::vector<std::int64_t>{0, 1, 2, 3});
  for (const char* axis : {"b", "n", "graph", "replicate"}) CHECK(reader.scale_name(axis) == axis);

  CHECK(reader.string_attribute("b", "long_name") == "benefit");
  CHECK(reader.string_attribute("b", "units") == "payoff units");
  CHECK_FALSE(reader.has_attribute("n", "long_name"));
  CHECK_FALSE(reader.has_attribute("graph", "units"));

  // Root attributes.
  CHECK(reader.string_attribute("/", "title") == "unit test");
  CHECK(reader.numeric_attribute<std::int64_t>("/", "seed", H5T_STD_I64LE, H5T_NATIVE_INT64) == -42);
  CHECK(reader.numeric_attribute<double>("/", "epsilon", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE) ==
        0.125);

  // Metric variables, dims and scales.
  const std::vector<std::string> run_dims{"b", "n", "graph", "replicate"};
  for (std::size_t m = 0; m < metrics; ++m) {
    const std::string name = layout.metrics[m].name;
    INFO("metric " << name);
    CHECK(reader.dims(name) == std::vector<hsize_t>{3, 2, 3, 4});
    CHECK(reader.dims(name + "_mean") == std::vector<hsize_t>{3, 2, 3});
    CHECK(reader.dims(name + "_std") == std::vector<hsize_t>{3, 2, 3});
    for (unsigned d = 0; d < run_dims.size(); ++d) {
      CHECK(reader.is_attached(name, run_dims[d], d));
      if (d < 3) {
        CHECK(reader.is_attached(name + "_mean", run_dims[d], d));
        CHECK(reader.is_attached(name + "_std", run_dims[d], d));
      }
    }
    for (const std::string& variable : {name, name + "_mean", name + "_std"}) {
      CHECK(std::isnan(
          reader.numeric_attribute<double>(variable, "_FillValue", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE)));
    }

    const std::vector<double> values = reader.doubles(name);
    REQUIRE(values.size() == 72);
    for (std::int64_t run = 0; run < 72; ++run) {
      INFO("run " << run);
      if (run >= 5 && run < 60) {
        CHECK(values[static_cast<std::size_t>(run)] == run_value(m, run));
      } else {
        CHECK(std::isnan(values[static_cast<std::size_t>(run)]));
      }
    }
    const std::vector<double> means = reader.doubles(name + "_mean");
    const std::vector<double> stds = reader.doubles(name + "_std");
    for (std::int64_t c = 0; c < 18; ++c) {
      INFO("configuration " << c);
      const auto i = static_cast<std::size_t>(c);
      if (c >= 4 && c < 11) {
        CHECK(means[i] == 2.0 * run_value(m, c));
        CHECK(stds[i] == -run_value(m, c));
      } else {
        CHECK(std::isnan(means[i]));
        CHECK(std::isnan(stds[i]));
      }
    }
  }
  CHECK(reader.string_attribute("coop", "long_name") == "cooperator fraction");
  CHECK(reader.string_attribute("coop", "units") == "1");
  CHECK(reader.string_attribute("coop_mean", "long_name") ==
        "cooperator fraction (mean over replicates)");
  CHECK(reader.string_attribute("coop_std", "long_name") ==
        "cooperator fraction (standard deviation over replicates)");
  CHECK(reader.string_attribute("coop_std", "units") == "1");
  CHECK_FALSE(reader.has_attribute("rounds", "long_name"));
  CHECK_FALSE(reader.has_attribute("rounds", "units"));
}

TEST_CASE("an unfinished results file stays partial with completed = 0",
          "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "results.h5";
  const ResultsLayout layout = three_axis_layout();
  fs::path partial;
  {
    ResultsFile file = ResultsFile::create(path, layout, false);
    partial = file.partial_path();
    file.write_runs(0, 10, run_values(2, 0, 10));
    // Moving must hand over the open file, not close it.
    ResultsFile moved = std::move(file);
    moved.write_runs(10, 2, run_values(2, 10, 2));
  }
  REQUIRE_FALSE(fs::exists(path));
  REQUIRE(fs::exists(partial));
  const Reader reader(partial);
  CHECK_FALSE(reader.completed());
  const std::vector<double> values = reader.doubles("rounds");
  for (std::int64_t run = 0; run < 72; ++run) {
    INFO("run " << run);
    if (run < 12) {
      CHECK(values[static_cast<std::size_t>(run)] == run_value(1, run));
    } else {
      CHECK(std::isnan(values[static_cast<std::size_t>(run)]));
    }
  }
}

TEST_CASE("a stale partial file from a crashed run is replaced", "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "results.h5";
  write_bytes(fs::path(path.string() + ".partial"), "not an HDF5 file");
  ResultsFile file = ResultsFile::create(path, three_axis_layout(), false);
  file.finish();
  CHECK(Reader(path).completed());
}

TEST_CASE("without axes the metrics have only the replicate dimension", "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "scalar.h5";
  ResultsLayout layout;
  layout.replicates = 3;
  layout.metrics = {Variable{"x", "", ""}};
  {
    ResultsFile file = ResultsFile::create(path, layout, false);
    REQUIRE(file.run_count() == 3);
    REQUIRE(file.configuration_count() == 1);
    file.write_runs(1, 2, std::vector<double>{7.0, 8.0});
    CHECK_THROWS_AS(file.write_summaries(1, 1, std::vector<double>{1.0}, std::vector<double>{2.0}),
                    ResultsFileError);
    file.write_summaries(0, 1, std::vector<double>{7.5}, std::vector<double>{0.5});
    file.finish();
  }
  const Reader reader(path);
  CHECK(reader.dims("x") == std::vector<hsize_t>{3});
  CHECK(reader.dims("x_mean").empty());
  CHECK(reader.is_attached("x", "replicate", 0));
  const std::vector<double> x = reader.doubles("x");
  CHECK(std::isnan(x[0]));
  CHECK(x[1] == 7.0);
  CHECK(x[2] == 8.0);
  CHECK(reader.doubles("x_mean") == std::vector<double>{7.5});
  CHECK(reader.doubles("x_std") == std::vector<double>{0.5});
  CHECK(reader.string_attribute("x_mean", "long_name") == "x (mean over replicates)");
}

TEST_CASE("an unwritten scalar summary reads as NaN", "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "scalar.h5";
  ResultsLayout layout;
  layout.metrics = {Variable{"x", "", ""}};
  ResultsFile::create(path, layout, false).finish();
  const Reader reader(path);
  CHECK(std::isnan(reader.doubles("x_mean").at(0)));
  CHECK(std::isnan(reader.doubles("x").at(0)));
}

TEST_CASE("axes with a single value and a single replicate", "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "single.h5";
  ResultsLayout layout;
  layout.axes = {Axis{"a", std::vector<std::string>{"only"}, "", ""},
                 Axis{"b", std::vector<double>{1.0, 2.0}, "", ""},
                 Axis{"c", std::vector<std::int64_t>{5}, "", ""}};
  layout.metrics = {Variable{"x", "", ""}};
  {
    ResultsFile file = ResultsFile::create(path, layout, false);
    REQUIRE(file.run_count() == 2);
    file.write_runs(1, 1, std::vector<double>{3.0});
    file.write_summaries(0, 2, std::vector<double>{1.0, 2.0}, std::vector<double>{0.0, 0.0});
    file.finish();
  }
  const Reader reader(path);
  CHECK(reader.dims("x") == std::vector<hsize_t>{1, 2, 1, 1});
  CHECK(reader.chunk("x") == std::vector<hsize_t>{1, 2, 1, 1});
  const std::vector<double> x = reader.doubles("x");
  CHECK(std::isnan(x[0]));
  CHECK(x[1] == 3.0);
  CHECK(reader.doubles("x_mean") == std::vector<double>{1.0, 2.0});
  CHECK(reader.strings("a") == std::vector<std::string>{"only"});
}

TEST_CASE("chunks hold at most 64Ki elements with full trailing dimensions first, split evenly",
          "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "big.h5";
  ResultsLayout layout;
  std::vector<std::int64_t> a(300), b(500);
  layout.axes = {Axis{"a", a, "", ""}, Axis{"b", b, "", ""}};
  layout.replicates = 2;
  layout.metrics = {Variable{"x", "", ""}};
  ResultsFile::create(path, layout, false).finish();
  const Reader reader(path);
  CHECK(reader.chunk("x") == std::vector<hsize_t>{60, 500, 2});     // 300 = 5 x 60, not 4 x 65 + 40
  CHECK(reader.chunk("x_mean") == std::vector<hsize_t>{100, 500});  // 300 = 3 x 100, not 2 x 131 + 38

  ResultsLayout many;
  many.replicates = 100000;
  many.metrics = {Variable{"x", "", ""}};
  ResultsFile::create(dir / "many.h5", many, false).finish();
  CHECK(Reader(dir / "many.h5").chunk("x") == std::vector<hsize_t>{50000});
}

TEST_CASE("an existing file is not overwritten without overwrite", "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "results.h5";
  const std::string precious = "precious earlier results\n";
  write_bytes(path, precious);
  try {
    (void)ResultsFile::create(path, three_axis_layout(), false);
    FAIL("create did not throw");
  } catch (const ResultsFileError& error) {
    const std::string message = error.what();
    CHECK_THAT(message, Catch::Contains(path.string()));
    CHECK_THAT(message, Catch::Contains("exists; use --force to overwrite"));
  }
  CHECK(read_bytes(path) == precious);
  CHECK_FALSE(fs::exists(path.string() + ".partial"));
}

TEST_CASE("overwrite replaces an existing file only at finish", "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "results.h5";
  const std::string earlier = "earlier results\n";
  write_bytes(path, earlier);
  ResultsFile file = ResultsFile::create(path, three_axis_layout(), true);
  file.write_runs(0, 72, run_values(2, 0, 72));
  CHECK(read_bytes(path) == earlier);
  file.finish();
  CHECK(H5Fis_hdf5(path.c_str()) > 0);
  CHECK(Reader(path).completed());
  CHECK_FALSE(fs::exists(file.partial_path()));
}

TEST_CASE("finish does not replace a file that appeared during the run", "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "results.h5";
  ResultsFile file = ResultsFile::create(path, three_axis_layout(), false);
  write_bytes(path, "someone else's\n");
  file.write_runs(0, 72, run_values(2, 0, 72));
  CHECK_THROWS_WITH(file.finish(), Catch::Contains("exists; use --force to overwrite") &&
                                       Catch::Contains("the finished runs stay in '" + file.partial_path().string()));
  CHECK(read_bytes(path) == "someone else's\n");
  // The results survive under the partial name, every run recorded in the
  // journal, so that a resume finishes them without running anything again.
  CHECK_FALSE(Reader(file.partial_path()).completed());
  const std::vector<double> written = run_values(2, 0, 72);
  CHECK(Reader(file.partial_path()).doubles("rounds") == std::vector<double>(written.begin() + 72, written.end()));
  CHECK(read_journal(file.journal_path()).runs_done == 72);
  CHECK_FALSE(fs::exists(finishing_path_of(path)));
  CHECK_THROWS_AS(file.write_runs(0, 1, run_values(2, 0, 1)), ResultsFileError);
}

TEST_CASE("writes outside the layout or of the wrong size throw", "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  ResultsFile file = ResultsFile::create(dir / "results.h5", three_axis_layout(), false);
  const auto values = [](std::int64_t count) { return run_values(2, 0, count); };
  CHECK_THROWS_AS(file.write_runs(-1, 1, values(1)), ResultsFileError);
  CHECK_THROWS_AS(file.write_runs(0, -1, {}), ResultsFileError);
  CHECK_THROWS_AS(file.write_runs(70, 3, values(3)), ResultsFileError);
  CHECK_THROWS_AS(file.write_runs(73, 0, {}), ResultsFileError);
  CHECK_THROWS_AS(file.write_runs(1, INT64_MAX, values(0)), ResultsFileError);
  CHECK_THROWS_WITH(file.write_runs(0, 3, values(2)), Catch::Contains("needs 6 values, got 4"));
  CHECK_THROWS_AS(file.write_summaries(17, 2, values(2), values(2)), ResultsFileError);
  CHECK_THROWS_AS(file.write_summaries(0, 2, values(2), values(1)), ResultsFileError);
  file.write_runs(70, 2, values(2));
  file.write_summaries(0, 18, values(18), values(18));
}

TEST_CASE("invalid layouts are rejected before any file is created", "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "results.h5";
  const auto rejects = [&](ResultsLayout layout, const std::string& why) {
    CHECK_THROWS_WITH(ResultsFile::create(path, layout, false), Catch::Contains(why));
    CHECK_FALSE(fs::exists(path.string() + ".partial"));
  };
  ResultsLayout layout = three_axis_layout();
  layout.replicates = 0;
  rejects(layout, "replicates");
  layout = three_axis_layout();
  layout.axes[1].values = std::vector<std::int64_t>{};
  rejects(layout, "has no values");
  layout = three_axis_layout();
  layout.metrics.push_back(Variable{"b", "", ""});
  rejects(layout, "used twice");
  layout = three_axis_layout();
  layout.metrics.push_back(Variable{"coop_mean", "", ""});
  rejects(layout, "used twice");
  layout = three_axis_layout();
  layout.axes[0].name = "replicate";
  rejects(layout, "used twice");
  layout = three_axis_layout();
  layout.metrics[0].name = "a/b";
  rejects(layout, "contains '/'");
  layout = three_axis_layout();
  layout.attributes.push_back(Attribute{"completed", std::int64_t{1}});
  rejects(layout, "reserved");
  layout = three_axis_layout();
  layout.coordinates.push_back(AuxiliaryCoordinate{"x", "nowhere", std::vector<double>{1, 2, 3}, "", ""});
  rejects(layout, "coordinate 'x' is along 'nowhere', which is not an axis");
  layout = three_axis_layout();
  layout.coordinates.push_back(AuxiliaryCoordinate{"x", "b", std::vector<double>{1, 2}, "", ""});
  rejects(layout, "coordinate 'x' has 2 values for the 3 of axis 'b'");
  layout = three_axis_layout();
  layout.coordinates.push_back(AuxiliaryCoordinate{"coop", "b", std::vector<double>{1, 2, 3}, "", ""});
  rejects(layout, "used twice");
  layout = three_axis_layout();
  layout.counts.push_back(Variable{"n", "", ""});
  rejects(layout, "used twice");
}

namespace {

// A sampled design's layout: a `sample` axis with the sampled values along it
// as auxiliary coordinates, and a count per configuration.
ResultsLayout sample_layout() {
  ResultsLayout layout;
  layout.axes = {Axis{"graph", std::vector<std::string>{"ring", "grid"}, "", ""},
                 Axis{"sample", std::vector<std::int64_t>{0, 1, 2}, "sample point", ""}};
  layout.coordinates = {
      AuxiliaryCoordinate{"benefit", "sample", std::vector<double>{1.25, 3.5, 2.0}, "benefit b", "value"},
      AuxiliaryCoordinate{"partners", "sample", std::vector<std::int64_t>{4, 2, 8}, "", ""}};
  layout.replicates = 2;
  layout.metrics = {Variable{"coop", "", ""}};
  layout.counts = {Variable{"replicates_run", "replicates run", ""}};
  layout.attributes = {Attribute{"seed", std::int64_t{3}}};
  return layout;
}

}  // namespace

TEST_CASE("auxiliary coordinates lie along their axis and every variable names them", "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "results.h5";
  const ResultsLayout layout = sample_layout();
  {
    ResultsFile file = ResultsFile::create(path, layout, false);
    file.write_runs(0, 12, run_values(1, 0, 12));
    file.write_summaries(0, 6, run_values(1, 0, 6), run_values(1, 0, 6));
    file.write_counts(1, 4, std::vector<std::int64_t>{2, 1, 7, 5});
    // Counts read back from the partial file, 0 where none was written.
    CHECK(file.read_counts(0, 6) == std::vector<std::int64_t>{0, 2, 1, 7, 5, 0});
    file.finish();
  }
  for (const fs::path& written : {path}) {
    const Reader reader(written);
    CHECK(reader.doubles("benefit") == std::vector<double>{1.25, 3.5, 2.0});
    CHECK(reader.int64s("partners") == std::vector<std::int64_t>{4, 2, 8});
    CHECK(reader.is_attached("benefit", "sample", 0));
    CHECK(reader.is_attached("partners", "sample", 0));
    CHECK(reader.string_attribute("benefit", "long_name") == "benefit b");
    CHECK(reader.string_attribute("benefit", "units") == "value");
    {
      // Not dimensions themselves: netCDF readers would take them for one.
      const Id benefit(H5Dopen2(reader.file, "benefit", H5P_DEFAULT), H5Dclose);
      CHECK(H5DSis_scale(benefit) <= 0);
    }
    for (const char* variable : {"coop", "coop_mean", "coop_std", "replicates_run"}) {
      INFO(variable);
      CHECK(reader.string_attribute(variable, "coordinates") == "benefit partners");
    }
    CHECK(reader.dims("replicates_run") == std::vector<hsize_t>{2, 3});
    CHECK(reader.is_attached("replicates_run", "graph", 0));
    CHECK(reader.is_attached("replicates_run", "sample", 1));
    CHECK(reader.int64s("replicates_run") == std::vector<std::int64_t>{0, 2, 1, 7, 5, 0});
    CHECK_FALSE(reader.has_attribute("replicates_run", "_FillValue"));
    CHECK(reader.doubles("coop") == run_values(1, 0, 12));
  }
}


TEST_CASE("HDF5 failures name the file and the operation", "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  SECTION("a missing directory") {
    const fs::path path = dir / "missing" / "results.h5";
    try {
      (void)ResultsFile::create(path, three_axis_layout(), false);
      FAIL("create did not throw");
    } catch (const ResultsFileError& error) {
      const std::string message = error.what();
      CHECK_THAT(message, Catch::Contains(path.string() + ".partial"));
      CHECK_THAT(message, Catch::Contains("creating the journal failed"));
      CHECK_THAT(message, Catch::Contains("No such file or directory"));
    }
  }
  SECTION("a disk that fills up before finish") {
    const fs::path path = dir / "results.h5";
    ResultsFile file = ResultsFile::create(path, three_axis_layout(), false);
    if (!make_disk_full(file.partial_path())) return;
    std::string message;
    try {
      file.write_runs(0, 72, run_values(2, 0, 72));
      file.write_summaries(0, 18, run_values(2, 0, 18), run_values(2, 0, 18));
      file.finish();
      FAIL("writing to a full disk did not throw");
    } catch (const ResultsFileError& error) {
      message = error.what();
    }
    CHECK_THAT(message, Catch::Contains(file.partial_path().string()));
    CHECK_THAT(message, Catch::Contains("No space left on device"));
    CHECK_FALSE(fs::exists(path));
    CHECK_THROWS_AS(file.finish(), ResultsFileError);
    // HDF5 must be left able to shut down at exit (1.10 crashes on a failed close).
    CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0);
  }
  SECTION("a disk that fills up, then the writer is abandoned") {
    {
      ResultsFile file = ResultsFile::create(dir / "results.h5", three_axis_layout(), false);
      file.write_runs(0, 10, run_values(2, 0, 10));
      if (!make_disk_full(file.partial_path())) return;
      try {
        file.write_runs(10, 62, run_values(2, 10, 62));
      } catch (const ResultsFileError&) {
        // Fine either way: the data may be cached or written (and fail) now.
      }
    }  // the destructor must close without crashing or throwing
    CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0);
  }
}

// ---------------------------------------------------------------------------
// Crash safety and resume

namespace {

// The raw-data extents of every contiguous dataset of a partial file.
std::vector<std::pair<haddr_t, hsize_t>> raw_data_extents(const fs::path& path, const ResultsLayout& layout) {
  const Reader reader(path);
  std::vector<std::string> names;
  for (const Variable& metric : layout.metrics) {
    for (const char* suffix : {"", "_mean", "_std"}) names.push_back(metric.name + suffix);
  }
  for (const Variable& series : layout.series) names.push_back(series.name);
  std::vector<std::pair<haddr_t, hsize_t>> extents;
  for (const std::string& name : names) {
    const Id dataset(H5Dopen2(reader.file, name.c_str(), H5P_DEFAULT), H5Dclose);
    const haddr_t offset = H5Dget_offset(dataset);
    REQUIRE(offset != HADDR_UNDEF);
    CHECK(offset % 8 == 0);  // no float64 straddles a page: a write cut short leaves whole values
    extents.emplace_back(offset, H5Dget_storage_size(dataset));
  }
  return extents;
}

ResultsLayout series_layout() {
  ResultsLayout layout = three_axis_layout();
  layout.series = {Variable{"coop_by_round", "cooperation per round", ""}, Variable{"pay_by_round", "", "units"}};
  layout.series_length = 5;
  return layout;
}

std::vector<double> series_values(std::size_t series, std::int64_t length, std::int64_t first, std::int64_t count) {
  std::vector<double> values;
  for (std::size_t s = 0; s < series; ++s) {
    for (std::int64_t i = 0; i < count; ++i) {
      for (std::int64_t t = 0; t < length; ++t) {
        values.push_back(static_cast<double>(s) * 1e6 + static_cast<double>(first + i) * 10.0 + static_cast<double>(t));
      }
    }
  }
  return values;
}

OpenOptions resume_options() {
  OpenOptions options;
  options.resume = true;
  options.session = "resumed";
  return options;
}

}  // namespace

TEST_CASE("once laid out, storing runs changes only raw data bytes of the partial file",
          "[io][results_file][crash]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "results.h5";
  const ResultsLayout layout = series_layout();
  (void)ResultsFile::create(path, layout, false);  // laid out, then closed
  const std::string laid_out = read_bytes(partial_path_of(path));
  const auto extents = raw_data_extents(partial_path_of(path), layout);
  std::vector<bool> raw(laid_out.size(), false);
  for (const auto& [offset, size] : extents) {
    REQUIRE(offset + size <= laid_out.size());
    std::fill(raw.begin() + static_cast<std::ptrdiff_t>(offset), raw.begin() + static_cast<std::ptrdiff_t>(offset + size), true);
  }
  // Bytes that differ from the laid-out file outside the raw data, and inside it.
  const auto changes = [&](const std::string& now) {
    REQUIRE(now.size() == laid_out.size());
    std::vector<std::size_t> outside;
    std::size_t inside = 0;
    for (std::size_t i = 0; i < now.size(); ++i) {
      if (now[i] == laid_out[i]) continue;
      if (raw[i]) {
        ++inside;
      } else {
        outside.push_back(i);
      }
    }
    return std::pair(outside, inside);
  };

  ResultsFile file = ResultsFile::open(path, layout, resume_options());
  file.write_runs(0, 72, run_values(2, 0, 72));
  file.write_summaries(0, 18, run_values(2, 0, 18), run_values(2, 0, 18));
  file.write_series(0, 72, series_values(2, 5, 0, 72));
  file.checkpoint(72);
  file.write_runs(3, 4, run_values(2, 3, 4));
  {
    // While it is open for writing, HDF5 1.10 sets the superblock's file
    // consistency flags (bytes 20-23 of a version 0 superblock; readers of this
    // version ignore them): one small write, never torn by a kill.
    const auto [outside, inside] = changes(read_bytes(partial_path_of(path)));
    CHECK(inside > 0);
    for (const std::size_t i : outside) CHECK((i >= 20 && i < 24));
  }
  {
    ResultsFile abandoned = std::move(file);  // closed without a checkpoint, as after an error
  }
  const auto [outside, inside] = changes(read_bytes(partial_path_of(path)));
  CHECK(outside.empty());
  CHECK(inside > 0);
}

TEST_CASE("a resumed file continues after the last checkpoint and finishes complete", "[io][results_file][crash]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "results.h5";
  const ResultsLayout layout = series_layout();
  {
    ResultsFile file = ResultsFile::create(path, layout, false);
    CHECK(file.committed_runs() == 0);
    file.write_runs(0, 30, run_values(2, 0, 30));
    file.write_series(0, 30, series_values(2, 5, 0, 30));
    file.write_summaries(0, 7, run_values(2, 0, 7), run_values(2, 0, 7));
    file.checkpoint(30);
    CHECK(file.committed_runs() == 30);
    CHECK_THROWS_WITH(file.checkpoint(29), Catch::Contains("checkpoint at 29 runs, after 30"));
    // Written but never checkpointed: a resume writes these again.
    file.write_runs(30, 10, std::vector<double>(20, -1.0));
  }
  REQUIRE(fs::exists(journal_path_of(path)));
  CHECK(read_journal(journal_path_of(path)).runs_done == 30);

  ResultsFile file = ResultsFile::open(path, layout, resume_options());
  CHECK_FALSE(file.complete());
  CHECK(file.committed_runs() == 30);
  CHECK(file.read_runs(28, 2) == run_values(2, 28, 2));
  CHECK(file.read_means(0, 7) == run_values(2, 0, 7));
  REQUIRE(file.sessions().size() == 2);
  CHECK(file.sessions()[0].runs_done == 30);
  CHECK(file.sessions()[1].note == "resumed");
  CHECK(file.sessions()[1].first_run == 30);
  file.write_runs(30, 42, run_values(2, 30, 42));
  file.write_series(30, 42, series_values(2, 5, 30, 42));
  file.write_summaries(7, 11, run_values(2, 7, 11), run_values(2, 7, 11));
  const std::vector<Attribute> final_attributes = {Attribute{"seed", std::int64_t{-42}},
                                                   Attribute{"history", std::string("two sessions"), true}};
  file.finish(final_attributes);
  CHECK_FALSE(fs::exists(partial_path_of(path)));
  CHECK_FALSE(fs::exists(journal_path_of(path)));
  CHECK_FALSE(fs::exists(finishing_path_of(path)));

  const Reader reader(path);
  CHECK(reader.completed());
  const std::vector<double> all = run_values(2, 0, 72);
  CHECK(reader.doubles("coop") == std::vector<double>(all.begin(), all.begin() + 72));
  CHECK(reader.doubles("rounds") == std::vector<double>(all.begin() + 72, all.end()));
  const std::vector<double> means = run_values(2, 0, 18);
  CHECK(reader.doubles("coop_mean") == std::vector<double>(means.begin(), means.begin() + 18));
  const std::vector<double> series = series_values(2, 5, 0, 72);
  CHECK(reader.doubles("pay_by_round") == std::vector<double>(series.begin() + 360, series.end()));
  CHECK(reader.dims("coop_by_round") == std::vector<hsize_t>{3, 2, 3, 4, 5});
  CHECK(reader.int64s("round") == std::vector<std::int64_t>{1, 2, 3, 4, 5});
  CHECK(reader.is_attached("coop_by_round", "round", 4));
  CHECK(reader.string_attribute("coop_by_round", "long_name") == "cooperation per round");
  CHECK(reader.string_attribute("/", "history") == "two sessions");
  CHECK(reader.numeric_attribute<std::int64_t>("/", "seed", H5T_STD_I64LE, H5T_NATIVE_INT64) == -42);
}

TEST_CASE("the finished file is chunked and compressed with deflate level 1", "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "results.h5";
  ResultsFile file = ResultsFile::create(path, three_axis_layout(), false);
  file.write_runs(0, 72, run_values(2, 0, 72));
  file.finish();
  const Reader reader(path);
  for (const char* name : {"coop", "coop_mean", "rounds_std"}) {
    INFO(name);
    const Id dataset(H5Dopen2(reader.file, name, H5P_DEFAULT), H5Dclose);
    const Id dcpl(H5Dget_create_plist(dataset), H5Pclose);
    REQUIRE(H5Pget_layout(dcpl) == H5D_CHUNKED);
    REQUIRE(H5Pget_nfilters(dcpl) == 1);
    unsigned flags = 0;
    std::size_t elements = 1;
    unsigned level = 0;
    CHECK(H5Pget_filter2(dcpl, 0, &flags, &elements, &level, 0, nullptr, nullptr) == H5Z_FILTER_DEFLATE);
    CHECK(level == 1);
  }
}

TEST_CASE("a resume refuses a file made for another layout, and leaves it untouched", "[io][results_file][crash]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "results.h5";
  {
    ResultsFile file = ResultsFile::create(path, series_layout(), false);
    file.write_runs(0, 10, run_values(2, 0, 10));
    file.checkpoint(10);
  }
  const std::string partial = read_bytes(partial_path_of(path));
  const std::string journal = read_bytes(journal_path_of(path));
  const auto refuses = [&](const ResultsLayout& layout, const std::string& why) {
    INFO(why);
    try {
      (void)ResultsFile::open(path, layout, resume_options());
      FAIL("the resume was not refused");
    } catch (const ResumeMismatch& error) {
      CHECK_THAT(error.what(), Catch::Contains("cannot resume '" + partial_path_of(path).string() + "'") &&
                                   Catch::Contains(why) && Catch::Contains("--force to start over"));
    }
    CHECK(read_bytes(partial_path_of(path)) == partial);
    CHECK(read_bytes(journal_path_of(path)) == journal);
  };
  ResultsLayout layout = series_layout();
  layout.attributes[1].value = std::int64_t{7};
  refuses(layout, "it was made with seed = -42, this run has seed = 7");
  layout = series_layout();
  layout.attributes[2].value = std::string("0.125");
  refuses(layout, "epsilon = 0.125, this run has epsilon = '0.125'");
  layout = series_layout();
  layout.attributes.push_back(Attribute{"engine_version", std::string("9.9.9")});
  refuses(layout, "it has no attribute 'engine_version' (this run has engine_version = '9.9.9')");
  layout = series_layout();
  layout.axes[0].values = std::vector<double>{0.5, 1.5, 3.5};
  refuses(layout, "its grid axis 'b' has other values");
  layout = series_layout();
  layout.axes[1].values = std::vector<std::int64_t>{10, 20, 30};
  refuses(layout, "its grid axis 'n' has other values (2 in the file, 3 in this run)");
  layout = series_layout();
  layout.replicates = 5;
  refuses(layout, "'replicate' has the shape (4), this run (5)");
  layout = series_layout();
  layout.metrics.push_back(Variable{"extra", "", ""});
  refuses(layout, "it has no metric 'extra'");
  layout = three_axis_layout();
  refuses(layout, "it stores series ('round'), this run does not");
  layout = series_layout();
  layout.series_length = 6;
  refuses(layout, "'coop_by_round' has the shape (3, 2, 3, 4, 5), this run (3, 2, 3, 4, 6)");

  SECTION("provenance attributes may differ") {
    layout = series_layout();
    layout.attributes.push_back(Attribute{"host_name", std::string("elsewhere"), true});
    ResultsFile file = ResultsFile::open(path, layout, resume_options());
    CHECK(file.committed_runs() == 10);
  }
}

TEST_CASE("what a resume finds decides what it does", "[io][results_file][crash]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "results.h5";
  const ResultsLayout layout = three_axis_layout();
  SECTION("nothing: it starts afresh") {
    ResultsFile file = ResultsFile::open(path, layout, resume_options());
    CHECK_FALSE(file.complete());
    CHECK(file.committed_runs() == 0);
    CHECK(fs::exists(file.partial_path()));
  }
  SECTION("a partial file without its journal: refused") {
    {
      ResultsFile file = ResultsFile::create(path, layout, false);
      file.checkpoint(10);
    }
    fs::remove(journal_path_of(path));
    CHECK_THROWS_AS(ResultsFile::open(path, layout, resume_options()), ResumeMismatch);
    CHECK_THROWS_WITH(ResultsFile::open(path, layout, resume_options()), Catch::Contains("has no journal"));
    CHECK_FALSE(fs::exists(journal_path_of(path)));
  }
  SECTION("a journal whose partial file was never laid out: created again") {
    // A kill while the partial file was being created leaves a journal
    // without its `ready` record and any bytes in the partial file.
    {
      Journal journal = Journal::lock(journal_path_of(path));
      journal.start(72, 18, false, "killed");
    }
    write_bytes(partial_path_of(path), "half an HDF5 file");
    ResultsFile file = ResultsFile::open(path, layout, resume_options());
    CHECK(file.committed_runs() == 0);
    file.write_runs(0, 72, run_values(2, 0, 72));
    file.finish();
    CHECK(Reader(path).completed());
  }
  SECTION("the finished file of this layout: complete, nothing to do") {
    {
      ResultsFile file = ResultsFile::create(path, layout, false);
      file.write_runs(0, 72, run_values(2, 0, 72));
      file.finish();
    }
    const std::string finished = read_bytes(path);
    ResultsFile file = ResultsFile::open(path, layout, resume_options());
    CHECK(file.complete());
    CHECK(file.committed_runs() == 72);
    file.finish();
    CHECK(read_bytes(path) == finished);
    CHECK_FALSE(fs::exists(journal_path_of(path)));
    ResultsLayout other = layout;
    other.attributes[1].value = std::int64_t{1};
    CHECK_THROWS_AS(ResultsFile::open(path, other, resume_options()), ResumeMismatch);
  }
  SECTION("killed after the rename, before the clean-up: complete, and cleaned up") {
    {
      ResultsFile file = ResultsFile::create(path, layout, false);
      file.write_runs(0, 72, run_values(2, 0, 72));
      file.finish();
    }
    {
      Journal journal = Journal::lock(journal_path_of(path));
      journal.start(72, 18, false, "finished");
      journal.mark_ready();
      journal.mark_done(72, 1.0);
    }
    write_bytes(partial_path_of(path), "left over");
    ResultsFile file = ResultsFile::open(path, layout, resume_options());
    CHECK(file.complete());
    CHECK_FALSE(fs::exists(partial_path_of(path)));
    CHECK_FALSE(fs::exists(journal_path_of(path)));
  }
  SECTION("another file of the name, not a results file: refused") {
    write_bytes(path, "precious");
    CHECK_THROWS_AS(ResultsFile::open(path, layout, resume_options()), ResumeMismatch);
    CHECK(read_bytes(path) == "precious");
  }
}

TEST_CASE("a second writer of the same results is refused", "[io][results_file][crash]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "results.h5";
  ResultsFile first = ResultsFile::create(path, three_axis_layout(), false);
  CHECK_THROWS_AS(ResultsFile::create(path, three_axis_layout(), true), FileBusy);
  CHECK_THROWS_AS(ResultsFile::open(path, three_axis_layout(), resume_options()), FileBusy);
  first.write_runs(0, 72, run_values(2, 0, 72));
  first.finish();
  CHECK(Reader(path).completed());
}

TEST_CASE("series are checked like runs", "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  ResultsFile plain = ResultsFile::create(dir / "plain.h5", three_axis_layout(), false);
  CHECK_THROWS_WITH(plain.write_series(0, 1, series_values(2, 5, 0, 1)), Catch::Contains("the layout has none"));
  ResultsFile file = ResultsFile::create(dir / "series.h5", series_layout(), false);
  CHECK_THROWS_AS(file.write_series(70, 3, series_values(2, 5, 70, 3)), ResultsFileError);
  CHECK_THROWS_WITH(file.write_series(0, 2, series_values(2, 5, 0, 1)), Catch::Contains("needs 20 values, got 10"));
  ResultsLayout bad = series_layout();
  bad.series_length = 0;
  CHECK_THROWS_WITH(ResultsFile::create(dir / "bad.h5", bad, false), Catch::Contains("series"));
  bad = series_layout();
  bad.series[0].name = "round";
  CHECK_THROWS_WITH(ResultsFile::create(dir / "bad.h5", bad, false), Catch::Contains("used twice"));
}

TEST_CASE("a failure while finishing keeps every run in the partial file", "[io][results_file][crash]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "results.h5";
  const ResultsLayout layout = three_axis_layout();
  {
    ResultsFile file = ResultsFile::create(path, layout, false);
    file.write_runs(0, 72, run_values(2, 0, 72));
    file.checkpoint(72);
    // The finished file cannot be written where a directory already holds its name.
    fs::create_directories(finishing_path_of(path) / "in-the-way");
    CHECK_THROWS_AS(file.finish(), ResultsFileError);
    CHECK_FALSE(fs::exists(path));
    CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0);
  }
  fs::remove_all(finishing_path_of(path));
  {
    const Reader partial(partial_path_of(path));
    CHECK_FALSE(partial.completed());
    const std::vector<double> values = run_values(2, 0, 72);
    CHECK(partial.doubles("coop") == std::vector<double>(values.begin(), values.begin() + 72));
  }
  ResultsFile resumed = ResultsFile::open(path, layout, resume_options());
  CHECK(resumed.committed_runs() == 72);
  resumed.finish();
  CHECK(Reader(path).completed());
}

TEST_CASE("size estimates bound the partial file and the compressed one", "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "results.h5";
  const ResultsLayout layout = series_layout();
  const FileSizeEstimate estimate =
      estimate_file_size(layout, 72, run_values(2, 0, 72), series_values(2, 5, 0, 72));
  ResultsFile file = ResultsFile::create(path, layout, false);
  const auto partial = static_cast<std::int64_t>(fs::file_size(file.partial_path()));
  CHECK(estimate.partial_bytes >= partial);
  CHECK(estimate.partial_bytes <= partial + 256 * 1024);
  CHECK(estimate.final_bytes > 0);
  CHECK(estimate.final_bytes <= estimate.partial_bytes);
  CHECK_THROWS_AS(estimate_file_size(layout, 72, run_values(2, 0, 71), {}), ResultsFileError);
}

TEST_CASE("a layout without summaries or replicate dimension indexes runs by its axes alone",
          "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "subset.h5";
  ResultsLayout layout;
  layout.axes = {Axis{"run", std::vector<std::int64_t>{3, 4, 9, 10}, "index of the run", ""}};
  layout.replicate_dimension = false;
  layout.summaries = false;
  layout.metrics = {Variable{"coop", "", ""}, Variable{"rounds", "", ""}};
  layout.series = {Variable{"coop_by_round", "", ""}};
  layout.series_length = 2;
  layout.attributes = {Attribute{"shard_index", std::int64_t{1}}};
  {
    ResultsFile file = ResultsFile::create(path, layout, false);
    REQUIRE(file.run_count() == 4);
    file.write_runs(0, 4, run_values(2, 0, 4));
    file.write_series(0, 4, std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8});
    // Nothing to summarize: empty summaries are accepted, values are refused.
    CHECK_NOTHROW(file.write_summaries(0, 4, std::vector<double>{}, std::vector<double>{}));
    CHECK_THROWS_AS(file.write_summaries(0, 1, std::vector<double>{1.0, 2.0}, std::vector<double>{1.0, 2.0}),
                    ResultsFileError);
    file.finish();
  }
  const Reader reader(path);
  CHECK(reader.completed());
  CHECK(reader.dims("coop") == std::vector<hsize_t>{4});
  CHECK(reader.dims("coop_by_round") == std::vector<hsize_t>{4, 2});
  CHECK(reader.is_attached("coop", "run", 0));
  CHECK(reader.int64s("run") == std::vector<std::int64_t>{3, 4, 9, 10});
  const std::vector<double> written = run_values(2, 0, 4);
  CHECK(reader.doubles("rounds") == std::vector<double>(written.begin() + 4, written.end()));
  CHECK(H5Lexists(reader.file, "replicate", H5P_DEFAULT) == 0);
  CHECK(H5Lexists(reader.file, "coop_mean", H5P_DEFAULT) == 0);
  CHECK(H5Lexists(reader.file, "coop_std", H5P_DEFAULT) == 0);
}

TEST_CASE("a layout without a replicate dimension has one replicate, and resumes only such files",
          "[io][results_file]") {
  const TempDir dir("coopsweep-test-io");
  ResultsLayout layout;
  layout.axes = {Axis{"run", std::vector<std::int64_t>{0, 1}, "", ""}};
  layout.replicate_dimension = false;
  layout.replicates = 2;
  layout.metrics = {Variable{"x", "", ""}};
  CHECK_THROWS_WITH(ResultsFile::create(dir / "bad.h5", layout, false),
                    Catch::Contains("without a replicate dimension has one replicate"));
  CHECK_FALSE(fs::exists(dir / "bad.h5.partial"));

  // A partial file with a replicate dimension is not continued as one without.
  layout.replicates = 1;
  layout.replicate_dimension = true;
  { ResultsFile file = ResultsFile::create(dir / "r.h5", layout, false); }
  layout.replicate_dimension = false;
  OpenOptions resume;
  resume.resume = true;
  CHECK_THROWS_AS(ResultsFile::open(dir / "r.h5", layout, resume), ResumeMismatch);
}

TEST_CASE("counts are checked like summaries, and a resume compares the coordinates", "[io][results_file][crash]") {
  const TempDir dir("coopsweep-test-io");
  const fs::path path = dir / "results.h5";
  {
    ResultsFile file = ResultsFile::create(path, sample_layout(), false);
    CHECK_THROWS_WITH(file.write_counts(5, 2, std::vector<std::int64_t>{1, 2}),
                      Catch::Contains("configurations [5, 5 + 2) is outside the layout's 6 configurations"));
    CHECK_THROWS_WITH(file.write_counts(0, 2, std::vector<std::int64_t>{1}), Catch::Contains("needs 2 values, got 1"));
    file.write_runs(0, 4, run_values(1, 0, 4));
    file.write_counts(0, 2, std::vector<std::int64_t>{2, 1});
    file.checkpoint(4);
  }
  ResultsLayout other = sample_layout();
  std::get<std::vector<double>>(other.coordinates[0].values)[1] = 3.75;
  CHECK_THROWS_WITH(ResultsFile::open(path, other, resume_options()),
                    Catch::Contains("its coordinate 'benefit' along 'sample' has other values"));
  other = sample_layout();
  other.counts.push_back(Variable{"more", "", ""});
  CHECK_THROWS_WITH(ResultsFile::open(path, other, resume_options()), Catch::Contains("it has no count 'more'"));
  ResultsFile file = ResultsFile::open(path, sample_layout(), resume_options());
  CHECK(file.committed_runs() == 4);
  CHECK(file.read_counts(0, 3) == std::vector<std::int64_t>{2, 1, 0});
}
