#!/usr/bin/python3
"""PyTorch side of `bench_pinn` (experiments/bench/bench_pinn.cpp): one PINN training step
on the viscous LWR equation the way PINN codes do it in PyTorch: u = net(x, t), (u_x, u_t)
by torch.autograd.grad(create_graph=True), u_xx by a second grad, the residual loss
mean((u_t + (1 - 2u) u_x - eps u_xx)^2), loss.backward(). Same network (8 hidden tanh
layers of 20, Glorot normal, float32) and point count as the C++ benchmark.

Prints a JSON list of rows {"benchmark", "shape", "seconds", "gflops", "extra", "note"};
threads from OPENBLAS_NUM_THREADS (default 1), as for the C++ side.
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 analysis/reference/bench_pinn_torch.py [--quick]
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import emit, make_net, nominal_flops, row, setup, time_median  # noqa: E402

HIDDEN_LAYERS, WIDTH, EPS = 8, 20, 0.005


def main():
    quick, threads, repeats, warmup = setup()
    torch.manual_seed(1)
    points = 500 if quick else 10000
    sizes = [2] + [WIDTH] * HIDDEN_LAYERS + [1]
    net = make_net(sizes)
    collocation = torch.rand(points, 2)
    shape = f"points={points} layers={HIDDEN_LAYERS}x{WIDTH} tanh eps={EPS}"
    flops = nominal_flops(sizes, 4 * points)  # each point with its jet

    def jets():
        xt = collocation.clone().requires_grad_(True)
        u = net(xt)
        du = torch.autograd.grad(u.sum(), xt, create_graph=True)[0]
        u_x, u_t = du[:, 0:1], du[:, 1:2]
        u_xx = torch.autograd.grad(u_x.sum(), xt, create_graph=True)[0][:, 0:1]
        return u, u_x, u_t, u_xx

    def step():
        net.zero_grad(set_to_none=False)
        u, u_x, u_t, u_xx = jets()
        r = u_t + (1.0 - 2.0 * u) * u_x - EPS * u_xx
        loss = (r * r).mean()
        loss.backward()

    step_s = time_median(step, repeats, warmup)
    forward_s = time_median(jets, repeats, warmup)
    emit([
        row("pinn_step", shape, step_s, flops,
            f"torch {torch.__version__} autograd.grad(create_graph) x2 + backward, "
            f"{threads} thread(s)", extra=0),
        row("pinn_jet_forward", shape, forward_s, flops,
            "u, u_x, u_t, u_xx by nested autograd.grad (graph kept for backward)", extra=0),
    ])


if __name__ == "__main__":
    main()
