#pragma once
// The parts of an MPI run that need no MPI, so that they are tested without
// it: the Dispatcher, rank 0's book of which block went where, and the
// LocalWorker, which computes the blocks a rank is given on a thread of its own.
//
// Rank 0 hands out blocks of runs on request (dynamic assignment: a rank that
// finishes early asks again, so a slow block stalls only its own rank) and
// stores results in run order, as a single process does; results that arrive
// ahead of an unfinished block wait in memory, and a window bounds how much
// can wait.

#include <coopsweep/kernels/metrics.hpp>
#include <coopsweep/sweep/runner.hpp>
#include <coopsweep/sweep/spec.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace coopsweep::cluster {

// The results of one block, as they travel between ranks.
struct BlockPayload {
  sweep::RunRange range;
  std::vector<kernels::RunMetrics> runs;
  std::vector<double> series;  // as sweep::BlockResults::series
  std::vector<std::int64_t> counts;  // as sweep::BlockResults::counts
};

// Which blocks are handed out to which worker, which are back, and which can
// be released in run order. Not thread-safe: rank 0's communication thread
// owns it.
class Dispatcher {
 public:
  // Hands out `spans` (ascending, disjoint) in blocks of at most `block`
  // runs. At most `window` runs may be out or back but not yet released, except
  // that one block may always be out, so that a window smaller than a block
  // still makes progress. Throws std::invalid_argument for a block < 1.
  Dispatcher(std::vector<sweep::RunRange> spans, std::int64_t block, std::int64_t window);

  enum class Reply {
    block,  // `range` is now the worker's
    wait,   // ask again later: the window is full, or blocks that are out may yet come back
    none,   // no work is left (or the dispatcher stopped): the worker may end
  };
  struct Assignment {
    Reply reply = Reply::none;
    sweep::RunRange range;
  };

  // A worker asks for work. Blocks that came back unfinished go out first.
  Assignment assign(int worker);

  // The results of the block starting at `first`, handed out to `worker`, are
  // in. Throws std::logic_error if no such block is out to that worker.
  void complete(int worker, std::int64_t first);

  // `worker` ends: the blocks it holds unfinished go out again to the others
  // (to nobody once stopped). Returns how many it held.
  std::size_t leave(int worker);

  // The next block in run order, once its results are in; each once.
  std::optional<sweep::RunRange> release();

  // Hands out nothing more; blocks out still come back and are released up to
  // the first that does not.
  void stop() noexcept { stopped_ = true; }
  bool stopped() const noexcept { return stopped_; }

  // Every block handed out and released.
  bool done() const noexcept { return !more_fresh() && blocks_.empty(); }

  // Runs out or back but not released (what the window bounds).
  std::int64_t held_runs() const noexcept { return held_runs_; }

  struct WorkerStats {
    std::int64_t blocks = 0;  // blocks completed
    std::int64_t runs = 0;
  };
  // Per worker id seen so far (index = id).
  const std::vector<WorkerStats>& stats() const noexcept { return stats_; }

 private:
  enum class State { out, back, queued };
  struct Entry {
    std::int64_t count = 0;
    State state = State::out;
    int worker = -1;
  };
  bool more_fresh() const noexcept { return span_ < spans_.size(); }
  sweep::RunRange next_fresh();
  WorkerStats& stats_of(int worker);

  std::vector<sweep::RunRange> spans_;
  std::size_t span_ = 0;
  std::int64_t offset_ = 0;
  std::int64_t block_;
  std::int64_t window_;
  std::int64_t held_runs_ = 0;
  std::map<std::int64_t, Entry> blocks_;  // by first run: every block out, back or queued, not released
  bool stopped_ = false;
  std::vector<WorkerStats> stats_;
};

// Computes the blocks it is given with sweep::compute_ranges (oneTBB with
// options.threads) on a thread of its own, and holds their results until they
// are taken: the rank's communication thread stays free to talk meanwhile.
// Every member is thread-safe.
class LocalWorker {
 public:
  // Starts the thread. options.stop, when set, ends the work early: blocks
  // given but not started are then abandoned (see abandoned()).
  LocalWorker(const sweep::SweepSpec& spec, const sweep::ExecutionOptions& options);
  LocalWorker(const LocalWorker&) = delete;
  LocalWorker& operator=(const LocalWorker&) = delete;
  ~LocalWorker();  // closes, and joins the thread

  void give(sweep::RunRange range);  // a block to compute
  void close();                      // no more blocks will come
  std::size_t queued() const;        // blocks given and not started

  std::optional<BlockPayload> take();  // a finished block, oldest first
  // The thread has ended and every result was taken.
  bool finished() const;
  // Blocks given but never started (after a stop or a failure), once finished.
  std::vector<sweep::RunRange> abandoned() const;
  // What ended the thread if it failed (not a stop, not the end of the work).
  std::exception_ptr error() const;

  // Waits until a result is ready, the thread ends, or `timeout` passes.
  void wait(std::chrono::milliseconds timeout);

 private:
  void run(const sweep::SweepSpec& spec, sweep::ExecutionOptions options);

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<sweep::RunRange> given_;
  std::deque<BlockPayload> results_;
  bool closed_ = false;
  bool ended_ = false;
  std::exception_ptr error_;
  const std::atomic<bool>* stop_ = nullptr;
  std::thread thread_;
};

}  // namespace coopsweep::cluster
