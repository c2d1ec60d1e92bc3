#!/usr/bin/env python3
"""DeepXDE (PyTorch backend) on Tessera's ring-road PINN problem (experiments/pinn_ring.toml).

Reads the truth and the detector samples from a Tessera run of pinn_ring.toml (its run.h5:
/pinn/{x,t,density_true}, /observations/{x,t,density}) so that both codes see the same
data: LWR with Greenshields' flux (v_max = rho_max = 1), eps = 0.005, ring of length 1,
t in [0, 1]; five detectors, the initial density at 200 equally spaced cells (as
make_training_data takes them), u and u_x periodic at 200 times. In Tessera's variables
(x^, t^ in [-1, 1]: v' = 1, eps' = 2 eps); the same 8 x 20 tanh network, 10,000 Sobol
collocation points, all weights 1, Adam lr 1e-3 then L-BFGS, float32.

Set-up: see lwr_ngsim_deepxde.py. Run:
  build/bin/tessera run experiments/pinn_ring.toml --out results/pinn_ring
  OMP_NUM_THREADS=1 analysis/peers/deepxde/venv/bin/python \\
      analysis/peers/deepxde/lwr_ring_deepxde.py results/pinn_ring/run.h5 [--adam 2000] [--lbfgs 4000]
Prints the relative L2 over the space-time grid and the time per Adam step.
"""
import argparse
import os
import time

os.environ.setdefault("DDE_BACKEND", "pytorch")

import deepxde as dde  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_h5", help="run.h5 of a Tessera pinn_ring run")
    parser.add_argument("--adam", type=int, default=2000)
    parser.add_argument("--lbfgs", type=int, default=4000)
    parser.add_argument("--points", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    dde.config.set_random_seed(args.seed)

    with h5py.File(args.run_h5, "r") as f:
        x, t = f["/pinn/x"][...], f["/pinn/t"][...]
        truth = f["/pinn/density_true"][...]  # time x position
        obs = np.stack([f["/observations/x"][...], f["/observations/t"][...]], axis=1)
        obs_rho = f["/observations/density"][...]
    eps_hat = 2 * 0.005  # 2 eps T / L^2 with T = L = 1
    to_hat = lambda v: 2 * v - 1  # noqa: E731

    def pde(inputs, u):
        u_x = dde.grad.jacobian(u, inputs, i=0, j=0)
        u_t = dde.grad.jacobian(u, inputs, i=0, j=1)
        u_xx = dde.grad.hessian(u, inputs, i=0, j=0)
        return u_t + (1 - 2 * u) * u_x - eps_hat * u_xx

    nx = len(x)
    initial_cells = [int((k + 0.5) * nx / 200) for k in range(200)]
    initial_points = np.stack([to_hat(x[initial_cells]), -np.ones(200)], axis=1)
    times = -1 + 2 * (np.arange(200) + 0.5) / 200
    geometry = dde.geometry.Rectangle([-1, -1], [1, 1])
    on_ends = lambda z, on_boundary: on_boundary and np.isclose(abs(z[0]), 1.0)  # noqa: E731
    conditions = [
        dde.icbc.PointSetBC(to_hat(obs), (obs_rho).reshape(-1, 1)),
        dde.icbc.PointSetBC(initial_points, truth[0, initial_cells].reshape(-1, 1)),
        dde.icbc.PeriodicBC(geometry, 0, on_ends, derivative_order=0),
        dde.icbc.PeriodicBC(geometry, 0, on_ends, derivative_order=1),
    ]
    ends = np.concatenate([np.stack([-np.ones(200), times], 1), np.stack([np.ones(200), times], 1)])
    data = dde.data.PDE(geometry, pde, conditions, num_domain=args.points, num_boundary=0,
                        anchors=ends, train_distribution="Sobol")
    net = dde.nn.FNN([2] + [20] * 8 + [1], "tanh", "Glorot normal")
    model = dde.Model(data, net)
    model.compile("adam", lr=1e-3)
    start = time.perf_counter()
    model.train(iterations=args.adam, display_every=max(1, args.adam))
    adam_seconds = time.perf_counter() - start
    if args.lbfgs > 0:
        dde.optimizers.config.set_LBFGS_options(maxiter=args.lbfgs, maxfun=args.lbfgs)
        model.compile("L-BFGS")
        model.train(display_every=max(1, args.lbfgs))
    seconds = time.perf_counter() - start
    X, T = np.meshgrid(to_hat(x), to_hat(t))  # time x position
    predicted = model.predict(np.stack([X.ravel(), T.ravel()], 1)).reshape(truth.shape)
    error = np.sqrt(((predicted - truth) ** 2).sum() / (truth**2).sum())
    print(f"DeepXDE {dde.__version__} (torch {torch.__version__}), seed {args.seed}: relative L2 "
          f"{error:.3e}; {1e3 * adam_seconds / max(1, args.adam):.1f} ms per Adam step, "
          f"{seconds:.0f} s in all")


if __name__ == "__main__":
    main()
