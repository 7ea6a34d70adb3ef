// Whole sweeps through the oneTBB runner (no file), in configurations per second,
// at 1 and 2 threads side by side so the speed-up is read from one run.

#include <coopsweep/sweep/runner.hpp>
#include <coopsweep/sweep/spec.hpp>

#include <benchmark/benchmark.h>

namespace {

using namespace coopsweep;

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
  double checksum = 0.0;
  for (auto _ : state) {
    sweep::run_design(design, spec.seed, options,
                      [&](std::int64_t, std::span<const kernels::RunMetrics> runs) { checksum += runs[0][0]; });
  }
  benchmark::DoNotOptimize(checksum);
  state.counters["runs_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations() * design.run_count()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Sweep)->ArgsProduct({{1, 2}})->ArgNames({"threads"})->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
