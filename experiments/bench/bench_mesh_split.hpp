#pragma once
// Benchmark of one mesh split over the ranks of the communicator (issue 14): a training
// step of the mesh models (forward, backward, gradient sum over ranks, AdamW; float) on
// channel meshes of about 14k, 55k and 230k nodes from the project's Gmsh generator, and
// the share of it spent in the halo exchanges (a gather before every block, a
// scatter-add after every block's backward). Run on 1 and 2 ranks for strong scaling.
//
// Models: 14k nodes: the transformer at (d, L) = (128, 15) over the mesh edges (K = 1) and
// their 2-hop union (K = 2), MeshGraphNet 128 x 15; 55k: the transformer (128, 15) with
// K = 1, and with K = 2 and MeshGraphNet at 5 blocks of 128; 230k: the transformer at
// (64, 3). The activations every block keeps for backward (about 0.4 MB per node at
// (128, 15)) limit the larger meshes on this 23 GB machine.
#include <mpi.h>

#include <vector>

#include "experiments/bench/bench.hpp"

namespace tessera::bench {

// Collective. Rows "mesh_split_step" (seconds: max over ranks of the median step; more:
// ranks, nodes, halo_seconds (max over ranks of the mean exchange time per step, the
// transfer: a timed barrier before each exchange takes the wait for the slowest rank),
// halo_share (halo_seconds / seconds), wait_seconds and wait_share (that barrier), ghosts_per_owned (ghost rows over nodes, all
// ranks), bytes_per_step (sent by all ranks, gathers and scatter-adds), mesh_seconds),
// on rank 0 (the others return nothing). Quick: a tiny channel and small models.
std::vector<BenchRow> bench_mesh_split(MPI_Comm comm, const BenchOptions& options);

// The same rows for the (128, 15) models with their blocks recomputed in backward
// (model.recompute) where keeping the activations does not fit: the 55k mesh (the
// transformer with K = 1 kept and recomputed, K = 2 and MeshGraphNet recomputed) and the
// 213k mesh (the transformer, K = 1). Rows add peak_bytes_per_rank and
// peak_bytes_all_ranks (Linux's VmHWM, reset before each case), as bench_mesh_split's do.
std::vector<BenchRow> bench_mesh_split_large(MPI_Comm comm, const BenchOptions& options);

// Weak scaling: a channel mesh of about 13,600 nodes per rank (the mesh size shrinks as
// 1 / sqrt(ranks)), the transformer and MeshGraphNet at 128 x 15 (MeshGraphNet's blocks
// recomputed: kept, 2 ranks of it do not fit in 23 GB).
std::vector<BenchRow> bench_mesh_split_weak(MPI_Comm comm, const BenchOptions& options);

// The largest mesh: 1.09M nodes (Gmsh takes about 1.5 minutes), a (32, 5) transformer
// with its blocks recomputed.
std::vector<BenchRow> bench_mesh_split_million(MPI_Comm comm, const BenchOptions& options);
// The (128, 15) transformer with and without 4 global attention nodes (their softmax merge
// timed apart) on the 14k and 55k meshes.
std::vector<BenchRow> bench_mesh_split_global(MPI_Comm comm, const BenchOptions& options);

}  // namespace tessera::bench
