#pragma once
// Benchmark of the dense layers (core/nn), float: Linear and a 3-layer GELU MLP forward +
// backward next to the bare sgemm calls of the same shapes, and dense multi-head
// attention and the pre-norm transformer block on a traffic-sized sensor graph (228
// nodes x 12 steps, hidden 64, 4 heads) in its temporal (batch 228, length 12) and
// spatial (batch 12, length 228) arrangements. The PyTorch side is
// analysis/reference/bench_dense_torch.py (torch.nn.Linear / Sequential, explicit
// attention, autograd backward) on the same shapes.
#include <vector>

#include "experiments/bench/bench.hpp"

namespace tessera::bench {

// Rows (options.quick: 256 rows, hidden 64 and 128; attention on 8 nodes x 6 steps):
//   "sgemm"              the gemm calls of the next row alone (KokkosBlas -> OpenBLAS),
//                        shape "linear ..." or "mlp3 ..."; extra = 1;
//   "linear_fwd_bwd"     Linear(h, h) forward + backward on 4096 rows (3 gemms:
//                        x W^T, dy^T x, dy W); extra = fraction of the sgemm GFLOP/s;
//   "mlp3_fwd_bwd"       Mlp {h, h, h, h} with GELU (erf), forward + backward without the
//                        input gradient of the first layer (8 gemms); extra as above;
//   "attention_fwd_bwd"  MultiHeadAttention self-attention forward + backward_self;
//   "transformer_block_fwd_bwd"  TransformerBlock (mlp hidden 4 x 64) forward + backward;
//                        for both: extra = fraction of the time in gemm calls (projections
//                        and batched score/context products timed alone on the same
//                        shapes), `more` lists those parts.
// gflops: 2 m n k per gemm over the row's time; attention counts 24 N D^2 for the four
// projections (forward, weight and input gradient) and 12 B L^2 D for scores and context
// (forward and backward); the block adds 48 N D^2 for its MLP.
std::vector<BenchRow> bench_dense(const BenchOptions& options);

}  // namespace tessera::bench
