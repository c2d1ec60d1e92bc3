#!/usr/bin/python3
"""A latency-bandwidth performance model of strong and weak scaling up to 1,024 ranks, for
the flow solver (validated against a measured sweep) and the partitioned mesh transformer
(a prediction: measured split-mesh steps are in docs/mesh_transformer.md, 1 and 2 ranks).

Usage: /usr/bin/python3 analysis/performance_model.py --bench BENCH_DIR --study STUDY_DIR
           [--weak-study STUDY_DIR] [--mesh-run RUN_DIR] [--latency S] [--bandwidth B/S]
           [--allreduce-latency S] [--cores N] [--max-ranks 1024] [--out DIR]

Inputs, all from stored files:
  BENCH_DIR   `mpirun -np 2 tessera bench scaling_model`: ping-pong latency alpha (8 B,
              one way) and bandwidth beta (2 MiB), allreduce latency, and the flow and mesh
              partitions' halo volumes for 1 to 1,024 parts (rank 0 computes them).
  STUDY_DIR   a strong-scaling sweep of the flow solver (cluster/sweeps/flow_strong.toml):
              its 1-rank runs give the compute rate and the messages per step; every
              point is a measured time to compare with.
  --weak-study  a weak-scaling sweep of the flow solver (cluster/sweeps/flow_weak.toml).
  --mesh-run  a 1-rank mesh_transformer run.h5: nodes per second of a training step and
              the model's width, depth and parameter count.
Cluster values replace the measured ones with --latency, --bandwidth, --allreduce-latency;
--calibrate 2 takes the latency and the allreduce time from the communication regions of
the study's 2-rank runs instead (what a message costs inside the solver), so that the
points beyond 2 ranks test the model out of sample.

The model, per time step of the flow solver on P ranks (one core per rank up to --cores;
beyond it ranks share cores, so compute stretches by P / cores):
  T(P) = c N_max(P) + X (alpha m(P) + 8 g(P) / beta) + R a(P)
  c     compute seconds per owned P2 node per step (the 1-rank solver time over the P2
        nodes)
  N_max largest owned P2 node count of the solver's own METIS partition (flow_partition)
  X, R  halo exchanges and allreduces per step (the run's halo_exchanges_per_step and
        allreduces_per_step)
  m, g  most neighbour parts and most ghost nodes of a part (one double per ghost)
  a(P)  allreduce latency, a(2) log2 P (a tree)
Weak scaling keeps c N per rank and grows the Krylov iterations as N_total^q (q = 0.5 for
Jacobi-CG: iterations ~ 1 / h; 0 for AMG), ghosts as sqrt(owned) with the constant fitted
to the partitions, and neighbours at their median for 16+ parts.
The partitioned mesh transformer, per training step: T(P) = (N_max + g) / r +
  L 2 (alpha m + 4 d g / beta) + allreduce of the parameters (ring: 2 alpha log2 P +
  2 (P-1)/P 4 W / beta), with r the 1-rank nodes per second, L layers of width d, W
  parameters, and K-hop halos (K = 1 and 2).
Writes model.md, model.csv and model.png to --out (default STUDY_DIR/model).
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_bench_halo import read_rows  # noqa: E402
from scaling import (StudyError, csv_text, markdown_table, median, number, read_run,  # noqa: E402
                     read_study, save_figure)
from tessera_results import Run  # noqa: E402


class ModelError(Exception):
    pass


def machine(rows, args):
    """alpha, beta, allreduce latency at 2 ranks, and where each came from."""
    ping = sorted((r for r in rows if r["benchmark"] == "pingpong"), key=lambda r: r["bytes"])
    reduce = [r for r in rows if r["benchmark"] == "allreduce" and int(r["doubles"]) == 1]
    if not ping and (args.latency is None or args.bandwidth is None):
        raise ModelError("the bench folder has no pingpong rows (run `mpirun -np 2 tessera "
                         "bench scaling_model`), and --latency/--bandwidth were not given")
    alpha = args.latency if args.latency is not None else ping[0]["one_way_seconds"]
    beta = args.bandwidth if args.bandwidth is not None else ping[-1][
        "bandwidth_bytes_per_second"]
    if args.allreduce_latency is not None:
        allreduce = args.allreduce_latency
    elif reduce:
        # Per tree level: the measured call over log2 of its rank count.
        r = min(reduce, key=lambda r: r["ranks"])
        allreduce = r["seconds"] / max(1.0, math.log2(r["ranks"]))
    else:
        allreduce = 2 * alpha
    source = "given" if args.latency is not None else "ping-pong, 8 B; allreduce from the bench"
    return alpha, beta, allreduce, source


def partitions(rows, benchmark, **match):
    chosen = [r for r in rows if r["benchmark"] == benchmark
              and all(abs(r[k] - v) < 1e-9 for k, v in match.items())]
    return {int(r["parts"]): r for r in chosen}


def per_step(run, region):
    value = run["regions"].get(region)
    return value[2] / run["meta"]["steps"] if value else 0.0  # slowest rank


def flow_inputs(study):
    """From the study's runs: the 1-rank compute rate and messages per step, and the
    measured seconds per step (median over repeats) per rank count."""
    try:
        sweep, runs = read_study(study)
    except StudyError as error:
        raise ModelError(str(error))
    runs = [r for r in runs if r["status"] == "ok"]
    if not runs:
        raise ModelError(f"{study}: no finished runs")
    for r in runs:
        missing = [k for k in ("steps", "p2_nodes", "halo_exchanges_per_step",
                               "allreduces_per_step") if k not in r["meta"]]
        if missing or "solver" not in r["regions"]:
            raise ModelError(f"{os.path.join(study, r['dir'])}/run.h5: not a flow run with "
                             f"the model's attributes (missing: {', '.join(missing) or 'solver'})")
    smallest = min(r["ranks"] for r in runs)
    base = [r for r in runs if r["ranks"] == smallest]
    measured = {}
    for r in runs:
        measured.setdefault((r["ranks"], r["meta"]["p2_nodes"]), []).append(r)
    return sweep, runs, base, {k: dict(seconds=median([per_step(r, "solver") for r in rs]),
                                 halo=median([per_step(r, "solver.halo_exchange") for r in rs]),
                                 allreduce=median([per_step(r, "solver.allreduce") for r in rs]),
                                 runs=len(rs), iterations=median([
                                     r["meta"]["halo_exchanges_per_step"] for r in rs]))
                         for k, rs in measured.items()}


def calibrate(runs, ranks, parts, beta):
    """Effective per-message latency and allreduce time from the communication regions of
    the study's finished runs on `ranks` ranks: what a halo exchange and an allreduce cost
    inside the solver (packing, fences, waiting for the slower rank), not in a ping-pong."""
    runs = [r for r in runs if r["ranks"] == ranks]
    if not runs or ranks not in parts:
        raise ModelError(f"--calibrate {ranks}: the study has no finished {ranks}-rank runs "
                         "or the bench no partition into that many parts")
    part = parts[ranks]
    per_message = []
    per_reduce = []
    for r in runs:
        steps = r["meta"]["steps"]
        exchange = r["regions"]["solver.halo_exchange"][2] / steps / r["meta"][
            "halo_exchanges_per_step"]
        per_message.append(max(exchange - 8 * part["max_ghosts"] / beta, 0.0)
                           / max(part["max_neighbours"], 1))
        per_reduce.append(r["regions"]["solver.allreduce"][2] / steps
                          / r["meta"]["allreduces_per_step"] / max(1.0, math.log2(ranks)))
    return (median(per_message), median(per_reduce),
            f"calibrated on the {ranks}-rank runs' solver.halo_exchange and solver.allreduce")


def stretch(ranks, cores):
    """Ranks beyond the cores share them: their compute takes ranks / cores longer."""
    return max(1.0, ranks / cores)


def flow_rates(base):
    """From 1-rank runs: compute seconds per P2 node per step (the whole 1-rank step: its
    "communication" regions there are a fence and a local reduction, time that every
    rank count spends too), halo exchanges and allreduces per step, the nodes."""
    if base[0]["ranks"] != 1:
        raise ModelError("the compute rate comes from 1-rank runs: the study has none")
    nodes = base[0]["meta"]["p2_nodes"]
    return dict(c=median([per_step(r, "solver") for r in base]) / nodes,
                exchanges=median([r["meta"]["halo_exchanges_per_step"] for r in base]),
                reductions=median([r["meta"]["allreduces_per_step"] for r in base]), nodes=nodes)


def flow_strong(rates, parts, alpha, beta, allreduce, cores, max_ranks):
    """Predicted seconds per step (compute, halo, allreduce) for P = 1, 2, 4, ..."""
    c, exchanges, reductions = rates["c"], rates["exchanges"], rates["reductions"]
    rows = []
    for p in sorted(parts):
        if p > max_ranks:
            continue
        part = parts[p]
        compute = c * part["max_owned"] * stretch(p, cores)
        halo = 0.0 if p == 1 else exchanges * (alpha * part["max_neighbours"]
                                               + 8 * part["max_ghosts"] / beta)
        reduce = 0.0 if p == 1 else reductions * allreduce * math.log2(p)
        rows.append(dict(ranks=p, compute=compute, halo=halo, allreduce=reduce,
                         total=compute + halo + reduce, owned=part["max_owned"],
                         ghosts=part["max_ghosts"], neighbours=part["max_neighbours"]))
    return rows


def ghost_law(rows):
    """g = k sqrt(owned) fitted (least squares in k) to every partition with 4+ parts, and
    the median neighbour count of 16+ parts."""
    fit = [r for r in rows if r["parts"] >= 4]
    k = sum(r["max_ghosts"] * math.sqrt(r["max_owned"]) for r in fit) / sum(
        r["max_owned"] for r in fit)
    neighbours = median([r["max_neighbours"] for r in rows if r["parts"] >= 16] or
                        [r["max_neighbours"] for r in fit])
    return k, neighbours


def flow_weak(inputs, flow_rows, alpha, beta, allreduce, cores, max_ranks, growth):
    k, neighbours = ghost_law(flow_rows)
    c, n = inputs["c"], inputs["nodes"]
    rows = []
    p = 1
    while p <= max_ranks:
        grow = p ** growth  # iterations ~ N_total^q, N_total = P n
        compute = c * n * stretch(p, cores) * (grow if growth else 1.0)
        # The compute of a Krylov step is per iteration: it grows with the iterations too.
        exchanges = inputs["exchanges"] * grow
        reductions = inputs["reductions"] * grow
        halo = 0.0 if p == 1 else exchanges * (alpha * neighbours + 8 * k * math.sqrt(n) / beta)
        reduce = 0.0 if p == 1 else reductions * allreduce * math.log2(p)
        rows.append(dict(ranks=p, compute=compute, halo=halo, allreduce=reduce,
                         total=compute + halo + reduce))
        p *= 2
    return rows, k, neighbours


def mesh_transformer(run_dir, parts_by_hops, alpha, beta, allreduce, cores, max_ranks,
                     weak_nodes):
    run = Run(run_dir)
    _, attrs = read_run(run.path)
    if "transformer_nodes_per_second" not in attrs:
        raise ModelError(f"{run.path}: not a mesh_transformer run with "
                         "transformer_nodes_per_second (run experiments/mesh_transformer_quick.toml)")
    rate = attrs["transformer_nodes_per_second"]
    params = attrs["transformer_parameters"]
    width = run.config_value("model.dim")
    layers = run.config_value("model.layers")
    results = {}
    for hops, parts in parts_by_hops.items():
        rows = []
        for p in sorted(parts):
            if p > max_ranks:
                continue
            part = parts[p]
            compute = (part["max_owned"] + (part["max_ghosts"] if p > 1 else 0)) / rate * stretch(
                p, cores)
            halo = 0.0 if p == 1 else layers * 2 * (alpha * part["max_neighbours"]
                                                    + 4 * width * part["max_ghosts"] / beta)
            reduce = 0.0 if p == 1 else (allreduce * math.log2(p)
                                         + 2 * (p - 1) / p * 4 * params / beta)
            rows.append(dict(ranks=p, compute=compute, halo=halo, allreduce=reduce,
                             total=compute + halo + reduce))
        results[hops] = rows
        # Weak scaling: weak_nodes per rank; ghosts k sqrt(owned) and the neighbours of
        # many parts, fitted to the same partitions.
        k, neighbours = ghost_law(list(parts.values()))
        ghosts = k * math.sqrt(weak_nodes)
        weak = []
        p = 1
        while p <= max_ranks:
            compute = (weak_nodes + (ghosts if p > 1 else 0)) / rate
            halo = 0.0 if p == 1 else layers * 2 * (alpha * neighbours
                                                    + 4 * width * ghosts / beta)
            reduce = 0.0 if p == 1 else (allreduce * math.log2(p)
                                         + 2 * (p - 1) / p * 4 * params / beta)
            weak.append(dict(ranks=p, compute=compute, halo=halo, allreduce=reduce,
                             total=compute + halo + reduce))
            p *= 2
        results[("weak", hops)] = weak
    return results, dict(rate=rate, params=params, width=width, layers=layers,
                         nodes=next(iter(parts_by_hops.values()))[1]["max_owned"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))
    parser.add_argument("--bench", required=True)
    parser.add_argument("--study", required=True)
    parser.add_argument("--weak-study", default=None)
    parser.add_argument("--mesh-run", default=None)
    parser.add_argument("--mesh-weak-nodes", type=int, default=10000,
                        help="mesh transformer weak scaling: nodes per rank (default 10,000)")
    parser.add_argument("--latency", type=float, default=None, help="seconds, one way")
    parser.add_argument("--bandwidth", type=float, default=None, help="bytes per second")
    parser.add_argument("--allreduce-latency", type=float, default=None,
                        help="seconds per tree level of an 8-byte allreduce")
    parser.add_argument("--cores", type=int, default=None,
                        help="cores of the machine the points were measured on: ranks beyond "
                        "them share cores (default: a core per rank, as on a cluster)")
    parser.add_argument("--iteration-growth", type=float, default=None,
                        help="weak scaling: Krylov iterations ~ N^q (default 0.5 for "
                        "Jacobi-CG, 0 for AMG)")
    parser.add_argument("--calibrate", type=int, default=None, metavar="RANKS",
                        help="take the latency and the allreduce time from the study's runs on "
                        "RANKS ranks (their communication regions) instead of the ping-pong")
    parser.add_argument("--max-ranks", type=int, default=1024)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    try:
        return run_model(args)
    except ModelError as error:
        print(f"performance_model.py: {error}", file=sys.stderr)
        return 2


def run_model(args):
    rows = read_rows(args.bench)
    alpha, beta, allreduce, source = machine(rows, args)
    # A cluster gives every rank a core of its own; on a small machine ranks beyond its
    # cores time-share them (--cores says how many there are).
    cores = args.cores if args.cores is not None else float("inf")
    sweep, runs, base, measured = flow_inputs(args.study)
    nodes = base[0]["meta"]["p2_nodes"]
    flow_parts = partitions(rows, "flow_partition", p2_nodes=nodes)
    if not flow_parts:
        sizes = sorted({int(r["p2_nodes"]) for r in rows if r["benchmark"] == "flow_partition"})
        raise ModelError(f"{args.bench}: no flow_partition rows for the study's mesh of {nodes:.0f} "
                         f"P2 nodes (rows for {sizes}): the bench and the study must use the same mesh")
    # Two predictions: a core per rank (a cluster: the table, to 1,024 ranks) and this
    # machine's (ranks beyond --cores share them: compared with the measured points).
    inf = float("inf")
    if args.calibrate:
        alpha, allreduce, source = calibrate(runs, args.calibrate, flow_parts, beta)
    inputs = flow_rates(base)
    strong = flow_strong(inputs, flow_parts, alpha, beta, allreduce, inf, args.max_ranks)
    strong_here = flow_strong(inputs, flow_parts, alpha, beta, allreduce, cores, args.max_ranks)
    out = args.out or os.path.join(args.study, "model")
    os.makedirs(out, exist_ok=True)

    md = ["# Performance model: flow solver" + (" and partitioned mesh transformer"
                                                 if args.mesh_run else ""), "",
          f"Machine: alpha = {alpha * 1e6:.3g} us, allreduce {allreduce * 1e6:.3g} us per tree "
          f"level ({source}), beta = {beta / 1e9:.3g} GB/s. Predictions for a core per "
          "rank (a cluster); at the measured points also for the measuring machine"
          + (f" ({cores} cores: ranks beyond share them)" if cores != inf else "")
          + ", and the error of that one. Made by `/usr/bin/python3 analysis/performance_model.py` from the "
          "stored files (docs/cluster.md has the command).", "",
          f"Flow solver, strong scaling of `{sweep.get('experiment')}` ({nodes:,.0f} P2 nodes): "
          f"c = {inputs['c'] * 1e9:.3g} ns per owned node per step, "
          f"{inputs['exchanges']:.0f} halo exchanges and {inputs['reductions']:.0f} allreduces "
          "per step (1-rank runs).", ""]
    header = ["ranks", "owned (max)", "ghosts (max)", "neighbours (max)", "compute (s)",
              "halo (s)", "allreduce (s)", "predicted (s/step)", "predicted efficiency",
              "predicted here (s/step)", "measured (s/step)", "error"]
    body = []
    errors = []
    t1 = strong[0]["total"]
    for row, here in zip(strong, strong_here):
        meas = measured.get((row["ranks"], nodes))
        error = (here["total"] - meas["seconds"]) / meas["seconds"] if meas else None
        if error is not None:
            errors.append((row["ranks"], error))
        body.append([row["ranks"], f"{row['owned']:.0f}", f"{row['ghosts']:.0f}",
                     f"{row['neighbours']:.0f}", number(row["compute"], 3),
                     number(row["halo"], 3), number(row["allreduce"], 3), number(row["total"], 3),
                     f"{t1 / (row['ranks'] * row['total']):.2f}",
                     number(here["total"], 3) if meas else "-",
                     number(meas["seconds"], 3) if meas else "-",
                     f"{error:+.0%}" if error is not None else "-"])
    md.append(markdown_table(header, body))
    csv_rows = [["flow_strong"] + b for b in body]
    if errors:
        md.append("Error of the prediction at the measured points: " + ", ".join(
            f"{p} rank(s) {e:+.0%}" for p, e in errors) + ".\n")

    # The weak-scaling prediction needs nothing beyond the strong one's inputs.
    amg = Run(os.path.join(args.study, base[0]["dir"])).config_value(
        "solver.pressure_solver") == "amg"
    growth = args.iteration_growth if args.iteration_growth is not None else (
        0.0 if amg else 0.5)
    weak_inputs = inputs
    weak_measured = {}
    if args.weak_study:
        _, _, weak_base, wm = flow_inputs(args.weak_study)
        weak_measured = {p: v for (p, _), v in wm.items()}
        weak_inputs = flow_rates(weak_base)
        # The growth of the iterations, fitted to the measured points: log(X) against log(N).
        pts = [(math.log(n), math.log(v["iterations"])) for (p, n), v in wm.items()]
        if args.iteration_growth is None and len({x for x, _ in pts}) > 1:
            mx = sum(x for x, _ in pts) / len(pts)
            my = sum(y for _, y in pts) / len(pts)
            growth = sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)
    weak, k, neighbours = flow_weak(weak_inputs, list(flow_parts.values()), alpha, beta,
                                    allreduce, inf, args.max_ranks, growth)
    weak_here, _, _ = flow_weak(weak_inputs, list(flow_parts.values()), alpha, beta,
                                allreduce, cores, args.max_ranks, growth)
    md += ["", f"Flow solver, weak scaling ({weak_inputs['nodes']:,.0f} P2 nodes per rank; Krylov "
           f"iterations ~ N^{growth:g}; ghosts = {k:.2f} sqrt(owned); {neighbours:.0f} "
           "neighbours):", ""]
    wbody = []
    weak_errors = []
    for row, here in zip(weak, weak_here):
        meas = weak_measured.get(row["ranks"])
        error = (here["total"] - meas["seconds"]) / meas["seconds"] if meas else None
        if error is not None:
            weak_errors.append((row["ranks"], error))
        wbody.append([row["ranks"], number(row["compute"], 3), number(row["halo"], 3),
                      number(row["allreduce"], 3), number(row["total"], 3),
                      f"{weak[0]['total'] / row['total']:.2f}",
                      number(here["total"], 3) if meas else "-",
                      number(meas["seconds"], 3) if meas else "-",
                      f"{error:+.0%}" if error is not None else "-"])
    md.append(markdown_table(["ranks", "compute (s)", "halo (s)", "allreduce (s)",
                              "predicted (s/step)", "predicted efficiency",
                              "predicted here (s/step)", "measured (s/step)", "error"], wbody))
    if weak_errors:
        md.append("Error of the prediction at the measured points: " + ", ".join(
            f"{p} rank(s) {e:+.0%}" for p, e in weak_errors) + ".\n")
    csv_rows += [["flow_weak", b[0], "-", "-", "-"] + b[1:] for b in wbody]

    mt = None
    if args.mesh_run:
        mesh_rows = [r for r in rows if r["benchmark"] == "mesh_partition"]
        by_hops = {}
        for r in mesh_rows:
            by_hops.setdefault(int(r["hops"]), {})[int(r["parts"])] = r
        mt, mt_inputs = mesh_transformer(args.mesh_run, by_hops, alpha, beta, allreduce, inf,
                                         args.max_ranks, args.mesh_weak_nodes)
        md += ["", "Partitioned mesh transformer (a prediction; the measured 1 -> 2 rank "
               f"steps are in docs/mesh_transformer.md): {mt_inputs['layers']:.0f} layers of "
               f"width {mt_inputs['width']:.0f}, {mt_inputs['params']:,.0f} parameters, {mt_inputs['rate']:,.0f} nodes per second "
               f"per training step on 1 rank, a mesh of {mt_inputs['nodes']:,.0f} nodes:", ""]
        for key, table in sorted(mt.items(), key=lambda item: (isinstance(item[0], tuple), str(item[0]))):
            weak_table = isinstance(key, tuple)
            md.append(f"K = {key[1]}, weak scaling ({args.mesh_weak_nodes:,} nodes per rank; "
                      "efficiency T(1) / T(P)):\n" if weak_table else
                      f"K = {key}, strong scaling of the {mt_inputs['nodes']:,.0f}-node mesh:\n")
            md.append(markdown_table(
                ["ranks", "compute (s)", "halo (s)", "gradient allreduce (s)",
                 "predicted (s/step)", "predicted efficiency"],
                [[r["ranks"], number(r["compute"], 3), number(r["halo"], 3),
                  number(r["allreduce"], 3), number(r["total"], 3),
                  f"{table[0]['total'] / ((1 if weak_table else r['ranks']) * r['total']):.2f}"]
                 for r in table]))

    with open(os.path.join(out, "model.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md))
    with open(os.path.join(out, "model.csv"), "w", encoding="utf-8") as f:
        f.write(csv_text(["model"] + header, csv_rows))
    plot(out, strong, strong_here, measured, nodes, weak, weak_here, weak_measured, mt)
    print("\n".join(md))
    print(f"wrote {out}/model.md, model.csv, model.png")
    return 0


def plot(out, strong, strong_here, measured, nodes, weak, weak_here, weak_measured, mt):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 2 + (1 if mt else 0)
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4))
    ax = axes[0]
    ranks = [r["ranks"] for r in strong]
    ax.loglog(ranks, [r["total"] for r in strong], "-", label="model")
    ax.loglog(ranks, [r["compute"] for r in strong], ":", label="model: compute")
    ax.loglog(ranks, [r["halo"] + r["allreduce"] or float("nan") for r in strong], "--",
              label="model: communication")
    ax.loglog(ranks, [strong[0]["total"] / p for p in ranks], color="grey", lw=0.8,
              label="ideal")
    pts = sorted((p, v["seconds"]) for (p, n), v in measured.items() if n == nodes)
    ax.loglog([p for p, _ in pts], [s for _, s in pts], "ko", label="measured")
    here = {r["ranks"]: r["total"] for r in strong_here}
    ax.loglog([p for p, _ in pts], [here.get(p, float("nan")) for p, _ in pts], "rx",
              label="model on the measuring machine")
    ax.set_title(f"flow, strong scaling ({nodes:,.0f} P2 nodes)")
    ax.set_xlabel("MPI ranks")
    ax.set_ylabel("seconds per step")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    ax = axes[1]
    if weak:
        ranks = [r["ranks"] for r in weak]
        ax.semilogx(ranks, [weak[0]["total"] / r["total"] for r in weak], "-",
                    label="model efficiency")
        pts = sorted((p, v["seconds"]) for p, v in weak_measured.items())
        if pts:
            ax.semilogx([p for p, _ in pts], [pts[0][1] / s for _, s in pts], "ko",
                        label="measured efficiency")
            here = {r["ranks"]: r["total"] for r in weak_here}
            ax.semilogx([p for p, _ in pts], [here[1] / here.get(p, float("nan"))
                                              for p, _ in pts], "rx",
                        label="model on the measuring machine")
        ax.set_ylim(0, 1.1)
        ax.set_title("flow, weak scaling")
        ax.set_xlabel("MPI ranks")
        ax.set_ylabel("efficiency T(1) / T(P)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    if mt:
        ax = axes[2]
        strong_tables = {k: t for k, t in mt.items() if not isinstance(k, tuple)}
        for hops, table in sorted(strong_tables.items()):
            ranks = [r["ranks"] for r in table]
            ax.loglog(ranks, [r["total"] for r in table], "-", label=f"K = {hops}")
        ax.loglog(ranks, [strong_tables[min(strong_tables)][0]["total"] / p for p in ranks],
                  color="grey", lw=0.8, label="ideal")
        ax.set_title("partitioned mesh transformer (prediction)")
        ax.set_xlabel("MPI ranks")
        ax.set_ylabel("seconds per training step")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    save_figure(fig, os.path.join(out, "model.png"))
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
