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
#include <utility>

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
// Producers, subsets and the pieces MPI runs and shards use

namespace {

// Collects what a sink gets: the runs by index, and the order of the blocks.
struct Collected {
  std::vector<RunMetrics> runs;
  std::vector<std::int64_t> firsts;
  std::vector<double> series;  // per run: series-major blocks appended as they came
  sweep::BlockSink sink() {
    return [this](const sweep::BlockResults& block) {
      firsts.push_back(block.first_run);
      for (std::size_t i = 0; i < block.runs.size(); ++i) {
        const auto run = static_cast<std::size_t>(block.first_run) + i;
        if (runs.size() <= run) runs.resize(run + 1);
        runs[run] = block.runs[i];
      }
      series.insert(series.end(), block.series.begin(), block.series.end());
    };
  }
};

}  // namespace

TEST_CASE("compute_spans delivers the runs of its spans in order, as the sweep computes them", "[runner][spans]") {
  const auto spec = sweep::parse_spec(small_grid);
  const sweep::GridDesign design(spec);
  const auto reference = collect(design, spec.seed, 1, 0);
  const std::vector<sweep::RunRange> spans{{3, 9}, {20, 1}, {40, 0}, {41, 30}};
  for (const std::int64_t block : {0, 1, 4}) {
    INFO("block size " << block);
    sweep::ExecutionOptions options;
    options.threads = 2;
    options.block_size = block;
    Collected got;
    sweep::compute_spans(spec, options, spans, got.sink());
    std::int64_t expected_next = 3;
    std::int64_t delivered = 0;
    for (std::size_t b = 0; b < got.firsts.size(); ++b) {
      if (expected_next == 12) expected_next = 20;
      if (expected_next == 21) expected_next = 41;
      CHECK(got.firsts[b] == expected_next);
      const std::int64_t end = b + 1 < got.firsts.size() ? got.firsts[b + 1] : 71;
      const std::int64_t span_end = got.firsts[b] < 12 ? 12 : got.firsts[b] < 21 ? 21 : 71;
      const std::int64_t size = std::min(end, span_end) - got.firsts[b];
      if (block > 0) CHECK(size <= block);
      expected_next = got.firsts[b] + size;
      delivered += size;
    }
    CHECK(delivered == 40);
    for (const sweep::RunRange& span : spans) {
      for (std::int64_t r = span.first; r < span.first + span.count; ++r) {
        CHECK(std::memcmp(&got.runs[static_cast<std::size_t>(r)], &reference[static_cast<std::size_t>(r)],
                          sizeof(RunMetrics)) == 0);
      }
    }
  }
}

TEST_CASE("compute_ranges computes each range handed out as one block, in that order", "[runner][spans]") {
  const auto spec = sweep::parse_spec(series_grid);
  const std::vector<sweep::RunRange> ranges{{10, 2}, {0, 3}, {5, 1}};
  std::size_t next = 0;
  Collected got;
  sweep::ExecutionOptions options;
  options.threads = 2;
  sweep::compute_ranges(spec, options, [&] { return next < ranges.size() ? ranges[next++] : sweep::RunRange{}; },
                        got.sink());
  CHECK(got.firsts == std::vector<std::int64_t>{10, 0, 5});
  // With series: 4 series x 10 rounds per run, as write_series takes them.
  CHECK(got.series.size() == 4 * 10 * 6);
  Collected all;
  const sweep::RunRange everything{0, 12};
  sweep::compute_spans(spec, {}, std::span(&everything, 1), all.sink());
  for (const std::int64_t r : {10, 11, 0, 1, 2, 5}) {
    CHECK(std::memcmp(&got.runs[static_cast<std::size_t>(r)], &all.runs[static_cast<std::size_t>(r)],
                      sizeof(RunMetrics)) == 0);
  }
  SECTION("a stop before the source runs dry is Interrupted") {
    std::atomic<bool> stop{true};
    options.stop = &stop;
    next = 0;
    CHECK_THROWS_AS(sweep::compute_ranges(spec, options, [&] { return ranges[next++ % 3]; }, got.sink()),
                    sweep::Interrupted);
    CHECK_THROWS_AS(sweep::compute_spans(spec, options, ranges, got.sink()), sweep::Interrupted);
  }
}

