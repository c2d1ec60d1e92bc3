#!/usr/bin/python3
"""The seed study of multi-task optimisation (MTO) against the standard PINN.

Run it (sequentially, one process at a time, niced; minutes per run):
  /usr/bin/python3 analysis/pinn_mto_study.py --run --out results/pinn_mto_study \
      [--seeds 1 2 3 4 5] [--tessera build/bin/tessera] [--set key=value ...]
which runs experiments/pinn_ring.toml (standard) and experiments/pinn_mto_study.toml
(MTO, the same problem and compute) once per seed into OUT/standard/seed-S and
OUT/mto/seed-S, then summarises. Or summarise existing runs:
  /usr/bin/python3 analysis/pinn_mto_study.py --standard DIR... --mto DIR... --out DIR
where each DIR is a run directory or a folder of run directories.

Writes OUT/study.md (table: relative L2 mean, standard deviation, min, max over seeds,
and after the Adam phase; gradient evaluations; seconds), OUT/study.csv (one row per run) and
OUT/mto_vs_standard.png (relative L2 over gradient evaluations: seeds thin, geometric
mean thick, min-max band).
"""
import argparse
import csv
import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tessera_results import Run  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_dirs(paths):
    """Run directories from paths that are run directories or folders of them."""
    found = []
    for path in paths:
        if os.path.isfile(os.path.join(path, "run.h5")) or path.endswith(".h5"):
            found.append(path)
        else:
            found.extend(sorted(os.path.dirname(p) for p in glob.glob(os.path.join(path, "*", "run.h5"))))
    if not found:
        sys.exit(f"no run.h5 under {' '.join(paths)}")
    return found


def load(path):
    import h5py

    run = Run(path)
    with h5py.File(run.path, "r") as f:
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    seed = run.config_value("run.seed")
    curve = run.metrics["relative_l2"]
    adam_rows = run.metrics["phase_lbfgs"][:, 1] < 0.5
    return {
        "path": run.path,
        "seed": int(seed),
        "relative_l2": float(attrs["relative_l2"]),
        "evaluations": int(attrs["gradient_evaluations"]),
        "adam": int(attrs["adam_evaluations"]),
        "lbfgs": int(attrs["lbfgs_evaluations"]),
        "seconds": float(attrs["training_seconds"]),
        # blends kept / tried, then whole adoptions of other_init tasks (when any)
        "transfers": f"{int(attrs.get('transfers_helped', 0))}/{int(attrs.get('transfers_tried', 0))}"
                     + (f" +{int(attrs['transfers_adopted'])}a" if attrs.get("transfers_adopted", 0) else ""),
        "curve": curve,
        "after_adam": float(curve[adam_rows][-1, 1]) if adam_rows.any() else float("nan"),
        "tasks": attrs.get("tasks", ""),
    }


def run_study(args):
    tessera = args.tessera
    if not os.path.exists(tessera):
        sys.exit(f"{tessera}: no tessera binary; build it first (cmake --build build --target tessera)")
    files = {"standard": os.path.join(ROOT, "experiments", "pinn_ring.toml"),
             "mto": os.path.join(ROOT, "experiments", "pinn_mto_study.toml")}
    env = dict(os.environ, OPENBLAS_NUM_THREADS=os.environ.get("OPENBLAS_NUM_THREADS", "1"),
               TESSERA_PROGRESS="off")
    for seed in args.seeds:
        for method, experiment in files.items():
            out = os.path.join(args.out, method, f"seed-{seed}")
            if os.path.exists(os.path.join(out, "run.h5")) and not args.rerun:
                print(f"{out}: done before, kept (--rerun to redo)")
                continue
            command = ["nice", "-n", str(args.nice), tessera, "run", experiment, "--out", out,
                       "--overwrite", "--set", f"run.seed={seed}", "--set", "output.vtk=false"]
            for item in args.set or []:
                command += ["--set", item]
            print(" ".join(command), flush=True)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(out + ".log", "w") as log:
                code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT, env=env)
            if code != 0:
                sys.exit(f"{' '.join(command)} failed with exit code {code}; see {out}.log")
    return ([os.path.join(args.out, "standard")], [os.path.join(args.out, "mto")])


# Two-sided 95 % quantiles of Student's t for 1-30 degrees of freedom.
T_975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def interval_text(logs):
    """95 % t-interval of the geometric-mean ratio from the per-seed log ratios (paired:
    the same seed gives both methods the same initial parameters)."""
    df = len(logs) - 1
    half = (T_975[df - 1] if df <= len(T_975) else 1.96) * logs.std(ddof=1) / np.sqrt(len(logs))
    return f"{np.exp(logs.mean() - half):.3f} - {np.exp(logs.mean() + half):.3f}"


