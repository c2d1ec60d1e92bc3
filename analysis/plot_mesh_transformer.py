#!/usr/bin/python3
"""Plots of a mesh-model run (experiment kind mesh_transformer).

Usage: /usr/bin/python3 analysis/plot_mesh_transformer.py RUN_DIR_OR_H5 [--out DIR]
Writes next to run.h5 (or into --out):
  mesh_rollout_rmse.png  rollout RMSE against the frame, each model beside persistence
                         (mean over test trajectories, the range as a band)
  mesh_losses.png        training loss of each model against the step
  mesh_table.md          RMSE at the horizons, parameters, seconds per training step and
                         nodes per second in rollouts, one row per model and the baseline
and prints the table. For side-by-side fields open rollout_<model>_<k>.pvd in ParaView
(velocity_pred, velocity_true, velocity_error).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tessera_results import find_run_file  # noqa: E402

import h5py  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def read(path):
    run = {"models": {}}
    with h5py.File(path, "r") as f:
        if "rollout" not in f:
            sys.exit(f"{path}: no /rollout group (not a mesh_transformer run?)")
        run["horizons"] = np.asarray(f["rollout/horizons"])
        run["persistence"] = np.asarray(f["rollout/persistence/rmse"])
        run["persistence_h"] = np.asarray(f["rollout/persistence/horizon_rmse"])
        for name, group in f["rollout"].items():
            if name in ("horizons", "persistence") or not isinstance(group, h5py.Group):
                continue
            loss = np.asarray(f["metrics"][f"{name}_loss"]) if f"{name}_loss" in f["metrics"] else None
            run["models"][name] = dict(
                rmse=np.asarray(group["rmse"]), horizon=np.asarray(group["horizon_rmse"]),
                loss=loss,
                parameters=f.attrs.get(f"{name}_parameters", np.nan),
                seconds_per_step=f.attrs.get(f"{name}_train_seconds_per_step", np.nan),
                nodes_per_second=f.attrs.get(f"{name}_nodes_per_second", np.nan))
    return run


def table(run):
    names = ["RMSE-all" if h == 0 else f"RMSE-{int(h)}" for h in run["horizons"]]
    lines = ["| model | " + " | ".join(names) + " | parameters | s / training step | nodes / s |",
             "|---" * (len(names) + 4) + "|"]
    for name, m in run["models"].items():
        lines.append(f"| {name} | " + " | ".join(f"{v:.4g}" for v in m["horizon"]) +
                     f" | {int(m['parameters'])} | {m['seconds_per_step']:.3g} |"
                     f" {m['nodes_per_second']:.3g} |")
    lines.append("| persistence (baseline) | " +
                 " | ".join(f"{v:.4g}" for v in run["persistence_h"]) + " | 0 | - | - |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="run directory or run.h5")
    parser.add_argument("--out", help="folder for the plots (default: the run directory)")
    args = parser.parse_args()
    path = find_run_file(args.run)
    out = args.out or os.path.dirname(os.path.abspath(path))
    os.makedirs(out, exist_ok=True)
    run = read(path)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    frames = np.arange(run["persistence"].shape[1])
    curves = [("persistence (baseline)", run["persistence"], "k")]
    curves += [(name, m["rmse"], None) for name, m in run["models"].items()]
    for label, rmse, colour in curves:
        mean = rmse.mean(axis=0)
        line, = ax.plot(frames[1:], mean[1:], label=label, color=colour)
        if rmse.shape[0] > 1:
            ax.fill_between(frames[1:], rmse.min(axis=0)[1:], rmse.max(axis=0)[1:],
                            color=line.get_color(), alpha=0.15)
    ax.set_xlabel("rollout frame")
    ax.set_ylabel("velocity RMSE")
    ax.set_yscale("log")
    ax.legend()
    ax.set_title("Rollout error on the test trajectories")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "mesh_rollout_rmse.png"), dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, m in run["models"].items():
        if m["loss"] is not None and len(m["loss"]):
            ax.plot(m["loss"][:, 0], m["loss"][:, 1], label=name)
    ax.set_xlabel("training step")
    ax.set_ylabel("loss (normalised velocity change, MSE)")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out, "mesh_losses.png"), dpi=120)
    plt.close(fig)

    text = table(run)
    with open(os.path.join(out, "mesh_table.md"), "w") as f:
        f.write(text)
    print(text, end="")


if __name__ == "__main__":
    main()
