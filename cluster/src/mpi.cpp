#include <coopsweep/cluster/mpi.hpp>

#include <coopsweep/cluster/dispatch.hpp>
#include <coopsweep/sweep/provenance.hpp>

#include <mpi.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <deque>
#include <iostream>
#include <map>
#include <stdexcept>
#include <thread>

namespace coopsweep::cluster {
namespace {

constexpr int tag_request = 101;   // worker -> 0: give me a block
constexpr int tag_assign = 102;    // 0 -> worker: int64 {first, count}; count 0: nothing more
constexpr int tag_result = 103;    // worker -> 0: a packed BlockPayload
constexpr int tag_finished = 104;  // worker -> 0: I end; what I was given and did not return is undone
constexpr std::int64_t go = -1;    // the header's status when the run starts

// How long a rank's communication thread sleeps when there is nothing to do:
// short next to a block (about 10 ms of computing per thread), long enough
// that polling costs nothing measurable.
constexpr auto idle_wait = std::chrono::milliseconds(1);

// Blocks each rank keeps queued beyond those its pipeline runs, so that it
// never waits for an answer from rank 0.
constexpr std::size_t prefetch = 2;

// Results waiting for an earlier block are held in rank 0's memory up to about this.
constexpr std::int64_t window_bytes = std::int64_t{256} << 20;

void check(int code, const char* what) {
  if (code != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING] = {};
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw std::runtime_error(std::string("MPI: ") + what + " failed: " + text);
  }
}

// Open MPI's blocking waits spin a core at full load; a rank's oneTBB threads
// (and rank 0's writing) need it more. So waits poll and sleep.
void wait_polling(MPI_Request& request) {
  int done = 0;
  while (true) {
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done != 0) return;
    std::this_thread::sleep_for(idle_wait);
  }
}

struct Identity {
  char host[64] = {};
  std::int32_t threads = 1;
};

std::vector<Identity> gather_identities(int threads, bool root, int size) {
  Identity mine;
  const std::string host = sweep::host_name();
  std::strncpy(mine.host, host.c_str(), sizeof mine.host - 1);
  mine.threads = threads;
  std::vector<Identity> all(root ? static_cast<std::size_t>(size) : 0);
  check(MPI_Gather(&mine, sizeof(Identity), MPI_BYTE, root ? all.data() : nullptr, sizeof(Identity), MPI_BYTE, 0,
                   MPI_COMM_WORLD),
        "MPI_Gather");
  return all;
}

// memcpy of n bytes, nothing when n is 0: an empty vector's data() may be
// null, which memcpy may not be given even for 0 bytes (UBSan reported it for
// blocks without counts or series).
void copy_bytes(void* to, const void* from, std::size_t n) {
  if (n > 0) std::memcpy(to, from, n);
}

// A block's results as bytes: {first, count, number of counts} as int64, the
// counts (adaptive replication's replicates per configuration), the runs'
// metrics, the series.
std::vector<char> pack(const BlockPayload& payload) {
  const std::int64_t header[3] = {payload.range.first, payload.range.count,
                                  static_cast<std::int64_t>(payload.counts.size())};
  const std::size_t bytes = sizeof header + payload.counts.size() * sizeof(std::int64_t) +
                            payload.runs.size() * sizeof(kernels::RunMetrics) + payload.series.size() * sizeof(double);
  if (bytes > static_cast<std::size_t>(INT_MAX)) {
    throw std::runtime_error("a block of " + std::to_string(payload.runs.size()) +
                             " runs is too large for one MPI message; use a smaller --block-size");
  }
  std::vector<char> out(bytes);
  char* at = out.data();
  std::memcpy(at, header, sizeof header);
  at += sizeof header;
  copy_bytes(at, payload.counts.data(), payload.counts.size() * sizeof(std::int64_t));
  at += payload.counts.size() * sizeof(std::int64_t);
  copy_bytes(at, payload.runs.data(), payload.runs.size() * sizeof(kernels::RunMetrics));
  at += payload.runs.size() * sizeof(kernels::RunMetrics);
  copy_bytes(at, payload.series.data(), payload.series.size() * sizeof(double));
  return out;
}

