#pragma once
// Benchmark of a whole traffic-PINN training step (models/pinn_traffic::PinnTask) on the
// ring-road setting of experiments/pinn_ring.toml: the residual on collocation points
// (jets and their reverse sweep), the detector misfit, the initial misfit, the periodic
// boundary term (values and slopes at both ends) and an Adam step. The PyTorch side is
// analysis/reference/bench_pinn_training_torch.py (autograd.grad with create_graph for
// u_x, u_t, u_xx and for the boundary slopes, then backward and torch.optim.Adam) on the
// same network, point counts and thread count.
#include <vector>

#include "experiments/bench/bench.hpp"

namespace tessera::bench {

// Rows, for an 8 x 20 tanh network in float on 10,000 Sobol collocation points (500 when
// options.quick), 505 detector samples (5 detectors x 101 times), 200 initial samples and
// 200 periodic boundary pairs, one process (MPI_COMM_SELF):
//   "pinn_train_step"      PinnTask::adam_step (loss terms, gradient, Adam update);
//   "pinn_train_gradient"  PinnTask::gradient (what one L-BFGS closure evaluation costs).
// more: steps_per_second, collocation_points, observation_points. gflops is nominal, the
// same count as the PyTorch script: 3 x 2 x (4 jet points + value points) x sum(in x out).
std::vector<BenchRow> bench_pinn_training(const BenchOptions& options);

}  // namespace tessera::bench
