#!/usr/bin/python3
"""Table and plots of `tessera bench flow`: time per step, per 1,000 vertices, solver
iterations, and the strong scaling between a 1-rank and a P-rank run (the speed-up,
efficiency and plots are analysis/scaling.py's, as for every scaling study).

Usage: /usr/bin/python3 analysis/flow_scaling.py BENCH_DIR [BENCH_DIR ...] [--out DIR]
Give one directory per rank count (several of one rank count are repeats: min and median).
Prints a Markdown table (speed-up and parallel efficiency against the 1-rank row of the
same mesh and pressure solver), writes flow_scaling.csv, flow_scaling.png (seconds per
step per 1,000 vertices against the mesh) and flow_strong_scaling.png (time against ranks
with the ideal line, and efficiency, per mesh and solver).
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_bench_halo import read_rows  # noqa: E402
from scaling import csv_text, markdown_table, median, number, plot_scaling, save_figure  # noqa: E402
from scaling import scaling_rows  # noqa: E402


def solver(row):
    return "AMG-CG" if row.get("pressure_amg", 0) else "Jacobi-CG"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="bench directories (one per rank count)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    rows = [r for run in args.runs for r in read_rows(run) if r["benchmark"] == "flow_step"]
    if not rows:
        sys.exit("no flow_step rows in " + ", ".join(args.runs))
    cases = {}
    for r in rows:
        cases.setdefault((int(r["vertices"]), solver(r)), []).append(r)

    header = ["vertices", "P2 nodes", "pressure solver", "ranks", "runs", "s/step (median)",
              "s/step (min)", "s/step per 1k vertices", "pressure it./step", "momentum it./step",
              "speed-up", "efficiency"]
    body = []
    scaling = {}
    for (vertices, name), case in sorted(cases.items()):
        by_ranks = {}
        for r in case:
            by_ranks.setdefault(int(r["ranks"]), []).append(r)
        table = scaling_rows([(ranks, [r["seconds"] for r in rs])
                              for ranks, rs in by_ranks.items()])
        scaling[(vertices, name)] = table
        for row in table:
            rs = by_ranks[row["ranks"]]
            body.append([f"{vertices:,}", f"{int(rs[0]['p2_nodes']):,}", name, row["ranks"],
                         row["runs"], number(row["median"]), number(row["min"]),
                         f"{row['median'] / (vertices / 1000):.4f}",
                         f"{median([r['pressure_iterations'] for r in rs]):.0f}",
                         f"{median([r['momentum_iterations'] for r in rs]):.0f}",
                         f"{row['speedup']:.2f}", f"{row['efficiency']:.0%}"])
    print(markdown_table(header, body), end="")

    out = args.out or (args.runs[-1] if os.path.isdir(args.runs[-1]) else ".")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "flow_scaling.csv"), "w", encoding="utf-8") as f:
        f.write(csv_text(header, body))

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, marker in (("Jacobi-CG", "s"), ("AMG-CG", "o")):
        for ranks in sorted({int(r["ranks"]) for r in rows}):
            pts = sorted((vertices, row["median"] / (vertices / 1000))
                         for (vertices, n), table in scaling.items() if n == name
                         for row in table if row["ranks"] == ranks)
            if pts:
                ax.loglog(*zip(*pts), marker + ("-" if ranks == 1 else "--"),
                          label=f"{name}, {ranks} rank{'s' if ranks > 1 else ''}")
    ax.set_xlabel("mesh vertices")
    ax.set_ylabel("seconds per step per 1,000 vertices")
    ax.set_title("DFG channel, Re 100, P2-P1")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    save_figure(fig, os.path.join(out, "flow_scaling.png"))
    plt.close(fig)

    multi = {key: table for key, table in scaling.items() if len(table) > 1}
    if multi:
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
        markers = "osd^v<>"
        for i, ((vertices, name), table) in enumerate(sorted(multi.items())):
            plot_scaling(left, right, table, f"{vertices:,} vertices, {name}", "strong",
                         markers[i % len(markers)])
        left.set_title("DFG channel: seconds per step")
        left.legend(fontsize=7)
        save_figure(fig, os.path.join(out, "flow_strong_scaling.png"))
        plt.close(fig)
    print(f"\nwrote {out}/flow_scaling.csv, flow_scaling.png"
          + (", flow_strong_scaling.png" if multi else ""))


if __name__ == "__main__":
    main()
