#!/usr/bin/python3
"""Plots of a traffic-PINN run (experiment kind pinn_traffic).

Usage: /usr/bin/python3 analysis/plot_pinn_traffic.py RUN_DIR_OR_H5 [--out DIR]
Writes next to run.h5 (or into --out):
  pinn_spacetime.png  true and predicted density over space and time, detectors marked
  pinn_error.png      predicted minus true density (held-out cells only for NGSIM runs)
  pinn_losses.png     loss terms and relative L2 error over training (gradient evaluations)
  pinn_transfers.png  MTO runs: each task's validation objective and the transfers
  pinn_estimators.png runs with /baselines: measured density beside the PINN's and each
                      classical estimator's, with their held-out relative L2
  pinn_error_by_row.png  runs with /baselines: relative L2 error of each row (position)
                      for the PINN and each estimator, detector and validation rows marked
and prints a one-line summary.
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


def attribute(run, name, default=None):
    """A root attribute of run.h5 (the run kind writes them at the end)."""
    import h5py

    with h5py.File(run.path, "r") as f:
        value = f.attrs.get(name, default)
    return value.decode() if isinstance(value, bytes) else value


def extent(x, t):
    dx = x[1] - x[0] if len(x) > 1 else 1.0
    dt = t[1] - t[0] if len(t) > 1 else 1.0
    return [t[0] - dt / 2, t[-1] + dt / 2, x[0] - dx / 2, x[-1] + dx / 2]


def plot_spacetime(run, out_dir):
    p = run.groups["pinn"]
    x, t = p["x"], p["t"]
    truth, pred = p["density_true"], p["density_pred"]
    vmax = max(truth.max(), pred.max())
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, field, title in ((axes[0], truth, "true density"), (axes[1], pred, "PINN prediction")):
        image = ax.imshow(field.T, origin="lower", aspect="auto", cmap="viridis",
                          extent=extent(x, t), vmin=0.0, vmax=vmax)
        for position in run.groups.get("detectors", {}).get("position", []):
            ax.axhline(position, color="white", lw=0.7, ls="--")
        ax.set_xlabel("time t")
        ax.set_title(title)
    axes[0].set_ylabel("position x")
    fig.colorbar(image, ax=axes, label="density")
    fig.suptitle(f"{run.attributes.get('name', '')}: relative L2 "
                 f"{attribute(run, 'relative_l2', float('nan')):.3g} "
                 f"({attribute(run, 'method', '')}); dashed: detectors")
    path = os.path.join(out_dir, "pinn_spacetime.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_error(run, out_dir):
    p = run.groups["pinn"]
    x, t = p["x"], p["t"]
    error = p["density_pred"] - p["density_true"]
    mask = p.get("in_metric", np.ones_like(error)) > 0.5
    shown = np.where(mask, error, np.nan)
    limit = np.nanmax(np.abs(shown)) if np.isfinite(shown).any() else 1.0
    fig, ax = plt.subplots(figsize=(7, 4.5))
    image = ax.imshow(shown.T, origin="lower", aspect="auto", cmap="RdBu_r",
                      extent=extent(x, t), vmin=-limit, vmax=limit)
    for position in run.groups.get("detectors", {}).get("position", []):
        ax.axhline(position, color="black", lw=0.6, ls="--")
    ax.set_xlabel("time t")
    ax.set_ylabel("position x")
    held_out = "" if mask.all() else " (held-out rows; observed rows blank)"
    ax.set_title(f"predicted - true density{held_out}")
    fig.colorbar(image, ax=ax, label="error")
    fig.tight_layout()
    path = os.path.join(out_dir, "pinn_error.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_losses(run, out_dir):
    m = run.metrics
    fig, axes = plt.subplots(2, 1, figsize=(7, 7), sharex=True)
    for name, label in (("loss_total", "total (weighted)"), ("loss_data", "data"),
                        ("loss_residual", "PDE residual"), ("loss_initial", "initial"),
                        ("loss_boundary", "periodic boundary"), ("loss_speed", "speed")):
        series = m.get(name)
        if series is None or len(series) == 0 or not np.any(series[:, 1] > 0):
            continue
        axes[0].semilogy(series[:, 0], series[:, 1], label=label,
                         lw=2 if name == "loss_total" else 1)
    axes[0].set_ylabel("loss")
    axes[0].legend(fontsize="small")
    l2 = m["relative_l2"]
    axes[1].semilogy(l2[:, 0], l2[:, 1], color="black")
    axes[1].set_ylabel("relative L2 error")
    axes[1].set_xlabel("gradient evaluations (all tasks)")
    lbfgs = m.get("phase_lbfgs")
    if lbfgs is not None and np.any(lbfgs[:, 1] > 0):
        start = lbfgs[np.argmax(lbfgs[:, 1] > 0), 0]
        for ax in axes:
            ax.axvline(start, color="grey", ls=":", lw=1)
        axes[0].text(start, axes[0].get_ylim()[1], " L-BFGS", va="top", fontsize="small")
    fig.suptitle(f"training of {run.attributes.get('name', '')}")
    fig.tight_layout()
    path = os.path.join(out_dir, "pinn_losses.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_transfers(run, out_dir):
    m = run.metrics
    tasks = [k[len("mto_validation_"):] for k in sorted(m) if k.startswith("mto_validation_")]
    if not tasks:
        return None
    tasks.sort(key=lambda name: (name != "main", name))
    fig, axes = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    for name in tasks:
        s = m["mto_validation_" + name]
        axes[0].semilogy(s[:, 0], s[:, 1], label=name, lw=2 if name == "main" else 1)
    transfer = m["mto_transfer"]
    main = m["mto_validation_main"]
    for value, marker, label in ((1, "o", "blend kept"), (0, "x", "blend rolled back"),
                                 (2, "s", "other task adopted whole")):
        hit = transfer[:, 1] == value
        if hit.any():
            axes[0].scatter(main[hit, 0], main[hit, 1], marker=marker, color="black", zorder=3,
                            label=label)
    axes[0].set_ylabel("main-task validation objective")
    axes[0].legend(fontsize="small")
    alpha = m["mto_alpha"]
    axes[1].plot(alpha[:, 0], alpha[:, 1], drawstyle="steps-post")
    axes[1].set_ylabel("blending strength alpha\n(1: adopted whole)")
    axes[1].set_xlabel("gradient evaluations (all tasks)")
    adopted = int(attribute(run, "transfers_adopted", 0))
    fig.suptitle(f"multi-task optimisation: blends "
                 f"{int(attribute(run, 'transfers_helped', 0))}/"
                 f"{int(attribute(run, 'transfers_tried', 0))} kept"
                 + (f", {adopted} adoptions" if adopted else ""))
    fig.tight_layout()
    path = os.path.join(out_dir, "pinn_transfers.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def read_baselines(run):
    """{name: (estimate time x position, held-out relative L2)} from /baselines."""
    import h5py

    out = {}
    with h5py.File(run.path, "r") as f:
        if "baselines" not in f:
            return out
        for name in f["baselines"]:
            d = f[f"baselines/{name}/density_pred"]
            out[name] = (d[...], float(d.attrs["relative_l2"]))
    return out


def plot_estimators(run, baselines, out_dir):
    p = run.groups["pinn"]
    x, t = p["x"], p["t"]
    fields = [("measured density", p["density_true"], None),
              ("PINN", p["density_pred"], attribute(run, "relative_l2", float("nan")))]
    fields += [(name, estimate, error) for name, (estimate, error) in sorted(baselines.items(),
                                                                             key=lambda kv: kv[1][1])]
    vmax = p["density_true"].max()
    columns = 3
    rows = (len(fields) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), sharex=True,
                             sharey=True, squeeze=False)
    for ax, (title, field, error) in zip(axes.flat, fields):
        image = ax.imshow(field.T, origin="lower", aspect="auto", cmap="viridis",
                          extent=extent(x, t), vmin=0.0, vmax=vmax)
        for position in run.groups.get("detectors", {}).get("position", []):
            ax.axhline(position, color="white", lw=0.6, ls="--")
        ax.set_title(title if error is None else f"{title}: rel. L2 {error:.3f}", fontsize="small")
    for ax in axes.flat[len(fields):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("time t")
    for ax in axes[:, 0]:
        ax.set_ylabel("position x")
    fig.colorbar(image, ax=axes, label="density")
    fig.suptitle("estimates from the detector rows (dashed); errors on the held-out rows")
    path = os.path.join(out_dir, "pinn_estimators.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_error_by_row(run, baselines, out_dir):
    p = run.groups["pinn"]
    x, truth = p["x"], p["density_true"]

    def by_row(estimate):
        return np.sqrt(((estimate - truth) ** 2).sum(axis=0) / (truth ** 2).sum(axis=0))

    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.plot(x, by_row(p["density_pred"]), color="black", lw=2, label="PINN")
    for name, (estimate, _) in sorted(baselines.items()):
        if name == "lwr" and by_row(estimate).mean() > 3 * by_row(p["density_pred"]).mean():
            label = f"{name} (off the scale: {by_row(estimate).mean():.2f} on average)"
            ax.plot([], [], label=label)
            continue
        ax.plot(x, by_row(estimate), lw=1, label=name)
    detectors = run.groups.get("detectors", {})
    for i, position in enumerate(detectors.get("position", [])):
        ax.axvline(position, color="grey", ls="--", lw=0.8, label="detector rows" if i == 0 else None)
    for i, position in enumerate(detectors.get("validation_position", [])):
        ax.axvline(position, color="tab:red", ls=":", lw=1, label="validation rows" if i == 0 else None)
    ax.set_ylim(0, min(1.0, ax.get_ylim()[1]))
    ax.set_xlabel("position x")
    ax.set_ylabel("relative L2 error of the row")
    ax.legend(fontsize="small")
    fig.tight_layout()
    path = os.path.join(out_dir, "pinn_error_by_row.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="run directory or run.h5 of a pinn_traffic run")
    parser.add_argument("--out", help="folder for the PNG files (default: next to run.h5)")
    args = parser.parse_args()
    run = Run(args.run)
    if "pinn" not in run.groups:
        sys.exit(f"{run.path}: no /pinn group; is this a pinn_traffic run?")
    out_dir = args.out or run.directory
    os.makedirs(out_dir, exist_ok=True)
    written = [plot_spacetime(run, out_dir), plot_error(run, out_dir), plot_losses(run, out_dir),
               plot_transfers(run, out_dir)]
    baselines = read_baselines(run)
    if baselines:
        written += [plot_estimators(run, baselines, out_dir),
                    plot_error_by_row(run, baselines, out_dir)]
    print(f"{run.path}: relative L2 {attribute(run, 'relative_l2', float('nan')):.4g}, "
          f"{int(attribute(run, 'gradient_evaluations', 0))} gradient evaluations, "
          f"{attribute(run, 'method', '?')}")
    for path in written:
        if path:
            print(f"  wrote {path}")


if __name__ == "__main__":
    main()
