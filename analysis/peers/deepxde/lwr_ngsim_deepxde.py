#!/usr/bin/env python3
"""DeepXDE (PyTorch backend) on Tessera's NGSIM traffic-state-estimation problem.

The same problem as experiments/pinn_ngsim.toml: US-80 density (81 rows of 20 ft x 180
columns of 5 s), detector rows 0, 20, 40, 60, 80 observed, rows 15 and 55 for validation,
the other 74 scored; Greenshields LWR with v_max = 45 ft/s, rho_max = 0.25 veh/ft,
eps = 20 ft^2/s in Tessera's variables (x^, t^ in [-1, 1], u = rho / rho_max, the residual
divided by v_max T / L); the same 8 x 20 tanh network, 5,000 Sobol collocation points,
Adam (lr 2e-3) then L-BFGS, data weight 1, residual weight --residual-weight.

Set up once (a virtual environment beside this file, never a dependency of the build):
  /usr/bin/python3 -m venv --system-site-packages analysis/peers/deepxde/venv
  analysis/peers/deepxde/venv/bin/pip install deepxde==1.10.1   # 1.10 runs on Debian's torch 1.13
Run:
  OMP_NUM_THREADS=1 analysis/peers/deepxde/venv/bin/python \\
      analysis/peers/deepxde/lwr_ngsim_deepxde.py [--adam 2000] [--lbfgs 500] [--seed 1]
Prints the held-out and validation relative L2 and the time per Adam step.
"""
import argparse
import os
import time

os.environ.setdefault("DDE_BACKEND", "pytorch")

import deepxde as dde  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("TESSERA_DATA", os.path.join(HERE, "..", "..", "..", "..", "shared", "data"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adam", type=int, default=2000)
    parser.add_argument("--lbfgs", type=int, default=500)
    parser.add_argument("--points", type=int, default=5000)
    parser.add_argument("--residual-weight", type=float, default=0.625)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    dde.config.set_random_seed(args.seed)

    density = np.loadtxt(os.path.join(DATA, "traffic", "NGSIM_US80_4pm_Density_Data.txt"))
    rows, cols = density.shape  # space x time
    length, duration = rows * 20.0, cols * 5.0
    x = (np.arange(rows) + 0.5) * 20.0
    t = (np.arange(cols) + 0.5) * 5.0
    v_max, rho_max, eps = 45.0, 0.25, 20.0
    v_hat = v_max * duration / length             # 25
    eps_hat = 2 * eps * duration / length**2
    scale = 1.0 / max(1.0, v_hat)                 # loss.residual_scale = "characteristic"
    x_hat = 2 * x / length - 1
    t_hat = 2 * t / duration - 1

    observed = [0, 20, 40, 60, 80]
    validation = [15, 55]
    scored = [i for i in range(rows) if i not in observed + validation]
    X, T = np.meshgrid(x_hat, t_hat, indexing="ij")  # space x time
    points = np.stack([X[observed].ravel(), T[observed].ravel()], axis=1)
    values = (density[observed] / rho_max).reshape(-1, 1)

    def pde(inputs, u):
        u_x = dde.grad.jacobian(u, inputs, i=0, j=0)
        u_t = dde.grad.jacobian(u, inputs, i=0, j=1)
        u_xx = dde.grad.hessian(u, inputs, i=0, j=0)
        return scale * (u_t + v_hat * (1 - 2 * u) * u_x - eps_hat * u_xx)

    geometry = dde.geometry.Rectangle([-1, -1], [1, 1])
    data_term = dde.icbc.PointSetBC(points, values, component=0)
    data = dde.data.PDE(geometry, pde, [data_term], num_domain=args.points, num_boundary=0,
                        train_distribution="Sobol")
    net = dde.nn.FNN([2] + [20] * 8 + [1], "tanh", "Glorot normal")
    model = dde.Model(data, net)
    model.compile("adam", lr=2e-3, loss_weights=[args.residual_weight, 1.0])
    start = time.perf_counter()
    model.train(iterations=args.adam, display_every=max(1, args.adam))
    adam_seconds = time.perf_counter() - start
    if args.lbfgs > 0:
        dde.optimizers.config.set_LBFGS_options(maxiter=args.lbfgs, maxfun=args.lbfgs)
        model.compile("L-BFGS", loss_weights=[args.residual_weight, 1.0])
        model.train(display_every=max(1, args.lbfgs))
    seconds = time.perf_counter() - start

    grid = np.stack([X.ravel(), T.ravel()], axis=1)
    predicted = model.predict(grid).reshape(rows, cols) * rho_max

    def relative_l2(selected):
        e = predicted[selected] - density[selected]
        return np.sqrt((e**2).sum() / (density[selected] ** 2).sum())

    print(f"DeepXDE {dde.__version__} (torch {torch.__version__}), seed {args.seed}: held-out "
          f"relative L2 {relative_l2(scored):.4f}, validation rows {relative_l2(validation):.4f}; "
          f"{1e3 * adam_seconds / max(1, args.adam):.1f} ms per Adam step, {seconds:.0f} s in all")


if __name__ == "__main__":
    main()
