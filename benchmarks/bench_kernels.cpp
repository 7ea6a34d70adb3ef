// One replicate at a time on one thread: the vectorized kernel and the scalar
// reference side by side, on the same configurations, in directed edge-rounds
// per second (directed alliance edges x rounds) and configurations per second.
//
// Each replicate includes its initialisation, which both kernels share (the
// random k-regular graph costs about as much as 40 rounds of the vectorized
// kernel at N = 100, k = 4); the rounds:2000 runs show the round kernel once
// that is amortised, and ring (a fixed graph) shows it at the default length.

#include <coopsweep/kernels/reference.hpp>
#include <coopsweep/kernels/vectorized.hpp>

#include <benchmark/benchmark.h>

namespace {

using namespace coopsweep::kernels;

ModelParams benchmark_params(const benchmark::State& state) {
  ModelParams params;
  params.firms = state.range(0);
  params.partners = state.range(1);
  params.topology = static_cast<Topology>(state.range(2));
  params.rounds = state.range(3);
  return params;
}

template <class Workspace, class Kernel>
void run_kernel(benchmark::State& state, Kernel kernel) {
  const ModelParams params = benchmark_params(state);
  Workspace workspace;
  std::uint64_t replicate = 0;
  double edge_rounds = 0.0;
  for (auto _ : state) {
    const ReplicateStream stream(42, 0, replicate++);
    const RunMetrics metrics = kernel(params, stream, workspace);
    benchmark::DoNotOptimize(metrics);
    edge_rounds += static_cast<double>(params.firms * params.partners) * metrics[static_cast<std::size_t>(Metric::rounds_run)];
  }
  state.counters["edge_rounds_per_second"] = benchmark::Counter(edge_rounds, benchmark::Counter::kIsRate);
  state.counters["configurations_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_ReferenceKernel(benchmark::State& state) {
  run_kernel<ReplicateState>(state, [](const ModelParams& p, const ReplicateStream& s, ReplicateState& w) {
    return simulate_reference(p, s, w);
  });
}

void BM_VectorizedKernel(benchmark::State& state) {
  run_kernel<VectorizedState>(state, [](const ModelParams& p, const ReplicateStream& s, VectorizedState& w) {
    return simulate_vectorized(p, s, w);
  });
}

// firms x partners x topology (0 = ring, 1 = regular) x rounds.
void kernel_arguments(benchmark::internal::Benchmark* b) {
  b->ArgNames({"firms", "partners", "topology", "rounds"});
  for (const std::int64_t topology : {0, 1}) {
    for (const std::int64_t firms : {100, 1000}) {
      for (const std::int64_t partners : {4, 8}) b->Args({firms, partners, topology, 200});
    }
    b->Args({100, 4, topology, 2000});
  }
}

BENCHMARK(BM_ReferenceKernel)->Apply(kernel_arguments);
BENCHMARK(BM_VectorizedKernel)->Apply(kernel_arguments);

}  // namespace

BENCHMARK_MAIN();
