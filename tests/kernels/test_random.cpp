// Counter-based streams: reproducible, independent across keys and counters,
// uniform and unbiased.

#include <coopsweep/kernels/random.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

using namespace coopsweep::kernels;

TEST_CASE("a draw depends only on its key and counter", "[random]") {
  const ReplicateStream a(42, 7, 3), b(42, 7, 3);
  CHECK(a.block(Purpose::graph, 0, 5) == b.block(Purpose::graph, 0, 5));
  CHECK(a.lane_uniform(Purpose::execution_error, 10, 17) == b.lane_uniform(Purpose::execution_error, 10, 17));

  SECTION("every component of the key and counter changes the draw") {
    const auto base = a.block(Purpose::graph, 1, 2);
    CHECK(ReplicateStream(43, 7, 3).block(Purpose::graph, 1, 2) != base);
    CHECK(ReplicateStream(42, 8, 3).block(Purpose::graph, 1, 2) != base);
    CHECK(ReplicateStream(42, 7, 4).block(Purpose::graph, 1, 2) != base);
    CHECK(a.block(Purpose::sizes, 1, 2) != base);
    CHECK(a.block(Purpose::graph, 2, 2) != base);
    CHECK(a.block(Purpose::graph, 1, 3) != base);
  }
}

TEST_CASE("lane_uniform takes word item mod 4 of block item / 4", "[random]") {
  const ReplicateStream s(1, 2, 3);
  for (std::uint64_t item = 0; item < 12; ++item) {
    CHECK(s.lane_uniform(Purpose::execution_error, 5, item) ==
          unit_interval(s.block(Purpose::execution_error, 5, item / 4)[item % 4]));
  }
}

