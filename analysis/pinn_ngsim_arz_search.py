#!/usr/bin/python3
"""NGSIM US-80: the ARZ PINN of experiments/pinn_ngsim.toml, its size, budget and weights
chosen on the validation rows, then scored over seeds beside the classical estimators.

  analysis/pinn_ngsim_arz_search.py BIN OUT [--search-seeds 2] [--seeds 5] [--quick]

pinn_ngsim_study.py chose the network, the residual weight and the physics (ARZ, 5 s
relaxation) with everything else fixed. This study varies the rest one setting at a time
around the experiment file as it stands (width, depth, Adam steps, collocation points,
learning rate, the residual and speed weights), each with --search-seeds seeds, and
chooses by the mean relative L2 on the validation rows (x = 310 and 1110 ft, neither
trained on nor scored); the held-out rows are not looked at to choose. Then the file's
settings and the chosen variant run with --seeds seeds (the search's runs reused), with
the paired difference of the held-out error (mean and 95 % t interval).

Every run also scores the classical estimators on the same rows (mean, interpolation,
adaptive smoothing, LWR); they do not depend on the seed. Writes OUT/arz_search.json and
OUT/arz_search.md and keeps each run's directory (a run already there is reused).
About 30-60 s a run on one core.
"""
import argparse
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pinn_ngsim_study import mean_and_interval, run, seed_summary  # noqa: E402

# One setting changed at a time from experiments/pinn_ngsim.toml ("file": none changed).
VARIANTS = {
    "file": {},
    "width32": {"model.width": 32},
    "layers6": {"model.hidden_layers": 6},
    "adam4000": {"train.adam_steps": 4000},
    "points10000": {"collocation.points": 10000},
    "lr1e-3": {"train.lr": 1e-3},
    "residual0.25": {"loss.residual_weight": 0.25},
    "residual1.5": {"loss.residual_weight": 1.5},
    "speed0.5": {"loss.speed_weight": 0.5},
    "speed2": {"loss.speed_weight": 2.0},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("out")
    parser.add_argument("--search-seeds", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="tiny budgets, to test the script")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    base = {}
    if args.quick:
        base = {"train.adam_steps": 20, "train.lbfgs_evaluations": 5,
                "collocation.points": 256, "train.log_every": 10}

    def settings(variant, seed):
        # The quick budget yields to a variant's own setting of the same key.
        return dict(base, **VARIANTS[variant], **{"run.seed": seed})

    def run_all(jobs):
        with ThreadPoolExecutor(args.jobs) as pool:
            return list(pool.map(lambda job: run(args.binary, args.out, *job), jobs))

    # Stage 1: every variant with the search seeds, scored on the validation rows only.
    search_jobs = [(f"{v}_seed{s}", settings(v, s))
                   for v in VARIANTS for s in range(1, args.search_seeds + 1)]
    searched = run_all(search_jobs)
    validation = {v: mean_and_interval([r["relative_l2_validation"] for r in searched
                                        if r["name"].rsplit("_seed", 1)[0] == v])[0]
                  for v in VARIANTS}
    chosen = min(validation, key=validation.get)
    print(f"chosen on the validation rows: {chosen} ({validation[chosen]:.4f}; "
          f"the file's settings {validation['file']:.4f})", flush=True)

    # Stage 2: the file's settings and the chosen variant over all seeds.
    finalists = ["file"] + ([chosen] if chosen != "file" else [])
    runs = run_all([(f"{v}_seed{s}", settings(v, s))
                    for v in finalists for s in range(1, args.seeds + 1)])
    by_variant = {v: [r for r in runs if r["name"].rsplit("_seed", 1)[0] == v] for v in finalists}
    reference = [r["relative_l2"] for r in by_variant["file"]]
    baselines = runs[0]["baselines"]
    best_baseline = min(baselines.items(), key=lambda kv: kv[1]["relative_l2"])
    summary = {"variants": VARIANTS, "search": searched, "validation_means": validation,
               "chosen": chosen, "baselines": baselines, "final": {}}
    for v, rs in by_variant.items():
        summary["final"][v] = seed_summary(rs, reference)
        summary["final"][v]["ratio_to_best_baseline"] = (summary["final"][v]["mean"] /
                                                         best_baseline[1]["relative_l2"])
    with open(os.path.join(args.out, "arz_search.json"), "w") as f:
        json.dump(summary, f, indent=1)

    lines = [f"Search (seeds 1-{args.search_seeds}, mean relative L2 on the validation rows; "
             "held-out mean beside it, not used to choose):", "",
             "| variant | settings | validation rows | held-out rows | s per run |",
             "|---|---|---|---|---|"]
    for v in VARIANTS:
        rs = [r for r in searched if r["name"].rsplit("_seed", 1)[0] == v]
        held = mean_and_interval([r["relative_l2"] for r in rs])[0]
        secs = sum(r["seconds"] for r in rs) / len(rs)
        mark = " (chosen)" if v == chosen else ""
        lines.append(f"| {v}{mark} | {VARIANTS[v] or 'the file'} | {validation[v]:.4f} | "
                     f"{held:.4f} | {secs:.0f} |")
    lines += ["", f"Seeds 1-{args.seeds}, held-out rows:", "",
              "| estimator | held-out relative L2 (mean ± sd) | validation rows | paired "
              "difference to the file's (95 % CI) | ratio to the best baseline | s per run |",
              "|---|---|---|---|---|---|"]
    for name, b in sorted(baselines.items(), key=lambda kv: kv[1]["relative_l2"]):
        lines.append(f"| baseline: {name} | {b['relative_l2']:.4f} | "
                     f"{b['relative_l2_validation']:.4f} | | "
                     f"{b['relative_l2'] / best_baseline[1]['relative_l2']:.3f} | |")
    for v, s in summary["final"].items():
        pd = s["paired_difference"]
        paired = "" if v == "file" else f"{pd['mean']:+.4f} ± {pd['ci95']:.4f}"
        val = mean_and_interval(s["validation"])[0]
        lines.append(f"| PINN {v} | {s['mean']:.4f} ± {s['sd']:.4f} | {val:.4f} | {paired} | "
                     f"{s['ratio_to_best_baseline']:.3f} | {s['seconds']:.0f} |")
    lines += ["", f"Best baseline: {best_baseline[0]} ({best_baseline[1]['relative_l2']:.4f}); "
              "the issue's target is a ratio of at most 0.8."]
    with open(os.path.join(args.out, "arz_search.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
