#include <coopsweep/cluster/merge.hpp>

#include <coopsweep/cluster/shard.hpp>
#include <coopsweep/sweep/parameters.hpp>

#include <hdf5.h>

#include <catch2/catch.hpp>

#include "../support/temp_dir.hpp"

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

using namespace coopsweep;
namespace fs = std::filesystem;
using coopsweep::testing::TempDir;

namespace {

const char* spec_text = R"(
seed = 13
replicates = 3
[model]
firms = 16
window = 4
error = 0.05
defectors = 0.3
[grid]
rounds = [6, 10]
scope = [0.2, 0.5, 0.8]
[output]
timeseries = true
)";

// Reads datasets and attributes back with the plain HDF5 C API, independently of coopsweep's reader.
struct H5File {
  hid_t file;
  explicit H5File(const fs::path& path) : file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT)) { REQUIRE(file >= 0); }
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;
  ~H5File() { H5Fclose(file); }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    H5Literate(file, H5_INDEX_NAME, H5_ITER_INC, nullptr,
               [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
                 static_cast<std::vector<std::string>*>(data)->emplace_back(name);
                 return 0;
               },
               &out);
    return out;
  }
  // The raw bytes of a numeric dataset as stored (strings: empty).
  std::string bytes(const std::string& name) const {
    const hid_t dataset = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
    REQUIRE(dataset >= 0);
    const hid_t type = H5Dget_type(dataset);
    std::string out;
    if (H5Tget_class(type) != H5T_STRING) {
      const hid_t space = H5Dget_space(dataset);
      out.resize(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)) * H5Tget_size(type));
      REQUIRE(H5Dread(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0);
      H5Sclose(space);
    }
    H5Tclose(type);
    H5Dclose(dataset);
    return out;
  }
  std::string text(const std::string& name) const {
    const hid_t attribute = H5Aopen(file, name.c_str(), H5P_DEFAULT);
    REQUIRE(attribute >= 0);
    const hid_t type = H5Aget_type(attribute);
    std::string out;
    if (H5Tget_class(type) == H5T_STRING) {
      char* raw = nullptr;
      REQUIRE(H5Aread(attribute, type, &raw) >= 0);
      out = raw;
      H5free_memory(raw);
    } else {
      double value = 0;
      REQUIRE(H5Aread(attribute, H5T_NATIVE_DOUBLE, &value) >= 0);
      out = std::to_string(value);
    }
    H5Tclose(type);
    H5Aclose(attribute);
    return out;
  }
};

// The whole sweep in one file, and its N shards, written by the library.
struct Sweep {
  TempDir dir{"coopsweep-merge"};
  sweep::SweepSpec spec = sweep::parse_spec(spec_text, "merge.toml");
  fs::path reference = dir / "reference.h5";
  std::vector<fs::path> shards;

  explicit Sweep(std::int64_t count, const sweep::SweepSpec* other = nullptr, const std::string& prefix = "shard") {
    if (other != nullptr) spec = *other;
    sweep::ExecutionOptions options;
    options.threads = 2;
    sweep::write_sweep(spec, reference, false, options);
    for (std::int64_t index = 0; index < count; ++index) {
      shards.push_back(dir / (prefix + "-" + std::to_string(index) + ".h5"));
      sweep::write_sweep(spec, shards.back(), cluster::shard_store(spec, {index, count}, {}), options);
    }
  }
};

void check_same_data(const fs::path& reference, const fs::path& path) {
  const H5File a(reference);
  const H5File b(path);
  REQUIRE(a.names() == b.names());
  for (const std::string& name : a.names()) {
    INFO("variable " << name);
    CHECK(a.bytes(name) == b.bytes(name));
  }
  for (const char* name : {"seed", "replicates", "engine_version", "model_version", "spec", "grid_axes", "firms",
                           "timeseries", "completed"}) {
    INFO("attribute " << name);
    CHECK(a.text(name) == b.text(name));
  }
}

}  // namespace

TEST_CASE("merged shards hold the data of a single run, whatever the order given", "[cluster][merge]") {
  Sweep sweep(3);
  const fs::path merged = sweep.dir / "merged.h5";
  const std::vector<fs::path> given{sweep.shards[2], sweep.shards[0], sweep.shards[1]};
  const sweep::SweepReport report = cluster::merge_shards(given, merged, {}, {});
  CHECK(report.runs == 18);
  CHECK(report.file_runs == 18);
  check_same_data(sweep.reference, merged);
  const H5File file(merged);
  CHECK(file.text("processes") == "3.000000");
  const std::string history = file.text("history");
  for (const char* shard : {"shard 0/3: ", "shard 1/3: ", "shard 2/3: "}) CHECK(history.find(shard) != std::string::npos);
  CHECK(history.find("merge of 3 shards: runs 0 to 18 of 18") != std::string::npos);
  SECTION("one shard is the whole sweep") {
    Sweep one(1);
    cluster::merge_shards(one.shards, one.dir / "merged.h5", {}, {});
    check_same_data(one.reference, one.dir / "merged.h5");
  }
  SECTION("as many shards as runs") {
    Sweep all(18);
    cluster::merge_shards(all.shards, all.dir / "merged.h5", {}, {});
    check_same_data(all.reference, all.dir / "merged.h5");
  }
}

