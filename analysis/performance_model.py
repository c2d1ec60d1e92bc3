#!/usr/bin/python3
"""A latency-bandwidth performance model of strong and weak scaling up to 1,024 ranks, for
the flow solver and the mesh transformer trained on a split mesh, each validated against
a measured sweep.

Usage: /usr/bin/python3 analysis/performance_model.py --bench BENCH_DIR [--study STUDY_DIR]
           [--weak-study STUDY_DIR] [--mesh-study STUDY_DIR] [--latency S] [--bandwidth B/S]
           [--allreduce-latency S] [--cores N] [--calibrate 2] [--max-ranks 1024] [--out DIR]

Inputs, all from stored files:
  BENCH_DIR   `mpirun -np 2 tessera bench scaling_model`: ping-pong latency alpha (8 B,
              one way) and bandwidth beta (2 MiB), allreduce latency, and the flow and mesh
              partitions' halo volumes for 1 to 1,024 parts (rank 0 computes them).
  STUDY_DIR   a strong-scaling sweep of the flow solver (cluster/sweeps/flow_strong.toml):
              its 1-rank runs give the compute rate and the messages per step; every
              point is a measured time to compare with.
  --weak-study  a weak-scaling sweep of the flow solver (cluster/sweeps/flow_weak.toml).
  --mesh-study  a strong-scaling sweep of the transformer with each mesh split over every
              rank (cluster/sweeps/mesh_split_strong.toml): its 1-rank runs give the compute
              per node and the optimiser's time, every run its partition sizes (run.h5
              attributes transformer_train_max_local_nodes, _max_ghost_nodes,
              _max_neighbours); every point is a measured time to compare with.
At least one of --study and --mesh-study.
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
The split-mesh transformer, per training step of batch B: T(P) = B c n_max(P) + o +
  B L 2 (alpha m + 4 d g / beta) + a log2 P + 2 (P-1)/P 4 W / beta (the gradient sum, a
  ring), with c the 1-rank forward-backward seconds per node of a sample, o the optimiser's
  seconds per step, n_max the largest part's rows (own nodes and ghosts), L blocks of width
  d, g and m the most ghosts and neighbours of a part (a gather before and a scatter_add
  after every block), W parameters; compute (B c n_max + o) stretches by P / cores beyond
  --cores. Beyond the study's points: the bench's mesh (mesh_partition rows: K = 1 and 2
  halos of a 53,563-node channel) to --max-ranks, and weak scaling at --mesh-weak-nodes.
Writes model.md, model.csv and model.png to --out (default STUDY_DIR/model).
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_bench_halo import read_rows  # noqa: E402
from scaling import (StudyError, csv_text, markdown_table, median, number,  # noqa: E402
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


def finished_runs(study):
    """A study's sweep table and its finished runs (at least one)."""
    try:
        sweep, runs = read_study(study)
    except StudyError as error:
        raise ModelError(str(error))
    runs = [r for r in runs if r["status"] == "ok"]
    if not runs:
        raise ModelError(f"{study}: no finished runs")
    return sweep, runs


def flow_inputs(study):
    """From the study's runs: the 1-rank compute rate and messages per step, and the
    measured seconds per step (median over repeats) per rank count."""
    sweep, runs = finished_runs(study)
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


MESH_LOAD_KEYS = ("transformer_train_mesh_nodes", "transformer_train_max_local_nodes",
                  "transformer_train_max_ghost_nodes", "transformer_train_max_neighbours",
                  "transformer_parameters")
MESH_STEP_REGIONS = ("mesh.forward_backward", "mesh.allreduce", "mesh.optimizer")


