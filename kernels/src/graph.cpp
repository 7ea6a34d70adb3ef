// The alliance graph G0 (MODEL.md, "Initialisation", step 1).
//
// Every generator draws from one SequentialStream(stream, Purpose::graph), consumed
// in a fixed order, so the graph is a pure function of the ReplicateStream. The
// generators produce an undirected edge list; graph_from_undirected_edges turns it
// into the CSR form (grouped by source, targets ascending, reverse edges linked).

#include <coopsweep/kernels/graph.hpp>

#include "exact_storage.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace coopsweep::kernels {
namespace {

using Edge = std::pair<FirmIndex, FirmIndex>;
using EdgeList = std::vector<Edge>;

// The largest number of undirected edges whose 2|E| directed edges fit EdgeIndex.
constexpr std::int64_t max_undirected_edges = std::numeric_limits<EdgeIndex>::max() / 2;

[[noreturn]] void reject(const std::string& what) {
  throw std::invalid_argument("build_alliance_graph: " + what);
}

void require_edge_capacity(std::int64_t undirected_edges) {
  if (undirected_edges > max_undirected_edges) {
    throw std::length_error("alliance graph: " + std::to_string(undirected_edges) +
                            " alliances exceed the 32-bit edge index (at most " +
                            std::to_string(max_undirected_edges) + ")");
  }
}

// A uniform integer in [0, bound), bound >= 1 (SequentialStream::below).
std::int64_t draw_below(SequentialStream& rng, std::int64_t bound) {
  return static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(bound)));
}

// Sets of undirected edges for the generators that test alliance existence while
// they rewire (regular, small_world): a hash set, a bit matrix and (regular only)
// fixed-size neighbour rows. They give the same answers, so the graph does not
// depend on which one is used; the choice is purely one of speed and memory (see
// use_bit_matrix, row_set_max_degree). None allocates after construction.

// An open-addressing (linear probing) hash set with backward-shift deletion: fixed
// capacity (load <= 1/2), no tombstones, so any number of erase/insert pairs keeps
// the probe lengths short. For sparse graphs: memory O(|E|).
class HashEdgeSet {
 public:
  HashEdgeSet(FirmIndex firms, std::int64_t max_edges) : firms_(firms) {
    std::size_t capacity = 16;
    while (capacity < 2 * static_cast<std::size_t>(max_edges)) capacity *= 2;
    slots_.assign(capacity, empty);
    mask_ = capacity - 1;
  }

  bool contains(FirmIndex i, FirmIndex j) const noexcept {
    const std::uint64_t k = key(i, j);
    for (std::size_t s = home(k);; s = (s + 1) & mask_) {
      if (slots_[s] == k) return true;
      if (slots_[s] == empty) return false;
    }
  }

  // Precondition: {i, j} is not in the set and the set has room.
  void insert(FirmIndex i, FirmIndex j) noexcept {
    const std::uint64_t k = key(i, j);
    std::size_t s = home(k);
    while (slots_[s] != empty) s = (s + 1) & mask_;
    slots_[s] = k;
  }

  // Precondition: {i, j} is in the set.
  void erase(FirmIndex i, FirmIndex j) noexcept {
    const std::uint64_t k = key(i, j);
    std::size_t hole = home(k);
    while (slots_[hole] != k) hole = (hole + 1) & mask_;
    // Backward shift: move later entries of the cluster into the hole when the
    // hole lies on their probe path.
    for (std::size_t s = (hole + 1) & mask_; slots_[s] != empty; s = (s + 1) & mask_) {
      const std::size_t distance = (s - home(slots_[s])) & mask_;
      if (distance >= ((s - hole) & mask_)) {
        slots_[hole] = slots_[s];
        hole = s;
      }
    }
    slots_[hole] = empty;
  }

  // Replaces {a, b}, {c, d} (present) by {a, d}, {c, b} (absent).
  void swap(FirmIndex a, FirmIndex b, FirmIndex c, FirmIndex d) noexcept {
    erase(a, b);
    erase(c, d);
    insert(a, d);
    insert(c, b);
  }

  void prefetch(FirmIndex i, FirmIndex j) const noexcept { __builtin_prefetch(&slots_[home(key(i, j))]); }

  // The r-th (from 0, ascending) firm that is neither i nor allied with i.
  // Precondition: r < N - 1 - degree(i). O(N) lookups; used only for dense rows,
  // which the bit matrix serves whenever the graph is dense.
  FirmIndex select_non_neighbour(FirmIndex i, std::int64_t r) const noexcept {
    FirmIndex j = 0;
    for (; j < firms_; ++j) {
      if (j == i || contains(i, j)) continue;
      if (r == 0) break;
      --r;
    }
    return j;
  }

