#pragma once
// Benchmark of one PINN training step on the viscous LWR equation with JetMlp (Taylor-mode
// jets and their hand-written reverse sweep): forward jets (u, u_x, u_t, u_xx), the
// residual loss mean((u_t + f'(u) u_x - eps u_xx)^2), backward to the parameter gradient.
// The PyTorch side is analysis/reference/bench_pinn_torch.py (nested autograd.grad with
// create_graph, then loss.backward()) on the same network and point count.
#include <vector>

#include "experiments/bench/bench.hpp"

namespace tessera::bench {

// Rows, all for an 8 x 20 tanh network (sizes {2, 20 x 8, 1}) on 10,000 collocation
// points (500 when options.quick), float, eps = 0.005:
//   "pinn_step"            JetMlp::forward_backward with lwr_residual_loss (chunks of
//                          points kept in cache, the training path); extra = share of the
//                          step spent in its gemm calls; more: gemm_seconds,
//                          elementwise_seconds (the rest), chunk_points;
//   "pinn_step_unchunked"  forward + lwr_residual_loss + backward over all points at once;
//   "pinn_jet_forward"     forward (jets of all points) alone.
// gflops is nominal for all rows and on the PyTorch side: 3 x 2 x 4n x sum(in x out)
// (forward, weight gradient and input gradient on the four jet parts) over the row's time.
std::vector<BenchRow> bench_pinn(const BenchOptions& options);

}  // namespace tessera::bench
