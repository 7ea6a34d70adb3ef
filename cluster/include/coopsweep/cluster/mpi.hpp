#pragma once
// MPI runs, in builds with -DCOOPSWEEP_MPI=ON: `mpirun -np R coopsweep run SPEC -o OUT`.
//
// Rank 0 validates the spec, opens the results file (resuming it when asked)
// and hands out blocks of runs on request to every rank, itself included;
// each rank computes its blocks with oneTBB (a LocalWorker, dispatch.hpp) and
// sends the results back, and rank 0 stores them in run order through
// sweep::write_sweep. So the file is the one a single process writes, and
// resume, checkpoints, SIGTERM and Ctrl-C work as they do there. Sending the
// results to rank 0 was chosen over parallel HDF5 and over per-rank shards by
// measurement (cluster/README.md): a run's results are 96 bytes against
// milliseconds of computing.
//
// Only the thread that made the MpiRuntime calls MPI (MPI_THREAD_FUNNELED);
// the ranks' computing threads never do.

#include <coopsweep/sweep/runner.hpp>
#include <coopsweep/sweep/spec.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace coopsweep::cluster {

// MPI for the life of the object: MPI_Init_thread (MPI_THREAD_FUNNELED), then
// MPI_Finalize. Throws std::runtime_error when MPI cannot start.
class MpiRuntime {
 public:
  MpiRuntime(int& argc, char**& argv);
  MpiRuntime(const MpiRuntime&) = delete;
  MpiRuntime& operator=(const MpiRuntime&) = delete;
  ~MpiRuntime();

  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }

 private:
  int rank_ = 0;
  int size_ = 1;
};

// What a rank is and did.
struct RankInfo {
  std::string host;
  int threads = 1;
  std::int64_t blocks = 0;  // blocks it computed
  std::int64_t runs = 0;
};

// Rank 0's side of a run. Its constructor and serve() meet in a collective,
// as do release() and the end of serve().
class RankPool {
 public:
  // Learns every rank's host and threads (collective).
  RankPool(const MpiRuntime& mpi, int threads);
  RankPool(const RankPool&) = delete;
  RankPool& operator=(const RankPool&) = delete;
  // Releases the other ranks with exit status 1 if release() was not called
  // (rank 0 failed with an exception).
  ~RankPool();

  int processes() const noexcept { return static_cast<int>(ranks_.size()); }
  int threads() const noexcept;  // over all ranks
  // "MPI over 2 ranks on node1 (1), node2 (1)": for the session's line in the history.
  std::string note() const;

  // A producer for sweep::write_sweep that shares the runs among all ranks.
  // It throws sweep::Interrupted when options.stop ends the run (after
  // storing every block that came back in order), std::runtime_error when
  // other ranks end with work undone, and what the sink throws (after every
  // rank ended).
  sweep::BlockProducer producer(const sweep::SweepSpec& spec, const sweep::ExecutionOptions& options);

  // Tells the other ranks how rank 0 ended: before the run they return
  // `status` without computing, after it they return `status` too. Once.
  void release(int status);

  // Per rank, with the blocks and runs each computed in this run.
  const std::vector<RankInfo>& ranks() const noexcept { return ranks_; }

 private:
  void coordinate(const sweep::SweepSpec& spec, const sweep::ExecutionOptions& options,
                  std::span<const sweep::RunRange> spans, const sweep::BlockSink& sink);

  const MpiRuntime& mpi_;
  std::vector<RankInfo> ranks_;
  bool started_ = false;
  bool released_ = false;
};

// Every rank but 0: waits for rank 0, computes the blocks it hands out with
// `options` (threads; stop), and returns the exit status rank 0 ends with.
int serve(const MpiRuntime& mpi, const sweep::ExecutionOptions& options);

}  // namespace coopsweep::cluster
