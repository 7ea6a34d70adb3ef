#include <coopsweep/sweep/runner.hpp>

#include <coopsweep/io/results_file.hpp>
#include <coopsweep/sweep/parameters.hpp>
#include <coopsweep/sweep/provenance.hpp>
#include <coopsweep/version.hpp>

#include <hdf5.h>

#include <catch2/catch.hpp>

#include "../support/heap_peak.hpp"
#include "../support/temp_dir.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

using namespace coopsweep;
using kernels::RunMetrics;

namespace {

const char* small_grid = R"(
seed = 7
replicates = 5
[model]
firms = 30
rounds = 40
window = 10
error = 0.05
size_spread = 0.3
[grid]
topology = ["ring", "small_world", "scale_free", "random"]
scope = [0.2, 0.8]
trust_decay = [0.0, 0.1]
)";

std::vector<RunMetrics> collect(const sweep::GridDesign& design, std::uint64_t seed, int threads,
                                std::int64_t block_size) {
  std::vector<RunMetrics> out(static_cast<std::size_t>(design.run_count()));
  std::int64_t expected_next = 0;
  sweep::ExecutionOptions options;
  options.threads = threads;
  options.block_size = block_size;
  sweep::run_design(design, seed, options, [&](std::int64_t first, std::span<const RunMetrics> runs) {
    REQUIRE(first == expected_next);  // blocks arrive in run order
    expected_next += static_cast<std::int64_t>(runs.size());
    std::copy(runs.begin(), runs.end(), out.begin() + first);
  });
  REQUIRE(expected_next == design.run_count());
  return out;
}

// One run per block on one thread, raising `stop` once `runs` runs are done:
// the sweep then stops at a run count the test knows.
sweep::ExecutionOptions stopping_after(std::int64_t runs, std::atomic<bool>& stop) {
  sweep::ExecutionOptions options;
  options.threads = 1;
  options.block_size = 1;
  options.stop = &stop;
  options.on_progress = [runs, &stop](std::int64_t done, std::int64_t) {
    if (done >= runs) stop = true;
  };
  return options;
}

bool bitwise_equal(const std::vector<RunMetrics>& a, const std::vector<RunMetrics>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(RunMetrics)) == 0;
}

}  // namespace

TEST_CASE("results do not depend on thread count or block size", "[runner][determinism]") {
  const auto spec = sweep::parse_spec(small_grid);
  const sweep::GridDesign design(spec);
  const auto reference = collect(design, spec.seed, 1, 1);
  CHECK(bitwise_equal(reference, collect(design, spec.seed, 2, 0)));
  CHECK(bitwise_equal(reference, collect(design, spec.seed, 2, 7)));
  CHECK(bitwise_equal(reference, collect(design, spec.seed, 4, 1000)));
  SECTION("another seed gives other results") {
    CHECK_FALSE(bitwise_equal(reference, collect(design, spec.seed + 1, 2, 0)));
  }
}

TEST_CASE("one configuration re-run alone gives the sweep's numbers", "[runner][determinism]") {
  const auto spec = sweep::parse_spec(small_grid);
  const sweep::GridDesign design(spec);
  const auto all = collect(design, spec.seed, 2, 0);
  for (std::int64_t configuration : {0, 5, 15}) {
    const auto alone = sweep::simulate(design.configuration(configuration), spec.seed, design.replicates(),
                                       configuration, sweep::ExecutionOptions{});
    const std::vector<RunMetrics> slice(all.begin() + configuration * design.replicates(),
                                        all.begin() + (configuration + 1) * design.replicates());
    CHECK(bitwise_equal(alone, slice));
  }
}

