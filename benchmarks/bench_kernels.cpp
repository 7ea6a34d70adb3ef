// One replicate at a time on one thread: the vectorized kernel and the scalar
// reference side by side, on the same configurations, in directed edge-rounds
// per second (directed alliance edges x rounds) and configurations per second.
// Two families per kernel: BM_*Kernel, whole replicates, and BM_*Rounds, the
// round kernel alone (play_reference, play_vectorized), timed by hand around
// it, after the replicate's initialisation (graph, sizes, strategies).
//
// Each replicate includes its initialisation, which both kernels share (the
// random k-regular graph costs more than the whole rest of a vectorized
// replicate at N = 100, k = 4, T = 200); the rounds:2000 runs show the rounds
// once that is amortised, and ring (a fixed graph) shows them at the default
// length. error_per_mille:0 runs take the vectorized kernel's course path
// (no updates, no errors); error_per_mille:10 (epsilon = 0.01) its SIMD rounds.
//
// Two parts of a replicate alone, the ones that bound what any kernel drawing
// MODEL.md's random numbers from Philox can reach (benchmarks/peers/run_peers.py
// prices them as "ceilings"): BM_AllianceGraph, the graph G0
// (build_alliance_graph), and BM_PhiloxBlocks, Philox4x64-10 blocks in counter
// order as the graph's stream and the execution errors draw them. The SIMD
// rounds report error_blocks_per_edge_round, the blocks their execution errors
// drew.

#include <coopsweep/kernels/reference.hpp>
#include <coopsweep/kernels/vectorized.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <vector>

namespace {

using namespace coopsweep::kernels;

ModelParams benchmark_params(const benchmark::State& state) {
  ModelParams params;
  params.firms = state.range(0);
  params.partners = state.range(1);
  params.topology = static_cast<Topology>(state.range(2));
  params.rounds = state.range(3);
  params.error = static_cast<double>(state.range(4)) / 1000.0;
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

// The rounds alone: each replicate is initialised outside the timed part.
// With `count_error_blocks`, also the Philox blocks the execution errors drew
// (ShortcutCounts::error_blocks, counted per run), per edge-round.
template <class Workspace, class Initialise, class Play>
void run_rounds(benchmark::State& state, Initialise initialise, Play play, bool count_error_blocks = false) {
  const ModelParams params = benchmark_params(state);
  Workspace workspace;
  std::uint64_t replicate = 0;
  double edge_rounds = 0.0;
  double seconds = 0.0;
  double error_blocks = 0.0;
  ShortcutCounts shortcuts;
  for (auto _ : state) {
    const ReplicateStream stream(42, 0, replicate++);
    initialise(params, stream, workspace);
    const auto start = std::chrono::steady_clock::now();
    const RunMetrics metrics = play(params, stream, workspace, &shortcuts);
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    benchmark::DoNotOptimize(metrics);
    state.SetIterationTime(elapsed.count());
    seconds += elapsed.count();
    error_blocks += static_cast<double>(shortcuts.error_blocks);
    edge_rounds += static_cast<double>(params.firms * params.partners) * metrics[static_cast<std::size_t>(Metric::rounds_run)];
  }
  state.counters["edge_rounds_per_second"] = benchmark::Counter(edge_rounds / seconds);
  state.counters["configurations_per_second"] = benchmark::Counter(static_cast<double>(state.iterations()) / seconds);
  if (count_error_blocks && edge_rounds > 0.0) {
    state.counters["error_blocks_per_edge_round"] = benchmark::Counter(error_blocks / edge_rounds);
  }
}

void BM_ReferenceRounds(benchmark::State& state) {
  run_rounds<ReplicateState>(
      state, [](const ModelParams& p, const ReplicateStream& s, ReplicateState& w) { initialise_replicate(p, s, w); },
      [](const ModelParams& p, const ReplicateStream& s, ReplicateState& w, ShortcutCounts*) {
        return play_reference(p, s, w);
      });
}

void BM_VectorizedRounds(benchmark::State& state) {
  run_rounds<VectorizedState>(
      state,
      [](const ModelParams& p, const ReplicateStream& s, VectorizedState& w) { initialise_replicate(p, s, w.replicate); },
      [](const ModelParams& p, const ReplicateStream& s, VectorizedState& w, ShortcutCounts* counts) {
        return play_vectorized(p, s, w, nullptr, counts);
      },
      true);
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

// firms x partners x topology (0 = ring, 1 = regular): G0 alone, a new
// replicate's graph each iteration, in directed edges per second.
void BM_AllianceGraph(benchmark::State& state) {
  const GraphParams params{static_cast<Topology>(state.range(2)), state.range(0), state.range(1)};
  AllianceGraph graph;
  std::uint64_t replicate = 0;
  for (auto _ : state) {
    build_alliance_graph(params, ReplicateStream(42, 0, replicate++), graph);
    benchmark::DoNotOptimize(graph.target.data());
  }
  state.counters["directed_edges_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(graph.target.size()), benchmark::Counter::kIsRate);
  state.counters["configurations_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// Philox4x64-10 blocks at consecutive indices of one stream, `blocks` a call
// (PhiloxIndexedBlocks::fill: the graph's SequentialStream draws 8 a refill).
void BM_PhiloxBlocks(benchmark::State& state) {
  const auto blocks = static_cast<std::size_t>(state.range(0));
  const ReplicateStream stream(42, 0, 0);
  std::vector<std::uint64_t> words(4 * blocks);
  std::uint64_t step = 0;
  for (auto _ : state) {
    PhiloxIndexedBlocks(stream, Purpose::execution_error, step++).fill(0, blocks, words.data());
    benchmark::DoNotOptimize(words.data());
    benchmark::ClobberMemory();
  }
  state.counters["blocks_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(blocks), benchmark::Counter::kIsRate);
}

// firms x partners x topology (0 = ring, 1 = regular) x rounds x epsilon in 1/1000.
void kernel_arguments(benchmark::internal::Benchmark* b) {
  b->ArgNames({"firms", "partners", "topology", "rounds", "error_per_mille"});
  for (const std::int64_t error : {0, 10}) {
    for (const std::int64_t topology : {0, 1}) {
      for (const std::int64_t firms : {100, 1000}) {
        for (const std::int64_t partners : {4, 8}) b->Args({firms, partners, topology, 200, error});
      }
      b->Args({100, 4, topology, 2000, error});
    }
  }
}

BENCHMARK(BM_ReferenceKernel)->Apply(kernel_arguments);
BENCHMARK(BM_VectorizedKernel)->Apply(kernel_arguments);
BENCHMARK(BM_ReferenceRounds)->Apply(kernel_arguments)->UseManualTime();
BENCHMARK(BM_VectorizedRounds)->Apply(kernel_arguments)->UseManualTime();
BENCHMARK(BM_AllianceGraph)
    ->ArgNames({"firms", "partners", "topology"})
    ->Args({100, 4, 1})
    ->Args({100, 8, 1})
    ->Args({1000, 4, 1})
    ->Args({1000, 8, 1})
    ->Args({100, 4, 0});
BENCHMARK(BM_PhiloxBlocks)->ArgName("blocks")->Arg(8)->Arg(100)->Arg(3000);

}  // namespace

BENCHMARK_MAIN();
