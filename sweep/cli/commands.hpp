#pragma once
// The subcommands of the coopsweep command line. Each returns the process exit
// status: 0 success, 1 a failure while running (I/O), 2 bad input, 130 interrupted.

#include <cstdint>
#include <string>
#include <vector>

namespace coopsweep::cluster {
class MpiRuntime;
}

namespace coopsweep::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_bad_input = 2;
inline constexpr int exit_interrupted = 130;

struct RunArgs {
  std::string spec;
  std::string output;  // empty: the spec's [output] path
  int threads = 0;
  std::int64_t block_size = 0;
  bool force = false;
  bool quiet = false;
  bool resume = false;               // continue OUTPUT.partial
  bool dry_run = false;              // estimate, write nothing
  double checkpoint_interval = 1.0;  // seconds between checkpoints
  double memory_limit_gb = 0.0;      // 0: the memory available
  std::string shard;                 // "I/N": run and store shard I of N only (empty: the whole sweep)
};

struct MergeArgs {
  std::vector<std::string> shards;   // shard files, any order
  std::string output;
  bool force = false;
  bool resume = false;
  bool quiet = false;
  double checkpoint_interval = 1.0;
};

struct SimulateArgs {
  std::vector<std::string> assignments;  // NAME=VALUE
  std::int64_t replicates = 1;
  std::uint64_t seed = 0;
  std::int64_t configuration = 0;
  int threads = 0;
  bool quiet = false;
  double memory_limit_gb = 0.0;  // 0: the memory available
};

// With `mpi` (an MPI build started by an MPI launcher) and more than one
// rank, every rank calls it: rank 0 runs the sweep with the others' help.
int run_command(const RunArgs& args, const cluster::MpiRuntime* mpi = nullptr);
int merge_command(const MergeArgs& args);
int validate_command(const std::string& spec_path);
int simulate_command(const SimulateArgs& args);
int parameters_command();
int inspect_command(const std::string& path);

}  // namespace coopsweep::cli
