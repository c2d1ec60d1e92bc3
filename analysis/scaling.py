#!/usr/bin/python3
"""Collects a sweep (cluster/sweep.py) from its stored results only, and the speed-up,
efficiency and plotting helpers every scaling script shares.

Usage: /usr/bin/python3 analysis/scaling.py STUDY_DIR [--measure REGION] [--out DIR]

Reads STUDY_DIR/sweep.toml, STUDY_DIR/index.tsv and every run's run.h5, and writes to
STUDY_DIR/collect (or --out):
    runs.csv          one row per run: status (ok, missing, unfinished) and its time
    scaling.csv/.md   per point: runs found, min and median over repeats of the measured
                      region (the slowest rank's time), speed-up and efficiency against the
                      smallest rank count (median), the ideal
    breakdown.csv     per point and /timings region: median over repeats of the mean over
                      ranks; nested regions (a.b inside a) as their own rows, the parent's
                      own time as "a (rest)"
    timings.csv       every region of every run (min, mean, max over ranks, calls): long
                      format for pandas and Thicket-style analysis
    timings.json      every run's regions as a call tree in hatchet's literal format
                      (frame/metrics/children), with the run's metadata
    scaling.png       time against ranks (log-log) with the ideal line, and efficiency
    breakdown.png     stacked time of the regions per point
Running it again on the same folder writes the same files (the PNGs too: no time stamps).
"""
import argparse
import csv
import io
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tessera_results import h5py, np  # noqa: E402  (one clear message when h5py is missing)

try:
    import tomllib
except ImportError:  # pragma: no cover - Python < 3.11
    sys.exit("scaling.py: needs Python 3.11 or newer (tomllib)")

# Stable PNGs: matplotlib writes its version and no date when told so.
PNG_METADATA = {"Software": None}