TEST_CASE("block_size takes a requested size, else gives every thread several blocks", "[runner][spans]") {
  const auto spec = sweep::parse_spec(small_grid);
  CHECK(sweep::block_size(spec, 7, 80, 2) == 7);
  CHECK(sweep::block_size(spec, 0, 80, 2) == 10);    // 80 runs / (4 blocks x 2 threads)
  CHECK(sweep::block_size(spec, 0, 80, 40) == 1);
  CHECK(sweep::block_size(spec, 0, 1 << 30, 1) <= 65536);
}

TEST_CASE("write_sweep stores what a producer delivers and refuses blocks out of order", "[runner][producer]") {
  const coopsweep::testing::TempDir dir("coopsweep-runner");
  const auto spec = sweep::parse_spec(small_grid);
  const fs::path reference = dir / "reference.h5";
  sweep::write_sweep(spec, reference, false, {});

  SECTION("a producer of the same runs gives the same file") {
    const fs::path path = dir / "produced.h5";
    std::vector<sweep::RunRange> asked;
    sweep::StoreOptions store;
    store.processes = 3;
    store.threads = 12;
    store.note = "made by a test";
    store.prior_history = {"earlier line one", "earlier line two"};
    store.prior_seconds = 100.0;
    const auto report = sweep::write_sweep(spec, path, store, {},
                                           [&](std::span<const sweep::RunRange> spans, const sweep::BlockSink& sink) {
                                             asked.assign(spans.begin(), spans.end());
                                             sweep::ExecutionOptions options;
                                             options.block_size = 9;
                                             sweep::compute_spans(spec, options, spans, sink);
                                           });
    CHECK(asked == std::vector<sweep::RunRange>{{0, 80}});
    CHECK(report.file_runs == 80);
    check_same_data(reference, path);
    const H5Reader file(path);
    CHECK(file.number("processes") == 3.0);
    CHECK(file.number("threads") == 12.0);
    CHECK(file.number("wall_time_seconds") > 100.0);
    const std::string history = file.text("history");
    CHECK(history.rfind("earlier line one\nearlier line two\n", 0) == 0);
    CHECK(history.find("12 threads, 3 processes; made by a test: runs 0 to 80 of 80") != std::string::npos);
  }
  SECTION("blocks out of order, beyond the runs asked for or too few are refused") {
    const auto bad = [&](std::function<void(const sweep::BlockSink&)> deliver) {
      return [deliver](std::span<const sweep::RunRange>, const sweep::BlockSink& sink) { deliver(sink); };
    };
    std::vector<RunMetrics> runs(5);
    const fs::path path = dir / "bad.h5";
    sweep::StoreOptions store;
    store.overwrite = true;
    CHECK_THROWS_AS(sweep::write_sweep(spec, path, store, {},
                                       bad([&](const sweep::BlockSink& sink) { sink({5, runs, {}, {}}); })),
                    std::logic_error);
    CHECK_THROWS_AS(sweep::write_sweep(spec, path, store, {}, bad([&](const sweep::BlockSink& sink) {
                                         sink({0, runs, {}, {}});
                                         sink({0, runs, {}, {}});
                                       })),
                    std::logic_error);
    CHECK_THROWS_AS(sweep::write_sweep(spec, path, store, {},
                                       bad([&](const sweep::BlockSink& sink) { sink({0, runs, {}, {}}); })),
                    std::logic_error);
    CHECK_FALSE(fs::exists(path));
  }
}

