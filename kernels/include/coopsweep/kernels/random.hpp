#pragma once
// Counter-based random streams (Random123 Philox4x64-10).
//
// Every draw of a replicate is a pure function of
//   key     = (sweep seed, configuration index)
//   counter = (replicate index, purpose, step, index)
// so a result never depends on threads, batching, machine or process count, and
// any configuration can be re-run alone to the bit. The replicate sits in the
// counter rather than the key because Philox4x64's key has two words; the triple
// (seed, configuration, replicate) still names the stream uniquely.

#include <Random123/philox.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>

namespace coopsweep::kernels {

// GCC and Clang's 128-bit integer, for Lemire's bounded draw.
__extension__ using uint128 = unsigned __int128;

// What a draw is for; distinct purposes never share a counter.
enum class Purpose : std::uint64_t {
  graph = 1,
  sizes = 2,
  strategies = 3,
  execution_error = 4,
  strategy_update = 5,
};

// Maps 64 random bits to a double uniform on [0, 1) with 53 bits of resolution.
constexpr double unit_interval(std::uint64_t bits) noexcept {
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

// For p in [0, 1]: unit_interval(bits) < p exactly when (bits >> 11) <
// below_in_units(p). (bits >> 11) 2^-53 and p 2^53 are exact in double, and for
// an integer m, m < x iff m < ceil(x). Compares draws in integers, without a
// conversion on the path from the generator.
inline std::uint64_t below_in_units(double p) noexcept {
  return static_cast<std::uint64_t>(std::ceil(std::ldexp(p, 53)));
}

// The random stream of one (seed, configuration, replicate). Thread-safe: const
// calls share no state.
class ReplicateStream {
 public:
  using Word4 = std::array<std::uint64_t, 4>;

  ReplicateStream(std::uint64_t seed, std::uint64_t configuration, std::uint64_t replicate) noexcept
      : key_{{seed, configuration}}, replicate_(replicate) {}

  // The four 64-bit words at counter (replicate, purpose, step, index).
  Word4 block(Purpose purpose, std::uint64_t step, std::uint64_t index) const noexcept {
    r123::Philox4x64::ctr_type ctr = {{replicate_, static_cast<std::uint64_t>(purpose), step, index}};
    const auto out = r123::Philox4x64()(ctr, key_);
    return {out.v[0], out.v[1], out.v[2], out.v[3]};
  }

  // Uniform on [0, 1) for one lane of a block: the draw for item `item` at `step`
  // is word (item mod 4) of the block with index item / 4, so one Philox call
  // serves four consecutive items (edges or firms), as a SIMD kernel would use it.
  double lane_uniform(Purpose purpose, std::uint64_t step, std::uint64_t item) const noexcept {
    return unit_interval(block(purpose, step, item >> 2)[item & 3]);
  }

  std::uint64_t seed() const noexcept { return key_.v[0]; }
  std::uint64_t configuration() const noexcept { return key_.v[1]; }
  std::uint64_t replicate() const noexcept { return replicate_; }

 private:
  r123::Philox4x64::key_type key_;
  std::uint64_t replicate_;
};

// The Philox4x64-10 blocks of one ReplicateStream at counters (replicate, purpose,
// step, index) for index = 0, 1, 2, ...: the same words as ReplicateStream::block.
// Only the index varies, so what does not depend on it is computed once: the
// round keys, round 0 but for one xor, and one of the two multiplications of
// rounds 1 and 2. That leaves 16 of the 20 multiplications of a block, and 96
// instructions instead of about 170 (r123::Philox4x64 with the key and counter
// loaded from the stream); the random regular graph draws 3 words per swap
// attempt, 60 |E| in all, so Philox was a third of its instructions.
class PhiloxIndexedBlocks {
 public:
  PhiloxIndexedBlocks(const ReplicateStream& stream, Purpose purpose, std::uint64_t step) noexcept {
    std::uint64_t key0 = stream.seed();
    std::uint64_t key1 = stream.configuration();
    std::uint64_t high0 = 0;
    std::uint64_t high1 = 0;
    // Round 0 of (replicate, purpose, step, index): all but the index's xor.
    std::uint64_t low0 = multiply(multiplier0, stream.replicate(), high0);
    std::uint64_t low1 = multiply(multiplier1, step, high1);
    const std::uint64_t y0 = high1 ^ static_cast<std::uint64_t>(purpose) ^ key0;
    const std::uint64_t y1 = low1;
    round0_index_mask_ = high0 ^ key1;  // y2 = this ^ index
    const std::uint64_t y3 = low0;
    // Round 1: M0 y0 is fixed, M1 y2 is not.
    key0 += key_step0;
    key1 += key_step1;
    low0 = multiply(multiplier0, y0, high0);
    round1_mask0_ = y1 ^ key0;  // z0 = hi(M1 y2) ^ this, z1 = lo(M1 y2)
    const std::uint64_t z2 = high0 ^ y3 ^ key1;
    const std::uint64_t z3 = low0;
    // Round 2: M1 z2 is fixed, M0 z0 is not.
    key0 += key_step0;
    key1 += key_step1;
    low1 = multiply(multiplier1, z2, high1);
    round2_mask0_ = high1 ^ key0;  // w0 = z1 ^ this
    round2_word1_ = low1;          // w1
    round2_mask2_ = z3 ^ key1;     // w2 = hi(M0 z0) ^ this, w3 = lo(M0 z0)
    for (auto& key : round_keys_) {
      key0 += key_step0;
      key1 += key_step1;
      key = {key0, key1};
    }
  }

  // Writes the blocks at indices first, first + 1, ..., first + count - 1 to
  // words[0 .. 4 count).
  void fill(std::uint64_t first, std::size_t count, std::uint64_t* words) const noexcept {
    for (std::size_t b = 0; b < count; ++b) {
      const auto out = block(first + b);
      words[4 * b] = out[0];
      words[4 * b + 1] = out[1];
      words[4 * b + 2] = out[2];
      words[4 * b + 3] = out[3];
    }
  }

  std::array<std::uint64_t, 4> block(std::uint64_t index) const noexcept {
    std::uint64_t high = 0;
    std::uint64_t low = multiply(multiplier1, round0_index_mask_ ^ index, high);
    const std::uint64_t z0 = high ^ round1_mask0_;
    const std::uint64_t z1 = low;
    low = multiply(multiplier0, z0, high);
    std::uint64_t x0 = z1 ^ round2_mask0_;
    std::uint64_t x1 = round2_word1_;
    std::uint64_t x2 = high ^ round2_mask2_;
    std::uint64_t x3 = low;
    for (const auto& key : round_keys_) {
      std::uint64_t high0 = 0;
      std::uint64_t high1 = 0;
      const std::uint64_t low0 = multiply(multiplier0, x0, high0);
      const std::uint64_t low1 = multiply(multiplier1, x2, high1);
      x0 = high1 ^ x1 ^ key[0];
      x1 = low1;
      x2 = high0 ^ x3 ^ key[1];
      x3 = low0;
    }
    return {x0, x1, x2, x3};
  }

 private:
  static constexpr std::uint64_t multiplier0 = PHILOX_M4x64_0;
  static constexpr std::uint64_t multiplier1 = PHILOX_M4x64_1;
  static constexpr std::uint64_t key_step0 = PHILOX_W64_0;
  static constexpr std::uint64_t key_step1 = PHILOX_W64_1;

  static std::uint64_t multiply(std::uint64_t a, std::uint64_t b, std::uint64_t& high) noexcept {
    const uint128 product = static_cast<uint128>(a) * b;
    high = static_cast<std::uint64_t>(product >> 64);
    return static_cast<std::uint64_t>(product);
  }

  std::uint64_t round0_index_mask_ = 0;
  std::uint64_t round1_mask0_ = 0;
  std::uint64_t round2_mask0_ = 0;
  std::uint64_t round2_word1_ = 0;
  std::uint64_t round2_mask2_ = 0;
  std::array<std::array<std::uint64_t, 2>, 7> round_keys_{};  // rounds 3..9
};

// A sequential stream over one purpose of a replicate: words are consumed in
// counter order (index 0, 1, 2, ...), four per Philox block. Used where draws
// happen in a data-dependent sequence (graph construction, shuffles).
// Not thread-safe; each replicate owns its own.
class SequentialStream {
 public:
  SequentialStream(const ReplicateStream& stream, Purpose purpose, std::uint64_t step = 0) noexcept
      : blocks_(stream, purpose, step) {}

  std::uint64_t next_u64() noexcept {
    if (next_word_ == words_.size()) [[unlikely]] refill();
    return words_[next_word_++];
  }

  // Uniform on [0, 1).
  double next_unit() noexcept { return unit_interval(next_u64()); }

  // Uniform integer in [0, bound), bound >= 1, without modulo bias
  // (Lemire's multiply-and-reject).
  std::uint64_t below(std::uint64_t bound) noexcept {
    uint128 product = static_cast<uint128>(next_u64()) * bound;
    auto low = static_cast<std::uint64_t>(product);
    if (low < bound) [[unlikely]] {
      const std::uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        product = static_cast<uint128>(next_u64()) * bound;
        low = static_cast<std::uint64_t>(product);
      }
    }
    return static_cast<std::uint64_t>(product >> 64);
  }

  // Standard normal by Box-Muller from two uniforms (1 - u keeps the log finite).
  double next_normal() noexcept {
    const double u1 = next_unit();
    const double u2 = next_unit();
    return std::sqrt(-2.0 * std::log1p(-u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  // Out of line, the refill leaves next_u64 and below small enough to inline
  // into the graph's swap loop; eight blocks a refill rather than one take 4%
  // fewer of the graph's instructions (N = 100, k = 4). Interleaving the rounds
  // of several blocks by hand gained nothing: the core already overlaps
  // independent blocks (8.2 ns a block one after another, 8.7 and 8.8 with 2
  // and 4 interleaved, 12.9 with 8, which spills registers).
  static constexpr std::size_t batch_blocks = 8;

  [[gnu::noinline]] void refill() noexcept {
    blocks_.fill(next_index_, batch_blocks, words_.data());
    next_index_ += batch_blocks;
    next_word_ = 0;
  }

  PhiloxIndexedBlocks blocks_;
  std::uint64_t next_index_ = 0;
  std::size_t next_word_ = 4 * batch_blocks;
  std::array<std::uint64_t, 4 * batch_blocks> words_{};
};

}  // namespace coopsweep::kernels