BlockPayload unpack(const std::vector<char>& bytes) {
  std::int64_t header[3] = {};
  if (bytes.size() < sizeof header) throw std::runtime_error("MPI: a truncated block of results");
  std::memcpy(header, bytes.data(), sizeof header);
  BlockPayload payload;
  payload.range = {header[0], header[1]};
  const std::size_t runs = static_cast<std::size_t>(std::max<std::int64_t>(header[1], 0));
  const std::size_t counts = static_cast<std::size_t>(std::max<std::int64_t>(header[2], 0));
  if (counts > runs) throw std::runtime_error("MPI: a block of results with more counts than runs");
  const std::size_t fixed = sizeof header + counts * sizeof(std::int64_t) + runs * sizeof(kernels::RunMetrics);
  if (bytes.size() < fixed || (bytes.size() - fixed) % sizeof(double) != 0) {
    throw std::runtime_error("MPI: a block of results of the wrong size");
  }
  const char* at = bytes.data() + sizeof header;
  payload.counts.resize(counts);
  copy_bytes(payload.counts.data(), at, counts * sizeof(std::int64_t));
  at += counts * sizeof(std::int64_t);
  payload.runs.resize(runs);
  copy_bytes(payload.runs.data(), at, runs * sizeof(kernels::RunMetrics));
  at += runs * sizeof(kernels::RunMetrics);
  payload.series.resize((bytes.size() - fixed) / sizeof(double));
  copy_bytes(payload.series.data(), at, payload.series.size() * sizeof(double));
  return payload;
}

void send_assignment(int worker, const Dispatcher::Assignment& assignment) {
  const std::int64_t message[2] = {assignment.range.first,
                                   assignment.reply == Dispatcher::Reply::block ? assignment.range.count : 0};
  check(MPI_Send(message, 2, MPI_INT64_T, worker, tag_assign, MPI_COMM_WORLD), "sending a block");
}

std::int64_t broadcast_status(std::int64_t status) {
  MPI_Request request = MPI_REQUEST_NULL;
  check(MPI_Ibcast(&status, 1, MPI_INT64_T, 0, MPI_COMM_WORLD, &request), "MPI_Ibcast");
  wait_polling(request);
  return status;
}

}  // namespace

MpiRuntime::MpiRuntime(int& argc, char**& argv) {
  int provided = 0;
  check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  // Errors come back as codes (and exceptions here), not as an abort inside MPI.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    throw std::runtime_error("MPI: this MPI library cannot run threads beside MPI (MPI_THREAD_FUNNELED)");
  }
}

MpiRuntime::~MpiRuntime() { MPI_Finalize(); }

RankPool::RankPool(const MpiRuntime& mpi, int threads) : mpi_(mpi) {
  for (const Identity& identity : gather_identities(threads, true, mpi.size())) {
    ranks_.push_back({identity.host, identity.threads, 0, 0});
  }
}

RankPool::~RankPool() {
  if (released_) return;
  try {
    release(1);
  } catch (...) {
  }
}

int RankPool::threads() const noexcept {
  int sum = 0;
  for (const RankInfo& rank : ranks_) sum += rank.threads;
  return sum;
}

std::string RankPool::note() const {
  std::map<std::string, int> per_host;
  std::vector<std::string> order;
  for (const RankInfo& rank : ranks_) {
    if (per_host[rank.host]++ == 0) order.push_back(rank.host);
  }
  std::string hosts;
  for (const std::string& host : order) {
    hosts += (hosts.empty() ? "" : ", ") + host + " (" + std::to_string(per_host[host]) + ")";
  }
  return "MPI over " + std::to_string(ranks_.size()) + " ranks on " + hosts;
}

void RankPool::release(int status) {
  if (released_) return;
  released_ = true;
  if (!started_) {
    std::int64_t header[3] = {status, 0, 0};
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Ibcast(header, 3, MPI_INT64_T, 0, MPI_COMM_WORLD, &request), "MPI_Ibcast");
    wait_polling(request);
    return;
  }
  broadcast_status(status);
}

sweep::BlockProducer RankPool::producer(const sweep::SweepSpec& spec, const sweep::ExecutionOptions& options) {
  return [this, &spec, options](std::span<const sweep::RunRange> spans, const sweep::BlockSink& sink) {
    coordinate(spec, options, spans, sink);
  };
}