 private:
  static constexpr std::uint64_t empty = std::numeric_limits<std::uint64_t>::max();

  static std::uint64_t key(FirmIndex i, FirmIndex j) noexcept {
    const auto lo = static_cast<std::uint64_t>(static_cast<std::uint32_t>(std::min(i, j)));
    const auto hi = static_cast<std::uint64_t>(static_cast<std::uint32_t>(std::max(i, j)));
    return (lo << 32) | hi;
  }

  std::size_t home(std::uint64_t k) const noexcept {
    // SplitMix64 finaliser.
    k ^= k >> 30;
    k *= 0xbf58476d1ce4e5b9ULL;
    k ^= k >> 27;
    k *= 0x94d049bb133111ebULL;
    k ^= k >> 31;
    return k & mask_;
  }

  FirmIndex firms_;
  std::vector<std::uint64_t> slots_;
  std::size_t mask_ = 0;
};

// The N x N adjacency bit matrix: O(1) tests with no hashing, and selection of the
// r-th non-neighbour by popcount over N/64 words. For small or dense graphs.
class BitEdgeSet {
 public:
  BitEdgeSet(FirmIndex firms, std::int64_t /*max_edges*/)
      : firms_(firms), words_per_row_((static_cast<std::size_t>(firms) + 63) / 64) {
    bits_.assign(words_per_row_ * static_cast<std::size_t>(firms), 0);
  }

  bool contains(FirmIndex i, FirmIndex j) const noexcept { return (word(i, j) & bit(j)) != 0; }

  void insert(FirmIndex i, FirmIndex j) noexcept {
    word(i, j) |= bit(j);
    word(j, i) |= bit(i);
  }

  void erase(FirmIndex i, FirmIndex j) noexcept {
    word(i, j) &= ~bit(j);
    word(j, i) &= ~bit(i);
  }

  void swap(FirmIndex a, FirmIndex b, FirmIndex c, FirmIndex d) noexcept {
    erase(a, b);
    erase(c, d);
    insert(a, d);
    insert(c, b);
  }

  void prefetch(FirmIndex i, FirmIndex j) const noexcept { __builtin_prefetch(&word(i, j)); }

  FirmIndex select_non_neighbour(FirmIndex i, std::int64_t r) const noexcept {
    const std::uint64_t* row = &bits_[static_cast<std::size_t>(i) * words_per_row_];
    const std::size_t own_word = static_cast<std::size_t>(i) / 64;
    const std::size_t tail_bits = static_cast<std::size_t>(firms_) % 64;
    for (std::size_t w = 0; w < words_per_row_; ++w) {
      std::uint64_t free = ~row[w];
      if (w == own_word) free &= ~bit(i);
      if (w + 1 == words_per_row_ && tail_bits != 0) free &= (std::uint64_t{1} << tail_bits) - 1;
      const auto count = static_cast<std::int64_t>(std::popcount(free));
      if (r < count) {
        for (; r > 0; --r) free &= free - 1;  // drop the r lowest free firms
        return static_cast<FirmIndex>(w * 64 + static_cast<std::size_t>(std::countr_zero(free)));
      }
      r -= count;
    }
    return firms_;  // unreachable under the precondition
  }

 private:
  static std::uint64_t bit(FirmIndex j) noexcept {
    return std::uint64_t{1} << (static_cast<unsigned>(j) % 64);
  }
  std::uint64_t& word(FirmIndex i, FirmIndex j) noexcept {
    return bits_[static_cast<std::size_t>(i) * words_per_row_ + static_cast<std::size_t>(j) / 64];
  }
  const std::uint64_t& word(FirmIndex i, FirmIndex j) const noexcept {
    return bits_[static_cast<std::size_t>(i) * words_per_row_ + static_cast<std::size_t>(j) / 64];
  }

  FirmIndex firms_;
  std::size_t words_per_row_;
  std::vector<std::uint64_t> bits_;
};

// Fixed-size neighbour rows, N x k in one flat vector, searched linearly: for the
// degree-preserving swaps of a sparse regular graph (k <= row_set_max_degree), where
// one row is one cache line. Supports only what swap_edges needs.
class RowEdgeSet {
 public:
  RowEdgeSet(FirmIndex firms, std::int64_t degree)
      : degree_(static_cast<std::size_t>(degree)),
        neighbours_(static_cast<std::size_t>(firms) * degree_, -1),
        filled_(static_cast<std::size_t>(firms), 0) {}