def mesh_inputs(study):
    """From a split-mesh study (cluster/sweeps/mesh_split_strong.toml): the 1-rank compute
    rates, the model's shape, and per rank count the partition sizes the runs recorded and
    the measured seconds per training step (median over repeats)."""
    sweep, runs = finished_runs(study)
    for r in runs:
        path = os.path.join(study, r["dir"], "run.h5")
        missing = [k for k in MESH_LOAD_KEYS if k not in r["meta"]]
        missing += [k for k in MESH_STEP_REGIONS if k not in r["regions"]]
        if missing:
            raise ModelError(f"{path}: not a mesh_transformer run of the transformer with the "
                             f"model's attributes (missing: {', '.join(missing)})")
        run = Run(path)
        r["steps"] = run.config_value("train.steps")
        r["batch"] = run.config_value("train.batch")
        r["domain_ranks"] = run.config_value("train.domain_ranks")
        if r["domain_ranks"] != r["ranks"]:
            raise ModelError(f"{path}: train.domain_ranks = {r['domain_ranks']} on {r['ranks']} "
                             "ranks: the model is for each mesh split over every rank "
                             "(sweep.ranks_key = \"train.domain_ranks\")")
        r["layers"] = run.config_value("model.layers")
        r["width"] = run.config_value("model.dim")
    base = [r for r in runs if r["ranks"] == 1]
    if not base:
        raise ModelError(f"{study}: the compute rate comes from 1-rank runs: the study has none")

    def step(r, region):  # the slowest rank's seconds per optimiser step
        return r["regions"][region][2] / r["steps"]

    first = base[0]
    rates = dict(
        # seconds per mesh node of one sample (forward and backward), and the optimiser's
        # seconds per step (every rank updates every parameter)
        c=median([step(r, "mesh.forward_backward") / (r["batch"] * r["meta"][MESH_LOAD_KEYS[0]])
                  for r in base]),
        optimizer=median([step(r, "mesh.optimizer") for r in base]),
        batch=first["batch"], layers=first["layers"], width=first["width"],
        params=first["meta"]["transformer_parameters"], nodes=first["meta"][MESH_LOAD_KEYS[0]])
    measured = {}
    for r in runs:
        measured.setdefault(r["ranks"], []).append(r)
    points = {}
    for p, rs in measured.items():
        points[p] = dict(
            seconds=median([sum(step(r, k) for k in MESH_STEP_REGIONS) for r in rs]),
            halo=median([step(r, "mesh.halo") if "mesh.halo" in r["regions"] else 0.0
                         for r in rs]),
            max_local=median([r["meta"][MESH_LOAD_KEYS[1]] for r in rs]),
            max_ghosts=median([r["meta"][MESH_LOAD_KEYS[2]] for r in rs]),
            max_neighbours=median([r["meta"][MESH_LOAD_KEYS[3]] for r in rs]), runs=len(rs))
    return sweep, rates, points


def mesh_step(rates, p, local, ghosts, neighbours, alpha, beta, allreduce, cores):
    """Predicted seconds per training step of the split mesh on p ranks: every sample's
    forward and backward on the largest part (own rows and ghosts), a gather and a
    scatter_add of d floats per ghost around every block, the parameters' gradient sum
    (a ring) and the optimiser."""
    b = rates["batch"]
    compute = (b * rates["c"] * local + rates["optimizer"]) * stretch(p, cores)
    halo = 0.0 if p == 1 else b * rates["layers"] * 2 * (alpha * neighbours
                                                         + 4 * rates["width"] * ghosts / beta)
    reduce = 0.0 if p == 1 else (allreduce * math.log2(p)
                                 + 2 * (p - 1) / p * 4 * rates["params"] / beta)
    return dict(ranks=p, compute=compute, halo=halo, allreduce=reduce,
                total=compute + halo + reduce)