TEST_CASE("summarize_replicates gives mean and sample deviation and skips NaN", "[runner]") {
  std::vector<RunMetrics> runs(3);
  for (std::size_t r = 0; r < 3; ++r) runs[r].fill(static_cast<double>(r + 1));  // 1, 2, 3
  runs[1][4] = std::nan("");                                                     // payoff_gini of one replicate
  for (auto& run : runs) run[9] = std::nan("");                                  // freerider_gap everywhere
  std::array<double, kernels::metric_count> mean{}, sd{};
  sweep::summarize_replicates(runs, mean, sd);
  CHECK(mean[0] == 2.0);
  CHECK(sd[0] == 1.0);
  CHECK(mean[4] == 2.0);  // (1 + 3) / 2
  CHECK(sd[4] == Approx(std::sqrt(2.0)));
  CHECK(std::isnan(mean[9]));
  CHECK(std::isnan(sd[9]));
  SECTION("one replicate has no deviation") {
    sweep::summarize_replicates(std::span(runs).first(1), mean, sd);
    CHECK(mean[0] == 1.0);
    CHECK(std::isnan(sd[0]));
  }
}

TEST_CASE("a stop request ends the run early and leaves only a partial file", "[runner]") {
  const coopsweep::testing::TempDir dir("coopsweep-runner");
  const auto path = dir / "stopped.h5";
  std::atomic<bool> stop{false};
  const sweep::ExecutionOptions options = stopping_after(3, stop);
  CHECK_THROWS_AS(sweep::write_sweep(sweep::parse_spec(small_grid), path, false, options), sweep::Interrupted);
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(std::filesystem::exists(path.string() + ".partial"));
}