TEST_CASE("an interrupted merge resumes to the same file", "[cluster][merge]") {
  Sweep sweep(3);
  const fs::path merged = sweep.dir / "merged.h5";
  std::atomic<bool> stop{false};
  sweep::ExecutionOptions options;
  options.stop = &stop;
  options.on_progress = [&](std::int64_t done, std::int64_t) {
    if (done >= 1) stop = true;
  };
  sweep::StoreOptions store;
  store.checkpoint_interval = 60.0;
  CHECK_THROWS_AS(cluster::merge_shards(sweep.shards, merged, store, options), sweep::Interrupted);
  CHECK_FALSE(fs::exists(merged));
  CHECK(fs::exists(merged.string() + ".partial"));
  store.resume = true;
  std::int64_t resumed_at = -1;
  store.on_resume = [&](std::int64_t done, std::int64_t) { resumed_at = done; };
  const sweep::SweepReport report = cluster::merge_shards(sweep.shards, merged, store, {});
  CHECK(resumed_at > 0);
  CHECK(report.resumed_runs == resumed_at);
  check_same_data(sweep.reference, merged);
}

TEST_CASE("merge refuses shards that are missing, repeated, unfinished or of another sweep", "[cluster][merge]") {
  Sweep sweep(3);
  const fs::path out = sweep.dir / "out.h5";
  const auto refused = [&](std::vector<fs::path> given, const std::string& needle) {
    INFO("expecting: " << needle);
    CHECK_THROWS_WITH(cluster::merge_shards(given, out, {}, {}), Catch::Contains(needle));
    CHECK_THROWS_AS(cluster::merge_shards(given, out, {}, {}), sweep::InputError);
    CHECK_FALSE(fs::exists(out));
    CHECK_FALSE(fs::exists(out.string() + ".partial"));
  };
  const fs::path& s0 = sweep.shards[0];
  const fs::path& s1 = sweep.shards[1];
  const fs::path& s2 = sweep.shards[2];

  SECTION("missing") {
    refused({s0, s2}, "1 of 3 shards missing: shard 1 of 3");
    refused({s1}, "2 of 3 shards missing: shards 0, 2 of 3");
    refused({}, "no shard files given");
  }
  SECTION("given twice") {
    refused({s0, s1, s1, s2}, "are both shard 1/3");
    refused({s0, s1, s2, sweep.dir / "." / "shard-2.h5"}, "are both shard 2/3");
  }
  SECTION("of another shard count") {
    Sweep two(2, nullptr, "two");
    refused({s0, two.shards[1], s2}, "is 0/3 but");
    refused({s0, two.shards[1], s2}, "is 1/2; allowed: the shards of one job array");
  }
  SECTION("of another sweep: the seed, the grid, a parameter") {
    for (const auto& [from, to, needle] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"seed = 13", "seed = 14", "seed = 13 in"},
             {"scope = [0.2, 0.5, 0.8]", "scope = [0.2, 0.5, 0.9]", "grid axis 'scope' = [0.2, 0.5, 0.8] in"},
             {"error = 0.05", "error = 0.06", "error = 0.05 in"}}) {
      std::string text = spec_text;
      text.replace(text.find(from), from.size(), to);
      const sweep::SweepSpec other = sweep::parse_spec(text);
      Sweep changed(3, &other, "other");
      refused({s0, changed.shards[1], s2}, "are of different sweeps: " + needle);
    }
  }
  SECTION("a spec that only reads differently is the same sweep") {
    const sweep::SweepSpec other = sweep::parse_spec(std::string("# a comment\n") + spec_text);
    Sweep commented(3, &other, "commented");
    CHECK_NOTHROW(cluster::merge_shards(std::vector<fs::path>{s0, commented.shards[1], s2}, out, {}, {}));
    check_same_data(sweep.reference, out);
  }
  SECTION("unfinished, missing, not a shard, or the output itself") {
    const fs::path unfinished = sweep.dir / "unfinished.h5";
    std::atomic<bool> stop{true};
    sweep::ExecutionOptions stopped;
    stopped.stop = &stop;
    CHECK_THROWS_AS(sweep::write_sweep(sweep.spec, unfinished, cluster::shard_store(sweep.spec, {1, 3}, {}), stopped),
                    sweep::Interrupted);
    refused({s0, unfinished, s2}, "is unfinished: only '" + unfinished.string() + ".partial' exists");
    refused({s0, fs::path(unfinished.string() + ".partial"), s2}, "is unfinished (completed = 0)");
    refused({s0, sweep.dir / "nothing.h5", s2}, "'" + (sweep.dir / "nothing.h5").string() + "' does not exist");
    refused({s0, sweep.reference, s2}, "is not a shard");
    CHECK_THROWS_WITH(cluster::merge_shards(std::vector<fs::path>{s0, s1, s2}, s1, {}, {}),
                      Catch::Contains("is one of the shards"));
  }
  SECTION("a shard whose runs are not those of its index") {
    const fs::path wrong = sweep.dir / "wrong.h5";
    sweep::StoreOptions store = cluster::shard_store(sweep.spec, {2, 3}, {});
    store.attributes = {{"shard_index", std::int64_t{1}}, {"shard_count", std::int64_t{3}}};
    sweep::write_sweep(sweep.spec, wrong, store, {});
    refused({s0, wrong, s2}, "holds other runs than shard 1/3");
  }
}

TEST_CASE("check_shards returns the shards ordered by index", "[cluster][merge]") {
  Sweep sweep(3);
  std::vector<cluster::ShardFile> files;
  for (const std::size_t i : {2u, 0u, 1u}) files.push_back(cluster::read_shard(sweep.shards[i]));
  CHECK(files[0].index == 2);
  CHECK(files[0].count == 3);
  CHECK(files[0].spec.seed == 13);
  CHECK(files[0].processes == 1);
  CHECK(files[0].history.find("runs 0 to 6 of 6") != std::string::npos);
  const auto ordered = cluster::check_shards(files);
  for (std::int64_t i = 0; i < 3; ++i) CHECK(ordered[static_cast<std::size_t>(i)].index == i);
}