TEST_CASE("a subset of runs is stored along `run`, without summaries, and resumes", "[runner][subset]") {
  const coopsweep::testing::TempDir dir("coopsweep-runner");
  const auto spec = sweep::parse_spec(series_grid);
  const fs::path whole = dir / "whole.h5";
  sweep::write_sweep(spec, whole, false, {});
  sweep::StoreOptions store;
  store.subset = {{1, 2}, {3, 1}, {7, 4}};  // adjacent ranges join: runs 1, 2, 3, 7, 8, 9, 10
  store.attributes = {{"part", std::int64_t{5}}};
  const fs::path reference = dir / "subset.h5";
  const auto report = sweep::write_sweep(spec, reference, store, {});
  CHECK(report.runs == 12);
  CHECK(report.file_runs == 7);
  {
    const H5Reader file(reference);
    const auto names = file.datasets();
    CHECK(std::find(names.begin(), names.end(), "replicate") == names.end());
    CHECK(std::find(names.begin(), names.end(), "cooperation_mean") == names.end());
    CHECK(std::find(names.begin(), names.end(), "scope") == names.end());
    CHECK(file.doubles("run") == std::vector<double>{1, 2, 3, 7, 8, 9, 10});
    CHECK(file.dims("cooperation") == std::vector<hsize_t>{7});
    CHECK(file.dims("trust_by_round") == std::vector<hsize_t>{7, 10});
    CHECK(file.number("part") == 5.0);
    CHECK(file.text("grid_axes") == "rounds scope");
    const H5Reader all(whole);
    for (const char* name : {"payoff", "rounds_run"}) {
      const std::vector<double> values = all.doubles(name);
      const std::vector<double> expected{values[1], values[2], values[3], values[7], values[8], values[9], values[10]};
      CHECK(same_values(file.doubles(name), expected));
    }
    const std::vector<double> series = all.doubles("payoff_by_round");
    std::vector<double> expected;
    for (const std::size_t r : {1, 2, 3, 7, 8, 9, 10}) expected.insert(expected.end(), series.begin() + r * 10, series.begin() + r * 10 + 10);
    CHECK(same_values(file.doubles("payoff_by_round"), expected));
  }
  SECTION("stopped inside and after a gap, it resumes to the same file") {
    for (const std::int64_t stop_after : {2, 4}) {
      INFO("stopped after " << stop_after);
      const fs::path path = dir / ("stopped-" + std::to_string(stop_after) + ".h5");
      std::atomic<bool> stop{false};
      sweep::StoreOptions first = store;
      first.checkpoint_interval = 60.0;
      CHECK_THROWS_AS(sweep::write_sweep(spec, path, first, stopping_after(stop_after, stop)), sweep::Interrupted);
      sweep::StoreOptions again = store;
      again.resume = true;
      std::int64_t resumed_at = -1;
      again.on_resume = [&](std::int64_t done, std::int64_t total) {
        resumed_at = done;
        CHECK(total == 7);
      };
      sweep::ExecutionOptions options;
      options.threads = 2;
      options.block_size = 2;
      sweep::write_sweep(spec, path, again, options);
      CHECK(resumed_at == stop_after);
      check_same_data(reference, path);
    }
  }
  SECTION("another subset or attribute is refused on resume") {
    const fs::path path = dir / "other.h5";
    std::atomic<bool> stop{false};
    CHECK_THROWS_AS(sweep::write_sweep(spec, path, store, stopping_after(1, stop)), sweep::Interrupted);
    sweep::StoreOptions other = store;
    other.resume = true;
    other.subset = {{1, 3}, {8, 4}};
    CHECK_THROWS_AS(sweep::write_sweep(spec, path, other, {}), sweep::InputError);
    other.subset = store.subset;
    other.attributes = {{"part", std::int64_t{6}}};
    CHECK_THROWS_WITH(sweep::write_sweep(spec, path, other, {}), Catch::Contains("part = 5"));
  }
  SECTION("ranges that overlap, go backwards, are empty or leave the sweep are bad input") {
    for (const auto& subset : std::vector<std::vector<sweep::RunRange>>{
             {{2, 3}, {4, 1}}, {{5, 1}, {2, 1}}, {{0, 0}}, {{10, 3}}, {{-1, 2}}}) {
      sweep::StoreOptions bad;
      bad.subset = subset;
      CHECK_THROWS_AS(sweep::write_sweep(spec, dir / "bad.h5", bad, {}), sweep::InputError);
      CHECK_THROWS_AS(sweep::results_layout(spec, bad, 1), sweep::InputError);
    }
    CHECK_FALSE(fs::exists(dir / "bad.h5.partial"));
  }
}

TEST_CASE("results_layout gives the file's layout without writing it", "[runner][producer]") {
  const auto spec = sweep::parse_spec(series_grid);
  sweep::StoreOptions store;
  store.processes = 4;
  const io::ResultsLayout layout = sweep::results_layout(spec, store, 8);
  REQUIRE(layout.axes.size() == 2);
  CHECK(layout.axes[0].name == "rounds");
  CHECK(layout.replicates == 3);
  CHECK(layout.series_length == 10);
  CHECK(layout.summaries);
  const auto attribute = [&](const std::string& name) {
    return std::find_if(layout.attributes.begin(), layout.attributes.end(),
                        [&](const io::Attribute& a) { return a.name == name; });
  };
  REQUIRE(attribute("threads") != layout.attributes.end());
  CHECK(attribute("threads")->value == io::AttributeValue{std::int64_t{8}});
  CHECK(attribute("threads")->provenance);
  CHECK(attribute("processes")->value == io::AttributeValue{std::int64_t{4}});
  CHECK_FALSE(attribute("seed")->provenance);
  store.subset = {{0, 2}};
  const io::ResultsLayout part = sweep::results_layout(spec, store, 1);
  CHECK_FALSE(part.summaries);
  CHECK_FALSE(part.replicate_dimension);
  REQUIRE(part.axes.size() == 1);
  CHECK(part.axes[0].values == io::AxisValues{std::vector<std::int64_t>{0, 1}});
}

