// Benchmark-only prototype for issue #5: Philox4x64-10 in SIMD lanes, 8 blocks
// at a time in AVX-512, against the scalar code the engine uses. Nothing here
// is used by the engine.
//
// A random regular graph draws 3 Philox words per swap attempt and a run with
// execution errors one block per round and 4 edges (benchmarks/README.md, "The
// ceilings"), so a cheaper block would lower the floor of a replicate. Philox
// needs the high 64 bits of a 64 x 64-bit product, which AVX-512 does not have:
// here it is built from four 32 x 32-bit products (vpmuludq) and their carries,
// and the low half is vpmullq (AVX-512DQ). Three families, blocks at
// consecutive counter indices of one stream:
//
//   BM_PhiloxRandom123   r123::Philox4x64 for each block
//   BM_PhiloxIndexed     PhiloxIndexedBlocks::fill (the engine: the part that
//                        does not depend on the index computed once)
//   BM_PhiloxLanes8      this prototype, 8 blocks a call
//
// At start the program checks the lanes against Random123, word for word, on
// keys and counters from several streams, and exits 1 if they differ; on a CPU
// without AVX-512F/DQ it says so, skips the check and BM_PhiloxLanes8.
//
//   bench_philox_lanes [Google Benchmark flags]     check, then time
//   bench_philox_lanes --check                      check only

#include <coopsweep/kernels/random.hpp>

#include <benchmark/benchmark.h>

#include <Random123/philox.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define COOPSWEEP_HAVE_LANES 1
#else
#define COOPSWEEP_HAVE_LANES 0
#endif

namespace {

using namespace coopsweep::kernels;
using Words = std::array<std::uint64_t, 4>;

constexpr std::size_t lanes = 8;
// Blocks per benchmark iteration: about what the random regular graph of
// N = 100, k = 4 draws (3000).
constexpr std::uint64_t blocks_per_iteration = 3000;

// Counters (replicate, purpose, step, first + lane) and key (seed, configuration),
// as ReplicateStream::block forms them.
struct Counter {
  std::uint64_t seed, configuration, replicate, purpose, step;
};

Words random123_block(const Counter& c, std::uint64_t index) {
  const r123::Philox4x64::ctr_type ctr = {{c.replicate, c.purpose, c.step, index}};
  const r123::Philox4x64::key_type key = {{c.seed, c.configuration}};
  const auto out = r123::Philox4x64()(ctr, key);
  return {out.v[0], out.v[1], out.v[2], out.v[3]};
}

#if COOPSWEEP_HAVE_LANES
bool cpu_has_lanes() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}

// Low and high 64 bits of x * m in each lane, m a constant.
[[gnu::target("avx512f,avx512dq")]] inline void multiply_lanes(__m512i x, std::uint64_t m, __m512i& low,
                                                               __m512i& high) {
  const __m512i m_low = _mm512_set1_epi64(static_cast<long long>(m & 0xffffffffU));
  const __m512i m_high = _mm512_set1_epi64(static_cast<long long>(m >> 32));
  const __m512i low_32 = _mm512_set1_epi64(0xffffffffLL);
  const __m512i x_high = _mm512_srli_epi64(x, 32);
  const __m512i ll = _mm512_mul_epu32(x, m_low);
  const __m512i lh = _mm512_mul_epu32(x, m_high);
  const __m512i hl = _mm512_mul_epu32(x_high, m_low);
  const __m512i hh = _mm512_mul_epu32(x_high, m_high);
  // At most 3 (2^32 - 1): no carry out of the 64 bits.
  const __m512i middle = _mm512_add_epi64(_mm512_add_epi64(_mm512_srli_epi64(ll, 32), _mm512_and_si512(lh, low_32)),
                                          _mm512_and_si512(hl, low_32));
  high = _mm512_add_epi64(_mm512_add_epi64(hh, _mm512_srli_epi64(lh, 32)),
                          _mm512_add_epi64(_mm512_srli_epi64(hl, 32), _mm512_srli_epi64(middle, 32)));
  low = _mm512_mullo_epi64(x, _mm512_set1_epi64(static_cast<long long>(m)));
}

[[gnu::target("avx512f")]] inline __m512i broadcast(std::uint64_t v) {
  return _mm512_set1_epi64(static_cast<long long>(v));
}