void RankPool::coordinate(const sweep::SweepSpec& spec, const sweep::ExecutionOptions& options,
                          std::span<const sweep::RunRange> spans, const sweep::BlockSink& sink) {
  if (started_ || released_) throw std::logic_error("RankPool: one run per pool");
  // The other ranks learn the spec from rank 0, so that all compute one sweep
  // even where the spec file differs between nodes or changes meanwhile.
  std::int64_t header[3] = {go, static_cast<std::int64_t>(spec.text.size()), static_cast<std::int64_t>(spec.source.size())};
  {
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Ibcast(header, 3, MPI_INT64_T, 0, MPI_COMM_WORLD, &request), "MPI_Ibcast");
    wait_polling(request);
    started_ = true;
    std::string text = spec.text + spec.source;
    check(MPI_Bcast(text.data(), static_cast<int>(text.size()), MPI_CHAR, 0, MPI_COMM_WORLD), "MPI_Bcast");
  }

  std::int64_t runs = 0;
  for (const sweep::RunRange& span : spans) runs += span.count;
  const std::int64_t block = sweep::block_size(spec, options.block_size, runs, threads());
  // Enough room for every rank's pipeline (2 threads + 2 blocks) and prefetch,
  // twice over, so that a slow block stalls nobody while memory stays bounded.
  std::int64_t in_flight = 0;
  for (const RankInfo& rank : ranks_) in_flight += 2 * rank.threads + 2 + static_cast<std::int64_t>(prefetch);
  const std::int64_t run_bytes = static_cast<std::int64_t>(sizeof(kernels::RunMetrics)) +
                                 static_cast<std::int64_t>(sweep::series_names.size() * sizeof(double)) *
                                     sweep::series_length(spec);
  const std::int64_t window = std::max(block, std::min(2 * in_flight * block, window_bytes / run_bytes));
  Dispatcher dispatcher({spans.begin(), spans.end()}, block, window);

  sweep::ExecutionOptions local_options = options;
  local_options.threads = ranks_.front().threads;
  LocalWorker local(spec, local_options);
  bool local_closed = false;
  std::vector<bool> finished(ranks_.size(), false);
  std::deque<int> waiting;  // ranks whose request waits for an answer
  std::map<std::int64_t, BlockPayload> results;
  std::exception_ptr failure;
  bool interrupted = false;
  const auto fail = [&](std::exception_ptr error) {
    if (!failure) failure = error;
    dispatcher.stop();
  };

  while (true) {
    bool progress = false;
    if ((options.stop != nullptr && options.stop->load(std::memory_order_relaxed)) && !dispatcher.stopped()) {
      interrupted = true;
      dispatcher.stop();
    }
    // Rank 0 computes too: keep its queue filled.
    while (!local_closed && local.queued() < prefetch) {
      const Dispatcher::Assignment assignment = dispatcher.assign(0);
      if (assignment.reply == Dispatcher::Reply::block) {
        local.give(assignment.range);
      } else {
        if (assignment.reply == Dispatcher::Reply::none) {
          local.close();
          local_closed = true;
        }
        break;
      }
    }
    while (auto payload = local.take()) {
      dispatcher.complete(0, payload->range.first);
      results.emplace(payload->range.first, std::move(*payload));
      progress = true;
    }
    if (!finished[0] && local.finished()) {
      finished[0] = true;
      dispatcher.leave(0);
      if (const auto error = local.error()) fail(error);
      progress = true;
    }

    int flag = 0;
    MPI_Status status;
    check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status), "MPI_Iprobe");
    while (flag != 0) {
      const int source = status.MPI_SOURCE;
      if (status.MPI_TAG == tag_request) {
        std::int64_t ignored = 0;
        check(MPI_Recv(&ignored, 1, MPI_INT64_T, source, tag_request, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
              "receiving a request");
        waiting.push_back(source);
      } else if (status.MPI_TAG == tag_result) {
        int bytes = 0;
        check(MPI_Get_count(&status, MPI_BYTE, &bytes), "MPI_Get_count");
        std::vector<char> buffer(static_cast<std::size_t>(bytes));
        check(MPI_Recv(buffer.data(), bytes, MPI_BYTE, source, tag_result, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
              "receiving results");
        BlockPayload payload = unpack(buffer);
        dispatcher.complete(source, payload.range.first);
        results.emplace(payload.range.first, std::move(payload));
      } else if (status.MPI_TAG == tag_finished) {
        std::int64_t ignored = 0;
        check(MPI_Recv(&ignored, 1, MPI_INT64_T, source, tag_finished, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
              "receiving the end of a rank");
        finished[static_cast<std::size_t>(source)] = true;
        dispatcher.leave(source);
        waiting.erase(std::remove(waiting.begin(), waiting.end(), source), waiting.end());
      } else {
        throw std::runtime_error("MPI: unexpected message tag " + std::to_string(status.MPI_TAG) + " from rank " +
                                 std::to_string(source));
      }
      progress = true;
      check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status), "MPI_Iprobe");
    }

    for (auto it = waiting.begin(); it != waiting.end();) {
      const Dispatcher::Assignment assignment = dispatcher.assign(*it);
      if (assignment.reply == Dispatcher::Reply::wait) {
        ++it;
        continue;
      }
      send_assignment(*it, assignment);
      it = waiting.erase(it);
      progress = true;
    }

    while (const auto range = dispatcher.release()) {
      const auto found = results.find(range->first);
      if (!failure) {
        try {
          sink(sweep::BlockResults{range->first, found->second.runs, found->second.series, found->second.counts});
        } catch (...) {
          fail(std::current_exception());
        }
      }
      results.erase(found);
      progress = true;
    }

    if (std::all_of(finished.begin(), finished.end(), [](bool f) { return f; })) break;
    if (!progress) local.wait(idle_wait);
  }

  for (std::size_t r = 0; r < ranks_.size() && r < dispatcher.stats().size(); ++r) {
    ranks_[r].blocks = dispatcher.stats()[r].blocks;
    ranks_[r].runs = dispatcher.stats()[r].runs;
  }
  if (failure) std::rethrow_exception(failure);
  if (!dispatcher.done()) {
    if (interrupted) throw sweep::Interrupted("stopped");
    throw std::runtime_error("the ranks ended with runs undone (a rank failed; see its message)");
  }
}