def summarise(groups, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    lines = ["| method | runs | relative L2 mean | std | min | max | after Adam (mean +- std) | "
             "gradient evaluations (Adam + L-BFGS) | seconds (mean) | transfers kept |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    rows = []
    for method, runs in groups.items():
        errors = np.array([r["relative_l2"] for r in runs])
        evaluations = sorted({f"{r['adam']} + {r['lbfgs']}" for r in runs})
        transfers = ", ".join(r["transfers"] for r in runs) if method == "mto" else "-"
        std = errors.std(ddof=1) if len(errors) > 1 else 0.0
        adam = np.array([r["after_adam"] for r in runs])
        adam_std = adam.std(ddof=1) if len(adam) > 1 else 0.0
        lines.append(f"| {method} | {len(runs)} | {errors.mean():.3e} | {std:.2e} | "
                     f"{errors.min():.3e} | {errors.max():.3e} | {adam.mean():.3e} +- "
                     f"{adam_std:.1e} | {'; '.join(evaluations)} | "
                     f"{np.mean([r['seconds'] for r in runs]):.0f} | {transfers} |")
        for r in sorted(runs, key=lambda r: r["seed"]):
            rows.append([method, r["seed"], r["relative_l2"], r["after_adam"], r["adam"], r["lbfgs"],
                         r["evaluations"], r["seconds"], r["transfers"], r["path"]])
    if {"standard", "mto"} <= groups.keys():
        by_seed = {r["seed"]: r for r in groups["standard"]}
        paired = [(by_seed[r["seed"]]["relative_l2"], r["relative_l2"]) for r in groups["mto"]
                  if r["seed"] in by_seed]
        if paired:
            wins = sum(1 for s, m in paired if m < s)
            logs = np.array([np.log(m / s) for s, m in paired])
            ratio = np.exp(logs.mean())
            lines.append("")
            lines.append(f"MTO lower than standard on {wins} of {len(paired)} seeds; geometric "
                         f"mean of MTO / standard relative L2: {ratio:.3f}"
                         + (f" (95 % interval {interval_text(logs)})." if len(logs) > 1 else "."))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out_dir, "study.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out_dir, "study.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["method", "seed", "relative_l2", "relative_l2_after_adam",
                         "adam_evaluations", "lbfgs_evaluations",
                         "gradient_evaluations", "seconds", "transfers_kept", "run"])
        writer.writerows(rows)
    print(text)

    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    colours = {"standard": "tab:blue", "mto": "tab:red"}
    for method, runs in groups.items():
        colour = colours.get(method, "tab:green")
        grid = np.unique(np.concatenate([r["curve"][:, 0] for r in runs]))
        curves = np.array([np.interp(grid, r["curve"][:, 0], r["curve"][:, 1]) for r in runs])
        for r in runs:
            ax.semilogy(r["curve"][:, 0], r["curve"][:, 1], color=colour, lw=0.6, alpha=0.35)
        ax.fill_between(grid, curves.min(axis=0), curves.max(axis=0), color=colour, alpha=0.12)
        ax.semilogy(grid, np.exp(np.log(curves).mean(axis=0)), color=colour, lw=2.2,
                    label=f"{method} ({len(runs)} seeds, geometric mean)")
    ax.set_xlabel("gradient evaluations (all tasks together)")
    ax.set_ylabel("relative L2 error of the density")
    ax.set_title("MTO against the standard PINN at equal compute")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path = os.path.join(out_dir, "mto_vs_standard.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}, {os.path.join(out_dir, 'study.md')}, {os.path.join(out_dir, 'study.csv')}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="run the study first")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--tessera", default=os.path.join(ROOT, "build", "bin", "tessera"))
    parser.add_argument("--nice", type=int, default=10)
    parser.add_argument("--rerun", action="store_true", help="redo runs that already finished")
    parser.add_argument("--set", action="append", help="key=value for both methods")
    parser.add_argument("--standard", nargs="+", help="standard-PINN runs (or folders of runs)")
    parser.add_argument("--mto", nargs="+", help="MTO runs (or folders of runs)")
    parser.add_argument("--out", required=True, help="study folder")
    args = parser.parse_args()
    if args.run:
        args.standard, args.mto = run_study(args)
    if not args.standard and not args.mto:
        sys.exit("nothing to summarise: give --run, or --standard and/or --mto run folders")
    groups = {}
    if args.standard:
        groups["standard"] = [load(p) for p in run_dirs(args.standard)]
    if args.mto:
        groups["mto"] = [load(p) for p in run_dirs(args.mto)]
    summarise(groups, args.out)


if __name__ == "__main__":
    main()