TEST_CASE("write_sweep refuses a bad spec before creating anything", "[runner]") {
  const coopsweep::testing::TempDir dir("coopsweep-runner");
  const auto path = dir / "bad.h5";
  const auto spec = sweep::parse_spec("[grid]\ntopology = ['ring']\npartners = [3]");
  CHECK_THROWS_AS(sweep::write_sweep(spec, path, false, {}), sweep::InputError);
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("an error in the consumer ends the sweep with it once the blocks in flight drain and leaks none",
          "[runner]") {
  const auto spec = sweep::parse_spec(small_grid);
  const sweep::GridDesign design(spec);
  sweep::ExecutionOptions options;
  options.threads = 4;
  options.block_size = 1;
  const auto failing_sweep = [&](int& calls, std::string& what) {
    try {
      sweep::run_design(design, spec.seed, options, [&](std::int64_t, std::span<const RunMetrics>) {
        if (++calls == 2) {
          // Let the other threads finish blocks that then wait for this stage.
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          throw std::runtime_error("disk on fire");
        }
      });
    } catch (const std::runtime_error& error) {
      what = error.what();
    }
  };
  int calls = 0;
  std::string what;
  failing_sweep(calls, what);  // once first, for what TBB and the runtime allocate once and keep
  CHECK(what == "disk on fire");
  CHECK(calls == 2);  // nothing delivered after the error
  calls = 0;
  // Measured outside Catch's macros, which allocate for their own records.
  const std::size_t before = coopsweep::testing::heap_live_bytes();
  failing_sweep(calls, what);
  const std::size_t after = coopsweep::testing::heap_live_bytes();
  CHECK(calls == 2);
  CHECK(after == before);
}

TEST_CASE("a sweep too large for the memory is refused before anything runs or is created", "[runner][memory]") {
  const coopsweep::testing::TempDir dir("coopsweep-runner");
  const auto path = dir / "huge.h5";
  const auto spec = sweep::parse_spec("[model]\nfirms = 1000000\npartners = 1000\n");
  sweep::ExecutionOptions options;
  options.threads = 2;
  options.memory_limit = 1e9;
  const auto refused = [](const auto& call) {
    try {
      call();
    } catch (const sweep::InputError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  const auto check_refused = [](const std::string& message) {
    CHECK_THAT(message, Catch::Matchers::Contains("firms = 1000000, partners = 1000") &&
                            Catch::Matchers::Contains("allowed: at most 1 GB"));
  };
  check_refused(refused([&] { sweep::write_sweep(spec, path, false, options); }));
  check_refused(refused([&] { sweep::estimate_sweep(spec, options); }));
  check_refused(refused([&] { sweep::run_design(sweep::GridDesign(spec), 0, options, [](auto, auto) {}); }));
  const auto params = sweep::GridDesign(spec).configuration(0);
  check_refused(refused([&] { sweep::simulate(params, 0, 4, 0, options); }));
  CHECK(std::filesystem::is_empty(dir.path()));
}

// ---------------------------------------------------------------------------
// Resume, provenance, series and estimates

namespace {

namespace fs = std::filesystem;

// Reads a finished file back with the plain HDF5 C API.
struct H5Reader {
  hid_t file;
  explicit H5Reader(const fs::path& path) : file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT)) {
    REQUIRE(file >= 0);
  }
  H5Reader(const H5Reader&) = delete;
  H5Reader& operator=(const H5Reader&) = delete;
  ~H5Reader() { H5Fclose(file); }

  std::vector<std::string> datasets() const {
    std::vector<std::string> names;
    H5Literate(file, H5_INDEX_NAME, H5_ITER_INC, nullptr,
               [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
                 static_cast<std::vector<std::string>*>(data)->emplace_back(name);
                 return 0;
               },
               &names);
    return names;
  }
  std::vector<double> doubles(const std::string& name) const {
    const hid_t dataset = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
    REQUIRE(dataset >= 0);
    const hid_t space = H5Dget_space(dataset);
    std::vector<double> out(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    const hid_t type = H5Dget_type(dataset);
    if (H5Tget_class(type) == H5T_FLOAT || H5Tget_class(type) == H5T_INTEGER) {
      REQUIRE(H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0);
    } else {
      out.clear();  // string coordinates: compared through the layout
    }
    H5Tclose(type);
    H5Sclose(space);
    H5Dclose(dataset);
    return out;
  }
  std::vector<hsize_t> dims(const std::string& name) const {
    const hid_t dataset = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
    const hid_t space = H5Dget_space(dataset);
    std::vector<hsize_t> out(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space)));
    H5Sget_simple_extent_dims(space, out.data(), nullptr);
    H5Sclose(space);
    H5Dclose(dataset);
    return out;
  }
  bool has_attribute(const std::string& name) const { return H5Aexists(file, name.c_str()) > 0; }
  std::string text(const std::string& name) const {
    const hid_t attribute = H5Aopen(file, name.c_str(), H5P_DEFAULT);
    REQUIRE(attribute >= 0);
    const hid_t type = H5Aget_type(attribute);
    REQUIRE(H5Tget_class(type) == H5T_STRING);
    char* raw = nullptr;
    REQUIRE(H5Aread(attribute, type, &raw) >= 0);
    std::string out(raw);
    H5free_memory(raw);
    H5Tclose(type);
    H5Aclose(attribute);
    return out;
  }
  double number(const std::string& name) const {
    const hid_t attribute = H5Aopen(file, name.c_str(), H5P_DEFAULT);
    REQUIRE(attribute >= 0);
    double out = 0.0;
    REQUIRE(H5Aread(attribute, H5T_NATIVE_DOUBLE, &out) >= 0);
    H5Aclose(attribute);
    return out;
  }
};

bool same_values(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// Every variable of two finished files holds the same bits.
void check_same_data(const fs::path& a, const fs::path& b) {
  const H5Reader first(a);
  const H5Reader second(b);
  REQUIRE(first.datasets() == second.datasets());
  for (const std::string& name : first.datasets()) {
    INFO("variable " << name);
    CHECK(same_values(first.doubles(name), second.doubles(name)));
  }
  for (const char* name : {"seed", "replicates", "engine_version", "model_version", "spec", "grid_axes", "firms"}) {
    INFO("attribute " << name);
    REQUIRE(second.has_attribute(name));
  }
}

const char* series_grid = R"(
seed = 5
replicates = 3
[model]
firms = 20
window = 4
error = 0.05
defectors = 0.3
[grid]
rounds = [6, 10]
scope = [0.3, 0.9]
[output]
timeseries = true
)";

}  // namespace

