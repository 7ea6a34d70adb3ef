#pragma once
// Point sets in the unit cube [0, 1)^d for sampled designs: Latin hypercube,
// Sobol' (Joe and Kuo's direction numbers, scrambled), uniform random,
// Saltelli's design for Sobol' indices and Morris's trajectories.
//
// Every function is a pure function of its arguments: the random draws come
// from Philox4x64 keyed by (seed, design_stream) with the purpose, dimension
// and index in the counter, a key no run ever uses (runs are keyed by their
// configuration index, below 2^48), so a design is the same on every machine
// and thread count, and for a given sweep seed the design's points never
// share random numbers with the runs. All functions are thread-safe.

#include <cstdint>
#include <span>
#include <vector>

namespace coopsweep::sweep {

// `count` points of `dimensions` coordinates, row-major: coordinate j of
// point i is values[i * dimensions + j].
struct UnitPoints {
  std::int64_t count = 0;
  std::int64_t dimensions = 0;
  std::vector<double> values;

  double at(std::int64_t point, std::int64_t dimension) const noexcept {
    return values[static_cast<std::size_t>(point * dimensions + dimension)];
  }
  std::span<const double> point(std::int64_t i) const noexcept {
    return std::span<const double>(values).subspan(static_cast<std::size_t>(i * dimensions),
                                                   static_cast<std::size_t>(dimensions));
  }
};

// The key word that sets design draws apart from every run's stream.
inline constexpr std::uint64_t design_stream = ~std::uint64_t{0};

// Dimensions of Sobol' points available (Joe and Kuo's first 1024), and the
// most points any design makes (2^31: Sobol' points use 32 direction numbers).
inline constexpr std::int64_t sobol_max_dimensions = 1024;
inline constexpr std::int64_t max_design_points = std::int64_t{1} << 31;

// The first `count` points of Sobol's sequence in `dimensions` dimensions with
// Joe and Kuo's direction numbers (new-joe-kuo-6.21201), unscrambled, in
// Gray-code order as Joe and Kuo's sobol.cc and SciPy's qmc.Sobol make them:
// point 0 is the origin; dimension 0 is van der Corput's sequence. Coordinates
// are exact dyadic fractions. Throws std::invalid_argument for a count outside
// [0, 2^31] or dimensions outside [1, 1024].
UnitPoints sobol_sequence(std::int64_t count, std::int64_t dimensions);

// The same points scrambled by a random linear matrix scramble (Matousek 1998:
// a random lower-triangular binary matrix with unit diagonal per dimension)
// and a random digital shift, as SciPy's qmc.Sobol(scramble=True) does, with
// 64-bit digits. Scrambling keeps the net structure: for count = 2^m each
// one-dimensional projection has exactly one point in each interval
// [k / 2^m, (k + 1) / 2^m), and points are uniform on [0, 1)^d. Throws as
// sobol_sequence.
UnitPoints scrambled_sobol(std::int64_t count, std::int64_t dimensions, std::uint64_t seed);

// A Latin hypercube of `count` points: in each dimension a random permutation
// of the `count` strata [k / count, (k + 1) / count), with a uniform point in
// each stratum; floor(x * count) is exactly the stratum. Throws
// std::invalid_argument for count outside [1, 2^31] or dimensions < 1.
UnitPoints latin_hypercube(std::int64_t count, std::int64_t dimensions, std::uint64_t seed);

// Independent uniform points. Throws as latin_hypercube.
UnitPoints uniform_random(std::int64_t count, std::int64_t dimensions, std::uint64_t seed);

// Saltelli's design for first-order and total Sobol' indices (Saltelli et al.
// 2010): matrices A and B of `base` rows are the first and last `dimensions`
// coordinates of the first `base` scrambled Sobol' points in 2 * dimensions
// dimensions, and AB_i is A with column i taken from B. The result has
// base * (dimensions + 2) points, in groups of dimensions + 2 per base row j:
// A_j, AB_1j, ..., AB_dj, B_j (SALib's order), so that any prefix of whole
// groups can be analysed. Throws std::invalid_argument unless base is a power
// of 2 (Sobol' points balance only then) and 2 * dimensions <= 1024.
UnitPoints saltelli_points(std::int64_t base, std::int64_t dimensions, std::uint64_t seed);

// Morris's elementary-effects design (Morris 1991): `trajectories` random
// one-at-a-time trajectories of dimensions + 1 points on the grid of `levels`
// levels {0, 1/(p-1), ..., 1} (p = levels, even), each step moving one
// coordinate, in random order, by +-Delta = p / (2 (p - 1)). Point k of
// trajectory t is point t * (dimensions + 1) + k. Throws
// std::invalid_argument unless levels is even and >= 2 and trajectories >= 1.
UnitPoints morris_points(std::int64_t trajectories, std::int64_t dimensions, std::int64_t levels,
                         std::uint64_t seed);

// The Morris step Delta = p / (2 (p - 1)) for p levels.
double morris_delta(std::int64_t levels) noexcept;

// Maps a unit coordinate to an integer of [low, high]. With `strata` > 0 the
// coordinate comes from a design stratified in `strata` equal intervals (a
// Latin hypercube of that many points, or 2^m Sobol' points), and the integer
// is the one under the centre of the coordinate's interval: the `strata`
// points then spread over the integers as evenly as they can (each integer
// taken floor or ceil of strata / (high - low + 1) times). With strata = 0 it
// is low + floor(u * (high - low + 1)). Thread-safe.
std::int64_t integer_from_unit(double u, std::int64_t low, std::int64_t high, std::int64_t strata) noexcept;

}  // namespace coopsweep::sweep
