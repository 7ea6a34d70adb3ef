#include <coopsweep/cluster/dispatch.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace coopsweep::cluster {

Dispatcher::Dispatcher(std::vector<sweep::RunRange> spans, std::int64_t block, std::int64_t window)
    : spans_(std::move(spans)), block_(block), window_(window) {
  if (block < 1) throw std::invalid_argument("Dispatcher: a block needs at least one run");
  spans_.erase(std::remove_if(spans_.begin(), spans_.end(), [](const sweep::RunRange& r) { return r.count <= 0; }),
               spans_.end());
}

sweep::RunRange Dispatcher::next_fresh() {
  const sweep::RunRange& span = spans_[span_];
  const sweep::RunRange range{span.first + offset_, std::min(block_, span.count - offset_)};
  offset_ += range.count;
  if (offset_ == span.count) {
    ++span_;
    offset_ = 0;
  }
  return range;
}

Dispatcher::WorkerStats& Dispatcher::stats_of(int worker) {
  if (worker < 0) throw std::logic_error("Dispatcher: negative worker id");
  if (static_cast<std::size_t>(worker) >= stats_.size()) stats_.resize(static_cast<std::size_t>(worker) + 1);
  return stats_[static_cast<std::size_t>(worker)];
}

Dispatcher::Assignment Dispatcher::assign(int worker) {
  stats_of(worker);
  if (stopped_) return {Reply::none, {}};
  for (auto& [first, entry] : blocks_) {
    if (entry.state != State::queued) continue;
    entry.state = State::out;
    entry.worker = worker;
    return {Reply::block, {first, entry.count}};
  }
  if (more_fresh()) {
    const sweep::RunRange& span = spans_[span_];
    const std::int64_t count = std::min(block_, span.count - offset_);
    if (held_runs_ > 0 && held_runs_ + count > window_) return {Reply::wait, {}};
    const sweep::RunRange range = next_fresh();
    blocks_.emplace(range.first, Entry{range.count, State::out, worker});
    held_runs_ += range.count;
    return {Reply::block, range};
  }
  // Blocks still out may come back unfinished and need a taker.
  return {blocks_.empty() ? Reply::none : Reply::wait, {}};
}

void Dispatcher::complete(int worker, std::int64_t first) {
  const auto found = blocks_.find(first);
  if (found == blocks_.end() || found->second.state != State::out || found->second.worker != worker) {
    throw std::logic_error("Dispatcher: worker " + std::to_string(worker) + " returned block " +
                           std::to_string(first) + ", which is not out to it");
  }
  found->second.state = State::back;
  WorkerStats& stats = stats_of(worker);
  ++stats.blocks;
  stats.runs += found->second.count;
}

std::size_t Dispatcher::leave(int worker) {
  std::size_t held = 0;
  for (auto& [first, entry] : blocks_) {
    if (entry.state == State::out && entry.worker == worker) {
      entry.state = State::queued;
      entry.worker = -1;
      ++held;
    }
  }
  return held;
}

std::optional<sweep::RunRange> Dispatcher::release() {
  if (blocks_.empty() || blocks_.begin()->second.state != State::back) return std::nullopt;
  const auto first = blocks_.begin();
  const sweep::RunRange range{first->first, first->second.count};
  held_runs_ -= range.count;
  blocks_.erase(first);
  return range;
}

// ---------------------------------------------------------------------------

LocalWorker::LocalWorker(const sweep::SweepSpec& spec, const sweep::ExecutionOptions& options)
    : stop_(options.stop) {
  thread_ = std::thread([this, spec, options] { run(spec, options); });
}

LocalWorker::~LocalWorker() {
  close();
  if (thread_.joinable()) thread_.join();
}

void LocalWorker::run(const sweep::SweepSpec& spec, sweep::ExecutionOptions options) {
  options.on_progress = nullptr;
  const auto next_range = [this]() -> sweep::RunRange {
    std::unique_lock lock(mutex_);
    // Wakes now and then to see a stop raised while no block comes.
    while (given_.empty() && !closed_) {
      if (stop_ != nullptr && stop_->load(std::memory_order_relaxed)) return {};
      changed_.wait_for(lock, std::chrono::milliseconds(50));
    }
    if (given_.empty()) return {};
    const sweep::RunRange range = given_.front();
    given_.pop_front();
    return range;
  };
  const auto sink = [this](const sweep::BlockResults& block) {
    BlockPayload payload;
    payload.range = {block.first_run, static_cast<std::int64_t>(block.runs.size())};
    payload.runs.assign(block.runs.begin(), block.runs.end());
    payload.series.assign(block.series.begin(), block.series.end());
    payload.counts.assign(block.counts.begin(), block.counts.end());
    {
      const std::lock_guard lock(mutex_);
      results_.push_back(std::move(payload));
    }
    changed_.notify_all();
  };
  std::exception_ptr error;
  try {
    sweep::compute_ranges(spec, options, next_range, sink);
  } catch (const sweep::Interrupted&) {
    // A stop: what was not started is abandoned().
  } catch (...) {
    error = std::current_exception();
  }
  {
    const std::lock_guard lock(mutex_);
    ended_ = true;
    error_ = error;
  }
  changed_.notify_all();
}

void LocalWorker::give(sweep::RunRange range) {
  {
    const std::lock_guard lock(mutex_);
    given_.push_back(range);
  }
  changed_.notify_all();
}

void LocalWorker::close() {
  {
    const std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
}

std::size_t LocalWorker::queued() const {
  const std::lock_guard lock(mutex_);
  return given_.size();
}

std::optional<BlockPayload> LocalWorker::take() {
  const std::lock_guard lock(mutex_);
  if (results_.empty()) return std::nullopt;
  BlockPayload payload = std::move(results_.front());
  results_.pop_front();
  return payload;
}

bool LocalWorker::finished() const {
  const std::lock_guard lock(mutex_);
  return ended_ && results_.empty();
}

std::vector<sweep::RunRange> LocalWorker::abandoned() const {
  const std::lock_guard lock(mutex_);
  if (!ended_) return {};
  return {given_.begin(), given_.end()};
}

std::exception_ptr LocalWorker::error() const {
  const std::lock_guard lock(mutex_);
  return error_;
}

void LocalWorker::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [this] { return !results_.empty() || ended_; });
}

}  // namespace coopsweep::cluster
