#!/usr/bin/python3
"""Table and plot of `tessera bench flow`: time per step, per 1,000 vertices, solver
iterations, and the strong scaling between a 1-rank and a 2-rank (or P-rank) run.

Usage: /usr/bin/python3 analysis/flow_scaling.py BENCH_DIR_1RANK BENCH_DIR_PRANKS [--out DIR]
Prints a Markdown table (speed-up and parallel efficiency against the 1-rank row of the
same mesh and pressure solver) and writes flow_scaling.png.
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_bench_halo import read_rows  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="bench directories (1 rank first)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    rows = [r for run in args.runs for r in read_rows(run) if r["benchmark"] == "flow_step"]
    if not rows:
        sys.exit("no flow_step rows in " + ", ".join(args.runs))
    solver = lambda r: "AMG-CG" if r.get("pressure_amg", 0) else "Jacobi-CG"  # noqa: E731
    key = lambda r: (int(r["vertices"]), solver(r))  # noqa: E731
    serial = {key(r): r for r in rows if int(r["ranks"]) == 1}
    print("| vertices | P2 nodes | pressure solver | ranks | s/step | s/step per 1k vertices "
          "| pressure it./step | momentum it./step | speed-up | efficiency |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (key(r), int(r["ranks"]))):
        base = serial.get(key(r))
        ranks = int(r["ranks"])
        speedup = base["seconds"] / r["seconds"] if base else float("nan")
        print(f"| {int(r['vertices']):,} | {int(r['p2_nodes']):,} | {solver(r)} | {ranks} | "
              f"{r['seconds']:.4g} | {r['extra']:.4f} | {r['pressure_iterations']:.0f} | "
              f"{r['momentum_iterations']:.0f} | {speedup:.2f} | {speedup / ranks:.0%} |")

    out = args.out or (args.runs[-1] if os.path.isdir(args.runs[-1]) else ".")
    os.makedirs(out, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, marker in (("Jacobi-CG", "s"), ("AMG-CG", "o")):
        for ranks in sorted({int(r["ranks"]) for r in rows}):
            pts = sorted((int(r["vertices"]), r["extra"]) for r in rows
                         if solver(r) == name and int(r["ranks"]) == ranks)
            if pts:
                ax.loglog(*zip(*pts), marker + ("-" if ranks == 1 else "--"),
                          label=f"{name}, {ranks} rank{'s' if ranks > 1 else ''}")
    ax.set_xlabel("mesh vertices")
    ax.set_ylabel("seconds per step per 1,000 vertices")
    ax.set_title("DFG channel, Re 100, P2-P1")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out, "flow_scaling.png"), dpi=120)
    print(f"\nwrote {os.path.join(out, 'flow_scaling.png')}")


if __name__ == "__main__":
    main()
