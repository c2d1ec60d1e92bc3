#pragma once
// Benchmark of one PINN training step on the LWR equation with JetMlp (Taylor-mode jets
// and their hand-written reverse sweep): forward jets (u, u_x, u_t, u_xx), the viscous
// residual loss, backward to the parameter gradient. The PyTorch side is
// analysis/reference/bench_pinn_torch.py (nested autograd.grad with create_graph, then
// loss.backward()) on the same network and point count.
#include <vector>

#include "experiments/bench/bench.hpp"

namespace tessera::bench {

// Rows, all for an 8 x 20 tanh network (sizes {2, 20 x 8, 1}) on 10,000 collocation
// points (500 when options.quick), float:
//   "pinn_step"         zero_grad + forward + residual loss + backward; extra = fraction
//                       of the step spent in the gemms (the "pinn_gemms" time / step time);
//   "pinn_jet_forward"  forward jets alone;
//   "pinn_backward"     reverse sweep alone;
//   "pinn_gemms"        the step's gemm calls alone, on the same shapes.
// gflops is nominal for all rows and on the PyTorch side: 3 x 2 x 4n x sum(in x out)
// (forward, weight gradient and input gradient on the stacked jet) over the row's time.
std::vector<BenchRow> bench_pinn(const BenchOptions& options);

}  // namespace tessera::bench
