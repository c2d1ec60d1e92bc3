"""Reads Tessera's timings.json (analysis/scaling.py collect/timings.json, or
analysis/timings_export.py --format json) with LLNL hatchet, the call-tree library under
Thicket, to show that the export is what those tools take. Not part of the build.

Set-up (PyPI, once):
  /usr/bin/python3 -m venv analysis/peers/hatchet/venv
  analysis/peers/hatchet/venv/bin/pip install llnl-hatchet
Usage:
  analysis/peers/hatchet/venv/bin/python analysis/peers/hatchet/check_timings.py TIMINGS.json
Prints each run's tree and checks that the exclusive times hatchet reads add up to the
root's inclusive time (the export's own times are run.h5's means over ranks).
"""
import json
import sys

import hatchet as ht


def main(path):
    runs = json.load(open(path))["runs"]
    for run in runs:
        gf = ht.GraphFrame.from_literal(run["graph"])
        frame = gf.dataframe
        print(f"{run.get('dir', run.get('run'))}: {len(frame)} regions")
        print(gf.tree(metric_column="time (inc)", precision=4))
        # Inclusive = own + children, as hatchet computes it from the exclusive times.
        total = frame["time (inc)"].max()
        if abs(frame["time"].sum() - total) > 1e-9 * max(1.0, total):
            sys.exit(f"{path}: exclusive times sum to {frame['time'].sum()}, root {total}")
    print(f"hatchet read {len(runs)} run(s) from {path}")


if __name__ == "__main__":
    main(sys.argv[1])