def median(values):
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return float("nan")
    return ordered[n // 2] if n % 2 else 0.5 * (ordered[n // 2 - 1] + ordered[n // 2])


def scaling_rows(points, kind="strong"):
    """points: [(ranks, [seconds of each repeat]), ...] in any order.
    Returns one dict per point: ranks, runs, min, median, speedup, efficiency, ideal (the
    ideal time), against the smallest rank count with a time. Strong scaling: speed-up =
    T(P0) P0 / T(P) (P on ideal), efficiency = speed-up / P. Weak: efficiency = T(P0) /
    T(P) (1 on ideal), speed-up = P x efficiency (the scaled speed-up)."""
    rows = []
    timed = [(r, t) for r, t in points if t]
    base_ranks, base_times = min(timed, key=lambda p: p[0]) if timed else (None, [])
    base = median(base_times) if base_times else float("nan")
    for ranks, times in sorted(points, key=lambda p: p[0]):
        row = dict(ranks=ranks, runs=len(times), min=min(times) if times else float("nan"),
                   median=median(times))
        if kind == "weak":
            row["efficiency"] = base / row["median"] if times else float("nan")
            row["speedup"] = ranks * row["efficiency"]
            row["ideal"] = base
        else:
            row["speedup"] = base * base_ranks / row["median"] if times else float("nan")
            row["efficiency"] = row["speedup"] / ranks
            row["ideal"] = base * base_ranks / ranks if base_ranks else float("nan")
        rows.append(row)
    return rows


def number(value, digits=4):
    """Table text of a number: fixed significant digits, '-' for a missing one."""
    if value is None or isinstance(value, float) and math.isnan(value):
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}g}"


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def csv_text(header, rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def plot_scaling(axes_time, axes_efficiency, rows, label, kind="strong", marker="o"):
    """Measured time (median, with the min as a second marker) and the ideal line on
    axes_time (log-log); efficiency on axes_efficiency (may be None)."""
    ranks = [r["ranks"] for r in rows if r["runs"]]
    line = axes_time.loglog(ranks, [r["median"] for r in rows if r["runs"]], marker + "-",
                            label=f"{label} (median)")[0]
    axes_time.loglog(ranks, [r["min"] for r in rows if r["runs"]], marker, mfc="none",
                     color=line.get_color(), label=f"{label} (min)")
    axes_time.loglog(ranks, [r["ideal"] for r in rows if r["runs"]], ":",
                     color=line.get_color(), label="ideal" if kind == "strong" else "ideal (flat)")
    axes_time.set_xlabel("MPI ranks")
    axes_time.set_ylabel("seconds")
    axes_time.grid(True, which="both", alpha=0.3)
    if axes_efficiency is not None:
        axes_efficiency.semilogx(ranks, [r["efficiency"] for r in rows if r["runs"]],
                                 marker + "-", color=line.get_color(), label=label)
        axes_efficiency.axhline(1.0, color="grey", ls=":")
        axes_efficiency.set_xlabel("MPI ranks")
        axes_efficiency.set_ylabel("parallel efficiency")
        axes_efficiency.set_ylim(0, 1.2)
        axes_efficiency.grid(True, which="both", alpha=0.3)
    for axes in (axes_time, axes_efficiency):
        if axes is not None:
            axes.set_xticks(ranks)
            axes.set_xticklabels([str(r) for r in ranks])
            axes.minorticks_off()


def save_figure(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=120, metadata=PNG_METADATA)


# ---- reading a study ----

class StudyError(Exception):
    pass


def text(value):
    return value.decode() if isinstance(value, bytes) else value


def read_run(path):
    """A run.h5's timings: {region: (min, mean, max, calls)} and its metadata."""
    with h5py.File(path, "r") as f:
        regions = {}
        for name, dataset in f.get("timings", {}).items():
            low, mean, high = (float(v) for v in dataset[()])
            regions[name] = (low, mean, high, int(dataset.attrs.get("calls", 0)))
        meta = {}
        for attributes in (f["config"].attrs, f.attrs):
            for k, v in attributes.items():
                if isinstance(v, (bytes, str)):
                    meta[k] = text(v)
                else:  # a number, or an array attribute of some kind
                    values = [x.item() if hasattr(x, "item") else x for x in
                              np.asarray(v).ravel()]
                    meta[k] = values[0] if len(values) == 1 else values
    return regions, meta


def read_study(study):
    sweep_path = os.path.join(study, "sweep.toml")
    index_path = os.path.join(study, "index.tsv")
    for path in (sweep_path, index_path):
        if not os.path.exists(path):
            raise StudyError(f"{study}: no {os.path.basename(path)}: not a study folder "
                             "(cluster/sweep.py makes them)")
    with open(sweep_path, "rb") as f:
        sweep = tomllib.load(f)["sweep"]
    with open(index_path, encoding="utf-8") as f:
        index = list(csv.DictReader(f, delimiter="\t"))
    expected = ["run", "point", "ranks", "key", "value", "repeat", "dir"]
    if not index or list(index[0].keys()) != expected:
        raise StudyError(f"{index_path}: expected a header line with the columns "
                         + ", ".join(expected))
    runs = []
    for row in index:
        run = dict(run=int(row["run"]), point=int(row["point"]), ranks=int(row["ranks"]),
                   key=row["key"], value=row["value"], repeat=int(row["repeat"]), dir=row["dir"],
                   regions={}, meta={})
        path = os.path.join(study, row["dir"], "run.h5")
        if os.path.exists(path):
            run["regions"], run["meta"] = read_run(path)
            run["status"] = "ok"
        elif os.path.exists(path + ".partial") or os.path.isdir(os.path.dirname(path)):
            run["status"] = "unfinished"
        else:
            run["status"] = "missing"
        runs.append(run)
    return sweep, runs


def region_tree(regions):
    """Exclusive times for a stacked breakdown: top-level regions other than total, each
    child a.b as its own entry and a's own time as 'a (rest)'; 'other' is total less the
    top-level regions. Values: mean over ranks."""
    names = sorted(regions)
    parts = {}
    for name in names:
        if name == "total":
            continue
        children = [c for c in names if c.startswith(name + ".") and "." not in c[len(name) + 1:]]
        own = regions[name][1] - sum(regions[c][1] for c in children)
        label = f"{name} (rest)" if children else name
        parts[label] = max(own, 0.0)
    if "total" in regions:
        top = sum(regions[n][1] for n in names if n != "total" and "." not in n)
        parts["other"] = max(regions["total"][1] - top, 0.0)
    return parts


def hatchet_literal(regions):
    """The regions as a call tree (hatchet's GraphFrame.from_literal format): 'total' the
    root when present, a.b the child of a. Metrics: mean/min/max over ranks and calls."""
    def node(name):
        low, mean, high, calls = regions[name]
        children = [c for c in sorted(regions)
                    if c.startswith(name + ".") and "." not in c[len(name) + 1:]]
        inner = sum(regions[c][1] for c in children)
        return {"frame": {"name": name.split(".")[-1], "type": "region"},
                "metrics": {"time (inc)": mean, "time": max(mean - inner, 0.0), "min (inc)": low,
                            "max (inc)": high, "calls": calls, "region": name},
                "children": [node(c) for c in children]}

    tops = [n for n in sorted(regions) if "." not in n and n != "total"]
    if "total" in regions:
        root = node("total")
        root["children"] = [node(n) for n in tops]
        root["metrics"]["time"] = max(regions["total"][1] - sum(regions[n][1] for n in tops), 0.0)
        return [root]
    return [node(n) for n in tops]


def collect(study, out, measure=None):
    sweep, runs = read_study(study)
    kind = sweep.get("kind", "strong")
    measure = measure or sweep.get("measure", "total")
    key = runs[0]["key"] if runs and runs[0]["key"] != "-" else None  # index.tsv has it
    os.makedirs(out, exist_ok=True)

    def seconds(run):
        region = run["regions"].get(measure)
        return region[2] if region else None  # the slowest rank

    for run in runs:
        if run["status"] == "ok" and seconds(run) is None:
            raise StudyError(f"{os.path.join(study, run['dir'], 'run.h5')}: no /timings/{measure} "
                             f"(regions: {', '.join(sorted(run['regions']))}); give --measure")

    # runs.csv
    rows = [[r["run"], r["point"], r["ranks"], r["value"], r["repeat"], r["dir"], r["status"],
             number(seconds(r)) if r["status"] == "ok" else "-"] for r in runs]
    header = ["run", "point", "ranks", key or "value", "repeat", "dir", "status",
              f"{measure} (s, max over ranks)"]
    files = {"runs.csv": csv_text(header, rows)}

    # Points, in index order.
    points = {}
    for r in runs:
        point = points.setdefault(r["point"], dict(ranks=r["ranks"], value=r["value"], times=[],
                                                   expected=0, regions=[]))
        point["expected"] += 1
        if r["status"] == "ok":
            point["times"].append(seconds(r))
            point["regions"].append(r["regions"])
    ordered = [points[p] for p in sorted(points)]

    # scaling.csv / .md
    if kind in ("strong", "weak"):
        table = scaling_rows([(p["ranks"], p["times"]) for p in ordered], kind)
        by_ranks = {row["ranks"]: row for row in table}
        header = ["ranks"] + ([key] if kind == "weak" else []) + [
            "runs", "min (s)", "median (s)", "ideal (s)",
            "speed-up" if kind == "strong" else "scaled speed-up", "efficiency"]
        body = []
        for p in ordered:
            row = by_ranks[p["ranks"]]
            body.append([p["ranks"]] + ([p["value"]] if kind == "weak" else []) + [
                f"{len(p['times'])}/{p['expected']}", number(row["min"]), number(row["median"]),
                number(row["ideal"]), number(row["speedup"], 3), number(row["efficiency"], 3)])
    else:
        table = None
        header = ["ranks", key, "runs", "min (s)", "median (s)"]
        body = [[p["ranks"], p["value"], f"{len(p['times'])}/{p['expected']}",
                 number(min(p["times"]) if p["times"] else None), number(median(p["times"]))]
                for p in ordered]
    files["scaling.csv"] = csv_text(header, body)

    # breakdown.csv: median over repeats of each region's mean over ranks.
    labels = sorted({label for p in ordered for regions in p["regions"]
                     for label in region_tree(regions)})
    breakdown = []
    for p in ordered:
        trees = [region_tree(regions) for regions in p["regions"]]
        breakdown.append([median([t.get(label, 0.0) for t in trees]) if trees else float("nan")
                          for label in labels])
    point_label = (lambda p: f"{p['ranks']}") if kind == "strong" else (
        lambda p: f"{p['ranks']} / {p['value']}")
    files["breakdown.csv"] = csv_text(
        ["ranks" if kind == "strong" else f"ranks / {key}"] + [f"{label} (s)" for label in labels],
        [[point_label(p)] + [number(v) for v in values] for p, values in zip(ordered, breakdown)])

    # timings.csv and timings.json: every region of every run.
    rows = []
    literal = []
    for r in runs:
        for name in sorted(r["regions"]):
            low, mean, high, calls = r["regions"][name]
            rows.append([r["run"], r["point"], r["ranks"], r["value"], r["repeat"], name, calls,
                         repr(low), repr(mean), repr(high)])
        if r["status"] == "ok":
            meta = {k: v for k, v in sorted(r["meta"].items())}
            literal.append({"run": r["run"], "dir": r["dir"], "ranks": r["ranks"],
                            "point": r["point"], "value": r["value"], "repeat": r["repeat"],
                            "metadata": meta, "graph": hatchet_literal(r["regions"])})
    files["timings.csv"] = csv_text(["run", "point", "ranks", key or "value", "repeat", "region",
                                     "calls", "min_seconds", "mean_seconds", "max_seconds"], rows)
    files["timings.json"] = json.dumps({"study": sweep.get("name"), "kind": kind,
                                        "measure": measure, "runs": literal}, indent=1,
                                       sort_keys=True) + "\n"

    # scaling.md: what a reader needs, with the command that makes it again.
    missing = [r for r in runs if r["status"] != "ok"]
    md = [f"# Study {sweep.get('name')}: {kind} scaling" if kind != "parameter" else
          f"# Study {sweep.get('name')}: {key}", "",
          f"Experiment `{sweep.get('experiment')}`, measured region `{measure}` (the slowest "
          f"rank's time), {len(runs) - len(missing)} of {len(runs)} runs finished. Made by "
          "`/usr/bin/python3 analysis/scaling.py STUDY` from the stored run.h5 files.", ""]
    if kind == "strong":
        md += ["Speed-up against the smallest rank count (median over repeats); efficiency = "
               "speed-up / ranks; ideal = T(P0) P0 / P.", ""]
    elif kind == "weak":
        md += ["Efficiency = T(P0) / T(P) (median over repeats; 1 is ideal); scaled speed-up "
               "= ranks x efficiency.", ""]
    md.append(markdown_table(header, body))
    md += ["## Breakdown of /timings (median over repeats of the mean over ranks, seconds)", "",
           markdown_table(["ranks" if kind == "strong" else f"ranks / {key}"] + labels,
                          [[point_label(p)] + [number(v) for v in values]
                           for p, values in zip(ordered, breakdown)])]
    if missing:
        md += ["## Runs without results", ""]
        md += [f"- {r['dir']}: {r['status']}" for r in missing]
        md.append("")
    files["scaling.md"] = "\n".join(md)

    for name, content in files.items():
        path = os.path.join(out, name)
        with open(path + ".partial", "w", encoding="utf-8") as f:
            f.write(content)
        os.replace(path + ".partial", path)

    write_plots(out, sweep, kind, key, measure, ordered, table, labels, breakdown, point_label)
    print(files["scaling.md"])
    print(f"wrote {out}/: " + ", ".join(sorted(files)) + ", scaling.png, breakdown.png")
    return 1 if missing else 0


def write_plots(out, sweep, kind, key, measure, ordered, table, labels, breakdown, point_label):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    name = sweep.get("name")
    if table is not None and any(row["runs"] for row in table):
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
        plot_scaling(left, right, table, measure, kind)
        left.set_title(f"{name}: {kind} scaling")
        left.legend(fontsize=8)
        save_figure(fig, os.path.join(out, "scaling.png"))
        plt.close(fig)
    elif table is None and ordered:
        fig, ax = plt.subplots(figsize=(6, 4))
        for ranks in sorted({p["ranks"] for p in ordered}):
            pts = [(p["value"], median(p["times"])) for p in ordered
                   if p["ranks"] == ranks and p["times"]]
            if pts:
                ax.plot([v for v, _ in pts], [t for _, t in pts], "o-", label=f"{ranks} rank(s)")
        ax.set_xlabel(key)
        ax.set_ylabel(f"{measure} (s, median)")
        ax.set_title(name)
        ax.grid(True, alpha=0.3)
        ax.legend()
        save_figure(fig, os.path.join(out, "scaling.png"))
        plt.close(fig)
    if labels:
        fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(ordered) + 3), 4))
        bottom = [0.0] * len(ordered)
        x = list(range(len(ordered)))
        for j, label in enumerate(labels):
            heights = [0.0 if math.isnan(values[j]) else values[j] for values in breakdown]
            ax.bar(x, heights, bottom=bottom, label=label)
            bottom = [b + h for b, h in zip(bottom, heights)]
        ax.set_xticks(x)
        ax.set_xticklabels([point_label(p) for p in ordered])
        ax.set_xlabel("ranks" if kind == "strong" else f"ranks / {key}")
        ax.set_ylabel("seconds (mean over ranks, median over repeats)")
        ax.set_title(f"{name}: /timings breakdown")
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
        save_figure(fig, os.path.join(out, "breakdown.png"))
        plt.close(fig)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]))
    parser.add_argument("study", help="a study folder made by cluster/sweep.py")
    parser.add_argument("--measure", default=None,
                        help="the /timings region to scale (default: sweep.measure, else total)")
    parser.add_argument("--out", default=None, help="default STUDY/collect")
    args = parser.parse_args()
    try:
        return collect(args.study, args.out or os.path.join(args.study, "collect"), args.measure)
    except StudyError as error:
        print(f"scaling.py: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
