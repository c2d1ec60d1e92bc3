#pragma once
// Partitioning the nodes of a graph (a mesh's node adjacency) into P parts with METIS
// (k-way, minimising the edge cut with balanced part sizes), and the quality of a
// partition: edge cut, imbalance, and the halo each part needs for K-hop operators.
#include <cstdint>
#include <vector>

#include "core/graph/neighbourhoods.hpp"

namespace tessera::parallel {

struct Partition {
  int parts = 1;
  std::vector<int> owner;  // part of each node
};

// METIS_PartGraphKway on the symmetric graph (self-loops ignored). Deterministic for a
// given seed. One part: everything in part 0 (METIS is not called). InputError when
// parts < 1 or parts > nodes. `node_weights` (optional, one per node, >= 1) balances the
// parts by weight instead of node count (cells per road link, say).
Partition partition_metis(const graph::HostCsr& graph, int parts, int seed = 1,
                          const std::vector<long long>& node_weights = {});

// Contiguous blocks of node ids (the naive partition, for comparison).
Partition partition_blocks(std::size_t num_nodes, int parts);

struct PartitionStats {
  int parts = 1;
  int halo_hops = 1;
  long long edge_cut = 0;             // undirected edges whose ends lie in different parts
  double imbalance = 1.0;             // largest part / mean part size
  std::vector<long long> owned;       // nodes per part
  std::vector<long long> halo;        // ghost nodes per part (within halo_hops of its nodes)
  std::vector<long long> neighbours;  // parts each part exchanges with
  double halo_fraction() const;       // sum(halo) / sum(owned)
};

PartitionStats partition_stats(const graph::HostCsr& graph, const Partition& partition,
                               int halo_hops);

}  // namespace tessera::parallel
