#pragma once
// Benchmark of graph attention over CSR neighbourhoods (the mesh-transformer layer):
// forward + backward of GraphTransformerBlock and of GraphMultiHeadAttention alone on
// a triangle-mesh graph. The PyTorch side is analysis/reference/bench_graph_torch.py
// (index_select / scatter softmax / index_add on the same graph and shapes).
#include <vector>

#include "experiments/bench/bench.hpp"

namespace tessera::bench {

// Rows "graph_block_fwd_bwd" (MLP hidden 256 and 64) and "graph_attention_fwd_bwd" on
// grid_triangle_mesh(50, 40) (2,000 nodes; 10 x 8 when options.quick), model_dim 64,
// 4 heads, float. `extra` is the number of graph edges (self loops included).
std::vector<BenchRow> bench_graph(const BenchOptions& options);

}  // namespace tessera::bench
