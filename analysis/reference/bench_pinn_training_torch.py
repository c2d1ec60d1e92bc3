#!/usr/bin/python3
"""PyTorch side of `bench_pinn_training` (experiments/bench/bench_pinn_training.cpp): one
training step of the ring-road traffic PINN the way PINN codes write it in PyTorch, on the
same network (8 hidden tanh layers of 20, Glorot normal, float32), the same points
(10,000 Sobol collocation points, 5 x 101 detector samples, 200 initial samples, 200
periodic boundary pairs) and the same loss:
  residual  mean((u_t + v (1 - 2u) u_x - eps u_xx)^2), u_x, u_t and u_xx by
            torch.autograd.grad(create_graph=True)
  data      mean((u - rho_obs)^2) at the detectors, initial likewise
  boundary  mean((u(-1, t) - u(1, t))^2 + (u_x(-1, t) - u_x(1, t))^2), slopes by autograd
then loss.backward() and torch.optim.Adam.step() (the step row) or no step (the gradient
row, one L-BFGS closure evaluation).

Prints a JSON list of rows {"benchmark", "shape", "seconds", "gflops", "extra", "note"},
the format of analysis/reference/bench_pinn_torch.py; threads from OPENBLAS_NUM_THREADS
(default 1), as for the C++ side.
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 analysis/reference/bench_pinn_training_torch.py [--quick]
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import emit, make_net, nominal_flops, row, setup, time_median  # noqa: E402

HIDDEN_LAYERS, WIDTH = 8, 20
DETECTORS, TIMES, INITIAL, BOUNDARY = 5, 101, 200, 200
V, EPS = 1.0, 2 * 0.005  # residual coefficients in normalised variables (ring of length 1, T = 1)


def bell(x, t):
    return 0.2 + 0.6 * torch.exp(-(((x - 0.5 - 0.3 * t) / 0.1) ** 2))


def main():
    quick, threads, repeats, warmup = setup()
    torch.manual_seed(1)
    points = 500 if quick else 10000
    sizes = [2] + [WIDTH] * HIDDEN_LAYERS + [1]
    net = make_net(sizes)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)

    collocation = torch.quasirandom.SobolEngine(2, scramble=True, seed=1).draw(points) * 2 - 1
    x_det = torch.arange(DETECTORS, dtype=torch.float32).repeat_interleave(TIMES) * 0.2 + 0.1
    t_det = (torch.arange(TIMES, dtype=torch.float32) * 0.01).repeat(DETECTORS)
    observation_points = torch.stack([2 * x_det - 1, 2 * t_det - 1], dim=1)
    observation_values = bell(x_det, t_det).unsqueeze(1)
    x0 = (torch.arange(INITIAL, dtype=torch.float32) + 0.5) / INITIAL
    initial_points = torch.stack([2 * x0 - 1, -torch.ones(INITIAL)], dim=1)
    initial_values = bell(x0, torch.zeros(INITIAL)).unsqueeze(1)
    tb = -1 + 2 * (torch.arange(BOUNDARY, dtype=torch.float32) + 0.5) / BOUNDARY
    boundary_points = torch.cat([torch.stack([-torch.ones(BOUNDARY), tb], dim=1),
                                 torch.stack([torch.ones(BOUNDARY), tb], dim=1)])

    def loss_and_backward():
        optimizer.zero_grad(set_to_none=False)
        xt = collocation.clone().requires_grad_(True)
        u = net(xt)
        du = torch.autograd.grad(u.sum(), xt, create_graph=True)[0]
        u_x, u_t = du[:, 0:1], du[:, 1:2]
        u_xx = torch.autograd.grad(u_x.sum(), xt, create_graph=True)[0][:, 0:1]
        residual = ((u_t + V * (1.0 - 2.0 * u) * u_x - EPS * u_xx) ** 2).mean()
        data = ((net(observation_points) - observation_values) ** 2).mean()
        initial = ((net(initial_points) - initial_values) ** 2).mean()
        xb = boundary_points.clone().requires_grad_(True)
        ub = net(xb)
        ub_x = torch.autograd.grad(ub.sum(), xb, create_graph=True)[0][:, 0:1]
        boundary = ((ub[:BOUNDARY] - ub[BOUNDARY:]) ** 2
                    + (ub_x[:BOUNDARY] - ub_x[BOUNDARY:]) ** 2).mean()
        loss = data + residual + initial + boundary
        loss.backward()
        return loss

    def step():
        loss_and_backward()
        optimizer.step()

    # collocation and boundary points with their jets, observations and initial values without
    flops = nominal_flops(sizes, 4 * (points + 2 * BOUNDARY) + DETECTORS * TIMES + INITIAL)
    shape = (f"collocation={points} observations={DETECTORS * TIMES} initial={INITIAL} "
             f"boundary_pairs={BOUNDARY} layers={HIDDEN_LAYERS}x{WIDTH} tanh float")
    step_s = time_median(step, repeats, warmup)
    gradient_s = time_median(loss_and_backward, repeats, warmup)
    note = f"torch {torch.__version__}, autograd.grad(create_graph), {threads} thread(s)"
    rows = [
        row("pinn_train_step", shape, step_s, flops,
            f"loss terms + backward + Adam step; extra = steps per second; {note}",
            extra=1 / step_s),
        row("pinn_train_gradient", shape, gradient_s, flops,
            f"loss terms + backward (an L-BFGS closure); extra = evaluations per second; {note}",
            extra=1 / gradient_s),
    ]
    assert all(math.isfinite(r["seconds"]) for r in rows)
    emit(rows)


if __name__ == "__main__":
    main()
