// The scalar reference kernel, in directed edge-rounds per second.

#include <coopsweep/kernels/reference.hpp>
#include <coopsweep/kernels/vectorized.hpp>

#include <benchmark/benchmark.h>

namespace {

using namespace coopsweep::kernels;

void BM_ReferenceKernel(benchmark::State& state) {
  ModelParams params;
  params.firms = state.range(0);
  params.partners = state.range(1);
  ReplicateState workspace;
  std::uint64_t replicate = 0;
  double edge_rounds = 0.0;
  for (auto _ : state) {
    const ReplicateStream stream(42, 0, replicate++);
    auto metrics = simulate_reference(params, stream, workspace);
    benchmark::DoNotOptimize(metrics);
    edge_rounds += static_cast<double>(workspace.graph.directed_edges()) * static_cast<double>(params.rounds);
  }
  state.counters["edge_rounds_per_second"] = benchmark::Counter(edge_rounds, benchmark::Counter::kIsRate);
  state.counters["configurations_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReferenceKernel)->ArgsProduct({{100, 1000}, {4, 8}})->ArgNames({"firms", "partners"});

void BM_VectorizedKernel(benchmark::State& state) {
  ModelParams params;
  params.firms = state.range(0);
  params.partners = state.range(1);
  VectorizedState workspace;
  std::uint64_t replicate = 0;
  double edge_rounds = 0.0;
  for (auto _ : state) {
    const ReplicateStream stream(42, 0, replicate++);
    auto metrics = simulate_vectorized(params, stream, workspace);
    benchmark::DoNotOptimize(metrics);
    edge_rounds += static_cast<double>(workspace.replicate.graph.directed_edges()) * static_cast<double>(params.rounds);
  }
  state.counters["edge_rounds_per_second"] = benchmark::Counter(edge_rounds, benchmark::Counter::kIsRate);
  state.counters["configurations_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_VectorizedKernel)->ArgsProduct({{100, 1000}, {4, 8}})->ArgNames({"firms", "partners"});

}  // namespace

BENCHMARK_MAIN();
