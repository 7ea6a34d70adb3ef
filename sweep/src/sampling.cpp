#include <coopsweep/sweep/sampling.hpp>

#include "joe_kuo.hpp"

#include <coopsweep/kernels/random.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <stdexcept>
#include <string>

namespace coopsweep::sweep {
namespace {

using kernels::Purpose;
using kernels::ReplicateStream;
using kernels::SequentialStream;

// Purposes of the design's draws, beyond those of the kernel (1 to 5), so that
// no two kinds of draw ever share a counter.
constexpr auto lhs_permutation = static_cast<Purpose>(101);
constexpr auto lhs_offset = static_cast<Purpose>(102);
constexpr auto random_point = static_cast<Purpose>(103);
constexpr auto sobol_matrix = static_cast<Purpose>(104);
constexpr auto sobol_shift = static_cast<Purpose>(105);
constexpr auto morris_start = static_cast<Purpose>(106);
constexpr auto morris_order = static_cast<Purpose>(107);

// Direction numbers per point index bit: 32 bits of index, 64-bit digits.
constexpr int index_bits = 32;
using Directions = std::array<std::uint64_t, index_bits>;

// The stream of one dimension (or trajectory) of a design: the replicate slot
// of the counter carries the dimension.
ReplicateStream stream(std::uint64_t seed, std::int64_t lane) {
  return ReplicateStream(seed, design_stream, static_cast<std::uint64_t>(lane));
}

void check_count(std::int64_t count, std::int64_t dimensions, const char* what) {
  if (count < 0 || count > max_design_points) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(count) +
                                " points; allowed: 0 to 2^31");
  }
  if (dimensions < 1) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(dimensions) +
                                " dimensions; allowed: at least 1");
  }
}

void check_sobol(std::int64_t count, std::int64_t dimensions, const char* what) {
  check_count(count, dimensions, what);
  if (dimensions > sobol_max_dimensions) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(dimensions) +
                                " dimensions; allowed: at most 1024 (Joe and Kuo's direction numbers kept)");
  }
}

// Direction numbers v_k = m_k 2^(64-k), k = 1..32, of dimension j (0-based),
// from Joe and Kuo's line for dimension j + 1 and their recurrence
// m_k = 2 a_1 m_(k-1) ^ 4 a_2 m_(k-2) ^ ... ^ 2^s m_(k-s) ^ m_(k-s).
Directions directions(std::int64_t j) {
  std::array<std::uint64_t, index_bits + 1> m{};  // m[1..32]
  if (j == 0) {
    m.fill(1);  // van der Corput
  } else {
    const detail::JoeKuoLine& line = detail::joe_kuo_lines[static_cast<std::size_t>(j - 1)];
    const int s = static_cast<int>(line.s);
    for (int k = 1; k <= s && k <= index_bits; ++k) m[static_cast<std::size_t>(k)] = line.m[static_cast<std::size_t>(k - 1)];
    for (int k = s + 1; k <= index_bits; ++k) {
      std::uint64_t value = m[static_cast<std::size_t>(k - s)] ^ (m[static_cast<std::size_t>(k - s)] << s);
      for (int i = 1; i < s; ++i) {
        if ((line.a >> (s - 1 - i)) & 1U) value ^= m[static_cast<std::size_t>(k - i)] << i;
      }
      m[static_cast<std::size_t>(k)] = value;
    }
  }
  Directions v{};
  for (int k = 1; k <= index_bits; ++k) v[static_cast<std::size_t>(k - 1)] = m[static_cast<std::size_t>(k)] << (64 - k);
  return v;
}

// Matousek's linear matrix scramble of one dimension applied to its direction
// numbers (the scramble is linear over GF(2), so scrambling the directions
// scrambles every point): output digit r (r = 0 the most significant) is the
// parity of the input digits 0..r selected by row r of a random
// lower-triangular matrix with unit diagonal.
Directions scrambled(const Directions& v, const ReplicateStream& draws) {
  std::array<std::uint64_t, 64> rows{};
  for (int r = 0; r < 64; ++r) {
    const std::uint64_t random = draws.block(sobol_matrix, 0, static_cast<std::uint64_t>(r) / 4)[static_cast<std::size_t>(r % 4)];
    const std::uint64_t above = r == 0 ? 0 : ~std::uint64_t{0} << (64 - r);
    rows[static_cast<std::size_t>(r)] = (random & above) | (std::uint64_t{1} << (63 - r));
  }
  Directions out{};
  for (std::size_t k = 0; k < v.size(); ++k) {
    std::uint64_t word = 0;
    for (int r = 0; r < 64; ++r) {
      word |= static_cast<std::uint64_t>(std::popcount(rows[static_cast<std::size_t>(r)] & v[k]) & 1) << (63 - r);
    }
    out[k] = word;
  }
  return out;
}

