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

  std::uint64_t replicate() const noexcept { return replicate_; }

 private:
  r123::Philox4x64::key_type key_;
  std::uint64_t replicate_;
};

// A sequential stream over one purpose of a replicate: words are consumed in
// counter order (index 0, 1, 2, ...), four per Philox call. Used where draws
// happen in a data-dependent sequence (graph construction, shuffles).
// Not thread-safe; each replicate owns its own.
class SequentialStream {
 public:
  SequentialStream(const ReplicateStream& stream, Purpose purpose, std::uint64_t step = 0) noexcept
      : stream_(stream), purpose_(purpose), step_(step) {}

  std::uint64_t next_u64() noexcept {
    if (used_ == 4) {
      buffer_ = stream_.block(purpose_, step_, next_index_++);
      used_ = 0;
    }
    return buffer_[used_++];
  }

  // Uniform on [0, 1).
  double next_unit() noexcept { return unit_interval(next_u64()); }

  // Uniform integer in [0, bound), bound >= 1, without modulo bias
  // (Lemire's multiply-and-reject).
  std::uint64_t below(std::uint64_t bound) noexcept {
    uint128 product = static_cast<uint128>(next_u64()) * bound;
    auto low = static_cast<std::uint64_t>(product);
    if (low < bound) {
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
  ReplicateStream stream_;
  Purpose purpose_;
  std::uint64_t step_;
  std::uint64_t next_index_ = 0;
  ReplicateStream::Word4 buffer_{};
  int used_ = 4;
};

}  // namespace coopsweep::kernels