TEST_CASE("compute_spans and compute_ranges refuse runs outside the sweep", "[runner][spans]") {
  const auto spec = sweep::parse_spec(small_grid);  // 80 runs
  const auto ignore = [](const sweep::BlockResults&) {};
  const sweep::RunRange beyond{78, 3};
  CHECK_THROWS_AS(sweep::compute_spans(spec, {}, std::span(&beyond, 1), ignore), std::out_of_range);
  bool given = false;
  CHECK_THROWS_AS(sweep::compute_ranges(spec, {},
                                        [&] {
                                          if (given) return sweep::RunRange{};
                                          given = true;
                                          return sweep::RunRange{-1, 2};
                                        },
                                        ignore),
                  std::out_of_range);
}

TEST_CASE("a bad range from the source ends the run once the blocks in flight drain and leaks none",
          "[runner][spans]") {
  const auto spec = sweep::parse_spec(small_grid);  // 80 runs
  sweep::ExecutionOptions options;
  options.threads = 2;
  // Six good blocks of one run, then one beyond the sweep, given while the
  // sink still holds the first block: the blocks computed meanwhile wait in
  // the output stage's buffer when the input stage throws.
  const auto failing_run = [&](std::vector<std::int64_t>& delivered, std::string& what) {
    std::int64_t given = 0;
    try {
      sweep::compute_ranges(
          spec, options,
          [&] {
            if (++given <= 6) return sweep::RunRange{given - 1, 1};
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            return sweep::RunRange{200, 1};
          },
          [&](const sweep::BlockResults& block) {
            if (delivered.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(300));
            delivered.push_back(block.first_run);
          });
    } catch (const std::out_of_range& error) {
      what = error.what();
    }
  };
  std::vector<std::int64_t> delivered;
  delivered.reserve(16);
  std::string what;
  failing_run(delivered, what);  // once first, for what TBB and the runtime allocate once and keep
  CHECK_THAT(what, Catch::Matchers::Contains("lie outside the sweep's 80 runs"));
  // The blocks handed out before the bad range are delivered, in order.
  CHECK(delivered == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5});
  delivered.clear();
  // Measured outside Catch's macros, which allocate for their own records.
  const std::size_t before = coopsweep::testing::heap_live_bytes();
  failing_run(delivered, what);
  const std::size_t after = coopsweep::testing::heap_live_bytes();
  CHECK(after == before);
}

