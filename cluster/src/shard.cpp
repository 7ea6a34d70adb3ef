#include <coopsweep/cluster/shard.hpp>

#include <coopsweep/sweep/parameters.hpp>

#include <charconv>
#include <string>

namespace coopsweep::cluster {
namespace {

bool parse_count(std::string_view text, std::int64_t& out) {
  const auto result = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && result.ec == std::errc() && result.ptr == text.data() + text.size();
}

// Shards a stripe length is chosen for: enough stripes per shard to even out a
// cost that varies along the grid, few enough that each stays a long run of
// neighbouring runs (they share configurations, and chunks of the shard file).
constexpr std::int64_t stripes_per_shard = 64;

}  // namespace

Shard parse_shard(std::string_view text) {
  const std::size_t slash = text.find('/');
  Shard shard;
  if (slash == std::string_view::npos || !parse_count(text.substr(0, slash), shard.index) ||
      !parse_count(text.substr(slash + 1), shard.count) || shard.count < 1 || shard.index < 0 ||
      shard.index >= shard.count) {
    throw sweep::InputError("--shard '" + std::string(text) +
                            "' is not I/N with 0 <= I < N; allowed: e.g. --shard 0/4 ... --shard 3/4 "
                            "(with sbatch --array=0-3, --shard ${SLURM_ARRAY_TASK_ID}/4)");
  }
  return shard;
}

std::int64_t shard_stripe(std::int64_t runs, std::int64_t shards) noexcept {
  if (runs <= 0 || shards <= 0) return 1;
  const std::int64_t per = stripes_per_shard * shards;
  return std::max<std::int64_t>(1, runs / per + (runs % per != 0 ? 1 : 0));
}

std::vector<sweep::RunRange> shard_ranges(std::int64_t runs, const Shard& shard) {
  if (shard.count < 1 || shard.index < 0 || shard.index >= shard.count) {
    throw sweep::InputError("shard " + std::to_string(shard.index) + "/" + std::to_string(shard.count) +
                            " does not exist; allowed: I/N with 0 <= I < N");
  }
  if (shard.count > runs) {
    throw sweep::InputError("--shard " + std::to_string(shard.index) + "/" + std::to_string(shard.count) +
                            ": the sweep has only " + std::to_string(runs) + " runs; allowed: at most " +
                            std::to_string(runs) + " shards");
  }
  const std::int64_t stripe = shard_stripe(runs, shard.count);
  std::vector<sweep::RunRange> ranges;
  for (std::int64_t first = shard.index * stripe; first < runs; first += shard.count * stripe) {
    ranges.push_back({first, std::min(stripe, runs - first)});
  }
  return ranges;
}

ShardPosition shard_position(std::int64_t runs, std::int64_t shards, std::int64_t run) noexcept {
  const std::int64_t stripe = shard_stripe(runs, shards);
  const std::int64_t k = run / stripe;
  return {k % shards, (k / shards) * stripe + run % stripe};
}

sweep::StoreOptions shard_store(const sweep::SweepSpec& spec, const Shard& shard, sweep::StoreOptions store) {
  if (spec.replication.adaptive()) {
    // A shard is a stripe of the run index space, which cuts through
    // configurations, and its file has no per-configuration dimension to hold
    // how many replicates each ran; the rule needs each configuration whole.
    throw sweep::InputError("--shard " + std::to_string(shard.index) + "/" + std::to_string(shard.count) +
                            ": adaptive replication ([replication]) cannot be sharded, since a shard's runs cut "
                            "through configurations whose replicates the rule decides together; run it whole "
                            "(one process, or mpirun -np N with an MPI build)");
  }
  store.subset = shard_ranges(sweep::run_count(spec), shard);
  store.attributes.push_back({"shard_index", shard.index});
  store.attributes.push_back({"shard_count", shard.count});
  return store;
}

}  // namespace coopsweep::cluster