double to_unit(std::uint64_t digits) { return kernels::unit_interval(digits); }

// Points 0..count-1 in Gray-code order: point i is point i - 1 with the
// direction number of the lowest set bit of i added.
void fill_sobol(UnitPoints& points, std::int64_t j, const Directions& v, std::uint64_t shift) {
  std::uint64_t x = shift;
  for (std::int64_t i = 0; i < points.count; ++i) {
    if (i > 0) x ^= v[static_cast<std::size_t>(std::countr_zero(static_cast<std::uint64_t>(i)))];
    points.values[static_cast<std::size_t>(i * points.dimensions + j)] = to_unit(x);
  }
}

UnitPoints make_points(std::int64_t count, std::int64_t dimensions) {
  UnitPoints points;
  points.count = count;
  points.dimensions = dimensions;
  points.values.assign(static_cast<std::size_t>(count * dimensions), 0.0);
  return points;
}

}  // namespace

UnitPoints sobol_sequence(std::int64_t count, std::int64_t dimensions) {
  check_sobol(count, dimensions, "Sobol' sequence");
  UnitPoints points = make_points(count, dimensions);
  for (std::int64_t j = 0; j < dimensions; ++j) fill_sobol(points, j, directions(j), 0);
  return points;
}

UnitPoints scrambled_sobol(std::int64_t count, std::int64_t dimensions, std::uint64_t seed) {
  check_sobol(count, dimensions, "scrambled Sobol' points");
  UnitPoints points = make_points(count, dimensions);
  for (std::int64_t j = 0; j < dimensions; ++j) {
    const ReplicateStream draws = stream(seed, j);
    fill_sobol(points, j, scrambled(directions(j), draws), draws.block(sobol_shift, 0, 0)[0]);
  }
  return points;
}

UnitPoints latin_hypercube(std::int64_t count, std::int64_t dimensions, std::uint64_t seed) {
  check_count(count, dimensions, "Latin hypercube");
  UnitPoints points = make_points(count, dimensions);
  std::vector<std::int64_t> strata(static_cast<std::size_t>(count));
  const double n = static_cast<double>(count);
  for (std::int64_t j = 0; j < dimensions; ++j) {
    const ReplicateStream draws = stream(seed, j);
    SequentialStream shuffle(draws, lhs_permutation);
    for (std::int64_t i = 0; i < count; ++i) strata[static_cast<std::size_t>(i)] = i;
    for (std::int64_t i = count - 1; i > 0; --i) {  // Fisher-Yates
      std::swap(strata[static_cast<std::size_t>(i)],
                strata[static_cast<std::size_t>(shuffle.below(static_cast<std::uint64_t>(i + 1)))]);
    }
    for (std::int64_t i = 0; i < count; ++i) {
      const auto k = static_cast<double>(strata[static_cast<std::size_t>(i)]);
      double x = (k + draws.lane_uniform(lhs_offset, 0, static_cast<std::uint64_t>(i))) / n;
      // k + u can round up to k + 1; the point must stay in its own stratum,
      // since integer parameters are read from the stratum (integer_from_unit).
      while (x > 0.0 && std::floor(x * n) > k) x = std::nextafter(x, 0.0);
      points.values[static_cast<std::size_t>(i * dimensions + j)] = x;
    }
  }
  return points;
}

UnitPoints uniform_random(std::int64_t count, std::int64_t dimensions, std::uint64_t seed) {
  check_count(count, dimensions, "random points");
  UnitPoints points = make_points(count, dimensions);
  for (std::int64_t j = 0; j < dimensions; ++j) {
    const ReplicateStream draws = stream(seed, j);
    for (std::int64_t i = 0; i < count; ++i) {
      points.values[static_cast<std::size_t>(i * dimensions + j)] =
          draws.lane_uniform(random_point, 0, static_cast<std::uint64_t>(i));
    }
  }
  return points;
}

