// Whole sweeps through the oneTBB runner (no file), in runs (configuration-
// replicates) and directed edge-rounds per second, at 1, 2, 4, ... threads up to
// the machine's cores side by side, so the speed-up is read from one run.
//
// BM_Sweep is the regression family (a small sweep, with the grain measured at
// fixed block sizes); BM_SweepScaling is the thread-scaling family, a sweep
// large enough to give every one of 16 threads dozens of blocks, on both
// paths of the kernel (error_per_mille 0: the course path; 10: the SIMD rounds).

#include <coopsweep/sweep/runner.hpp>
#include <coopsweep/sweep/spec.hpp>

#include <benchmark/benchmark.h>

#include <string>
#include <thread>

namespace {

using namespace coopsweep;

// threads = state.range(0); block size = state.range(1), 0 for the runner's choice.
void BM_Sweep(benchmark::State& state) {
  const auto spec = sweep::parse_spec(R"(
    seed = 1
    replicates = 8
    [grid]
    scope = { start = 0.0, stop = 1.0, num = 8 }
    trust_decay = { start = 0.0, stop = 0.2, num = 8 }
  )");
  const sweep::GridDesign design(spec);
  sweep::ExecutionOptions options;
  options.threads = static_cast<int>(state.range(0));
  options.block_size = state.range(1);
  double checksum = 0.0;
  for (auto _ : state) {
    sweep::run_design(design, spec.seed, options,
                      [&](std::int64_t, std::span<const kernels::RunMetrics> runs) { checksum += runs[0][0]; });
  }
  benchmark::DoNotOptimize(checksum);
  const auto runs = static_cast<double>(state.iterations() * design.run_count());
  state.counters["runs_per_second"] = benchmark::Counter(runs, benchmark::Counter::kIsRate);
  // Default model: N = 100 firms, k = 4, T = 200 rounds, no early stop.
  state.counters["edge_rounds_per_second"] = benchmark::Counter(runs * 100 * 4 * 200, benchmark::Counter::kIsRate);
}

// threads = state.range(0); epsilon = state.range(1) / 1000. The sweep has 64
// configurations (8 scopes x 8 trust decays, default model otherwise) and 64
// replicates each without errors (4096 runs) or 16 with them (1024 runs, whose
// rounds cost about five times as much), so one iteration is about half a
// second on one thread of the development machine either way.
void BM_SweepScaling(benchmark::State& state) {
  const auto error_per_mille = state.range(1);
  const std::int64_t replicates = error_per_mille == 0 ? 64 : 16;
  const auto spec = sweep::parse_spec("seed = 1\nreplicates = " + std::to_string(replicates) +
                                      "\n[model]\nerror = " + std::to_string(static_cast<double>(error_per_mille) / 1000.0) +
                                      "\n[grid]\n"
                                      "scope = { start = 0.0, stop = 1.0, num = 8 }\n"
                                      "trust_decay = { start = 0.0, stop = 0.2, num = 8 }\n");
  const sweep::GridDesign design(spec);
  sweep::ExecutionOptions options;
  options.threads = static_cast<int>(state.range(0));
  double checksum = 0.0;
  for (auto _ : state) {
    sweep::run_design(design, spec.seed, options,
                      [&](std::int64_t, std::span<const kernels::RunMetrics> runs) { checksum += runs[0][0]; });
  }
  benchmark::DoNotOptimize(checksum);
  const auto runs = static_cast<double>(state.iterations() * design.run_count());
  state.counters["runs_per_second"] = benchmark::Counter(runs, benchmark::Counter::kIsRate);
  state.counters["edge_rounds_per_second"] = benchmark::Counter(runs * 100 * 4 * 200, benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  auto* sweep = benchmark::RegisterBenchmark("BM_Sweep", BM_Sweep);
  sweep->ArgNames({"threads", "block"})->UseRealTime()->Unit(benchmark::kMillisecond);
  const auto cores = static_cast<std::int64_t>(std::max(1U, std::thread::hardware_concurrency()));
  for (std::int64_t threads = 1; threads < cores; threads *= 2) sweep->Args({threads, 0});
  sweep->Args({cores, 0});
  // The grain, measured: fixed block sizes against the runner's choice
  // (block:0, about 4 million directed edge-rounds, 50 runs here) on all cores.
  for (const std::int64_t block : {1, 4, 16, 64, 256}) sweep->Args({cores, block});
  auto* scaling = benchmark::RegisterBenchmark("BM_SweepScaling", BM_SweepScaling);
  scaling->ArgNames({"threads", "error_per_mille"})->UseRealTime()->Unit(benchmark::kMillisecond);
  for (const std::int64_t error_per_mille : {0, 10}) {
    for (std::int64_t threads = 1; threads < cores; threads *= 2) scaling->Args({threads, error_per_mille});
    scaling->Args({cores, error_per_mille});
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