TEST_CASE("a stopped sweep resumes to exactly the data of an uninterrupted one", "[runner][resume]") {
  const coopsweep::testing::TempDir dir("coopsweep-runner");
  const auto spec = sweep::parse_spec(small_grid);
  const fs::path reference = dir / "reference.h5";
  sweep::ExecutionOptions plain;
  plain.threads = 2;
  sweep::write_sweep(spec, reference, false, plain);

  // Stops after runs 1, 7 (mid-configuration: 5 replicates) and 23, resumed
  // with another thread count and block size.
  for (const std::int64_t stop_after : {1, 7, 23}) {
    INFO("stopped after " << stop_after << " runs");
    const fs::path path = dir / ("resumed-" + std::to_string(stop_after) + ".h5");
    std::atomic<bool> stop{false};
    const sweep::ExecutionOptions options = stopping_after(stop_after, stop);
    sweep::StoreOptions store;
    store.checkpoint_interval = 60.0;  // the stop itself checkpoints
    CHECK_THROWS_AS(sweep::write_sweep(spec, path, store, options), sweep::Interrupted);
    CHECK_FALSE(fs::exists(path));

    sweep::ExecutionOptions again;
    again.threads = 2;
    again.block_size = 3;
    store.resume = true;
    std::int64_t resumed_at = -1;
    store.on_resume = [&](std::int64_t done, std::int64_t total) {
      resumed_at = done;
      CHECK(total == 80);
    };
    const sweep::SweepReport report = sweep::write_sweep(spec, path, store, again);
    CHECK(report.resumed_runs == stop_after);
    CHECK(resumed_at == stop_after);
    CHECK_FALSE(report.already_complete);
    check_same_data(reference, path);
    CHECK(H5Reader(path).number("sessions") == 2.0);

    const sweep::SweepReport again_report = sweep::write_sweep(spec, path, store, again);
    CHECK(again_report.already_complete);
  }
}

TEST_CASE("a resume from another spec is refused as bad input", "[runner][resume]") {
  const coopsweep::testing::TempDir dir("coopsweep-runner");
  const fs::path path = dir / "stopped.h5";
  std::atomic<bool> stop{true};
  sweep::ExecutionOptions options;
  options.stop = &stop;
  CHECK_THROWS_AS(sweep::write_sweep(sweep::parse_spec(small_grid), path, false, options), sweep::Interrupted);
  sweep::StoreOptions store;
  store.resume = true;
  const auto refused = [&](const std::string& text, const std::string& why) {
    INFO(why);
    CHECK_THROWS_WITH(sweep::write_sweep(sweep::parse_spec(text), path, store, {}),
                      Catch::Contains("cannot resume") && Catch::Contains(why));
  };
  std::string text = small_grid;
  refused(text.replace(text.find("seed = 7"), 8, "seed = 8"), "seed = 7, this run has seed = 8");
  text = small_grid;
  refused(text.replace(text.find("rounds = 40"), 11, "rounds = 41"), "rounds = 40, this run has rounds = 41");
  text = small_grid;
  refused(text.replace(text.find("[0.0, 0.1]"), 10, "[0.0, 0.2]"), "grid axis 'trust_decay' has other values");
  refused(std::string(small_grid) + "[output]\ntimeseries = true\n", "timeseries = 0, this run has timeseries = 1");
  // A comment or an [output] path changes no data: that resume is accepted.
  CHECK_NOTHROW(sweep::write_sweep(sweep::parse_spec(std::string("# resumed\n") + small_grid), path, store, {}));
}

