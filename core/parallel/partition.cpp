#include "core/parallel/partition.hpp"

#include <metis.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "core/runtime/error.hpp"

namespace tessera::parallel {

Partition partition_metis(const graph::HostCsr& graph, int parts, int seed,
                          const std::vector<long long>& node_weights) {
  const std::size_t n = graph.num_nodes();
  if (parts < 1 || static_cast<std::size_t>(parts) > std::max<std::size_t>(n, 1)) {
    throw InputError(str("partition: ", parts, " parts for a graph of ", n,
                         " nodes: expected between 1 and the node count"));
  }
  Partition partition;
  partition.parts = parts;
  partition.owner.assign(n, 0);
  if (parts == 1) return partition;

  // METIS wants no self-loops.
  std::vector<idx_t> xadj(n + 1, 0), adjncy;
  adjncy.reserve(graph.num_edges());
  for (std::size_t i = 0; i < n; ++i) {
    for (auto e = graph.row_ptr[i]; e < graph.row_ptr[i + 1]; ++e) {
      if (static_cast<std::size_t>(graph.col_idx[e]) != i) adjncy.push_back(graph.col_idx[e]);
    }
    xadj[i + 1] = static_cast<idx_t>(adjncy.size());
  }
  std::vector<idx_t> vwgt;
  if (!node_weights.empty()) {
    if (node_weights.size() != n) {
      throw std::invalid_argument(
          str("partition_metis: ", node_weights.size(), " node weights for ", n, " nodes"));
    }
    for (const long long w : node_weights) vwgt.push_back(static_cast<idx_t>(std::max(1LL, w)));
  }
  idx_t nvtxs = static_cast<idx_t>(n);
  idx_t ncon = 1;
  idx_t nparts = parts;
  idx_t objval = 0;
  idx_t options[METIS_NOPTIONS];
  METIS_SetDefaultOptions(options);
  options[METIS_OPTION_SEED] = seed;
  options[METIS_OPTION_NUMBERING] = 0;
  std::vector<idx_t> part(n, 0);
  const int status = METIS_PartGraphKway(&nvtxs, &ncon, xadj.data(), adjncy.data(),
                                         vwgt.empty() ? nullptr : vwgt.data(), nullptr, nullptr,
                                         &nparts, nullptr, nullptr, options, &objval, part.data());
  if (status != METIS_OK) {
    throw std::runtime_error(str("METIS_PartGraphKway failed with status ", status, " for ", parts,
                                 " parts of ", n, " nodes"));
  }
  for (std::size_t i = 0; i < n; ++i) partition.owner[i] = static_cast<int>(part[i]);
  return partition;
}

Partition partition_blocks(std::size_t num_nodes, int parts) {
  if (parts < 1 || static_cast<std::size_t>(parts) > std::max<std::size_t>(num_nodes, 1)) {
    throw InputError(str("partition: ", parts, " parts for ", num_nodes, " nodes"));
  }
  Partition partition;
  partition.parts = parts;
  partition.owner.resize(num_nodes);
  const std::size_t base = num_nodes / parts;
  const std::size_t extra = num_nodes % parts;
  std::size_t node = 0;
  for (int p = 0; p < parts; ++p) {
    const std::size_t count = base + (static_cast<std::size_t>(p) < extra ? 1 : 0);
    for (std::size_t k = 0; k < count; ++k) partition.owner[node++] = p;
  }
  return partition;
}

double PartitionStats::halo_fraction() const {
  const double total_owned = std::accumulate(owned.begin(), owned.end(), 0.0);
  const double total_halo = std::accumulate(halo.begin(), halo.end(), 0.0);
  return total_owned > 0 ? total_halo / total_owned : 0.0;
}

PartitionStats partition_stats(const graph::HostCsr& graph, const Partition& partition,
                               int halo_hops) {
  const std::size_t n = graph.num_nodes();
  if (partition.owner.size() != n) {
    throw InputError(str("partition of ", partition.owner.size(), " nodes for a graph of ", n));
  }
  PartitionStats stats;
  stats.parts = partition.parts;
  stats.halo_hops = halo_hops;
  stats.owned.assign(partition.parts, 0);
  stats.halo.assign(partition.parts, 0);
  stats.neighbours.assign(partition.parts, 0);
  for (std::size_t i = 0; i < n; ++i) {
    stats.owned[partition.owner[i]] += 1;
    for (auto e = graph.row_ptr[i]; e < graph.row_ptr[i + 1]; ++e) {
      const std::size_t j = graph.col_idx[e];
      if (i < j && partition.owner[i] != partition.owner[j]) stats.edge_cut += 1;
    }
  }
  const double mean = static_cast<double>(n) / partition.parts;
  stats.imbalance =
      mean > 0
          ? static_cast<double>(*std::max_element(stats.owned.begin(), stats.owned.end())) / mean
          : 1.0;

  // Ghosts of part p: nodes of other parts within halo_hops of a node of p. A path from
  // a node of p to a ghost leaves p through a boundary node of p, so searches from the
  // boundary nodes reach every ghost.
  std::vector<int> distance(n, -1);
  std::vector<std::set<int>> neighbour_parts(partition.parts);
  std::vector<std::vector<graph::Index>> members(partition.parts);
  for (std::size_t i = 0; i < n; ++i)
    members[partition.owner[i]].push_back(static_cast<graph::Index>(i));
  std::vector<int> in_halo(n, -1);
  for (int p = 0; p < partition.parts; ++p) {
    long long count = 0;
    for (auto i : members[p]) {
      bool boundary = false;
      for (auto e = graph.row_ptr[i]; e < graph.row_ptr[i + 1] && !boundary; ++e) {
        boundary = partition.owner[graph.col_idx[e]] != p;
      }
      if (!boundary) continue;
      const auto visited = graph::bounded_bfs(graph, i, halo_hops, distance);
      for (auto v : visited) {
        distance[v] = -1;
        if (partition.owner[v] != p && in_halo[v] != p) {
          in_halo[v] = p;
          count += 1;
          neighbour_parts[p].insert(partition.owner[v]);
        }
      }
    }
    stats.halo[p] = count;
    stats.neighbours[p] = static_cast<long long>(neighbour_parts[p].size());
  }
  return stats;
}

}  // namespace tessera::parallel