int serve(const MpiRuntime& mpi, const sweep::ExecutionOptions& options) {
  gather_identities(options.threads, false, mpi.size());
  std::int64_t header[3] = {};
  {
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Ibcast(header, 3, MPI_INT64_T, 0, MPI_COMM_WORLD, &request), "MPI_Ibcast");
    wait_polling(request);
  }
  if (header[0] != go) return static_cast<int>(header[0]);
  std::string text(static_cast<std::size_t>(header[1] + header[2]), '\0');
  check(MPI_Bcast(text.data(), static_cast<int>(text.size()), MPI_CHAR, 0, MPI_COMM_WORLD), "MPI_Bcast");
  const sweep::SweepSpec spec =
      sweep::parse_spec(std::string_view(text).substr(0, static_cast<std::size_t>(header[1])),
                        std::string_view(text).substr(static_cast<std::size_t>(header[1])));

  {
    LocalWorker local(spec, options);
    bool asked = false;      // a request waits for its answer
    bool told_none = false;  // rank 0 has no more work for us
    while (true) {
      bool progress = false;
      const bool stopping = options.stop != nullptr && options.stop->load(std::memory_order_relaxed);
      if (stopping && !told_none) {
        // Leave: rank 0 hands whatever we hold to the others (or stops too).
        local.close();
        told_none = true;
      }
      if (!told_none && !asked && local.queued() < prefetch) {
        const std::int64_t nothing = 0;
        check(MPI_Send(&nothing, 1, MPI_INT64_T, 0, tag_request, MPI_COMM_WORLD), "asking for a block");
        asked = true;
      }
      if (asked) {
        int flag = 0;
        check(MPI_Iprobe(0, tag_assign, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE), "MPI_Iprobe");
        if (flag != 0) {
          std::int64_t message[2] = {};
          check(MPI_Recv(message, 2, MPI_INT64_T, 0, tag_assign, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
                "receiving a block");
          asked = false;
          progress = true;
          if (message[1] > 0 && !told_none) {
            local.give({message[0], message[1]});
          } else if (message[1] <= 0) {
            told_none = true;
            local.close();
          }
        }
      }
      while (auto payload = local.take()) {
        const std::vector<char> bytes = pack(*payload);
        check(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, 0, tag_result, MPI_COMM_WORLD),
              "sending results");
        progress = true;
      }
      // Once told there is nothing more, a request still out has been answered too.
      if (local.finished() && (!asked || told_none)) {
        if (const auto error = local.error()) {
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            std::cerr << "coopsweep: error: rank " << mpi.rank() << ": " << e.what() << "\n";
          }
        }
        const std::int64_t nothing = 0;
        check(MPI_Send(&nothing, 1, MPI_INT64_T, 0, tag_finished, MPI_COMM_WORLD), "ending");
        break;
      }
      if (!progress) local.wait(idle_wait);
    }
  }
  return static_cast<int>(broadcast_status(0));
}

}  // namespace coopsweep::cluster