def mesh_measured_rows(rates, points, alpha, beta, allreduce, cores):
    """At the study's rank counts, with the partitions the runs recorded: the prediction
    for a core per rank and for the measuring machine, beside the measurement."""
    rows = []
    for p in sorted(points):
        pt = points[p]
        args = (rates, p, pt["max_local"], pt["max_ghosts"], pt["max_neighbours"], alpha, beta,
                allreduce)
        cluster = mesh_step(*args, float("inf"))
        here = mesh_step(*args, cores)
        rows.append(dict(cluster, here=here["total"], measured=pt["seconds"],
                         measured_halo=pt["halo"], local=pt["max_local"], ghosts=pt["max_ghosts"],
                         neighbours=pt["max_neighbours"],
                         error=(here["total"] - pt["seconds"]) / pt["seconds"]))
    return rows


def mesh_predicted(rates, parts_by_hops, alpha, beta, allreduce, max_ranks, weak_nodes):
    """A core per rank, to max_ranks: strong scaling of the bench's mesh (mesh_partition
    rows: K-hop halos of the 53,563-node channel) and weak scaling at weak_nodes per rank."""
    inf = float("inf")
    results = {}
    for hops, parts in parts_by_hops.items():
        results[hops] = [mesh_step(rates, p, parts[p]["max_owned"] + (
            parts[p]["max_ghosts"] if p > 1 else 0), parts[p]["max_ghosts"],
            parts[p]["max_neighbours"], alpha, beta, allreduce, inf)
            for p in sorted(parts) if p <= max_ranks]
        # Weak: ghosts k sqrt(owned) and the neighbours of many parts, fitted to the same
        # partitions.
        k, neighbours = ghost_law(list(parts.values()))
        ghosts = k * math.sqrt(weak_nodes)
        weak = []
        p = 1
        while p <= max_ranks:
            weak.append(mesh_step(rates, p, weak_nodes + (ghosts if p > 1 else 0), ghosts,
                                  neighbours, alpha, beta, allreduce, inf))
            p *= 2
        results[("weak", hops)] = weak
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))
    parser.add_argument("--bench", required=True)
    parser.add_argument("--study", default=None)
    parser.add_argument("--weak-study", default=None)
    parser.add_argument("--mesh-study", default=None)
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
    if not args.study and not args.mesh_study:
        raise ModelError("nothing to model: give --study (a flow study), --mesh-study (a "
                         "split-mesh study) or both")
    rows = read_rows(args.bench)
    alpha, beta, allreduce, source = machine(rows, args)
    # A cluster gives every rank a core of its own; on a small machine ranks beyond its
    # cores time-share them (--cores says how many there are).
    cores = args.cores if args.cores is not None else float("inf")
    out = args.out or os.path.join(args.study or args.mesh_study, "model")
    flow = flow_model(args, rows, alpha, beta, allreduce, cores) if args.study else None
    mesh = mesh_model(args, rows, alpha, beta, allreduce, cores) if args.mesh_study else None
    os.makedirs(out, exist_ok=True)
    titles = (["flow solver"] if flow else []) + (["split-mesh transformer"] if mesh else [])
    md = ["# Performance model: " + " and ".join(titles), "",
          f"Machine: alpha = {alpha * 1e6:.3g} us, allreduce {allreduce * 1e6:.3g} us per tree "
          f"level ({source}), beta = {beta / 1e9:.3g} GB/s. Predictions for a core per "
          "rank (a cluster); at the measured points also for the measuring machine"
          + (f" ({cores} cores: ranks beyond share them)" if cores != float("inf") else "")
          + ", and the error of that one. Made by `/usr/bin/python3 analysis/performance_model.py` from the "
          "stored files (docs/cluster.md has the command).", ""]
    csv_rows = []
    for part in (flow, mesh):
        if part:
            md += part["md"]
            csv_rows += part["csv"]
    with open(os.path.join(out, "model.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md))
    with open(os.path.join(out, "model.csv"), "w", encoding="utf-8") as f:
        f.write(csv_text(["model", "ranks", "owned (max)", "ghosts (max)", "neighbours (max)",
                          "compute (s)", "halo (s)", "allreduce (s)", "predicted (s/step)",
                          "predicted efficiency", "predicted here (s/step)", "measured (s/step)",
                          "error"], csv_rows))
    plot(out, flow, mesh)
    print("\n".join(md))
    print(f"wrote {out}/model.md, model.csv, model.png")
    return 0


def flow_model(args, rows, alpha, beta, allreduce, cores):
    """The flow solver's tables: strong scaling of the study's mesh, weak scaling."""
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
    calibrated = None
    if args.calibrate:
        calibrated = calibrate(runs, args.calibrate, flow_parts, beta)
        alpha, allreduce = calibrated[0], calibrated[1]
    inputs = flow_rates(base)
    strong = flow_strong(inputs, flow_parts, alpha, beta, allreduce, inf, args.max_ranks)
    strong_here = flow_strong(inputs, flow_parts, alpha, beta, allreduce, cores, args.max_ranks)
    md = [f"Flow solver, strong scaling of `{sweep.get('experiment')}` ({nodes:,.0f} P2 nodes): "
          f"c = {inputs['c'] * 1e9:.3g} ns per owned node per step, "
          f"{inputs['exchanges']:.0f} halo exchanges and {inputs['reductions']:.0f} allreduces "
          "per step (1-rank runs)."
          + (f" Calibrated: alpha = {alpha * 1e6:.3g} us, allreduce {allreduce * 1e6:.3g} us per "
             f"tree level ({calibrated[2]})." if calibrated else ""), ""]
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
    return dict(md=md, csv=csv_rows, strong=strong, strong_here=strong_here, measured=measured,
                nodes=nodes, weak=weak, weak_here=weak_here, weak_measured=weak_measured,
                calibrated=calibrated)


def mesh_model(args, rows, alpha, beta, allreduce, cores):
    """The split-mesh transformer's tables: the study's measured points beside the model,
    then the bench mesh's strong and weak scaling for a core per rank."""
    sweep, rates, points = mesh_inputs(args.mesh_study)
    measured = mesh_measured_rows(rates, points, alpha, beta, allreduce, cores)
    md = ["", f"Split-mesh transformer (`{sweep.get('experiment')}`, each mesh split over every "
          f"rank): {rates['layers']:.0f} blocks of width {rates['width']:.0f}, "
          f"{rates['params']:,.0f} parameters, batch {rates['batch']:.0f}; from the 1-rank runs: "
          f"c = {rates['c'] * 1e6:.3g} us per node of a sample (forward and backward), optimiser "
          f"{rates['optimizer'] * 1e3:.3g} ms per step; meshes of {rates['nodes']:,.0f} nodes "
          "on average. Partition sizes (largest part: own nodes and ghosts, ghosts, neighbours) "
          "as the runs recorded them; measured: forward-backward, gradient sum and optimiser "
          "per step, the slowest rank, median over repeats.", ""]
    body = []
    t1 = measured[0]["total"] if measured and measured[0]["ranks"] == 1 else None
    for r in measured:
        body.append([r["ranks"], f"{r['local']:.0f}", f"{r['ghosts']:.0f}",
                     f"{r['neighbours']:.0f}", number(r["compute"], 3), number(r["halo"], 3),
                     number(r["allreduce"], 3), number(r["total"], 3),
                     f"{t1 / (r['ranks'] * r['total']):.2f}" if t1 else "-",
                     number(r["here"], 3), number(r["measured"], 3), f"{r['error']:+.0%}"])
    md.append(markdown_table(["ranks", "local (max)", "ghosts (max)", "neighbours (max)",
                              "compute (s)", "halo (s)", "allreduce (s)", "predicted (s/step)",
                              "predicted efficiency", "predicted here (s/step)",
                              "measured (s/step)", "error"], body))
    md.append("Error of the prediction at the measured points: " + ", ".join(
        f"{r['ranks']} rank(s) {r['error']:+.0%}" for r in measured) + ". Measured halo "
        "(mesh.halo: the exchanges and the wait for the slower rank) against the model's "
        "transfer term: " + ", ".join(
            f"{r['ranks']} rank(s) {r['measured_halo'] * 1e3:.3g} ms against "
            f"{r['halo'] * 1e3:.3g} ms" for r in measured if r["ranks"] > 1) + ".\n")
    csv_rows = [["mesh_measured"] + b for b in body]

    by_hops = {}
    for r in rows:
        if r["benchmark"] == "mesh_partition":
            by_hops.setdefault(int(r["hops"]), {})[int(r["parts"])] = r
    predicted = mesh_predicted(rates, by_hops, alpha, beta, allreduce, args.max_ranks,
                               args.mesh_weak_nodes) if by_hops else {}
    for key, table in sorted(predicted.items(),
                             key=lambda item: (isinstance(item[0], tuple), str(item[0]))):
        weak_table = isinstance(key, tuple)
        nodes = by_hops[key[1] if weak_table else key][1]["max_owned"]
        md.append(f"K = {key[1]}, weak scaling ({args.mesh_weak_nodes:,} nodes per rank; "
                  "efficiency T(1) / T(P)), a core per rank:\n" if weak_table else
                  f"K = {key}, strong scaling of the bench's {nodes:,.0f}-node mesh, a core per "
                  "rank:\n")
        tbody = [[r["ranks"], number(r["compute"], 3), number(r["halo"], 3),
                  number(r["allreduce"], 3), number(r["total"], 3),
                  f"{table[0]['total'] / ((1 if weak_table else r['ranks']) * r['total']):.2f}"]
                 for r in table]
        md.append(markdown_table(["ranks", "compute (s)", "halo (s)", "gradient allreduce (s)",
                                  "predicted (s/step)", "predicted efficiency"], tbody))
        label = f"mesh_weak_k{key[1]}" if weak_table else f"mesh_strong_k{key}"
        csv_rows += [[label, b[0], "-", "-", "-"] + b[1:] + ["-", "-", "-"] for b in tbody]
    return dict(md=md, csv=csv_rows, measured=measured, predicted=predicted)


def plot(out, flow, mesh):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (2 if flow else 0) + (1 if mesh else 0)
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4), squeeze=False)
    axes = list(axes[0])
    if flow:
        plot_flow(axes[0], axes[1], flow)
    if mesh:
        plot_mesh(axes[-1], mesh)
    save_figure(fig, os.path.join(out, "model.png"))
    plt.close(fig)