  bool contains(FirmIndex i, FirmIndex j) const noexcept {
    const FirmIndex* row = &neighbours_[static_cast<std::size_t>(i) * degree_];
    for (std::size_t q = 0; q < degree_; ++q) {
      if (row[q] == j) return true;
    }
    return false;
  }

  // Only while building: every firm ends with exactly `degree` entries.
  void insert(FirmIndex i, FirmIndex j) noexcept {
    append(i, j);
    append(j, i);
  }

  void swap(FirmIndex a, FirmIndex b, FirmIndex c, FirmIndex d) noexcept {
    replace(a, b, d);
    replace(b, a, c);
    replace(c, d, b);
    replace(d, c, a);
  }

  void prefetch(FirmIndex i, FirmIndex /*j*/) const noexcept {
    __builtin_prefetch(&neighbours_[static_cast<std::size_t>(i) * degree_]);
  }

 private:
  void append(FirmIndex i, FirmIndex j) noexcept {
    auto& filled = filled_[static_cast<std::size_t>(i)];
    neighbours_[static_cast<std::size_t>(i) * degree_ + static_cast<std::size_t>(filled)] = j;
    ++filled;
  }

  void replace(FirmIndex i, FirmIndex from, FirmIndex to) noexcept {
    FirmIndex* row = &neighbours_[static_cast<std::size_t>(i) * degree_];
    for (std::size_t q = 0; q < degree_; ++q) {
      if (row[q] == from) {
        row[q] = to;
        return;
      }
    }
  }

  std::size_t degree_;
  std::vector<FirmIndex> neighbours_;
  std::vector<FirmIndex> filled_;
};

// Up to this degree a row (64 bytes) beats the hash set: measured 4.7x faster for
// N = 10^6, k = 4, equal at k = 32..64.
constexpr std::int64_t row_set_max_degree = 16;

// The bit matrix (N^2 / 8 bytes) is used when it is small (<= 4 MiB) or no larger
// than the hash set's 16 |E| bytes, i.e. when the graph is dense (k >= N / 64).
bool use_bit_matrix(double firms, double edge_count) {
  const double matrix_bytes = firms * firms / 8.0;
  return matrix_bytes <= 4.0 * 1024 * 1024 || matrix_bytes <= 16.0 * edge_count;
}

// Bytes of the edge sets above, as their constructors allocate them.
double bit_set_bytes(double firms) { return std::ceil(firms / 64.0) * 8.0 * firms; }
double row_set_bytes(double firms, double degree) { return 4.0 * firms * degree + 4.0 * firms; }
double hash_set_bytes(double max_edges) {
  double capacity = 16.0;
  while (capacity < 2.0 * max_edges) capacity *= 2.0;
  return 8.0 * capacity;
}

// Prefetching pays only when the edges and the edge set outgrow the L2 cache: at
// N = 100, k = 4 (3 KiB) it cost 18% of the graph's instructions for no gain in
// time; at N = 8000, k = 8 (0.5 MiB) and N = 10^5, k = 4 (3.6 MiB) it saves 14%
// and 22% of the time.
constexpr double prefetch_min_bytes = 256.0 * 1024;

// Ring edges (i, i + m mod N) for m = 1..half (outer), i = 0..N-1 (inner).
void append_ring(FirmIndex n, std::int64_t half, EdgeList& edges) {
  for (std::int64_t m = 1; m <= half; ++m) {
    for (FirmIndex i = 0; i < n; ++i) {
      edges.emplace_back(i, static_cast<FirmIndex>((i + m) % n));
    }
  }
}

void build_ring(FirmIndex n, std::int64_t k, EdgeList& edges) {
  edges.reserve(static_cast<std::size_t>(n) * static_cast<std::size_t>(k / 2));
  append_ring(n, k / 2, edges);
}

void build_complete(FirmIndex n, EdgeList& edges) {
  edges.reserve(static_cast<std::size_t>(n) * static_cast<std::size_t>(n - 1) / 2);
  for (FirmIndex i = 0; i < n; ++i) {
    for (FirmIndex j = i + 1; j < n; ++j) edges.emplace_back(i, j);
  }
}

