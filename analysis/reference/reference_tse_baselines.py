#!/usr/bin/python3
"""Reference values for the classical traffic-state estimators of
models/pinn_traffic/baselines.cpp, written independently in numpy.

Writes tests/reference/tse_baselines.h5 (run with Debian's /usr/bin/python3):

  /synthetic/x, /synthetic/t          grid positions and times of a small open road
  /synthetic/density                  its true density (time x position)
  /synthetic/detectors                detector positions (grid cells 1, 7, 13, 19)
  /synthetic/speed                    speeds the detectors record (time x detector)
  /synthetic/<estimator>              the estimate (time x position) of
                                      interpolation, adaptive_smoothing, lwr
  attributes of /synthetic: the Greenshields fit (v_max, rho_max) and the ASM parameters
  /ngsim (attributes only, when ../shared/data is present): the held-out relative L2 of
      each estimator on NGSIM US-80 with detector rows 0, 20, 40, 60, 80

The LWR estimator is Godunov's scheme with Greenshields' flux, explicit viscosity and
CFL 0.9 (the defaults of solvers/lwr), detector cells as ghost cells.
"""
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUTPUT = os.path.join(HERE, "..", "..", "tests", "reference", "tse_baselines.h5")
DATA = os.environ.get("TESSERA_DATA", os.path.join(HERE, "..", "..", "..", "shared", "data"))


def fit_greenshields(rho, v):
    b, a = np.polyfit(rho, v, 1)
    return a, -a / b


def interpolation(x, t, det_x, det_t, det_rho):
    """det_rho: time x detector at det_t; linear in time then in space, constant outside."""
    out = np.zeros((len(t), len(x)))
    for j, tj in enumerate(t):
        values = np.array([np.interp(tj, det_t, det_rho[:, d]) for d in range(len(det_x))])
        out[j] = np.interp(x, det_x, values)
    return out


def adaptive_smoothing(x, t, det_x, det_t, det_rho, det_v, c_free, c_cong, sigma, tau, v_c, dv):
    X, T = np.meshgrid(x, t)  # time x position
    fields = {}
    for name, c in (("free", c_free), ("cong", c_cong)):
        w_sum = np.zeros_like(X)
        rho_sum = np.zeros_like(X)
        v_sum = np.zeros_like(X)
        for d, xd in enumerate(det_x):
            for k, tk in enumerate(det_t):
                dx = X - xd
                phi = np.exp(-np.abs(dx) / sigma - np.abs(T - tk - dx / c) / tau)
                w_sum += phi
                rho_sum += phi * det_rho[k, d]
                v_sum += phi * det_v[k, d]
        fields[name] = (rho_sum / w_sum, v_sum / w_sum)
    v_star = np.minimum(fields["free"][1], fields["cong"][1])
    w = 0.5 * (1 + np.tanh((v_c - v_star) / dv))
    return w * fields["cong"][0] + (1 - w) * fields["free"][0]


def lwr(x, t, det_cells, det_t, det_rho, v_max, rho_max, eps, cfl=0.9):
    """Cells strictly between the outermost detector cells; detector densities are ghosts."""
    dx = x[1] - x[0]
    first, last = det_cells[0] + 1, det_cells[-1] - 1
    det_x = x[det_cells]
    up = lambda s: np.clip(np.interp(s, det_t, det_rho[:, 0]), 0, rho_max)
    down = lambda s: np.clip(np.interp(s, det_t, det_rho[:, -1]), 0, rho_max)
    f = lambda r: v_max * r * (1 - r / rho_max)
    rc = rho_max / 2
    demand = lambda r: np.where(r < rc, f(r), f(rc))
    supply = lambda r: np.where(r > rc, f(r), f(rc))
    start = interpolation(x, t[:1], det_x, det_t, det_rho)[0]
    rho = np.clip(start[first:last + 1], 0, rho_max)
    dt_stable = cfl / (v_max / dx + 2 * eps / dx**2)
    out = np.zeros((len(t), len(x)))
    time = t[0]
    for j, tj in enumerate(t):
        while time < tj * (1 - 1e-14):
            h = min(dt_stable, tj - time)
            ext = np.concatenate([[up(time)], rho, [down(time)]])
            flux = np.minimum(demand(ext[:-1]), supply(ext[1:]))
            diffusion = eps * (ext[2:] - 2 * ext[1:-1] + ext[:-2]) / dx**2
            rho = rho - h / dx * (flux[1:] - flux[:-1]) + h * diffusion
            time += h
        out[j, first:last + 1] = rho
        out[j, :first] = up(tj)
        out[j, last + 1:] = down(tj)
    return out


