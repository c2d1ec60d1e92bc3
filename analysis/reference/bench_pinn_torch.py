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
import json
import os
import sys
import time

import torch

HIDDEN_LAYERS, WIDTH, EPS = 8, 20, 0.005


def nominal_flops(sizes, points):
    # Same nominal count as the C++ rows: 3 x 2 x 4n x sum(in x out).
    return 3 * 2 * 4 * points * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def make_net(sizes):
    layers = []
    for l in range(len(sizes) - 1):
        linear = torch.nn.Linear(sizes[l], sizes[l + 1])
        torch.nn.init.xavier_normal_(linear.weight)
        torch.nn.init.zeros_(linear.bias)
        layers.append(linear)
        if l + 2 < len(sizes):
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def time_median(f, repeats, warmup):
    for _ in range(warmup):
        f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def main():
    quick = "--quick" in sys.argv
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    points = 500 if quick else 10000
    repeats, warmup = (5, 1) if quick else (20, 3)
    sizes = [2] + [WIDTH] * HIDDEN_LAYERS + [1]
    net = make_net(sizes)
    collocation = torch.rand(points, 2)
    shape = f"points={points} layers={HIDDEN_LAYERS}x{WIDTH} tanh eps={EPS}"
    flops = nominal_flops(sizes, points)

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
    rows = [
        {"benchmark": "pinn_step", "shape": shape, "seconds": step_s,
         "gflops": flops / step_s * 1e-9, "extra": 0,
         "note": f"torch {torch.__version__} autograd.grad(create_graph) x2 + backward, "
                 f"{threads} thread(s)"},
        {"benchmark": "pinn_jet_forward", "shape": shape, "seconds": forward_s,
         "gflops": flops / forward_s * 1e-9, "extra": 0,
         "note": "u, u_x, u_t, u_xx by nested autograd.grad (graph kept for backward)"},
    ]
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