UnitPoints saltelli_points(std::int64_t base, std::int64_t dimensions, std::uint64_t seed) {
  if (base < 1 || !std::has_single_bit(static_cast<std::uint64_t>(base))) {
    throw std::invalid_argument("Saltelli design: " + std::to_string(base) +
                                " base samples; allowed: a power of 2 (Sobol' points balance only then)");
  }
  if (dimensions < 1 || 2 * dimensions > sobol_max_dimensions) {
    throw std::invalid_argument("Saltelli design: " + std::to_string(dimensions) +
                                " dimensions; allowed: 1 to 512 (twice that many Sobol' dimensions)");
  }
  const std::int64_t group = dimensions + 2;
  if (base > max_design_points / group) {
    throw std::invalid_argument("Saltelli design: " + std::to_string(base) + " x " + std::to_string(group) +
                                " points; allowed: at most 2^31");
  }
  const UnitPoints ab = scrambled_sobol(base, 2 * dimensions, seed);
  UnitPoints points = make_points(base * group, dimensions);
  for (std::int64_t row = 0; row < base; ++row) {
    const auto a = ab.point(row).first(static_cast<std::size_t>(dimensions));
    const auto b = ab.point(row).last(static_cast<std::size_t>(dimensions));
    for (std::int64_t k = 0; k < group; ++k) {
      double* out = points.values.data() + (row * group + k) * dimensions;
      // k = 0: A; k = 1..d: AB_k (A with column k - 1 from B); k = d + 1: B.
      const auto from = k == group - 1 ? b : a;
      std::copy(from.begin(), from.end(), out);
      if (k >= 1 && k <= dimensions) out[k - 1] = b[static_cast<std::size_t>(k - 1)];
    }
  }
  return points;
}

double morris_delta(std::int64_t levels) noexcept {
  return static_cast<double>(levels) / (2.0 * static_cast<double>(levels - 1));
}

UnitPoints morris_points(std::int64_t trajectories, std::int64_t dimensions, std::int64_t levels,
                         std::uint64_t seed) {
  if (levels < 2 || levels % 2 != 0 || levels > 1024) {
    throw std::invalid_argument("Morris design: " + std::to_string(levels) +
                                " levels; allowed: an even number, 2 to 1024");
  }
  if (trajectories < 1 || dimensions < 1 || trajectories > max_design_points / (dimensions + 1)) {
    throw std::invalid_argument("Morris design: " + std::to_string(trajectories) + " trajectories of " +
                                std::to_string(dimensions) + " dimensions; allowed: at least 1 of each, at most 2^31 points");
  }
  const std::int64_t steps = dimensions + 1;
  const std::int64_t jump = levels / 2;  // Delta in levels
  const double top = static_cast<double>(levels - 1);
  UnitPoints points = make_points(trajectories * steps, dimensions);
  std::vector<std::int64_t> level(static_cast<std::size_t>(dimensions));
  std::vector<std::int64_t> direction(static_cast<std::size_t>(dimensions));
  std::vector<std::int64_t> order(static_cast<std::size_t>(dimensions));
  for (std::int64_t t = 0; t < trajectories; ++t) {
    const ReplicateStream draws = stream(seed, t);
    SequentialStream start(draws, morris_start);
    for (std::size_t j = 0; j < level.size(); ++j) {
      // A base level b in [0, p/2) moves up to b + p/2, or starts there and moves down.
      const auto base = static_cast<std::int64_t>(start.below(static_cast<std::uint64_t>(jump)));
      direction[j] = (start.next_u64() >> 63) != 0 ? 1 : -1;
      level[j] = direction[j] > 0 ? base : base + jump;
      order[j] = static_cast<std::int64_t>(j);
    }
    SequentialStream shuffle(draws, morris_order);
    for (std::int64_t i = dimensions - 1; i > 0; --i) {
      std::swap(order[static_cast<std::size_t>(i)],
                order[static_cast<std::size_t>(shuffle.below(static_cast<std::uint64_t>(i + 1)))]);
    }
    for (std::int64_t k = 0; k < steps; ++k) {
      if (k > 0) {
        const auto j = static_cast<std::size_t>(order[static_cast<std::size_t>(k - 1)]);
        level[j] += direction[j] * jump;
      }
      double* out = points.values.data() + (t * steps + k) * dimensions;
      for (std::size_t j = 0; j < level.size(); ++j) out[j] = static_cast<double>(level[j]) / top;
    }
  }
  return points;
}

std::int64_t integer_from_unit(double u, std::int64_t low, std::int64_t high, std::int64_t strata) noexcept {
  const std::int64_t values = high - low + 1;
  const double x = std::clamp(u, 0.0, 1.0);
  if (strata > 0) {
    const auto k = std::min<std::int64_t>(strata - 1, static_cast<std::int64_t>(x * static_cast<double>(strata)));
    // The integer under the centre (k + 1/2) / strata, in integer arithmetic
    // (128 bits: strata and values may each approach 2^31 and 2^40).
    const auto numerator = static_cast<kernels::uint128>(2 * k + 1) * static_cast<kernels::uint128>(values);
    return low + static_cast<std::int64_t>(numerator / static_cast<kernels::uint128>(2 * strata));
  }
  return low + std::min<std::int64_t>(values - 1, static_cast<std::int64_t>(x * static_cast<double>(values)));
}

}  // namespace coopsweep::sweep