// `attempts` double-edge swap attempts on `edges` (a simple graph held also in
// `present`). An attempt draws
// two distinct edge indices e1, e2 (uniform ordered pair) and a fair coin; with
// (a, b) = edges[e1] and (c, d) = edges[e2], reversed to (d, c) on heads, it
// proposes (a, d), (c, b) and succeeds unless that makes a self-loop or multi-edge.
//
// Where the edges and the set outgrow the cache (`prefetch`): the draws of an
// attempt do not depend on the graph, so they are made `lookahead` attempts early
// and the memory they will touch is prefetched (edges first, then the set's slots
// half-way). Either way the draws are made in attempt order, so the graph is the
// same (the lookahead also draws for `lookahead` attempts past the last, unused:
// nothing draws from the graph's stream after the swaps).
template <class Set>
void swap_edges(EdgeList& edges, Set& present, std::int64_t attempts, SequentialStream& rng, bool prefetch) {
  // All members one width: a one-byte `flip` written and then copied with the
  // struct as 8-byte words stalled store forwarding on every attempt (a third
  // of the graph's build time, measured with perf).
  struct Attempt {
    std::size_t e1;
    std::size_t e2;
    std::size_t flip;
  };
  const auto edge_count = static_cast<std::int64_t>(edges.size());
  auto draw = [&]() {
    Attempt t{};
    t.e1 = static_cast<std::size_t>(draw_below(rng, edge_count));
    t.e2 = static_cast<std::size_t>(draw_below(rng, edge_count - 1));
    if (t.e2 >= t.e1) ++t.e2;
    t.flip = static_cast<std::size_t>(rng.below(2));
    return t;
  };
  auto proposal = [&](const Attempt& t) {
    const auto [a, b] = edges[t.e1];
    auto [c, d] = edges[t.e2];
    // Reversed without a branch: a branch on the coin is mispredicted half the
    // time. Branch-free, N = 100, k = 4 builds in 10% less time for 3% more
    // instructions (callgrind's branch model: 29 000 -> 12 000 mispredictions
    // in 32 000 attempts).
    const FirmIndex reverse = (c ^ d) & -static_cast<FirmIndex>(t.flip);
    c ^= reverse;
    d ^= reverse;
    return std::array<FirmIndex, 4>{a, b, c, d};
  };
  auto attempt_swap = [&](const Attempt& t) {
    const auto [a, b, c, d] = proposal(t);
    if (a == d || c == b) return;
    if (present.contains(a, d) || present.contains(c, b)) return;
    present.swap(a, b, c, d);
    edges[t.e1] = Edge{a, d};
    edges[t.e2] = Edge{c, b};
  };

  if (!prefetch) {
    for (std::int64_t attempt = 0; attempt < attempts; ++attempt) attempt_swap(draw());
    return;
  }

  constexpr std::size_t lookahead = 16;  // a power of two
  std::array<Attempt, lookahead> pending{};
  auto draw_and_prefetch = [&]() {
    const Attempt t = draw();
    __builtin_prefetch(&edges[t.e1]);
    __builtin_prefetch(&edges[t.e2]);
    return t;
  };
  for (auto& t : pending) t = draw_and_prefetch();

  for (std::int64_t attempt = 0; attempt < attempts; ++attempt) {
    const auto slot = static_cast<std::size_t>(attempt) % lookahead;
    const Attempt now = pending[slot];
    pending[slot] = draw_and_prefetch();
    {
      const auto [a, b, c, d] = proposal(pending[(slot + lookahead / 2) % lookahead]);
      // Tests {a, d}, {c, b}; a success also rewrites {a, b}, {c, d}. (Row sets
      // prefetch by the first firm: rows a, c, b, d.)
      present.prefetch(a, d);
      present.prefetch(c, b);
      present.prefetch(b, a);
      present.prefetch(d, c);
    }
    attempt_swap(now);
  }
}

// Circulant start (ring with floor(k/2), plus i ~ i + N/2 when k is odd), then a
// fixed number of double-edge swap attempts: 20 per edge. The count must not
// depend on how many attempts succeed: stopping after a number of *successes*
// samples the jump chain, whose stationary law favours graphs with many possible
// swaps (N = 6, k = 3 would give K_{3,3} with probability 0.2, not the uniform
// 1/7). With a fixed count the symmetric proposal leaves the uniform law
// stationary, and sparse graphs accept nearly every attempt, so at least the
// 10|E| swaps of MODEL.md succeed on average.
void build_sparse_regular(FirmIndex n, std::int64_t k, SequentialStream& rng, EdgeList& edges) {
  const std::int64_t edge_count = static_cast<std::int64_t>(n) * k / 2;
  edges.reserve(static_cast<std::size_t>(edge_count));
  append_ring(n, k / 2, edges);
  if (k % 2 != 0) {
    const FirmIndex half = n / 2;
    for (FirmIndex i = 0; i < half; ++i) edges.emplace_back(i, i + half);
  }
  if (edge_count < 2) return;

  const std::int64_t attempts = 20 * edge_count;
  auto run = [&](auto& present, double set_bytes) {
    for (const auto& [a, b] : edges) present.insert(a, b);
    const double touched_bytes = set_bytes + static_cast<double>(sizeof(Edge) * edges.size());
    swap_edges(edges, present, attempts, rng, touched_bytes > prefetch_min_bytes);
  };
  if (use_bit_matrix(static_cast<double>(n), static_cast<double>(edge_count))) {
    BitEdgeSet present(n, edge_count);
    run(present, bit_set_bytes(n));
  } else if (k <= row_set_max_degree) {
    RowEdgeSet present(n, k);
    run(present, row_set_bytes(n, static_cast<double>(k)));
  } else {
    HashEdgeSet present(n, edge_count);
    run(present, hash_set_bytes(static_cast<double>(edge_count)));
  }
}

