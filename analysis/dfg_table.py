#!/usr/bin/python3
"""Mesh-convergence table of DFG benchmark runs (experiments/dfg_*.toml).

usage: dfg_table.py RUN_DIR... [--markdown OUT.md] [--plot]

Reads each run's run.h5 (attributes written by the flow experiment) and prints one
Markdown row per run: vertices, P2 nodes, c_D, c_L, delta p (2D-1), St, c_D max,
c_L max (2D-2), or c_D max, c_L max with their times and delta p at t = 8 (2D-3, sine
inflow: from the /metrics series), steps and run time, with the benchmark intervals of
Schaefer & Turek (1996) and a mark on each value inside its interval. --plot draws
c_D(t), c_L(t) of the unsteady runs into <run>/dfg_coefficients.png.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tessera_results import find_run_file  # noqa: E402

import h5py  # noqa: E402

INTERVALS = {
    "c_D": (5.57, 5.59),
    "c_L": (0.0104, 0.0110),
    "delta_p": (0.1172, 0.1176),
    "St": (0.295, 0.305),
    "c_D_max": (3.22, 3.24),
    "c_L_max": (0.99, 1.01),
    "c_D_max_2d3": (2.93, 2.97),
    "c_L_max_2d3": (0.47, 0.49),
    "delta_p_8": (-0.115, -0.105),
}


def mark(name, value):
    low, high = INTERVALS[name]
    return f"{value:.5g}" + (" ✓" if low <= value <= high else "")


def config_value(text, section, key):
    current = None
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("["):
            current = line.strip("[]")
        elif "=" in line and current == section and line.split("=")[0].strip() == key:
            return line.split("=", 1)[1].strip()
    return "?"


def read(path):
    run_file = find_run_file(path)
    with h5py.File(run_file, "r") as f:
        a = dict(f.attrs)
        text = f["config"][()]
        text = text.decode() if isinstance(text, bytes) else str(text)
        metrics = {k: f["metrics"][k][:] for k in f.get("metrics", {})}
    a["config"] = text
    a["metrics"] = metrics
    a["path"] = path
    return a


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--markdown", help="also write the tables to this file")
    parser.add_argument("--plot", action="store_true")
    args = parser.parse_args()
    runs = [read(p) for p in args.runs]
    steady = [r for r in runs if config_value(r["config"], "solver", "steady") == "true"]
    sine = [r for r in runs if config_value(r["config"], "flow", "inflow") == '"sine"']
    periodic = [r for r in runs if r not in steady and r not in sine and "strouhal" in r]
    lines = []
    if steady:
        lines += [
            "| mesh size / at cylinder | vertices | P2 nodes | c_D | c_L | delta p | steps | run time [s] |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in sorted(steady, key=lambda r: r["vertices"]):
            size = f"{config_value(r['config'], 'mesh', 'size')} / {config_value(r['config'], 'mesh', 'cylinder_size')}"
            lines.append(
                f"| {size} | {int(r['vertices'])} | {int(r['p2_nodes'])} | {mark('c_D', r['drag_coefficient'])} | "
                f"{mark('c_L', r['lift_coefficient'])} | {mark('delta_p', r['pressure_difference'])} | "
                f"{int(r['steps'])} | {r['run_seconds']:.0f} |")
        lines.append("| 2D-1 interval | | | [5.57, 5.59] | [0.0104, 0.0110] | [0.1172, 0.1176] | | |")
        lines.append("")
    if periodic:
        lines += [
            "| mesh size / at cylinder | vertices | dt | St | c_D max | c_L max | periods | steps | run time [s] |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in sorted(periodic, key=lambda r: r["vertices"]):
            size = f"{config_value(r['config'], 'mesh', 'size')} / {config_value(r['config'], 'mesh', 'cylinder_size')}"
            lines.append(
                f"| {size} | {int(r['vertices'])} | {config_value(r['config'], 'solver', 'dt')} | "
                f"{mark('St', r['strouhal'])} | {mark('c_D_max', r['drag_max'])} | "
                f"{mark('c_L_max', r['lift_max'])} | {int(r['lift_periods'])} | {int(r['steps'])} | "
                f"{r['run_seconds']:.0f} |")
        lines.append("| 2D-2 interval | | | [0.295, 0.305] | [3.22, 3.24] | [0.99, 1.01] | | | |")
        lines.append("")
    if sine:
        lines += [
            "| mesh size / at cylinder | vertices | dt | c_D max (t) | c_L max (t) | delta p (t = 8) | steps | run time [s] |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in sorted(sine, key=lambda r: (r["vertices"], config_value(r["config"], "solver", "dt"))):
            size = f"{config_value(r['config'], 'mesh', 'size')} / {config_value(r['config'], 'mesh', 'cylinder_size')}"
            drag, lift = r["metrics"]["drag_coefficient"], r["metrics"]["lift_coefficient"]
            i, j = drag[:, 1].argmax(), lift[:, 1].argmax()
            lines.append(
                f"| {size} | {int(r['vertices'])} | {config_value(r['config'], 'solver', 'dt')} | "
                f"{mark('c_D_max_2d3', drag[i, 1])} ({drag[i, 0]:.4f}) | "
                f"{mark('c_L_max_2d3', lift[j, 1])} ({lift[j, 0]:.4f}) | "
                f"{mark('delta_p_8', r['metrics']['pressure_difference'][-1, 1])} | "
                f"{int(r['steps'])} | {r['run_seconds']:.0f} |")
        lines.append("| 2D-3 interval (John 2004 reference) | | | [2.93, 2.97] (2.95092 at 3.9363) | "
                     "[0.47, 0.49] (0.47795 at 5.6931) | [-0.115, -0.105] (-0.1116) | | |")
    text = "\n".join(lines).rstrip()
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write(text + "\n")
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        for r in periodic + sine:
            fig, axes = plt.subplots(2, 1, sharex=True, figsize=(8, 5))
            for ax, name, label in zip(axes, ["drag_coefficient", "lift_coefficient"], ["c_D", "c_L"]):
                m = r["metrics"][name]
                ax.plot(m[:, 0], m[:, 1], lw=0.8)
                ax.set_ylabel(label)
            axes[1].set_xlabel("t")
            title = (f"DFG 2D-3, {int(r['vertices'])} vertices" if r in sine else
                     f"DFG 2D-2, {int(r['vertices'])} vertices: St = {r['strouhal']:.4f}")
            fig.suptitle(title)
            out = os.path.join(r["path"], "dfg_coefficients.png")
            fig.savefig(out, dpi=120)
            print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