TEST_CASE("the results file records its provenance", "[runner][provenance]") {
  const coopsweep::testing::TempDir dir("coopsweep-runner");
  const fs::path path = dir / "provenance.h5";
  const auto spec = sweep::parse_spec(small_grid, "small.toml");
  sweep::ExecutionOptions options;
  options.threads = 2;
  sweep::StoreOptions store;
  store.processes = 1;
  const auto before = std::chrono::system_clock::now();
  sweep::write_sweep(spec, path, store, options);
  const H5Reader file(path);
  const sweep::BuildInfo build = sweep::build_info();
  CHECK(file.text("spec") == spec.text);
  CHECK(file.text("spec_source") == "small.toml");
  CHECK(file.number("seed") == 7.0);
  CHECK(file.number("replicates") == 5.0);
  CHECK(file.number("model_version") == static_cast<double>(model_version));
  CHECK(file.text("engine_version") == engine_version);
  CHECK(file.text("git_commit") == build.git_commit);
  CHECK(file.text("build_type") == build.build_type);
  CHECK(file.text("compiler") == build.compiler);
  CHECK(file.text("host_name") == sweep::host_name());
  CHECK(file.number("threads") == 2.0);
  CHECK(file.number("processes") == 1.0);
  CHECK(file.number("sessions") == 1.0);
  CHECK(file.number("completed") == 1.0);
  const std::string start = file.text("start_time");
  const std::string end = file.text("end_time");
  CHECK(start.size() == 20);
  CHECK(start <= end);  // ISO 8601 in UTC sorts as text
  const std::time_t started = std::chrono::system_clock::to_time_t(before);
  std::tm utc{};
  gmtime_r(&started, &utc);
  char expected_year[8];
  std::strftime(expected_year, sizeof expected_year, "%Y", &utc);
  CHECK(start.substr(0, 4) == expected_year);
  CHECK(file.number("wall_time_seconds") > 0.0);
  CHECK(file.text("history").find("runs 0 to 80 of 80") != std::string::npos);
  CHECK(file.text("history").find(std::string(build.git_commit)) != std::string::npos);
  // The full resolved parameter set: every parameter a grid axis or an attribute.
  for (const auto& parameter : sweep::parameter_table()) {
    const std::string name(parameter.name);
    INFO(name);
    const bool axis = name == "topology" || name == "scope" || name == "trust_decay";
    CHECK(file.has_attribute(name) != axis);
  }
  CHECK(file.text("grid_axes") == "topology scope trust_decay");
}