// Every pair {i, j} that is not in `sparse`.
void complement_edges(FirmIndex n, const EdgeList& sparse, EdgeList& out) {
  AllianceGraph rows;
  graph_from_undirected_edges(n, sparse, rows);
  out.reserve(static_cast<std::size_t>(n) * static_cast<std::size_t>(n - 1) / 2 - sparse.size());
  for (FirmIndex i = 0; i < n; ++i) {
    EdgeIndex next = rows.offsets[i];
    for (FirmIndex j = 0; j < n; ++j) {
      while (next < rows.offsets[i + 1] && rows.target[next] < j) ++next;
      const bool excluded = next < rows.offsets[i + 1] && rows.target[next] == j;
      if (j > i && !excluded) out.emplace_back(i, j);
    }
  }
}

// A uniform k-regular graph. Dense graphs (k > (N - 1) / 2) are the complements of
// uniform (N - 1 - k)-regular graphs, where swaps rarely fail; K_N (k = N - 1)
// is the complement of the empty graph and draws nothing.
void build_regular(FirmIndex n, std::int64_t k, SequentialStream& rng, EdgeList& edges) {
  if (2 * k <= static_cast<std::int64_t>(n) - 1) {
    build_sparse_regular(n, k, rng, edges);
    return;
  }
  EdgeList sparse;
  build_sparse_regular(n, static_cast<std::int64_t>(n) - 1 - k, rng, sparse);
  complement_edges(n, sparse, edges);
}

// Watts-Strogatz from the ring: for m = 1..k/2, i = 0..N-1, the edge (i, i+m) is
// rewired with probability p to (i, j), j uniform among firms that are neither i
// nor allied with i (left alone when i is allied with every other firm): by
// rejection with below(N) while deg(i) < N/2, else the below(count)-th allowed firm
// in ascending order.
template <class Set>
void rewire_ring(FirmIndex n, std::int64_t half, double p, Set& present, SequentialStream& rng,
                 EdgeList& edges) {
  for (const auto& [a, b] : edges) present.insert(a, b);
  std::vector<FirmIndex> degree(static_cast<std::size_t>(n), static_cast<FirmIndex>(2 * half));

  for (std::int64_t m = 1; m <= half; ++m) {
    for (FirmIndex i = 0; i < n; ++i) {
      if (!(rng.next_unit() < p)) continue;
      const auto slot = static_cast<std::size_t>((m - 1) * n + i);
      const FirmIndex old = edges[slot].second;  // i + m mod N, still allied with i
      const FirmIndex deg = degree[static_cast<std::size_t>(i)];
      if (deg >= n - 1) continue;  // allied with every other firm

      FirmIndex j = 0;
      if (2 * static_cast<std::int64_t>(deg) < n) {
        do {
          j = static_cast<FirmIndex>(draw_below(rng, n));
        } while (j == i || present.contains(i, j));
      } else {
        j = present.select_non_neighbour(i, draw_below(rng, static_cast<std::int64_t>(n) - 1 - deg));
      }

      present.erase(i, old);
      present.insert(i, j);
      --degree[static_cast<std::size_t>(old)];
      ++degree[static_cast<std::size_t>(j)];
      edges[slot] = Edge{i, j};
    }
  }
}

void build_small_world(FirmIndex n, std::int64_t k, double p, SequentialStream& rng, EdgeList& edges) {
  const std::int64_t half = k / 2;
  const std::int64_t edge_count = static_cast<std::int64_t>(n) * half;
  edges.reserve(static_cast<std::size_t>(edge_count));
  append_ring(n, half, edges);
  if (p <= 0.0) {
    // No edge is rewired; the draws next_unit() < 0 are all false and unobservable.
    return;
  }
  if (use_bit_matrix(static_cast<double>(n), static_cast<double>(edge_count))) {
    BitEdgeSet present(n, edge_count);
    rewire_ring(n, half, p, present, rng, edges);
  } else {
    HashEdgeSet present(n, edge_count);
    rewire_ring(n, half, p, present, rng, edges);
  }
}