// The blocks at indices first .. first + 7; out[w][lane] is word w of block first + lane.
[[gnu::target("avx512f,avx512dq")]] void lanes_blocks(const Counter& c, std::uint64_t first,
                                                      std::uint64_t (&out)[4][lanes]) {
  __m512i x0 = broadcast(c.replicate);
  __m512i x1 = broadcast(c.purpose);
  __m512i x2 = broadcast(c.step);
  __m512i x3 = _mm512_add_epi64(broadcast(first), _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0));
  std::uint64_t key0 = c.seed;
  std::uint64_t key1 = c.configuration;
  for (int round = 0; round < 10; ++round) {
    __m512i low0, high0, low1, high1;
    multiply_lanes(x0, PHILOX_M4x64_0, low0, high0);
    multiply_lanes(x2, PHILOX_M4x64_1, low1, high1);
    x0 = _mm512_ternarylogic_epi64(high1, x1, broadcast(key0), 0x96);  // three-way xor
    x1 = low1;
    x2 = _mm512_ternarylogic_epi64(high0, x3, broadcast(key1), 0x96);
    x3 = low0;
    key0 += PHILOX_W64_0;
    key1 += PHILOX_W64_1;
  }
  _mm512_storeu_si512(out[0], x0);
  _mm512_storeu_si512(out[1], x1);
  _mm512_storeu_si512(out[2], x2);
  _mm512_storeu_si512(out[3], x3);
}

bool check_lanes() {
  const Counter counters[] = {{42, 0, 0, 1, 0},
                              {2026, 7, 3, 4, 199},
                              {~0ULL, ~0ULL, ~0ULL, 5, ~0ULL},
                              {0x9E3779B97F4A7C15ULL, 123456789, 1ULL << 40, 2, 1ULL << 33}};
  for (const Counter& c : counters) {
    for (const std::uint64_t first : {0ULL, 8ULL, 1000ULL, ~0ULL - 3}) {  // the last wraps the index
      std::uint64_t out[4][lanes];
      lanes_blocks(c, first, out);
      for (std::size_t lane = 0; lane < lanes; ++lane) {
        const Words expected = random123_block(c, first + lane);
        for (std::size_t w = 0; w < 4; ++w) {
          if (out[w][lane] != expected[w]) {
            std::fprintf(stderr, "lanes differ from Random123: seed %llu block %llu word %zu\n",
                         static_cast<unsigned long long>(c.seed), static_cast<unsigned long long>(first + lane), w);
            return false;
          }
        }
      }
    }
  }
  return true;
}
#else
bool cpu_has_lanes() { return false; }
bool check_lanes() { return true; }
#endif

const Counter bench_counter{42, 0, 0, static_cast<std::uint64_t>(Purpose::graph), 0};

void report_blocks(benchmark::State& state) {
  state.counters["blocks_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(blocks_per_iteration), benchmark::Counter::kIsRate);
}

void BM_PhiloxRandom123(benchmark::State& state) {
  std::uint64_t sink = 0;
  for (auto _ : state) {
    for (std::uint64_t b = 0; b < blocks_per_iteration; ++b) {
      const Words w = random123_block(bench_counter, b);
      sink ^= w[0] ^ w[1] ^ w[2] ^ w[3];
    }
    benchmark::DoNotOptimize(sink);
  }
  report_blocks(state);
}

void BM_PhiloxIndexed(benchmark::State& state) {
  const ReplicateStream stream(bench_counter.seed, bench_counter.configuration, bench_counter.replicate);
  const PhiloxIndexedBlocks blocks(stream, Purpose::graph, bench_counter.step);
  std::array<std::uint64_t, 4 * lanes> words{};
  std::uint64_t sink = 0;
  for (auto _ : state) {
    for (std::uint64_t b = 0; b < blocks_per_iteration; b += lanes) {
      blocks.fill(b, lanes, words.data());
      for (const std::uint64_t w : words) sink ^= w;
    }
    benchmark::DoNotOptimize(sink);
  }
  report_blocks(state);
}

void BM_PhiloxLanes8(benchmark::State& state) {
#if COOPSWEEP_HAVE_LANES
  if (!cpu_has_lanes()) {
    state.SkipWithError("this CPU has no AVX-512F/DQ");
    return;
  }
  std::uint64_t out[4][lanes];
  std::uint64_t sink = 0;
  for (auto _ : state) {
    for (std::uint64_t b = 0; b < blocks_per_iteration; b += lanes) {
      lanes_blocks(bench_counter, b, out);
      for (const auto& word : out) {
        for (const std::uint64_t w : word) sink ^= w;
      }
    }
    benchmark::DoNotOptimize(sink);
  }
  report_blocks(state);
#else
  state.SkipWithError("built without x86-64 intrinsics");
#endif
}

BENCHMARK(BM_PhiloxRandom123);
BENCHMARK(BM_PhiloxIndexed);
BENCHMARK(BM_PhiloxLanes8);

}  // namespace

int main(int argc, char** argv) {
  if (!cpu_has_lanes()) {
    std::fprintf(stderr, "no AVX-512F/DQ on this CPU: the lanes are neither checked nor timed\n");
  } else if (!check_lanes()) {
    std::fprintf(stderr, "check FAILED: no timing\n");
    return 1;
  }
  if (argc >= 2 && std::string(argv[1]) == "--check") return 0;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
