#!/usr/bin/python3
"""Plots of an LWR run: the space-time density diagram and the detector series.

Usage: /usr/bin/python3 analysis/plot_lwr.py RUN_DIR_OR_H5 [--out DIR]
Writes spacetime.png and detectors.png (and riemann_error.png for Riemann runs) next
to run.h5 unless --out says otherwise, and prints a short summary.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tessera_results import Run  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_spacetime(run, out_dir):
    x = run.fields["x"]
    t = run.fields["time"]
    rho = run.fields["density"]
    dx = x[1] - x[0] if len(x) > 1 else 1.0
    fig, ax = plt.subplots(figsize=(7, 4.5))
    image = ax.imshow(
        rho.T, origin="lower", aspect="auto", cmap="viridis",
        extent=[t[0], t[-1] if len(t) > 1 else t[0] + 1, x[0] - dx / 2, x[-1] + dx / 2],
        vmin=0.0, vmax=run.config_value("solver.rho_max"),
    )
    positions = run.groups.get("detectors", {}).get("position", [])
    for p in positions:
        ax.axhline(p, color="white", lw=0.6, ls="--")
    ax.set_xlabel("time t")
    ax.set_ylabel("position x")
    ax.set_title(f"LWR density rho(x, t): {run.attributes.get('name', '')}")
    fig.colorbar(image, ax=ax, label="density")
    path = os.path.join(out_dir, "spacetime.png")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_detectors(run, out_dir):
    det = run.groups.get("detectors")
    if det is None or len(det.get("position", [])) == 0:
        return None
    time = det["time"]
    fig, axes = plt.subplots(3, 1, figsize=(7, 7), sharex=True)
    for quantity, ax in zip(("density", "speed", "flow"), axes):
        for i, p in enumerate(det["position"]):
            ax.plot(time, det[quantity][i], label=f"x = {p:g}")
        ax.set_ylabel(quantity)
    axes[0].legend(fontsize="small", ncol=3)
    axes[-1].set_xlabel("time t")
    fig.suptitle("virtual loop detectors")
    path = os.path.join(out_dir, "detectors.png")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_riemann_error(run, out_dir):
    error = run.metrics.get("l1_error_vs_exact_riemann")
    if error is None:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(error[:, 0], error[:, 1], marker="o", ms=3)
    ax.set_xlabel("time t")
    ax.set_ylabel("L1 error vs exact")
    ax.set_title("Godunov vs the exact Riemann solution")
    path = os.path.join(out_dir, "riemann_error.png")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="run directory or its run.h5")
    parser.add_argument("--out", help="folder for the PNG files (default: the run directory)")
    args = parser.parse_args()
    run = Run(args.run)
    if run.attributes.get("experiment") != "lwr":
        sys.exit(f"{run.path}: not an LWR run (experiment = {run.attributes.get('experiment')})")
    out_dir = args.out or run.directory
    os.makedirs(out_dir, exist_ok=True)
    written = [p for p in (plot_spacetime(run, out_dir), plot_detectors(run, out_dir),
                           plot_riemann_error(run, out_dir)) if p]
    mass = run.metrics["mass"]
    drift = abs(mass[-1, 1] - mass[0, 1]) / max(abs(mass[0, 1]), 1e-300)
    print(f"{run.path}: {run.fields['density'].shape[0]} fields of "
          f"{run.fields['density'].shape[1]} cells, t = {run.fields['time'][-1]:g}, "
          f"relative mass change {drift:.2e}")
    for name, t in sorted(run.timings.items()):
        print(f"  time {name}: mean {t[1]:.3g} s (min {t[0]:.3g}, max {t[2]:.3g}) over ranks")
    for path in written:
        print(f"  wrote {path}")


if __name__ == "__main__":
    main()