// Barabasi-Albert with m = k/2: K_{m+1} on firms 0..m, then each firm t = m+1..N-1
// attaches to m distinct firms drawn proportionally to degree (uniform entries of
// the endpoint list, duplicates within one firm rejected).
void build_scale_free(FirmIndex n, std::int64_t k, SequentialStream& rng, EdgeList& edges) {
  const std::int64_t m = k / 2;
  const std::int64_t edge_count = m * (m + 1) / 2 + m * (static_cast<std::int64_t>(n) - m - 1);
  edges.reserve(static_cast<std::size_t>(edge_count));

  std::vector<FirmIndex> endpoints;
  endpoints.reserve(2 * static_cast<std::size_t>(edge_count));
  const auto seed_firms = static_cast<FirmIndex>(m + 1);
  for (FirmIndex i = 0; i < seed_firms; ++i) {
    for (FirmIndex j = i + 1; j < seed_firms; ++j) {
      edges.emplace_back(i, j);
      endpoints.push_back(i);
      endpoints.push_back(j);
    }
  }

  // chosen_by[f] == t marks f as already a target of the new firm t.
  std::vector<FirmIndex> chosen_by(static_cast<std::size_t>(n), -1);
  std::vector<FirmIndex> targets;
  targets.reserve(static_cast<std::size_t>(m));
  for (FirmIndex t = seed_firms; t < n; ++t) {
    targets.clear();
    const auto list_size = static_cast<std::int64_t>(endpoints.size());
    while (static_cast<std::int64_t>(targets.size()) < m) {
      const FirmIndex f = endpoints[static_cast<std::size_t>(draw_below(rng, list_size))];
      if (chosen_by[static_cast<std::size_t>(f)] == t) continue;
      chosen_by[static_cast<std::size_t>(f)] = t;
      targets.push_back(f);
    }
    for (const FirmIndex f : targets) {
      edges.emplace_back(t, f);
      endpoints.push_back(t);
      endpoints.push_back(f);
    }
  }
}

// Erdos-Renyi G(N, p) by geometric skipping over the pairs (v, w), w < v, in
// lexicographic order (Batagelj & Brandes 2005).
void build_random(FirmIndex n, double p, SequentialStream& rng, EdgeList& edges) {
  if (p <= 0.0) return;
  if (p >= 1.0) {
    build_complete(n, edges);
    return;
  }
  const double expected = p * static_cast<double>(n) * static_cast<double>(n - 1) / 2.0;
  edges.reserve(static_cast<std::size_t>(expected + 4.0 * std::sqrt(expected) + 16.0));

  const double log_q = std::log(1.0 - p);
  const auto total_pairs = static_cast<double>(n) * static_cast<double>(n - 1) / 2.0;
  std::int64_t v = 1;
  std::int64_t w = -1;
  while (v < n) {
    const double u = rng.next_unit();
    const double skip = std::floor(std::log(1.0 - u) / log_q);
    if (!(skip < total_pairs)) break;  // past the last pair (also guards overflow)
    w += 1 + static_cast<std::int64_t>(skip);
    while (w >= v && v < n) {
      w -= v;
      ++v;
    }
    if (v < n) {
      if (static_cast<std::int64_t>(edges.size()) >= max_undirected_edges) {
        require_edge_capacity(static_cast<std::int64_t>(edges.size()) + 1);
      }
      edges.emplace_back(static_cast<FirmIndex>(v), static_cast<FirmIndex>(w));
    }
  }
}

}  // namespace

