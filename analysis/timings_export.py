#!/usr/bin/python3
"""/timings of run.h5 files as CSV or JSON for other tools (pandas, hatchet, Thicket).

Usage: /usr/bin/python3 analysis/timings_export.py RUN [RUN ...] [--format csv|json] [--out FILE]
RUN is a run folder or its run.h5. CSV: one row per run and region (min, mean and max over
ranks of the region's total seconds, calls). JSON: per run, its metadata (the /config
attributes and the run's own) and its regions as a call tree in hatchet's literal format
(GraphFrame.from_literal: frame, metrics with "time (inc)" and "time", children), nested
by name ("solver.halo_exchange" inside "solver", everything inside "total"). A study made
by cluster/sweep.py gets both files from analysis/scaling.py (collect/timings.*).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scaling import csv_text, hatchet_literal, read_run  # noqa: E402
from tessera_results import find_run_file  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--format", choices=["csv", "json"], default="csv")
    parser.add_argument("--out", default=None, help="default: standard output")
    args = parser.parse_args()
    rows, runs = [], []
    for run in args.runs:
        path = find_run_file(run)
        regions, meta = read_run(path)
        if not regions:
            sys.exit(f"{path}: no /timings group")
        for name in sorted(regions):
            low, mean, high, calls = regions[name]
            rows.append([path, meta.get("experiment", ""), meta.get("ranks", ""), name, calls,
                         repr(low), repr(mean), repr(high)])
        runs.append({"run": path, "metadata": dict(sorted(meta.items())),
                     "graph": hatchet_literal(regions)})
    if args.format == "csv":
        text = csv_text(["run", "experiment", "ranks", "region", "calls", "min_seconds",
                         "mean_seconds", "max_seconds"], rows)
    else:
        text = json.dumps({"runs": runs}, indent=1, sort_keys=True) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
