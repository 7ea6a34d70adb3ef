#pragma once
// `coopsweep merge SHARDS... -o OUT`: joins the shard files of a job array
// (shard.hpp) into the file that a single run of their sweep writes.

#include <coopsweep/sweep/runner.hpp>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace coopsweep::cluster {

// What a finished shard file says of itself.
struct ShardFile {
  std::filesystem::path path;
  std::int64_t index = 0;
  std::int64_t count = 0;
  sweep::SweepSpec spec;             // parsed from its `spec` attribute
  std::int64_t processes = 1;
  std::int64_t threads = 1;
  double wall_time_seconds = 0.0;
  std::string history;
};

// Reads and checks one shard file: it exists, is a finished shard (root
// attributes shard_index and shard_count, completed = 1), its spec parses,
// and it holds exactly the runs of its shard, every metric and series with
// the shape they need. Throws sweep::InputError naming the file and what is
// wrong (for a path whose .partial file exists: that the shard is unfinished
// and how to resume it).
ShardFile read_shard(const std::filesystem::path& path);

// Checks that `shards` are the complete set of shards of one sweep: the same
// spec (grid, seed, replicates, parameters, engine and model version: every
// attribute that identifies results; comments and layout of the spec text may
// differ), the same shard count, each index once. Returns them ordered by
// index. Throws sweep::InputError naming the files and the difference, the
// index given twice, or the indices missing.
std::vector<ShardFile> check_shards(std::vector<ShardFile> shards);

// Reads, checks and joins the shard files `paths` into `path`, which then
// holds the data of a single run of their sweep bit for bit (the replicate
// summaries are computed again from the runs, as a single run computes them);
// only provenance differs: `processes` and `threads` are summed over the
// shards, `history` lists their sessions and then the merge's, and
// `wall_time_seconds` adds theirs. `store` is used as write_sweep uses it
// (overwrite, resume, checkpoints; its provenance fields are replaced).
// Throws sweep::InputError before anything is created for shards that are
// missing, given twice, of other sweeps or shard counts, unfinished or no
// shards, and as write_sweep does otherwise; Interrupted when options.stop is set.
// Thread-safe for distinct output paths, like write_sweep; read_shard and
// check_shards are thread-safe.
sweep::SweepReport merge_shards(std::span<const std::filesystem::path> paths, const std::filesystem::path& path,
                                sweep::StoreOptions store, const sweep::ExecutionOptions& options);

}  // namespace coopsweep::cluster
