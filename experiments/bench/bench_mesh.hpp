#pragma once
// Benchmark of the mesh models' training step (models/mesh_transformer): forward,
// backward of L = sum(y * dy) and an AdamW step, float, for the mesh transformer at
// (d, L) = (64, 5) and (128, 15) and MeshGraphNet at 128 x 15, on grid triangle meshes of
// about 1.9k, 14k and 54k nodes (the sizes of CylinderFlow's mesh and of two channel
// meshes; a grid has the same degree, about 6, and Python can rebuild it). The PyTorch
// side is analysis/reference/bench_mesh_torch.py (the reference models of
// analysis/reference/reference_mesh_transformer.py on the same graphs).
#include <vector>

#include "experiments/bench/bench.hpp"

namespace tessera::bench {

// Rows "mesh_transformer_step" and "meshgraphnet_step"; shape "nodes=N edges=E model=..."
// ; `extra` = parameters; GFLOP/s from the nominal count (6 x rows x sum(in x out) over
// the dense layers, node rows for node layers and edge rows for edge layers, plus 12 E d
// per attention layer). The large cases repeat fewer times (seconds per step). Quick:
// a 10 x 8 grid and small models.
std::vector<BenchRow> bench_mesh(const BenchOptions& options);

}  // namespace tessera::bench
