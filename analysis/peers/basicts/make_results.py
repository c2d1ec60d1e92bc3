#!/usr/bin/env python3
"""Merges run_peer.py's outputs (work/results_e10.json, work/results_long.json) into
docs/measured/basicts_metr_la_7d_2026-12-06.json. Validation MAE per epoch is taken
from the callback when the run recorded it, else parsed from BasicTS's training log.

  venv/bin/python make_results.py
"""

import glob
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
OUT = os.path.join(ROOT, "docs", "measured", "basicts_metr_la_7d_2026-12-06.json")

RUNS = [  # (label, results file, run_peer.py stdout logs)
    ("10_epochs", "work/results_e10.json", ["work/log_e10.txt"]),
    ("long", "work/results_long.json", ["work/log_long_stid.txt", "work/log_long_stgcn.txt"]),
]


def val_mae_from_logs(logs, model):
    """Validation MAE lines of `model` in run_peer.py's stdout logs: the lines before the
    model's closing "<model>: MAE 15/30/60/mean" line, after the previous model's."""
    for log in logs:
        p = os.path.join(HERE, log)
        if not os.path.exists(p):
            continue
        vals = []
        with open(p) as f:
            for line in f:
                m = re.search(r"Result <val>: .*val/MAE: ([0-9.]+)", line)
                if m:
                    vals.append(float(m.group(1)))
                m = re.match(r"^(\w+): MAE 15/30/60/mean", line)
                if m:
                    if m.group(1) == model:
                        return vals
                    vals = []
    return None


def main():
    merged = {"runs": {}}
    for label, path, logs in RUNS:
        p = os.path.join(HERE, path)
        if not os.path.exists(p):
            continue
        with open(p) as f:
            r = json.load(f)
        for k in ("what", "data", "protocol", "persistence_check_mae", "versions", "tessera_reference"):
            merged.setdefault(k, r.get(k))
        for name, m in r["models"].items():
            if "val_mae_each_epoch" not in m:
                v = val_mae_from_logs(logs, name)
                if v:
                    m["val_mae_each_epoch"] = v
                    m["best_val_epoch"] = v.index(min(v)) + 1
            m.pop("basicts_test_metrics_json", None)  # same numbers as "test" (checked)
        merged["runs"][label] = r["models"]
    merged["notes"] = [
        "test metrics are of the best-validation-MAE checkpoint (BasicTS eval_after_train)",
        "seconds_per_epoch_train: the training loop only (no validation), one CPU thread "
        "(torch.set_num_threads(1), OMP/MKL/OPENBLAS_NUM_THREADS=1), nice 10, on a 2-core "
        "machine shared with other work",
        "STTN: BasicTS has no STTN",
        "BasicTS 1.1.0 skips the last training step of the last epoch (its step loop stops "
        "at global_steps >= num_steps)",
    ]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(merged, f, indent=2)
    print("wrote", OUT)
    for label, models in merged["runs"].items():
        for name, m in models.items():
            t = m["test"]
            print(f"{label:10s} {name:6s} ep {m['epochs']:3d} best {m.get('best_val_epoch')}: "
                  f"MAE {t['mae_15']:.3f} / {t['mae_30']:.3f} / {t['mae_60']:.3f} / {t['mae_mean']:.3f}  "
                  f"RMSE {t['rmse_15']:.3f} / {t['rmse_30']:.3f} / {t['rmse_60']:.3f} / {t['rmse_mean']:.3f}  "
                  f"{m['seconds_per_epoch_train']:.2f} s/epoch  {m['parameters']} params")


if __name__ == "__main__":
    main()