TEST_CASE("timeseries store every round of every run", "[runner][series]") {
  const coopsweep::testing::TempDir dir("coopsweep-runner");
  const fs::path path = dir / "series.h5";
  const auto spec = sweep::parse_spec(series_grid);
  CHECK(sweep::series_length(spec) == 10);
  CHECK(sweep::series_bytes(spec) == 12 * 10 * 4 * 8);
  CHECK_FALSE(sweep::series_warning(spec).has_value());
  sweep::write_sweep(spec, path, false, {});
  const H5Reader file(path);
  CHECK(file.dims("cooperation_by_round") == std::vector<hsize_t>{2, 2, 3, 10});
  CHECK(file.doubles("round") == std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  const std::vector<double> cooperation = file.doubles("cooperation");
  const std::vector<double> alliances = file.doubles("alliances");
  for (const char* name : {"cooperation_by_round", "trust_by_round", "payoff_by_round", "alliances_by_round"}) {
    INFO(name);
    const std::vector<double> series = file.doubles(name);
    for (std::size_t run = 0; run < 12; ++run) {
      const std::size_t rounds = run < 6 ? 6 : 10;  // rounds = [6, 10] is the first axis
      for (std::size_t t = 0; t < 10; ++t) CHECK(std::isnan(series[run * 10 + t]) == (t >= rounds));
      if (std::string(name) == "cooperation_by_round") {
        double window = 0.0;
        for (std::size_t t = rounds - 4; t < rounds; ++t) window += series[run * 10 + t];
        CHECK(window / 4.0 == Approx(cooperation[run]).margin(1e-12));
      }
      if (std::string(name) == "alliances_by_round") CHECK(series[run * 10 + rounds - 1] == alliances[run]);
    }
  }
  // Without timeseries there are no series variables.
  const fs::path plain = dir / "plain.h5";
  sweep::write_sweep(sweep::parse_spec(small_grid), plain, false, {});
  const auto names = H5Reader(plain).datasets();
  CHECK(std::find(names.begin(), names.end(), "round") == names.end());
}

TEST_CASE("a warning names the size of series above their limit", "[runner][series]") {
  const auto spec = sweep::parse_spec(std::string(series_grid) + "timeseries_limit_gb = 1e-6\n");
  const auto warning = sweep::series_warning(spec);
  REQUIRE(warning.has_value());
  CHECK_THAT(*warning, Catch::Contains("about 3.84e-06 GB") && Catch::Contains("timeseries_limit_gb = 1e-06"));
  CHECK(sweep::series_bytes(sweep::parse_spec(small_grid)) == 0);
}

TEST_CASE("estimate_sweep times a sample and writes nothing", "[runner][estimate]") {
  const coopsweep::testing::TempDir dir("coopsweep-runner");
  const auto spec = sweep::parse_spec(series_grid);
  sweep::ExecutionOptions options;
  options.threads = 2;
  const sweep::SweepEstimate estimate = sweep::estimate_sweep(spec, options, 5, 0.05);
  CHECK(estimate.configurations == 4);
  CHECK(estimate.runs == 12);
  CHECK(estimate.runs_left == 7);
  CHECK(std::isfinite(estimate.seconds));
  CHECK(estimate.seconds > 0.0);
  CHECK(estimate.calibration_runs >= 1);
  CHECK(estimate.calibration_runs <= 12);
  CHECK(estimate.series_bytes == 12 * 10 * 4 * 8);
  CHECK(estimate.partial_bytes > 12 * 12 * 8 + estimate.series_bytes);
  CHECK(estimate.file_bytes > 0);
  CHECK(estimate.file_bytes <= estimate.partial_bytes);
  CHECK(fs::is_empty(dir.path()));
  CHECK_THROWS_AS(sweep::estimate_sweep(sweep::parse_spec("[grid]\ntopology = ['ring']\npartners = [3]"), options),
                  sweep::InputError);
}

// ---------------------------------------------------------------------------
// Sampled designs and adaptive replication

namespace {

const char* sampled_grid = R"(
seed = 21
replicates = 3
[model]
firms = 24
rounds = 30
window = 10
error = 0.05
[grid]
topology = ["random", "regular"]
[sample]
design = "lhs"
samples = 6
[sample.ranges]
scope = [0.1, 0.9]
partners = [2, 6]
)";

const char* adaptive_grid = R"(
seed = 11
[model]
firms = 20
rounds = 30
window = 10
error = 0.1
[grid]
scope = [0.1, 0.5, 0.9]
defectors = [0.0, 0.3]
[replication]
target_ci = 0.06
min = 4
max = 64
)";

std::vector<std::int64_t> integers(const std::vector<double>& values) {
  return std::vector<std::int64_t>(values.begin(), values.end());
}

}  // namespace

