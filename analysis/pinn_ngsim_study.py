#!/usr/bin/python3
"""Traffic state estimation on NGSIM US-80: PINN variants beside the classical estimators.

  analysis/pinn_ngsim_study.py BIN OUT [--seeds 5] [--jobs 2] [--quick]

Runs `BIN run experiments/pinn_ngsim.toml` (five detector rows observed, the rows of
detectors.validation neither trained on nor scored) in two stages:

  1. search: the network (tanh, or sine with wider initial frequencies), the residual
     weight and the speed term / learned diagram, seed 1, scored on the validation rows
     only (the held-out rows are not looked at to choose);
  2. seeds: the chosen standard PINN and its variants (speed term and learned diagram,
     gradient-norm adaptive weights, residual-based refinement, multi-task optimisation,
     the ARZ model with the speeds as data),
     each with --seeds seeds, at equal compute (gradient evaluations), with paired
     differences against the standard PINN (mean and 95 % t interval).

Every run also scores the classical estimators (mean, interpolation, adaptive smoothing,
LWR) on the same rows; they do not depend on the seed. Writes OUT/study.json and
OUT/study.md (the tables of docs/pinn_traffic.md), and keeps each run's directory.
"""
import argparse
import json
import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import h5py

CONFIG = "experiments/pinn_ngsim.toml"
T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def run(binary, out, name, settings):
    directory = os.path.join(out, name)
    result = os.path.join(directory, "run.h5")
    if not os.path.exists(result):
        command = [binary, "run", CONFIG, "--out", directory, "--set", "output.vtk=false"]
        for key, value in settings.items():
            command += ["--set", f"{key}={value}"]
        env = dict(os.environ, TESSERA_PROGRESS="off", OPENBLAS_NUM_THREADS="1")
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{name}: {' '.join(command)} failed:\n{done.stderr[-2000:]}")
    with h5py.File(result, "r") as f:
        a = f["/"].attrs
        record = {
            "name": name,
            "settings": settings,
            "relative_l2": float(a["relative_l2"]),
            "relative_l2_validation": float(a["relative_l2_validation"]),
            "seconds": float(a["training_seconds"]),
            "evaluations": float(a["gradient_evaluations"]),
            "diagram": [float(a["diagram_v_max"]), float(a["diagram_rho_max"])],
            "baselines": {},
        }
        for b in f["/baselines"]:
            attrs = f[f"/baselines/{b}/density_pred"].attrs
            record["baselines"][b] = {
                "relative_l2": float(attrs["relative_l2"]),
                "relative_l2_validation": float(attrs["relative_l2_validation"]),
            }
    print(f"{name}: held-out {record['relative_l2']:.4f}, validation "
          f"{record['relative_l2_validation']:.4f}, {record['seconds']:.0f} s", flush=True)
    return record


def mean_and_interval(values):
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, float("nan"), float("nan")
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = T_975.get(n - 1, 1.96) * sd / math.sqrt(n)
    return mean, sd, half


