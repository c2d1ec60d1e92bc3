#!/usr/bin/python3
"""Reference values for core/nn/jet_mlp.hpp (tests/core/nn/jet/test_jet_torch.cpp).

A PINN MLP u(x, t) in PyTorch with the same weights as the C++ JetMlp: u, u_x, u_t, u_xx
by nested torch.autograd.grad (create_graph=True), the LWR residual loss
mean((u_t + f'(u) u_x - eps u_xx)^2) with Greenshields' flux, a data misfit MSE, and the
parameter gradients of both losses. Everything is computed twice, in float64 (what the
C++ float and double runs are checked against) and in float32 (stored to show how noisy
torch's own float32 nested autograd is).

Writes tests/reference/jet.h5. Run with Debian's python (torch, h5py, numpy):
    /usr/bin/python3 analysis/reference/reference_jet.py
"""
import os

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "reference", "jet.h5")

# name, sizes, activation, v_max, rho_max, viscosity, collocation points, observations
CASES = [
    ("tanh", [2, 10, 10, 10, 1], "tanh", 1.0, 1.0, 0.005, 128, 32),
    ("sine", [2, 8, 8, 1], "sine", 1.5, 2.0, 0.005, 96, 24),
]
MODEL = "pinn"  # the C++ test declares the JetMlp under this name


def make_parameters(sizes, generator):
    """Glorot-normal weights (as JetMlp::init) and small random biases, so that the bias
    path of the forward pass is exercised too. float64, names as the C++ slices."""
    params = {}
    for l in range(len(sizes) - 1):
        fan_in, fan_out = sizes[l], sizes[l + 1]
        std = (2.0 / (fan_in + fan_out)) ** 0.5
        params[f"{MODEL}.linear{l}.weight"] = torch.randn(
            fan_out, fan_in, generator=generator, dtype=torch.float64) * std
        params[f"{MODEL}.linear{l}.bias"] = torch.randn(
            fan_out, generator=generator, dtype=torch.float64) * 0.1
    return params


def mlp(params, sizes, activation, points):
    a = points
    layers = len(sizes) - 1
    for l in range(layers):
        a = a @ params[f"{MODEL}.linear{l}.weight"].T + params[f"{MODEL}.linear{l}.bias"]
        if l + 1 < layers:
            a = torch.tanh(a) if activation == "tanh" else torch.sin(a)
    return a


def evaluate(case, params64, points64, obs64, data64, dtype):
    _, sizes, activation, v_max, rho_max, eps, _, _ = case
    params = {k: v.detach().clone().to(dtype).requires_grad_(True) for k, v in params64.items()}
    names = list(params)
    points = points64.detach().clone().to(dtype).requires_grad_(True)
    u = mlp(params, sizes, activation, points)
    du = torch.autograd.grad(u.sum(), points, create_graph=True)[0]
    u_x, u_t = du[:, 0:1], du[:, 1:2]
    u_xx = torch.autograd.grad(u_x.sum(), points, create_graph=True)[0][:, 0:1]
    speed = v_max * (1.0 - 2.0 * u / rho_max)
    r = u_t + speed * u_x - eps * u_xx
    residual_loss = (r * r).mean()
    residual_grad = torch.autograd.grad(residual_loss, [params[k] for k in names],
                                        retain_graph=True)
    u_obs = mlp(params, sizes, activation, obs64.to(dtype))
    misfit_loss = ((u_obs - data64.to(dtype)) ** 2).mean()
    misfit_grad = torch.autograd.grad(misfit_loss, [params[k] for k in names])
    as64 = lambda t: t.detach().to(torch.float64).numpy()
    return {
        "u": as64(u), "u_x": as64(u_x), "u_t": as64(u_t), "u_xx": as64(u_xx),
        "residual_loss": as64(residual_loss), "misfit_loss": as64(misfit_loss),
        "u_obs": as64(u_obs),
        "residual_grad": {k: as64(g) for k, g in zip(names, residual_grad)},
        "misfit_grad": {k: as64(g) for k, g in zip(names, misfit_grad)},
    }


def relative(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def main():
    torch.manual_seed(20240611)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with h5py.File(OUT, "w") as f:
        f.attrs["script"] = "analysis/reference/reference_jet.py"
        f.attrs["torch_version"] = str(torch.__version__)
        for index, case in enumerate(CASES):
            name, sizes, activation, v_max, rho_max, eps, n, n_obs = case
            generator = torch.Generator().manual_seed(1000 + index)
            params = make_parameters(sizes, generator)
            # x in [0, 1] (road), t in [0, 1] (time), both normalised as in the PINN model.
            points = torch.rand(n, 2, generator=generator, dtype=torch.float64)
            obs = torch.rand(n_obs, 2, generator=generator, dtype=torch.float64)
            data = torch.rand(n_obs, 1, generator=generator, dtype=torch.float64)
            ref64 = evaluate(case, params, points, obs, data, torch.float64)
            ref32 = evaluate(case, params, points, obs, data, torch.float32)

            g = f.create_group(name)
            g["sizes"] = np.array(sizes, dtype=np.int64)  # a dataset: Hdf5Reader reads scalar attributes only
            # Fixed-length ASCII: Hdf5Reader::read_string_attribute does not convert h5py's default
            # variable-length UTF-8 strings.
            g.attrs["activation"] = np.bytes_(activation)
            g.attrs["v_max"] = v_max
            g.attrs["rho_max"] = rho_max
            g.attrs["viscosity"] = eps
            g["points"] = points.numpy()
            g["obs_points"] = obs.numpy()
            g["obs_data"] = data.numpy()
            for k, v in params.items():
                g[f"params/{k}"] = v.numpy()
            for label, ref in (("float64", ref64), ("float32", ref32)):
                for key in ("u", "u_x", "u_t", "u_xx", "u_obs", "residual_loss", "misfit_loss"):
                    g[f"{label}/{key}"] = ref[key]
                for key in ("residual_grad", "misfit_grad"):
                    for k, v in ref[key].items():
                        g[f"{label}/{key}/{k}"] = v
            print(f"{name}: torch float32 vs float64, norm-wise relative error:")
            for key in ("u", "u_x", "u_t", "u_xx", "residual_loss", "misfit_loss"):
                print(f"  {key:14s} {relative(ref32[key], ref64[key]):.2e}")
            for key in ("residual_grad", "misfit_grad"):
                worst = max(relative(ref32[key][k], ref64[key][k]) for k in ref64[key])
                print(f"  {key:14s} {worst:.2e} (worst slice)")
    print(f"wrote {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
