#pragma once
// The memory a sweep needs, estimated before anything runs, against the memory
// the machine offers: a sweep too large for it is refused with exit status 2
// instead of being killed by the kernel's OOM killer hours later.

#include <coopsweep/kernels/model_params.hpp>
#include <coopsweep/sweep/design.hpp>

#include <cstdint>
#include <string>

namespace coopsweep::sweep {

struct MemoryBudget {
  double bytes = 0.0;
  std::string source;  // where the number comes from, for messages
};

// The bytes this process can still allocate before the machine, or the cgroup
// it runs in, runs out: the smaller of MemAvailable in /proc/meminfo and, for
// every cgroup v2 memory limit above the process (a Slurm job, a container),
// memory.max - memory.current; the physical memory where neither can be read.
// Reads the files anew on every call. Thread-safe.
MemoryBudget available_memory();

struct MemoryNeed {
  // The peak of a worker's state over the runs (kernels::vectorized_memory, the
  // kernel the runner calls): one configuration's total, or over several the
  // sum of each part's largest.
  double bytes_per_run = 0.0;
  kernels::ModelParams largest;   // the parameters of the run that needs most
  bool series = false;            // the estimate includes the round series
  std::int64_t held = 1;          // runs in memory at once: one per thread, at most one per run

  double total() const noexcept { return bytes_per_run * static_cast<double>(held); }
};

// What the runs of `design` need with `threads` threads (> 0): every
// combination of the firms, partners and topology axes is visited (crossed with
// the sample points where firms or partners are sampled), each with the
// design's largest rounds, window and rewire and, where any run may stop at
// fixation, its window buffers. `series`: the sweep stores round series. An
// estimate from above; `design` must be valid (GridDesign::validate_all). Thread-safe.
MemoryNeed memory_need(const GridDesign& design, bool series, int threads);

// The same for `runs` runs of one configuration (`params` resolved).
MemoryNeed memory_need(const kernels::ModelParams& params, std::int64_t runs, bool series, int threads);

// Throws InputError when need.total() exceeds `limit_bytes`, or, when that is 0,
// available_memory(): one line naming the largest run's firms, partners and
// topology (and window or rounds where they count), the bytes needed per run
// and in all, and the limit with its source.
void check_memory(const MemoryNeed& need, double limit_bytes);

}  // namespace coopsweep::sweep