def seed_summary(runs, reference):
    """One variant's runs over seeds: the held-out errors with their mean, sd and 95 %
    half-width, the validation errors, the paired difference to `reference` (the held-out
    errors of the compared variant, seed by seed) and the seconds per run."""
    held = [r["relative_l2"] for r in runs]
    mean, sd, half = mean_and_interval(held)
    diff = mean_and_interval([a - b for a, b in zip(held, reference)])
    return {"relative_l2": held, "mean": mean, "sd": sd, "ci95": half,
            "validation": [r["relative_l2_validation"] for r in runs],
            "paired_difference": {"mean": diff[0], "ci95": diff[2]},
            "seconds": sum(r["seconds"] for r in runs) / len(runs),
            "evaluations": runs[0]["evaluations"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("out")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="tiny budgets, to test the script")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    # Everything the stages vary is set here, whatever experiments/pinn_ngsim.toml chose.
    budget = {"train.adam_steps": 2000, "train.lbfgs_evaluations": 500,
              "collocation.points": 5000, "train.select": "validation",
              "model.pde": "lwr", "loss.speed_weight": 0.0, "model.learn_diagram": "false",
              "model.activation": "tanh", "model.time_frequency": 1.0,
              "model.space_frequency": 1.0, "model.arz_relaxation_time": 30.0}
    if args.quick:
        budget.update({"train.adam_steps": 20, "train.lbfgs_evaluations": 5,
                       "collocation.points": 256, "train.log_every": 10})
    speed = {"loss.speed_weight": 1.0, "model.learn_diagram": "true"}

    # Stage 1: choose the residual weight and whether to use speeds, on the validation rows.
    # Networks: tanh as initialised by Glorot, and sine activations whose first layer starts
    # with 8 or 16 times the spread in t (2 or 4 in x): the detector series hold
    # stop-and-go waves about a minute apart over 15 minutes.
    networks = {"tanh": {},
                "sine_t8": {"model.activation": "sine", "model.time_frequency": 8,
                            "model.space_frequency": 2},
                "sine_t16": {"model.activation": "sine", "model.time_frequency": 16,
                             "model.space_frequency": 4}}
    search = []
    for network, network_settings in networks.items():
        for weight in (0.625, 2.0):
            for with_speed in (False, True):
                settings = dict(budget, **network_settings, **{"loss.residual_weight": weight})
                if with_speed:
                    settings.update(speed)
                search.append((f"search_{network}_w{weight}_"
                               f"{'speed' if with_speed else 'density'}", settings))
    with ThreadPoolExecutor(args.jobs) as pool:
        searched = list(pool.map(lambda job: run(args.binary, args.out, *job), search))
    best = min(searched, key=lambda r: r["relative_l2_validation"])
    chosen = dict(best["settings"])
    print(f"chosen on the validation rows: {best['name']}", flush=True)

    # Stage 2: variants of the chosen PINN over seeds, at equal compute.
    variants = {
        "chosen": {},
        "adaptive_weights": {"loss.adaptive": "grad_norm"},
        "refinement": {"collocation.refine_every": 250, "collocation.refine_points": 500},
        "mto": {"mto.enabled": "true"},
        # The second-order model: density and speed as outputs, the speeds as data.
        "arz": {"model.pde": "arz", "loss.speed_weight": 1.0, "model.learn_diagram": "false"},
        # Shorter relaxation times (seed 1 on the validation rows: 30 s 0.244, 10 s 0.215,
        # 5 s 0.209, 3 s 0.209, 90 s 0.255).
        "arz_tau10": {"model.pde": "arz", "loss.speed_weight": 1.0, "model.learn_diagram": "false",
                      "model.arz_relaxation_time": 10.0},
        "arz_tau5": {"model.pde": "arz", "loss.speed_weight": 1.0, "model.learn_diagram": "false",
                     "model.arz_relaxation_time": 5.0},
    }
    if "loss.speed_weight" not in chosen:
        variants["speed_learned_diagram"] = speed
    else:
        variants["density_only"] = {"loss.speed_weight": 0.0, "model.learn_diagram": "false"}
    jobs = []
    for variant, extra in variants.items():
        for seed in range(1, args.seeds + 1):
            jobs.append((f"{variant}_seed{seed}", dict(chosen, **extra, **{"run.seed": seed})))
    with ThreadPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(lambda job: run(args.binary, args.out, *job), jobs))

    by_variant = {v: [r for r in runs if r["name"].rsplit("_seed", 1)[0] == v] for v in variants}
    baselines = runs[0]["baselines"]
    summary = {"search": searched, "chosen": best["name"], "runs": runs, "baselines": baselines,
               "variants": {}}
    reference = [r["relative_l2"] for r in by_variant["chosen"]]
    for v, rs in by_variant.items():
        summary["variants"][v] = seed_summary(rs, reference)
    with open(os.path.join(args.out, "study.json"), "w") as f:
        json.dump(summary, f, indent=1)

    best_baseline = min(baselines.items(), key=lambda kv: kv[1]["relative_l2"])
    lines = ["| estimator | held-out relative L2 (mean ± sd over seeds) | validation rows | "
             "paired difference to chosen (95 % CI) | s per run |", "|---|---|---|---|---|"]
    for name, b in sorted(baselines.items(), key=lambda kv: kv[1]["relative_l2"]):
        lines.append(f"| baseline: {name} | {b['relative_l2']:.4f} | "
                     f"{b['relative_l2_validation']:.4f} | | |")
    for v, s in summary["variants"].items():
        val = mean_and_interval(s["validation"])[0]
        pd = s["paired_difference"]
        paired = "" if v == "chosen" else f"{pd['mean']:+.4f} ± {pd['ci95']:.4f}"
        lines.append(f"| PINN {v} | {s['mean']:.4f} ± {s['sd']:.4f} | {val:.4f} | {paired} | "
                     f"{s['seconds']:.0f} |")
    best_pinn = min(summary["variants"].items(), key=lambda kv: kv[1]["mean"])
    ratio = best_pinn[1]["mean"] / best_baseline[1]["relative_l2"]
    lines += ["", f"Chosen on the validation rows: {best['name']} "
              f"(search: " + ", ".join(f"{r['name']} {r['relative_l2_validation']:.4f}"
                                       for r in searched) + ").",
              f"Best PINN ({best_pinn[0]}) against the best baseline ({best_baseline[0]}): "
              f"ratio {ratio:.3f} (target: at most 0.8)."]
    with open(os.path.join(args.out, "study.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