void build_alliance_graph(const GraphParams& params, const ReplicateStream& stream, AllianceGraph& out) {
  const std::int64_t n64 = params.firms;
  if (n64 < 2 || n64 > std::numeric_limits<FirmIndex>::max()) {
    reject("firms = " + std::to_string(n64) + " is outside [2, 2^31 - 1]");
  }
  const auto n = static_cast<FirmIndex>(n64);
  const std::int64_t k = params.topology == Topology::complete ? n64 - 1 : params.partners;
  if (k < 1 || k > n64 - 1) {
    reject("partners = " + std::to_string(k) + " is outside [1, firms - 1 = " + std::to_string(n64 - 1) +
           "]");
  }
  switch (params.topology) {
    case Topology::ring:
    case Topology::small_world:
    case Topology::scale_free:
      if (k % 2 != 0) reject("partners = " + std::to_string(k) + " must be even for this topology");
      break;
    case Topology::regular:
      if ((n64 * k) % 2 != 0) reject("firms * partners must be even for a regular graph");
      break;
    case Topology::random:
    case Topology::complete:
      break;
  }
  if (params.topology == Topology::small_world && !(params.rewire >= 0.0 && params.rewire <= 1.0)) {
    reject("rewire = " + std::to_string(params.rewire) + " is outside [0, 1]");
  }

  // Deterministic sizes are checked before anything is allocated.
  switch (params.topology) {
    case Topology::ring:
    case Topology::regular:
    case Topology::small_world:
    case Topology::complete:
      require_edge_capacity(n64 * k / 2);
      break;
    case Topology::scale_free: {
      const std::int64_t m = k / 2;
      require_edge_capacity(m * (m + 1) / 2 + m * (n64 - m - 1));
      break;
    }
    case Topology::random:
      // The mean size; a realisation is checked again as it grows.
      require_edge_capacity(n64 * k / 2);
      break;
  }

  SequentialStream rng(stream, Purpose::graph);
  EdgeList edges;
  switch (params.topology) {
    case Topology::ring:
      build_ring(n, k, edges);
      break;
    case Topology::regular:
      build_regular(n, k, rng, edges);
      break;
    case Topology::small_world:
      build_small_world(n, k, params.rewire, rng, edges);
      break;
    case Topology::scale_free:
      build_scale_free(n, k, rng, edges);
      break;
    case Topology::random:
      if (k == n64 - 1) {
        build_complete(n, edges);  // p = 1 exactly
      } else {
        build_random(n, static_cast<double>(k) / static_cast<double>(n64 - 1), rng, edges);
      }
      break;
    case Topology::complete:
      build_complete(n, edges);
      break;
  }
  graph_from_undirected_edges(n, edges, out);
}

void graph_from_undirected_edges(FirmIndex firms, const std::vector<std::pair<FirmIndex, FirmIndex>>& edges,
                                 AllianceGraph& out) {
  if (firms < 0) throw std::invalid_argument("graph_from_undirected_edges: negative firm count");
  require_edge_capacity(static_cast<std::int64_t>(edges.size()));
  for (const auto& [i, j] : edges) {
    if (i < 0 || j < 0 || i >= firms || j >= firms || i == j) {
      throw std::invalid_argument("graph_from_undirected_edges: invalid edge (" + std::to_string(i) + ", " +
                                  std::to_string(j) + ") for " + std::to_string(firms) + " firms");
    }
  }
  const auto n = static_cast<std::size_t>(firms);
  const std::size_t directed = 2 * edges.size();

  out.firms = firms;
  detail::assign_exactly(out.offsets, n + 1, EdgeIndex{0});
  detail::assign_exactly(out.source, directed, FirmIndex{0});
  detail::assign_exactly(out.target, directed, FirmIndex{0});
  detail::assign_exactly(out.reverse, directed, EdgeIndex{0});

  // Directed edge d = 2u is (i -> j) and d = 2u + 1 is (j -> i), for edges[u] =
  // (i, j). Rows sorted by target come from two stable counting sorts (an LSD
  // radix sort): by target, then by source; the second puts d at position[d],
  // so reverse[position[d]] = position[d ^ 1]. No comparisons, and no storage
  // but out's: reverse holds the first sort's order and source the positions
  // until both are rewritten. BM_AllianceGraph on the ring, mostly this
  // function, takes 0.70 of the time it took with a std::sort per row and a
  // binary search per edge (0.89 for a random regular graph, N = 100, k = 4).
  const auto endpoint = [&](std::size_t d, bool far) {
    const auto& [i, j] = edges[d >> 1];
    return ((d & 1) == 0) == far ? j : i;
  };
  // Degrees into offsets[i + 1] and prefix sums: offsets[i] is row i's start.
  for (const auto& [i, j] : edges) {
    ++out.offsets[static_cast<std::size_t>(i) + 1];
    ++out.offsets[static_cast<std::size_t>(j) + 1];
  }
  for (std::size_t i = 0; i < n; ++i) out.offsets[i + 1] += out.offsets[i];
  // A counting pass uses offsets[f] as firm f's write cursor, which then ends
  // at row f + 1's start; shifting back restores the row starts.
  const auto restore_offsets = [&] {
    for (std::size_t i = n; i > 0; --i) out.offsets[i] = out.offsets[i - 1];
    out.offsets[0] = 0;
  };
  std::vector<EdgeIndex>& by_target = out.reverse;
  for (std::size_t d = 0; d < directed; ++d) {
    const auto j = static_cast<std::size_t>(endpoint(d, true));
    by_target[static_cast<std::size_t>(out.offsets[j]++)] = static_cast<EdgeIndex>(d);
  }
  restore_offsets();
  static_assert(sizeof(FirmIndex) == sizeof(EdgeIndex), "source holds edge positions for a while");
  std::vector<FirmIndex>& position = out.source;
  for (std::size_t k = 0; k < directed; ++k) {
    const auto d = static_cast<std::size_t>(by_target[k]);
    const auto i = static_cast<std::size_t>(endpoint(d, false));
    const EdgeIndex p = out.offsets[i]++;
    out.target[static_cast<std::size_t>(p)] = endpoint(d, true);
    position[d] = static_cast<FirmIndex>(p);
  }
  restore_offsets();
  for (std::size_t d = 0; d < directed; ++d) {
    out.reverse[static_cast<std::size_t>(position[d])] = static_cast<EdgeIndex>(position[d ^ 1]);
  }

  for (std::size_t i = 0; i < n; ++i) {
    const auto begin = static_cast<std::size_t>(out.offsets[i]);
    const auto end = static_cast<std::size_t>(out.offsets[i + 1]);
    for (std::size_t e = begin; e < end; ++e) {
      if (e > begin && out.target[e] == out.target[e - 1]) {
        throw std::invalid_argument("graph_from_undirected_edges: duplicate edge at firm " + std::to_string(i));
      }
      out.source[e] = static_cast<FirmIndex>(i);
    }
  }
}

