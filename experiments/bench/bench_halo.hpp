#pragma once
// Benchmarks of domain decomposition (issue: meshes, graphs, halos):
//  - halo exchange time and bytes per step against the local compute of a one-hop
//    neighbourhood sum, on the ranks of the communicator, for triangle meshes of 10k to
//    1M nodes (structured triangulations of a rectangle: the partitioner and the
//    exchange see an unstructured CSR graph either way);
//  - partition quality (edge cut, imbalance, halo fraction) of METIS for 2 to 1024
//    parts of a 1M-node mesh, computed on one rank without running that many ranks.
#include <mpi.h>

#include <vector>

#include "experiments/bench/bench.hpp"

namespace tessera::bench {

// Collective over `comm`. Rows "halo_exchange" (seconds = max over ranks of the median
// exchange time; more: bytes_per_step, compute_seconds, ghost_nodes, ratio) and
// "neighbour_sum" (the compute alone).
std::vector<BenchRow> bench_halo_exchange(MPI_Comm comm, const BenchOptions& options);

// Rows "partition_quality" (seconds = METIS time; more: edge_cut, imbalance,
// halo_fraction_1hop, halo_fraction_2hop, max_neighbours), rank 0 only (others return
// an empty list).
std::vector<BenchRow> bench_partition_quality(MPI_Comm comm, const BenchOptions& options);

}  // namespace tessera::bench