TEST_CASE("PhiloxIndexedBlocks gives the words of ReplicateStream::block", "[random]") {
  // Keys and counters from SplitMix64, with the extremes of every word.
  std::uint64_t state = 12345;
  auto next = [&state] {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  const std::uint64_t max = ~std::uint64_t{0};
  bool all_equal = true;
  for (int c = 0; c < 2000; ++c) {
    const bool extreme = c < 32;  // every word 0 or max in turn
    const auto word = [&](int bit) { return extreme ? ((c >> bit) & 1 ? max : 0) : next(); };
    const ReplicateStream stream(word(0), word(1), word(2));
    const auto purpose = static_cast<Purpose>(word(3));
    const std::uint64_t step = word(4);
    const PhiloxIndexedBlocks blocks(stream, purpose, step);
    std::array<std::uint64_t, 12> filled{};
    const std::uint64_t first = c % 4 == 0 ? max - 2 : next();  // the index wraps past max
    blocks.fill(first, 3, filled.data());
    for (std::uint64_t b = 0; b < 3; ++b) {
      const auto expected = stream.block(purpose, step, first + b);
      all_equal = all_equal && blocks.block(first + b) == expected;
      for (std::size_t w = 0; w < 4; ++w) all_equal = all_equal && filled[4 * b + w] == expected[w];
    }
  }
  CHECK(all_equal);
}

TEST_CASE("a sequential stream reads its counters in order", "[random]") {
  const ReplicateStream s(9, 9, 9);
  SequentialStream seq(s, Purpose::strategies, 4);
  // Enough blocks to refill its buffer several times.
  for (std::uint64_t index = 0; index < 100; ++index) {
    const auto block = s.block(Purpose::strategies, 4, index);
    for (int w = 0; w < 4; ++w) CHECK(seq.next_u64() == block[w]);
  }
}

TEST_CASE("blocks are Philox4x64-10: Random123's known answers", "[random][pinned]") {
  // The known-answer vectors of Random123's kat_vectors for philox4x64 with 10
  // rounds, as key (seed, configuration) and counter (replicate, purpose, step, index).
  using Word4 = ReplicateStream::Word4;
  CHECK(ReplicateStream(0, 0, 0).block(Purpose{0}, 0, 0) ==
        Word4{0x16554d9eca36314cULL, 0xdb20fe9d672d0fdcULL, 0xd7e772cee186176bULL, 0x7e68b68aec7ba23bULL});
  CHECK(ReplicateStream(0x452821e638d01377ULL, 0xbe5466cf34e90c6cULL, 0x243f6a8885a308d3ULL)
            .block(Purpose{0x13198a2e03707344ULL}, 0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL) ==
        Word4{0xa528f45403e61d95ULL, 0x38c72dbd566e9788ULL, 0xa5a1610e72fd18b5ULL, 0x57bd43b5e52b7fe6ULL});
}

TEST_CASE("a sequential stream's words are pinned far into the stream", "[random][pinned]") {
  // Recorded with the code that produced the published results.
  SequentialStream seq(ReplicateStream(42, 7, 3), Purpose::graph);
  std::vector<std::uint64_t> words;
  for (int i = 0; i < 100003; ++i) words.push_back(seq.next_u64());
  CHECK(words[0] == 0x8749f953bf7e325cULL);
  CHECK(words[1] == 0xb1b274f7c57e9f51ULL);
  CHECK(words[4097] == 0x21bf9fe5b7810473ULL);
  CHECK(words[100002] == 0x3c31df33690fd9ccULL);
}

TEST_CASE("unit_interval starts at 0 and never reaches 1", "[random]") {
  CHECK(unit_interval(0) == 0.0);
  CHECK(unit_interval(~std::uint64_t{0}) < 1.0);
  CHECK(unit_interval(~std::uint64_t{0}) == 1.0 - 0x1.0p-53);
}

TEST_CASE("uniform and bounded and normal draws have the right distribution", "[random][stochastic]") {
  SequentialStream seq(ReplicateStream(5, 0, 0), Purpose::graph);
  const int n = 200000;
  SECTION("below(6) is unbiased: chi-square over the six faces") {
    std::vector<int> counts(6, 0);
    for (int i = 0; i < n; ++i) ++counts[seq.below(6)];
    double chi2 = 0;
    for (int c : counts) chi2 += (c - n / 6.0) * (c - n / 6.0) / (n / 6.0);
    CHECK(chi2 < 30.0);  // 5 degrees of freedom: P(chi2 > 30) ~ 1.5e-5
  }
  SECTION("below(1) is always 0 and below(n) < n") {
    for (int i = 0; i < 1000; ++i) {
      CHECK(seq.below(1) == 0);
      CHECK(seq.below(3) < 3);
    }
  }
  SECTION("normal draws have mean 0 and variance 1") {
    double sum = 0, squares = 0;
    for (int i = 0; i < n; ++i) {
      const double z = seq.next_normal();
      REQUIRE(std::isfinite(z));
      sum += z;
      squares += z * z;
    }
    const double mean = sum / n;
    CHECK(std::abs(mean) < 5 / std::sqrt(n));
    CHECK(std::abs(squares / n - mean * mean - 1.0) < 5 * std::sqrt(2.0 / n));
  }
}

TEST_CASE("below_in_units compares draws with a probability in integers, exactly as unit_interval does",
          "[random]") {
  // Probabilities on the grid of unit_interval's values and between them, and
  // words at, just below and just above each boundary, plus random ones.
  const ReplicateStream stream(5, 6, 7);
  SequentialStream draws(stream, Purpose::graph);
  std::vector<double> probabilities = {0.0, 1.0, 0.5, 0.01, 0.05, 0.1, 1e-300, 0x1.0p-53, 3 * 0x1.0p-53,
                                       1.0 - 0x1.0p-53, std::nextafter(0.5, 1.0), std::nextafter(0.5, 0.0)};
  for (int i = 0; i < 200; ++i) probabilities.push_back(draws.next_unit());
  for (const double p : probabilities) {
    const std::uint64_t units = below_in_units(p);
    std::vector<std::uint64_t> words;
    for (const std::uint64_t m : {units - 1, units, units + 1}) {
      if (m >> 53 != 0) continue;
      for (const std::uint64_t low : {std::uint64_t{0}, std::uint64_t{0x7ff}}) words.push_back(m << 11 | low);
    }
    for (int i = 0; i < 50; ++i) words.push_back(draws.next_u64());
    for (const std::uint64_t w : words) {
      INFO("p = " << p << ", word = " << w);
      CHECK((unit_interval(w) < p) == ((w >> 11) < units));
    }
  }
}