GraphMemory alliance_graph_memory(const GraphParams& params) {
  const auto n = static_cast<double>(params.firms);
  const double k = params.topology == Topology::complete ? n - 1.0 : static_cast<double>(params.partners);
  const double all_pairs = n * (n - 1.0) / 2.0;
  constexpr double edge_bytes = sizeof(Edge);  // one entry of the undirected edge list
  // The set build_sparse_regular picks for a k-regular graph with `edges` alliances.
  const auto regular_set = [&](double degree, double edges) {
    if (edges < 2.0) return 0.0;
    if (use_bit_matrix(n, edges)) return bit_set_bytes(n);
    if (degree <= static_cast<double>(row_set_max_degree)) return row_set_bytes(n, degree);
    return hash_set_bytes(edges);
  };

  double edges = n * k / 2.0;  // undirected, as the generator reserves them
  double build = 0.0;
  switch (params.topology) {
    case Topology::ring:
      edges = n * std::floor(k / 2.0);
      build = edge_bytes * edges;
      break;
    case Topology::regular:
      if (2.0 * k <= n - 1.0) {
        build = edge_bytes * edges + regular_set(k, edges);
      } else {
        // The sparse complement while it is drawn, then while the dense list is made from it.
        const double sparse = n * (n - 1.0 - k) / 2.0;
        const double rows = 4.0 * (n + 1.0) + 3.0 * sizeof(EdgeIndex) * 2.0 * sparse;
        build = std::max(edge_bytes * sparse + regular_set(n - 1.0 - k, sparse),
                         edge_bytes * sparse + rows + edge_bytes * (all_pairs - sparse));
      }
      break;
    case Topology::small_world: {
      edges = n * std::floor(k / 2.0);
      build = edge_bytes * edges;
      if (params.rewire > 0.0) {
        build += (use_bit_matrix(n, edges) ? bit_set_bytes(n) : hash_set_bytes(edges)) + 4.0 * n;
      }
      break;
    }
    case Topology::scale_free: {
      const double m = std::floor(k / 2.0);
      edges = m * (m + 1.0) / 2.0 + m * (n - m - 1.0);
      // The edge list, the endpoint list (two per edge), chosen_by and targets.
      build = edge_bytes * edges + 2.0 * sizeof(FirmIndex) * edges + 4.0 * n + 4.0 * m;
      break;
    }
    case Topology::random:
      if (k >= n - 1.0) {
        edges = all_pairs;
      } else {
        edges = edges + 4.0 * std::sqrt(edges) + 16.0;  // build_random's reserve
      }
      build = edge_bytes * edges;
      break;
    case Topology::complete:
      edges = all_pairs;
      build = edge_bytes * edges;
      break;
  }
  GraphMemory out;
  out.directed_edges = 2.0 * edges;
  // offsets, then source, target and reverse per directed edge.
  out.graph = sizeof(EdgeIndex) * (n + 1.0) + (2.0 * sizeof(FirmIndex) + sizeof(EdgeIndex)) * out.directed_edges;
  out.build = build;
  return out;
}

}  // namespace coopsweep::kernels
