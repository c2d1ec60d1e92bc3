#!/usr/bin/python3
"""Plots of a forecasting run (experiment kind st_forecast).

Usage: /usr/bin/python3 analysis/plot_st_forecast.py RUN_DIR_OR_H5 [--out DIR]
Writes next to run.h5 (or into --out):
  st_forecast_horizons.png  test MAE against the horizon (minutes), every model beside
                            the baselines (persistence, historical average, previous day)
  st_forecast_curves.png    training and validation MAE of each model against the epoch
  st_forecast_table.md      MAE / RMSE / MAPE at 15, 30, 60 minutes and the mean, one row
                            per baseline and model, with parameters and best epoch
and prints the table.
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

BASELINES = ("persistence", "historical_average", "previous_day", "last_similar_day")


def read(path):
    run = {"results": {}, "curves": {}}
    with h5py.File(path, "r") as f:
        if "test" not in f or "horizon_minutes" not in f["test"]:
            sys.exit(f"{path}: no /test/horizon_minutes (not an st_forecast run?)")
        run["minutes"] = np.asarray(f["test/horizon_minutes"])
        for name, group in f["test"].items():
            if not isinstance(group, h5py.Group):
                continue
            run["results"][name] = dict(
                mae=np.asarray(group["mae"]), rmse=np.asarray(group["rmse"]),
                mape=np.asarray(group["mape"]), mae_mean=group["mae"].attrs["mean"],
                rmse_mean=group["rmse"].attrs["mean"], mape_mean=group["mape"].attrs["mean"],
                parameters=f.attrs.get(f"{name}_parameters", np.nan),
                best_epoch=f.attrs.get(f"{name}_best_epoch", np.nan))
            metrics = f.get("metrics")
            if metrics is not None and f"{name}_train_mae" in metrics:
                run["curves"][name] = (np.asarray(metrics[f"{name}_train_mae"]),
                                       np.asarray(metrics[f"{name}_validation_mae"]))
    return run


def table(run):
    minutes = run["minutes"]
    picks = [k for k, m in enumerate(minutes) if m in (15, 30, 60)] or [len(minutes) - 1]
    head = " | ".join(f"{int(minutes[k])} min MAE / RMSE / MAPE" for k in picks)
    lines = [f"| forecast | {head} | mean MAE / RMSE / MAPE | parameters | best epoch |",
             "|---" * (len(picks) + 4) + "|"]
    order = [n for n in BASELINES if n in run["results"]] + \
        [n for n in run["results"] if n not in BASELINES]
    for name in order:
        r = run["results"][name]
        cells = " | ".join(f"{r['mae'][k]:.3f} / {r['rmse'][k]:.3f} / {r['mape'][k]:.2f}%" for k in picks)
        label = f"{name} (baseline)" if name in BASELINES else name
        learned = name not in BASELINES
        lines.append(f"| {label} | {cells} | {r['mae_mean']:.3f} / {r['rmse_mean']:.3f} / "
                     f"{r['mape_mean']:.2f}% | {int(r['parameters']) if learned else '-'} | "
                     f"{int(r['best_epoch']) if learned else '-'} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--out")
    args = parser.parse_args()
    path = find_run_file(args.run)
    out = args.out or os.path.dirname(path)
    os.makedirs(out, exist_ok=True)
    run = read(path)

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, r in run["results"].items():
        style = "--" if name in BASELINES else "-"
        ax.plot(run["minutes"], r["mae"], style, marker="o", ms=3, label=name)
    ax.set_xlabel("horizon (minutes)")
    ax.set_ylabel("test MAE (data units)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "st_forecast_horizons.png"), dpi=120)

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, (train, validation) in run["curves"].items():
        ax.plot(train[:, 0], train[:, 1], "-", label=f"{name} training")
        ax.plot(validation[:, 0], validation[:, 1], "--", label=f"{name} validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MAE (data units)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "st_forecast_curves.png"), dpi=120)

    text = table(run)
    with open(os.path.join(out, "st_forecast_table.md"), "w") as f:
        f.write(text)
    print(text, end="")


if __name__ == "__main__":
    main()