TEST_CASE("run_count is configurations times replicates", "[runner][spans]") {
  CHECK(sweep::run_count(sweep::parse_spec(small_grid)) == 4 * 2 * 2 * 5);
  CHECK(sweep::run_count(sweep::parse_spec("replicates = 3\n")) == 3);
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

TEST_CASE("compute_spans of an adaptive sweep delivers whole configurations with their counts",
          "[runner][replication][spans]") {
  const auto spec = sweep::parse_spec(adaptive_grid);
  const sweep::Design design(spec);
  const sweep::ReplicationRule rule = sweep::replication_rule(spec.replication);
  std::vector<RunMetrics> reference(static_cast<std::size_t>(design.run_count()));
  sweep::run_design(
      design, spec.seed, {},
      [&](std::int64_t first, std::span<const RunMetrics> runs) { std::copy(runs.begin(), runs.end(), reference.begin() + first); },
      &rule);

  // Configurations 1 and 3..4, in blocks of one configuration (a requested
  // size of 5 runs rounds up to whole configurations of 64 slots).
  CHECK(sweep::block_size(spec, 5, 6 * 64, 2) == 64);
  CHECK(sweep::block_size(spec, 0, 6 * 64, 2) % 64 == 0);
  const std::vector<sweep::RunRange> spans{{64, 64}, {3 * 64, 2 * 64}};
  sweep::ExecutionOptions options;
  options.threads = 2;
  options.block_size = 5;
  std::vector<std::int64_t> firsts, counts;
  std::vector<RunMetrics> got(reference.size());
  sweep::compute_spans(spec, options, spans, [&](const sweep::BlockResults& block) {
    firsts.push_back(block.first_run);
    REQUIRE(block.runs.size() == 64);
    REQUIRE(block.counts.size() == 1);
    counts.push_back(block.counts[0]);
    std::copy(block.runs.begin(), block.runs.end(), got.begin() + block.first_run);
  });
  CHECK(firsts == std::vector<std::int64_t>{64, 3 * 64, 4 * 64});
  for (std::size_t k = 0; k < firsts.size(); ++k) {
    const auto first = static_cast<std::size_t>(firsts[k]);
    const auto ran = static_cast<std::size_t>(counts[k]);
    CHECK(ran >= 4);
    CHECK(ran <= 64);
    CHECK(std::memcmp(&got[first], &reference[first], 64 * sizeof(RunMetrics)) == 0);
    CHECK(std::isnan(ran < 64 ? got[first + ran][0] : std::nan("")));
  }

  SECTION("ranges that cut through configurations are refused") {
    const std::vector<sweep::RunRange> cut{{10, 64}};
    CHECK_THROWS_AS(sweep::compute_spans(spec, {}, cut, [](const sweep::BlockResults&) {}), std::invalid_argument);
    const sweep::RunRange part{0, 32};
    bool given = false;
    CHECK_THROWS_WITH(sweep::compute_ranges(
                          spec, {}, [&] { return std::exchange(given, true) ? sweep::RunRange{} : part; },
                          [](const sweep::BlockResults&) {}),
                      Catch::Contains("not whole configurations of 64 replicates"));
  }
}

TEST_CASE("an adaptive sweep through a producer gives the single run's file, and a subset of one is refused",
          "[runner][replication][producer]") {
  const coopsweep::testing::TempDir dir("coopsweep-runner");
  const auto spec = sweep::parse_spec(adaptive_grid);
  const fs::path reference = dir / "reference.h5";
  sweep::write_sweep(spec, reference, false, {});

  const fs::path path = dir / "produced.h5";
  const auto report = sweep::write_sweep(spec, path, sweep::StoreOptions{}, {},
                                         [&](std::span<const sweep::RunRange> spans, const sweep::BlockSink& sink) {
                                           sweep::ExecutionOptions options;
                                           options.threads = 2;
                                           options.block_size = 2 * 64;
                                           sweep::compute_spans(spec, options, spans, sink);
                                         });
  check_same_data(reference, path);
  CHECK(report.adaptive);
  CHECK(report.replicates_run >= 6 * 4);

  SECTION("a producer that leaves out the counts is refused") {
    std::vector<RunMetrics> runs(64);
    sweep::StoreOptions store;
    store.overwrite = true;
    CHECK_THROWS_WITH(sweep::write_sweep(spec, dir / "bad.h5", store, {},
                                         [&](std::span<const sweep::RunRange>, const sweep::BlockSink& sink) {
                                           sink({0, runs, {}, {}});
                                         }),
                      Catch::Contains("does not match the replication rule"));
  }
  SECTION("a subset (a shard) is refused before a file is made") {
    sweep::StoreOptions store;
    store.subset = {{0, 64}};
    CHECK_THROWS_WITH(sweep::write_sweep(spec, dir / "subset.h5", store, {}),
                      Catch::Contains("adaptive replication ([replication]) cannot be stored as a subset"));
    CHECK_FALSE(fs::exists(dir / "subset.h5"));
    CHECK_FALSE(fs::exists(dir / "subset.h5.partial"));
    CHECK_THROWS_AS(sweep::results_layout(spec, store, 1), sweep::InputError);
  }
}

TEST_CASE("a subset of a sampled sweep keeps its runs along `run`, without the sample's coordinates",
          "[runner][sample][subset]") {
  const coopsweep::testing::TempDir dir("coopsweep-runner");
  const auto spec = sweep::parse_spec(sampled_grid);
  sweep::StoreOptions store;
  store.subset = {{3, 5}, {20, 4}};
  const io::ResultsLayout layout = sweep::results_layout(spec, store, 1);
  REQUIRE(layout.axes.size() == 1);
  CHECK(layout.axes[0].name == "run");
  CHECK(layout.coordinates.empty());
  const auto report = sweep::write_sweep(spec, dir / "subset.h5", store, {});
  CHECK(report.file_runs == 9);
  CHECK(report.replicates_run == 9);
  const auto full = sweep::results_layout(spec, {}, 1);
  CHECK(full.axes.size() == 2);
  CHECK(full.coordinates.size() == 2);
}