def relative_l2(prediction, truth, columns):
    e = prediction[:, columns] - truth[:, columns]
    return np.sqrt((e**2).sum() / (truth[:, columns] ** 2).sum())


def asm_defaults(det_x, det_t, v_max):
    c_free = v_max
    return dict(c_free=c_free, c_cong=-0.1875 * c_free, v_c=0.75 * c_free, dv=0.25 * c_free,
                sigma=0.5 * (det_x[-1] - det_x[0]) / (len(det_x) - 1),
                tau=float(np.median(np.diff(det_t))))


def synthetic(h5):
    # A jam wave moving upstream on a free-flowing road, 21 cells of 0.05, 31 times of 0.1.
    x = (np.arange(21) + 0.5) * 0.05
    t = (np.arange(31) + 0.5) * 0.1
    X, T = np.meshgrid(x, t)
    density = 0.25 + 0.35 * np.exp(-((X - 0.7 + 0.2 * T) / 0.15) ** 2) + 0.05 * np.sin(3 * T)
    cells = np.array([1, 7, 13, 19])
    det_rho = density[:, cells]
    v_true, r_true = 1.0, 1.0
    det_v = v_true * (1 - det_rho / r_true) + 0.02 * np.cos(7 * T[:, cells] + X[:, cells])
    v_max, rho_max = fit_greenshields(det_rho.ravel(), det_v.ravel())
    a = asm_defaults(x[cells], t, v_max)
    g = h5.create_group("synthetic")
    g["x"], g["t"], g["density"] = x, t, density
    g["detectors"], g["speed"] = x[cells], det_v
    g.attrs["v_max"], g.attrs["rho_max"] = v_max, rho_max
    for k, v in a.items():
        g.attrs["asm_" + k] = v
    g.attrs["viscosity"] = 0.002
    g["interpolation"] = interpolation(x, t, x[cells], t, det_rho)
    g["adaptive_smoothing"] = adaptive_smoothing(x, t, x[cells], t, det_rho, det_v, a["c_free"],
                                                 a["c_cong"], a["sigma"], a["tau"], a["v_c"],
                                                 a["dv"])
    g["lwr"] = lwr(x, t, cells, t, det_rho, v_max, rho_max, 0.002)


def ngsim(h5):
    density_file = os.path.join(DATA, "traffic", "NGSIM_US80_4pm_Density_Data.txt")
    if not os.path.exists(density_file):
        print("no shared data: /ngsim left out")
        return
    D = np.loadtxt(density_file).T  # time x position
    V = np.loadtxt(os.path.join(DATA, "traffic", "NGSIM_US80_4pm_Velocity_Data.txt")).T
    x = (np.arange(D.shape[1]) + 0.5) * 20.0
    t = (np.arange(D.shape[0]) + 0.5) * 5.0
    cells = np.array([0, 20, 40, 60, 80])
    held = [i for i in range(D.shape[1]) if i not in cells]
    v_max, rho_max = fit_greenshields(D[:, cells].ravel(), V[:, cells].ravel())
    a = asm_defaults(x[cells], t, v_max)
    g = h5.create_group("ngsim")
    g.attrs["v_max"], g.attrs["rho_max"] = v_max, rho_max
    g.attrs["mean"] = relative_l2(np.full_like(D, D[:, cells].mean()), D, held)
    g.attrs["interpolation"] = relative_l2(interpolation(x, t, x[cells], t, D[:, cells]), D, held)
    g.attrs["adaptive_smoothing"] = relative_l2(
        adaptive_smoothing(x, t, x[cells], t, D[:, cells], V[:, cells], a["c_free"], a["c_cong"],
                           a["sigma"], a["tau"], a["v_c"], a["dv"]), D, held)
    g.attrs["lwr"] = relative_l2(lwr(x, t, cells, t, D[:, cells], v_max, rho_max, 20.0), D, held)
    for k in ("mean", "interpolation", "adaptive_smoothing", "lwr"):
        print(f"NGSIM {k}: relative L2 {g.attrs[k]:.6f}")


def main():
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    with h5py.File(OUTPUT, "w") as h5:
        synthetic(h5)
        ngsim(h5)
    print("wrote", os.path.relpath(OUTPUT))


if __name__ == "__main__":
    main()
