#pragma once
// The alliance graph G0 (MODEL.md, "Initialisation", step 1) in compressed
// sparse row form: every undirected alliance {i, j} is two directed edges,
// stored grouped by source firm and sorted by target within a firm.

#include <coopsweep/kernels/model_params.hpp>
#include <coopsweep/kernels/random.hpp>

#include <cstdint>
#include <vector>

namespace coopsweep::kernels {

using FirmIndex = std::int32_t;
using EdgeIndex = std::int32_t;

struct AllianceGraph {
  FirmIndex firms = 0;
  // Edges of firm i are [offsets[i], offsets[i + 1]); size firms + 1.
  std::vector<EdgeIndex> offsets;
  // For directed edge e = (i -> j): source[e] = i, target[e] = j, and
  // reverse[e] is the index of (j -> i).
  std::vector<FirmIndex> source;
  std::vector<FirmIndex> target;
  std::vector<EdgeIndex> reverse;

  EdgeIndex directed_edges() const noexcept { return static_cast<EdgeIndex>(target.size()); }
  FirmIndex degree(FirmIndex i) const noexcept { return offsets[i + 1] - offsets[i]; }
};

struct GraphParams {
  Topology topology = Topology::regular;
  std::int64_t firms = 100;
  std::int64_t partners = 4;  // k; ignored (k = N - 1) for complete
  double rewire = 0.1;        // small_world only
};

// Builds G0 for one replicate from its random stream (purpose Purpose::graph),
// reusing `out`'s storage. The result is simple (no self-loops, no multi-edges).
//   ring:        i ~ i +- 1..k/2 (mod N); k even.
//   regular:     a uniformly drawn simple k-regular graph: 20|E| double-edge swap
//                attempts (a fixed count, so the uniform law is the chain's) from
//                the circulant graph (ring, plus the chords i ~ i + N/2 when k is
//                odd); dense graphs (2k > N - 1) as complements of sparse ones.
//   small_world: Watts-Strogatz from the ring, each (i, i+m) rewired with
//                probability p to (i, j), j uniform among non-neighbours of i.
//   scale_free:  Barabasi-Albert, m = k/2 per new firm, seeded by K_{m+1}.
//   random:      Erdos-Renyi G(N, k / (N - 1)).
//   complete:    all pairs.
// Preconditions (validated by coopsweep::sweep): the MODEL.md topology rules.
// Thread-safe for distinct `out`.
void build_alliance_graph(const GraphParams& params, const ReplicateStream& stream,
                          AllianceGraph& out);

// Heap bytes of building G0 for `params` (valid per the MODEL.md topology rules):
// `graph`, what the finished AllianceGraph holds, and `build`, what
// build_alliance_graph holds besides it at its peak (the edge list, the edge sets
// of the rewiring generators, a dense regular graph's complement). Estimates from
// above, within the allocator's overhead, except that a random graph more than 4
// standard deviations above its mean size may exceed them. Pure arithmetic (in
// double: no overflow for any int64 input); thread-safe.
struct GraphMemory {
  double graph = 0.0;
  double build = 0.0;
  double directed_edges = 0.0;  // the edge count these assume (for random, its mean plus 4 deviations)
};
GraphMemory alliance_graph_memory(const GraphParams& params);

// Builds the CSR form from an undirected edge list (pairs i != j, each once).
// Exposed for tests and for generators; sorts targets within each firm.
void graph_from_undirected_edges(FirmIndex firms, const std::vector<std::pair<FirmIndex, FirmIndex>>& edges,
                                 AllianceGraph& out);

}  // namespace coopsweep::kernels
