#pragma once
// Shards of a sweep for Slurm job arrays: `coopsweep run SPEC --shard I/N`
// computes and stores shard I of N, and `coopsweep merge` (merge.hpp) joins
// the N shard files into the file a single run gives.
//
// A shard is a set of runs of the sweep's flat run index space (run =
// configuration * replicates + replicate), whatever the design that numbered
// them: the runs are cut into stripes of equal length, and stripe k belongs to
// shard k mod N. Stripes are short enough that every shard holds about 64 of
// them spread over the whole sweep, so that shards take about equally long
// even when the cost of a run varies along the slowest axes (a `firms` axis
// first in the spec), which contiguous shards would not.

#include <coopsweep/sweep/runner.hpp>
#include <coopsweep/sweep/spec.hpp>

#include <cstdint>
#include <string_view>
#include <vector>

namespace coopsweep::cluster {

// Every function here is pure and thread-safe.

struct Shard {
  std::int64_t index = 0;  // 0 .. count - 1 (Slurm's SLURM_ARRAY_TASK_ID with --array=0-(N-1))
  std::int64_t count = 1;
  friend bool operator==(const Shard&, const Shard&) = default;
};

// Parses "I/N" with 0 <= I < N. Throws sweep::InputError naming the text and
// what is allowed.
Shard parse_shard(std::string_view text);

// Runs per stripe for a sweep of `runs` runs in `shards` shards:
// ceil(runs / (64 shards)), at least 1.
std::int64_t shard_stripe(std::int64_t runs, std::int64_t shards) noexcept;

// The runs of `shard`, ascending: its stripes. Throws sweep::InputError when
// the shard is outside 0..count-1 or the sweep has fewer runs than shards
// (some would be empty).
std::vector<sweep::RunRange> shard_ranges(std::int64_t runs, const Shard& shard);

// Where run `run` is stored: its shard, and its index within that shard's file.
struct ShardPosition {
  std::int64_t shard = 0;
  std::int64_t index = 0;
};
ShardPosition shard_position(std::int64_t runs, std::int64_t shards, std::int64_t run) noexcept;

// `store` set up to write shard `shard` of `spec`: the shard's runs as
// StoreOptions::subset and the identifying attributes `shard_index` and
// `shard_count`. Throws sweep::InputError as shard_ranges does, and for a spec
// with adaptive replication, which cannot be sharded.
sweep::StoreOptions shard_store(const sweep::SweepSpec& spec, const Shard& shard, sweep::StoreOptions store);

}  // namespace coopsweep::cluster
