#pragma once
// `tessera bench scaling_model`: the inputs of a performance model of strong and weak
// scaling (a latency-bandwidth model, time = alpha + bytes / bandwidth per message, fed
// with the halo volumes and message counts of the flow solver and the mesh transformer).
// The machine's numbers come from the ranks of the run; the decompositions are computed
// on rank 0 for up to 1,024 parts without running that many ranks. Rows:
//
//   pingpong        one per message size (8 B to 2 MiB): blocking MPI_Send/MPI_Recv of
//                   host memory between ranks 0 and 1 (the other ranks wait). seconds =
//                   median over batches of the one-way time (round trip / 2); more:
//                   bytes, one_way_seconds, bandwidth_bytes_per_second (bytes / one-way
//                   time). The latency alpha is the 8 B row, the bandwidth the 2 MiB one.
//                   Needs 2 ranks: no rows on 1.
//   allreduce       MPI_Allreduce (sum) of 1 and of 2 doubles over the whole communicator
//                   (a Krylov dot product; the flow step's checks). seconds = max over
//                   ranks of the median time per call; more: ranks, doubles, seconds.
//   flow_partition  the flow solver's decomposition of a DFG channel mesh into P parts
//                   (flow_vertex_partition and p2_node_owner of solvers/flow/flow_solver.hpp,
//                   the functions the solver itself calls), P = 1, 2, 4, ..., 1024. Per
//                   part: owned P2 nodes, ghosts (nodes of other parts sharing an element
//                   with an owned node: the one-hop halo the solver's HaloPlan receives in
//                   every halo exchange, one value per ghost) and neighbour parts (messages
//                   per exchange); max and mean over parts. seconds = flow_vertex_partition
//                   (vertex graph and METIS); extra = mean ghosts / mean owned. more: parts,
//                   vertices, p2_nodes, max_owned, mean_owned, max_ghosts, mean_ghosts,
//                   max_neighbours, mean_neighbours, edge_cut (of the vertex graph METIS
//                   cuts), p2_coupling_cut, imbalance (max / mean owned P2 nodes),
//                   pressure_* (the same on the P1 vertex graph with the same partition: the
//                   halo of a vertex-only exchange, such as hypre's AMG matrix; the solver's
//                   own Krylov vectors are P2-sized, so its exchanges carry the P2 halo),
//                   mesh_size, cylinder_mesh_size.
//   mesh_partition  the mesh transformer's graph (vertex adjacency of the triangle mesh)
//                   partitioned by METIS (parallel::partition_metis, seed 1) into P parts,
//                   with K-hop halos, K = 1 and 2: one row per (P, K). seconds = METIS time;
//                   extra = mean ghosts / mean owned; more: parts, hops, nodes, max_owned,
//                   mean_owned, max_ghosts, mean_ghosts, max_neighbours, mean_neighbours,
//                   edge_cut, imbalance.
#include <mpi.h>

#include <vector>

#include "experiments/bench/bench.hpp"

namespace tessera::bench {

// Collective (ranks other than 0 and 1 wait at a barrier); rows on rank 0.
std::vector<BenchRow> bench_pingpong(MPI_Comm comm, const BenchOptions& options);
// Collective; rows on rank 0.
std::vector<BenchRow> bench_allreduce(MPI_Comm comm, const BenchOptions& options);
// Rank 0 only (the others return an empty list at once).
std::vector<BenchRow> bench_flow_partition(MPI_Comm comm, const BenchOptions& options);
std::vector<BenchRow> bench_mesh_partition(MPI_Comm comm, const BenchOptions& options);

}  // namespace tessera::bench