TEST_CASE("a sampled sweep stores the sample along its own dimension with a coordinate per parameter",
          "[runner][sample]") {
  const coopsweep::testing::TempDir dir("coopsweep-runner");
  const auto spec = sweep::parse_spec(sampled_grid);
  const sweep::Design design(spec);
  const fs::path path = dir / "sampled.h5";
  sweep::ExecutionOptions options;
  options.threads = 2;
  sweep::write_sweep(spec, path, false, options);
  const H5Reader file(path);
  CHECK(file.dims("cooperation") == std::vector<hsize_t>{2, 6, 3});
  CHECK(file.dims("cooperation_mean") == std::vector<hsize_t>{2, 6});
  CHECK(file.doubles("sample") == std::vector<double>{0, 1, 2, 3, 4, 5});
  const std::vector<double> scope = file.doubles("scope");
  const std::vector<double> partners = file.doubles("partners");
  REQUIRE(scope.size() == 6);
  for (std::int64_t s = 0; s < 6; ++s) {
    CHECK(scope[static_cast<std::size_t>(s)] == std::get<double>(design.sample_value(s, 0)));
    CHECK(partners[static_cast<std::size_t>(s)] == static_cast<double>(std::get<std::int64_t>(design.sample_value(s, 1))));
  }
  CHECK(file.text("sample_design") == "lhs");
  CHECK(file.text("sample_parameters") == "scope partners");
  CHECK(file.text("sample_ranges") == "scope=[0.1, 0.9]; partners=[2, 6]");
  CHECK(file.number("sample_points") == 6.0);
  CHECK(file.text("grid_axes") == "topology");
  // Sampled parameters vary: they are coordinates, not attributes.
  CHECK_FALSE(file.has_attribute("scope"));
  CHECK_FALSE(file.has_attribute("partners"));
  CHECK(file.has_attribute("trust_decay"));

  SECTION("each configuration is the sample point's parameters, re-run alone to the bit") {
    const std::vector<double> cooperation = file.doubles("cooperation");
    for (const std::int64_t c : {0, 4, 7, 11}) {
      const auto alone = sweep::simulate(design.configuration(c), spec.seed, 3, c, {});
      for (std::size_t r = 0; r < 3; ++r) {
        CHECK(alone[r][0] == cooperation[static_cast<std::size_t>(c * 3) + r]);
      }
    }
  }
  SECTION("and does not depend on threads or blocks") {
    const fs::path other = dir / "sampled-1.h5";
    sweep::ExecutionOptions one;
    one.threads = 1;
    one.block_size = 5;
    sweep::write_sweep(spec, other, false, one);
    check_same_data(path, other);
  }
}

TEST_CASE("adaptive replication runs a configuration until its interval is narrower than the target",
          "[runner][replication]") {
  const coopsweep::testing::TempDir dir("coopsweep-runner");
  const auto spec = sweep::parse_spec(adaptive_grid);
  const sweep::Design design(spec);
  const sweep::ReplicationRule rule = sweep::replication_rule(spec.replication);
  const fs::path path = dir / "adaptive.h5";
  const sweep::SweepReport report = sweep::write_sweep(spec, path, false, {});
  const H5Reader file(path);
  CHECK(file.dims("cooperation") == std::vector<hsize_t>{3, 2, 64});
  CHECK(file.dims("replicates_run") == std::vector<hsize_t>{3, 2});
  const std::vector<std::int64_t> counts = integers(file.doubles("replicates_run"));
  const std::vector<double> cooperation = file.doubles("cooperation");
  const std::vector<double> means = file.doubles("cooperation_mean");
  std::int64_t total = 0;
  for (std::int64_t c = 0; c < 6; ++c) {
    const std::int64_t n = counts[static_cast<std::size_t>(c)];
    total += n;
    INFO("configuration " << c << " ran " << n);
    // The first n replicates are those of the configuration run alone; the rest are NaN.
    const auto alone = sweep::simulate(design.configuration(c), spec.seed, n, c, {});
    double sum = 0.0;
    for (std::int64_t r = 0; r < 64; ++r) {
      const double stored = cooperation[static_cast<std::size_t>(c * 64 + r)];
      if (r < n) {
        CHECK(stored == alone[static_cast<std::size_t>(r)][0]);
        sum += stored;
      } else {
        CHECK(std::isnan(stored));
      }
    }
    CHECK(means[static_cast<std::size_t>(c)] == Approx(sum / static_cast<double>(n)).epsilon(1e-12));
    // It stopped at the first count of 4, 8, 16, ... that met the target, or at 64.
    const double width = sweep::confidence_width(alone, 0);
    CHECK((width < rule.target_ci || n == 64));
    if (n > 4) {
      CHECK(sweep::confidence_width(std::span(alone).first(static_cast<std::size_t>(n / 2)), 0) >= rule.target_ci);
    }
  }
  // The targets differ across the grid, and so do the counts.
  CHECK(*std::min_element(counts.begin(), counts.end()) < *std::max_element(counts.begin(), counts.end()));
  CHECK(report.adaptive);
  CHECK(report.replicates_run == total);
  CHECK(report.fewest_replicates == *std::min_element(counts.begin(), counts.end()));
  CHECK(report.most_replicates == *std::max_element(counts.begin(), counts.end()));
  CHECK(file.number("replicates") == 64.0);
  CHECK(file.number("replication_target_ci") == 0.06);
  CHECK(file.text("replication_metrics") == "cooperation");
  CHECK(file.number("replication_min") == 4.0);
  CHECK(file.number("replication_max") == 64.0);
  CHECK(file.number("replication_step") == 0.0);
}