def plot_flow(ax, weak_ax, flow):
    strong, strong_here, measured, nodes = (flow["strong"], flow["strong_here"],
                                            flow["measured"], flow["nodes"])
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
    weak, weak_here, weak_measured = flow["weak"], flow["weak_here"], flow["weak_measured"]
    ax = weak_ax
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


def plot_mesh(ax, mesh):
    """Seconds per step: the study's measured points and the model on the measuring
    machine, and the bench mesh's predictions for a core per rank (its own scale)."""
    measured = mesh["measured"]
    ranks = [r["ranks"] for r in measured]
    ax.loglog(ranks, [r["measured"] for r in measured], "ko", label="measured (study mesh)")
    ax.loglog(ranks, [r["here"] for r in measured], "rx", label="model on the measuring machine")
    ax.loglog(ranks, [r["total"] for r in measured], "b+", label="model, a core per rank")
    ax.loglog(ranks, [measured[0]["total"] / p for p in ranks], color="grey", lw=0.8,
              label="ideal (study mesh)")
    strong_tables = {k: t for k, t in mesh["predicted"].items() if not isinstance(k, tuple)}
    for hops, table in sorted(strong_tables.items()):
        ax.loglog([r["ranks"] for r in table], [r["total"] for r in table], "-",
                  label=f"model, bench mesh, K = {hops}")
    ax.set_title("split-mesh transformer, strong scaling")
    ax.set_xlabel("MPI ranks")
    ax.set_ylabel("seconds per training step")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


if __name__ == "__main__":
    sys.exit(main())