TEST_CASE("adaptive replication gives the same counts and values whatever the threads and blocks",
          "[runner][replication][determinism]") {
  const auto spec = sweep::parse_spec(adaptive_grid);
  const sweep::Design design(spec);
  const sweep::ReplicationRule rule = sweep::replication_rule(spec.replication);
  const auto collect_adaptive = [&](int threads, std::int64_t block_size) {
    std::vector<RunMetrics> out(static_cast<std::size_t>(design.run_count()));
    sweep::ExecutionOptions options;
    options.threads = threads;
    options.block_size = block_size;
    sweep::run_design(
        design, spec.seed, options,
        [&](std::int64_t first, std::span<const RunMetrics> runs) {
          REQUIRE(first % 64 == 0);  // whole configurations
          std::copy(runs.begin(), runs.end(), out.begin() + first);
        },
        &rule);
    return out;
  };
  const auto reference = collect_adaptive(1, 1);
  CHECK(bitwise_equal(reference, collect_adaptive(2, 0)));
  CHECK(bitwise_equal(reference, collect_adaptive(4, 200)));
  CHECK(bitwise_equal(reference, collect_adaptive(3, 64 * 5)));

  const coopsweep::testing::TempDir dir("coopsweep-runner");
  sweep::ExecutionOptions one, many;
  one.threads = 1;
  many.threads = 4;
  many.block_size = 1;
  sweep::write_sweep(spec, dir / "one.h5", false, one);
  sweep::write_sweep(spec, dir / "many.h5", false, many);
  check_same_data(dir / "one.h5", dir / "many.h5");

  sweep::ReplicationRule wrong = rule;
  wrong.max = 32;
  CHECK_THROWS_AS(sweep::run_design(design, spec.seed, {}, [](auto, auto) {}, &wrong), std::invalid_argument);
}

TEST_CASE("an adaptive sweep resumes to exactly the data of an uninterrupted one", "[runner][replication][resume]") {
  const coopsweep::testing::TempDir dir("coopsweep-runner");
  std::string text = adaptive_grid;
  text += "[output]\ntimeseries = true\n";
  const auto spec = sweep::parse_spec(text);
  const fs::path reference = dir / "reference.h5";
  sweep::write_sweep(spec, reference, false, {});
  for (const std::int64_t stop_after : {64, 3 * 64}) {
    INFO("stopped after " << stop_after << " run slots");
    const fs::path path = dir / ("resumed-" + std::to_string(stop_after) + ".h5");
    std::atomic<bool> stop{false};
    CHECK_THROWS_AS(sweep::write_sweep(spec, path, false, stopping_after(stop_after, stop)), sweep::Interrupted);
    sweep::StoreOptions store;
    store.resume = true;
    sweep::ExecutionOptions again;
    again.threads = 3;
    const auto report = sweep::write_sweep(spec, path, store, again);
    CHECK(report.resumed_runs == stop_after);
    check_same_data(reference, path);
    const std::vector<double> counts = H5Reader(path).doubles("replicates_run");
    CHECK(report.replicates_run == static_cast<std::int64_t>(std::accumulate(counts.begin(), counts.end(), 0.0)));
  }
}

TEST_CASE("series of sampled rounds are as long as the longest sampled run", "[runner][series][sample]") {
  const auto spec = sweep::parse_spec(
      "[model]\nwindow = 5\n[sample]\ndesign = 'lhs'\nsamples = 4\n[sample.ranges]\nrounds = [10, 30]\n"
      "[output]\ntimeseries = true");
  CHECK(sweep::series_length(spec) == 30);
  CHECK(sweep::series_bytes(spec) == 4 * 30 * 4 * 8);
}
