#!/usr/bin/env python3
"""graph-physics' own models on Tessera's data: the peer comparison of issue 13.

Runs DonsetPG/graph-physics (the code of "Training Transformers for Mesh-Based
Simulations", 2025) from its own stack (setup.sh beside this file builds the venv) on
Tessera's MeshGraphNets-layout HDF5 trajectories:

  /<k>/{cells [1,C,3] int32, mesh_pos [1,N,2] float32, node_type [1,N,1] int32,
        velocity [T,N,2] float32}   (a pressure field, if present, is ignored)

What is graph-physics' and what is adapted here:
  - theirs, unchanged: the models (graphphysics.models.processors.EncodeTransformDecode
    with DGL sparse attention, and EncodeProcessDecode, their PyG MeshGraphNet), built by
    their get_model / get_simulator from a parameter dict like training_config/*.json;
    the Simulator (feature building, running Normalizers of inputs / targets / edges,
    target = next velocity - noisy input velocity), their graph pipeline (meshdata_to_graph,
    FaceToEdge, noise on NORMAL nodes, Cartesian + Distance edge features: get_preprocessing),
    their H5Dataset, their loss (L2Loss on NORMAL + OUTFLOW nodes) and their schedule
    (CosineWarmupScheduler), AdamW (0.9, 0.95), wd 1e-4, clipping at norm 1.0 as in their
    LightningModule / train.py (Lightning itself is not used: the loop below is its
    training_step + configure_optimizers + gradient_clip_val in plain PyTorch).
  - adapted (data loading only): Tessera stores static fields (cells, mesh_pos,
    node_type) once, [1, ...]; graph-physics' H5 loader indexes them per frame, so the
    subclass below broadcasts them over the frames (a view, no copy). The meta.json their
    dataset needs is written from the file (dt, fields, trajectory_length = T - 1).
  - the rollout is their _make_prediction (nodes that are not NORMAL / OUTFLOW reset to
    the truth each step) scored as Tessera scores it (docs/mesh_transformer.md
    "Rollout"): per-frame RMSE over all nodes and components from the first true frame;
    RMSE-h = root of the mean squared per-frame RMSE over frames 1..h, per test
    trajectory, then averaged over trajectories; persistence the same way.

Usage (after bash analysis/peers/graph_physics/setup.sh):
  analysis/peers/graph_physics/venv/bin/python analysis/peers/graph_physics/run_peer.py \
      --train /tmp/gp_data/train.h5 --test /tmp/gp_data/test.h5 --steps 20 \
      --json /tmp/gp_peer.json
"""
import os

# One thread everywhere (torch's intra-op pool, DGL's OpenMP kernels, BLAS), set before
# torch / dgl load their libraries.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import importlib.metadata as md  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections import OrderedDict  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

warnings.filterwarnings("ignore", category=UserWarning)

from loguru import logger  # noqa: E402

logger.remove()
logger.add(sys.stderr, level="WARNING")

from torch_geometric.data import Batch  # noqa: E402
from torch_geometric.loader import DataLoader  # noqa: E402

import graphphysics.models.layers as gp_layers  # noqa: E402
from graphphysics.dataset.h5_dataset import H5Dataset  # noqa: E402
from graphphysics.training.parse_parameters import (  # noqa: E402
    get_loss,
    get_model,
    get_preprocessing,
    get_simulator,
)
from graphphysics.utils.nodetype import NodeType  # noqa: E402
from graphphysics.utils.scheduler import CosineWarmupScheduler  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
HORIZONS = [1, 10, 50, 0]  # 0: the whole rollout
LOSS_MASKS = [NodeType.NORMAL, NodeType.OUTFLOW]  # their LightningModule's default


# --------------------------------------------------------------------------- data


def write_meta(h5_path, meta_path):
    """graph-physics' dataset_config/*.json for one of Tessera's files."""
    with h5py.File(h5_path, "r") as f:
        first = f[sorted(f.keys(), key=lambda k: (len(k), k))[0]]
        frames = first["velocity"].shape[0]
        dt = float(f.attrs.get("dt", first.attrs.get("dt", 0.01)))
        dim = first["mesh_pos"].shape[-1]
        vertices = first["cells"].shape[-1]
    meta = {
        "dt": dt,
        "features": {
            "cells": {"type": "static", "shape": [1, -1, vertices], "dtype": "int32"},
            "mesh_pos": {"type": "static", "shape": [1, -1, dim], "dtype": "float32"},
            "node_type": {"type": "static", "shape": [1, -1, 1], "dtype": "int32"},
            "velocity": {"type": "dynamic", "shape": [frames, -1, dim], "dtype": "float32"},
        },
        "field_names": ["cells", "mesh_pos", "node_type", "velocity"],
        # Samples are (frame, frame + 1) pairs: frames 0 .. T-2 are inputs.
        "trajectory_length": frames - 1,
    }
    with open(meta_path, "w") as fp:
        json.dump(meta, fp, indent=1)
    return meta


class TesseraH5Dataset(H5Dataset):
    """graph-physics' H5Dataset on Tessera's layout: the static fields, stored once
    ([1, ...]), are broadcast over the frames because graph-physics indexes cells and
    mesh_pos per frame (get_frame_as_mesh). Everything else is theirs; the trajectory
    cache is kept as in their _get_trajectory."""

    def _get_trajectory(self, traj_number):
        cached = self._trajectory_cache.get(traj_number)
        if cached is not None:
            self._trajectory_cache.move_to_end(traj_number)
            return cached
        group = self._get_file_handle()[traj_number]
        frames = group["velocity"].shape[0]
        traj = {}
        for key, field in self.meta["features"].items():
            data = group[key][()].astype(field["dtype"])
            if field["type"] == "static":
                data = np.broadcast_to(data[:1], (frames,) + data.shape[1:])
            traj[key] = data
        self._trajectory_cache[traj_number] = traj
        if len(self._trajectory_cache) > self.cache_size:
            self._trajectory_cache.popitem(last=False)
        return traj


def make_params(kind, args, train_path, test_path, meta_path):
    """A training_config/*.json for `kind`: 'transformer' or 'meshgraphnet' (their 'epd')."""
    if kind == "transformer":
        model = {
            "type": "transformer",
            "message_passing_num": args.layers,
            "hidden_size": args.dim,
            "node_input_size": 2,  # + NodeType.SIZE = 9 one-hot: 11 inputs
            "output_size": 2,
            "edge_input_size": 0,
            "num_heads": args.heads,
        }
    else:
        model = {
            "type": "epd",
            "message_passing_num": args.blocks,
            "hidden_size": args.latent,
            "node_input_size": 2,
            "output_size": 2,
            "edge_input_size": 3,  # sender - receiver position and its length
            "use_silu_activation": False,
            "use_gated_mlp": False,
        }
    return {
        "dataset": {
            "extension": "h5",
            "train_path": train_path,
            "test_path": test_path,
            "meta_path": meta_path,
            "targets": ["velocity"],
            "khop": 1,
        },
        "model": model,
        "index": {
            "feature_index_start": 0,
            "feature_index_end": 2,
            "output_index_start": 0,
            "output_index_end": 2,
            "node_type_index": 2,
        },
        "transformations": {
            "preprocessing": {
                "noise": args.noise,
                "noise_index_start": [0],
                "noise_index_end": [2],
                "masking": 0,
            },
            "world_pos_parameters": {"use": False},
        },
        "training": {"enable_vram_optimizations": False},
    }


def make_dataset(params, path, meta_path, noise):
    # use_edge_feature=True is their train.py default (--no_edge_feature unset), for both
    # models; the transformer ignores the edge features.
    preprocessing = get_preprocessing(
        param=params, device=torch.device("cpu"), use_edge_feature=True, remove_noise=not noise
    )
    return TesseraH5Dataset(
        h5_path=path,
        meta_path=meta_path,
        targets=["velocity"],
        preprocessing=preprocessing,
        khop=1,
        add_edge_features=True,
    )


def build(kind, args, params):
    torch.manual_seed(args.seed)
    processor = get_model(param=params)
    simulator = get_simulator(param=params, model=processor, device=torch.device("cpu"))
    return simulator


def count_parameters(module):
    return sum(p.numel() for p in module.parameters())


# --------------------------------------------------------------------------- training


def make_optimizer(simulator, lr, warmup, steps):
    """Their LightningModule.configure_optimizers."""
    opt = torch.optim.AdamW(simulator.parameters(), lr=lr, weight_decay=0.0001, betas=(0.9, 0.95))
    sched = CosineWarmupScheduler(opt, warmup=warmup, max_iters=steps)
    return opt, sched


def train_step(simulator, loss_fn, opt, sched, batch):
    """Their training_step (single L2 loss), then what Lightning does with
    gradient_clip_val=1.0 (norm clipping) and an interval='step' scheduler."""
    simulator.train()
    node_type = batch.x[:, simulator.node_type_index]
    network_output, target_delta_normalized, _ = simulator(batch)
    loss = loss_fn(
        graph=batch,
        target=target_delta_normalized,
        network_output=network_output,
        node_type=node_type,
        masks=LOSS_MASKS,
        gradient_method=None,
    )
    loss.backward()
    torch.nn.utils.clip_grad_norm_(simulator.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    if sched is not None:
        sched.step()
    return float(loss.detach())


def infinite_loader(dataset, batch_size, seed):
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(
        dataset, batch_size=batch_size, shuffle=True, exclude_keys=["tetra"], generator=generator
    )
    while True:
        for batch in loader:
            yield batch


# --------------------------------------------------------------------------- timing


def time_steps(fn, repeats, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def timing(kind, args, params, train_set):
    """(1) their full training step on a fixed batch (Simulator with running
    normalisers, L2Loss, backward, clip, AdamW, schedule), data loading excluded;
    (2) the model alone as Tessera's bench (bench_mesh.cpp / bench_mesh_torch.py) times
    it: forward of the network on normalised inputs, backward of sum(y * dy), AdamW."""
    simulator = build(kind, args, params)
    opt, sched = make_optimizer(simulator, args.lr, 1, 10**9)
    loss_fn, _ = get_loss(param=params)
    torch.manual_seed(args.seed)
    samples = [train_set[i] for i in range(args.time_batch)]
    batch = Batch.from_data_list(samples, exclude_keys=["tetra"])
    full = time_steps(lambda: train_step(simulator, loss_fn, opt, sched, batch), args.repeats, args.warmup_repeats)

    simulator.eval()
    with torch.no_grad():
        graph, _ = simulator._build_input_graph(batch, is_training=False)
    model = simulator.model
    model.train()
    dy = torch.randn(graph.x.shape[0], 2)
    opt2 = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)

    def bare():
        opt2.zero_grad(set_to_none=True)
        model(graph).backward(dy)
        opt2.step()

    bare_t = time_steps(bare, args.repeats, args.warmup_repeats)
    return {
        "batch_meshes": args.time_batch,
        "nodes": int(batch.num_nodes),
        "edges": int(batch.edge_index.shape[1]),
        "train_step_s": float(np.median(full)),
        "train_step_all_s": full,
        "model_step_s": float(np.median(bare_t)),
        "model_step_all_s": bare_t,
    }


def time_tessera_twin(args, train_set):
    """Tessera's plain-PyTorch twin (analysis/reference/reference_mesh_transformer.py) on the
    same batch graph in this same stack, for a same-torch comparison of the two codes."""
    sys.path.insert(0, os.path.join(HERE, "..", "..", "reference"))
    from reference_mesh_transformer import MeshGraphNet, MeshTransformer  # noqa: E402

    samples = [train_set[i] for i in range(args.time_batch)]
    batch = Batch.from_data_list(samples, exclude_keys=["tetra"])
    # CSR row order like Tessera (row r: the edges received by r).
    src, dst = batch.edge_index
    order = torch.argsort(dst * batch.num_nodes + src)
    src, dst = src[order], dst[order]
    n = batch.num_nodes
    x = torch.randn(n, 11)
    e = torch.randn(src.shape[0], 3)
    dy = torch.randn(n, 2)
    out = {}
    for kind in args.models:
        torch.manual_seed(args.seed)
        if kind == "transformer":
            model = MeshTransformer(11, 2, args.dim, args.layers, args.heads, 3)
            forward = lambda: model(x, dst, src)  # noqa: E731
        else:
            model = MeshGraphNet(11, 3, 2, args.latent, args.blocks)
            forward = lambda: model(x, e, dst, src)  # noqa: E731
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)

        def step():
            opt.zero_grad(set_to_none=True)
            forward().backward(dy)
            opt.step()

        t = time_steps(step, args.repeats, args.warmup_repeats)
        out[kind] = {"model_step_s": float(np.median(t)), "all_s": t,
                     "parameters": count_parameters(model)}
    return out


# --------------------------------------------------------------------------- rollout


def rollout(simulator, test_set):
    """Their LightningModule._make_prediction over each test trajectory in order, scored
    like Tessera's rollout (models/mesh_transformer/training.cpp)."""
    simulator.eval()
    per_traj, persistence, seconds, nodes_total = [], [], 0.0, 0
    length = test_set.trajectory_length
    for k in range(test_set.size_dataset):
        rmse, pers = [0.0], [0.0]
        last = None
        first = None
        for f in range(length):
            graph = test_set[k * length + f]
            if f == 0:
                first = graph.x[:, 0:2].clone()
            if last is not None:
                graph.x[:, simulator.output_index_start : simulator.output_index_end] = last
            node_type = graph.x[:, simulator.node_type_index]
            keep = torch.logical_or(node_type == NodeType.NORMAL, node_type == NodeType.OUTFLOW)
            t0 = time.perf_counter()
            with torch.no_grad():
                _, _, predicted = simulator(graph)
            seconds += time.perf_counter() - t0
            nodes_total += graph.num_nodes
            predicted[~keep] = graph.y[~keep]
            last = predicted
            rmse.append(float(torch.sqrt(((predicted - graph.y) ** 2).mean())))
            pers.append(float(torch.sqrt(((first - graph.y) ** 2).mean())))
        per_traj.append(rmse)
        persistence.append(pers)
    return per_traj, persistence, seconds, nodes_total


def rmse_to_horizon(per_frame, horizon):
    """Tessera's rmse_to_horizon: root of the mean squared RMSE over frames 1..h."""
    if len(per_frame) < 2:
        return 0.0
    last = len(per_frame) - 1 if horizon == 0 else min(horizon, len(per_frame) - 1)
    return float(np.sqrt(np.mean(np.square(per_frame[1 : last + 1]))))


def horizon_rmse(table):
    return [float(np.mean([rmse_to_horizon(row, h) for row in table])) for h in HORIZONS]


# --------------------------------------------------------------------------- main


def versions():
    out = {"python": platform.python_version()}
    for p in ["torch", "torch_geometric", "dgl", "numpy", "h5py", "scipy"]:
        try:
            out[p] = md.version(p)
        except md.PackageNotFoundError:
            out[p] = None
    commit = os.path.join(os.path.dirname(gp_layers.__file__), "..", "..", ".commit")
    out["graph_physics_commit"] = open(commit).read().strip() if os.path.exists(commit) else None
    out["graph_physics_dgl_sparse"] = bool(gp_layers.HAS_DGL_SPARSE)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", default="/tmp/gp_data/train.h5")
    ap.add_argument("--test", default="/tmp/gp_data/test.h5")
    ap.add_argument("--models", default="transformer,meshgraphnet")
    ap.add_argument("--steps", type=int, default=20, help="training steps (0: no training)")
    ap.add_argument("--batch", type=int, default=2, help="meshes per training step (theirs: 2)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--meshgraphnet-lr", type=float, default=None,
                    help="MeshGraphNet's peak rate (default: --lr, graph-physics' one recipe)")
    ap.add_argument("--warmup", type=int, default=100,
                    help="linear warm-up steps (theirs: 1000; capped at --steps like Tessera)")
    ap.add_argument("--noise", type=float, default=0.002, help="input noise std on NORMAL nodes")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--layers", type=int, default=5)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--latent", type=int, default=64)
    ap.add_argument("--blocks", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=5, help="timed training steps (median)")
    ap.add_argument("--warmup-repeats", type=int, default=2)
    ap.add_argument("--time-batch", type=int, default=2, help="meshes in the timed batch")
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--tessera-twin", action="store_true",
                    help="also time Tessera's PyTorch twin on the same graph in this stack")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in args.models:
        if m not in ("transformer", "meshgraphnet"):
            ap.error(f"unknown model {m!r} (transformer, meshgraphnet)")

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    if not gp_layers.HAS_DGL_SPARSE:
        print("WARNING: dgl.sparse is missing: graph-physics' transformer falls back to "
              "torch_geometric's TransformerConv (not the paper's model)", file=sys.stderr)

    tmp = tempfile.mkdtemp(prefix="gp_peer_")
    train_meta = write_meta(args.train, os.path.join(tmp, "train_meta.json"))
    test_meta = write_meta(args.test, os.path.join(tmp, "test_meta.json"))
    report = OrderedDict(
        versions=versions(),
        args=vars(args),
        data={"train": os.path.abspath(args.train), "test": os.path.abspath(args.test),
              "train_frames": train_meta["trajectory_length"] + 1,
              "test_frames": test_meta["trajectory_length"] + 1},
        horizons=HORIZONS,
        models=OrderedDict(),
    )
    t_start = time.perf_counter()
    persistence_table = None
    for kind in args.models:
        params = make_params(kind, args, args.train, args.test, os.path.join(tmp, "train_meta.json"))
        train_set = make_dataset(params, args.train, os.path.join(tmp, "train_meta.json"), noise=True)
        test_set = make_dataset(params, args.test, os.path.join(tmp, "test_meta.json"), noise=False)
        entry = OrderedDict()
        simulator = build(kind, args, params)
        entry["class"] = type(simulator.model).__name__
        entry["parameters"] = count_parameters(simulator.model)
        entry["config"] = params["model"]
        print(f"[{kind}] {entry['class']}: {entry['parameters']:,} parameters", flush=True)

        if not args.no_timing:
            entry["timing"] = timing(kind, args, params, train_set)
            tm = entry["timing"]
            print(f"[{kind}] step ({tm['batch_meshes']} meshes, {tm['nodes']} nodes, "
                  f"{tm['edges']} edges): train step {tm['train_step_s']:.3f} s, "
                  f"model-only step {tm['model_step_s']:.3f} s (median of {args.repeats})",
                  flush=True)

        # Training with their recipe.
        lr = args.lr if kind == "transformer" or args.meshgraphnet_lr is None else args.meshgraphnet_lr
        losses = []
        t0 = time.perf_counter()
        if args.steps > 0:
            warmup = max(1, min(args.warmup, args.steps))
            opt, sched = make_optimizer(simulator, lr, warmup, args.steps)
            loss_fn, loss_name = get_loss(param=params)
            torch.manual_seed(args.seed)
            batches = infinite_loader(train_set, args.batch, args.seed)
            for step in range(args.steps):
                step_lr = opt.param_groups[0]["lr"]  # the rate this step uses
                losses.append(train_step(simulator, loss_fn, opt, sched, next(batches)))
                if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
                    window = losses[-args.log_every:]
                    print(f"[{kind}] step {step + 1}/{args.steps}: loss {np.mean(window):.4f} "
                          f"(mean of the last {len(window)}), lr {step_lr:.2e}", flush=True)
        train_seconds = time.perf_counter() - t0
        entry["training"] = {
            "steps": args.steps, "batch": args.batch, "lr": lr,
            "warmup": max(1, min(args.warmup, args.steps)) if args.steps else 0,
            "noise": args.noise, "losses": losses, "seconds": train_seconds,
            "seconds_per_step": train_seconds / args.steps if args.steps else None,
        }

        table, persistence, roll_s, roll_nodes = rollout(simulator, test_set)
        persistence_table = persistence
        entry["rollout"] = {
            "rmse_per_frame": table,
            "horizon_rmse": horizon_rmse(table),
            "seconds": roll_s,
            "nodes_per_second": roll_nodes / roll_s if roll_s > 0 else None,
        }
        report["models"][kind] = entry

    if args.tessera_twin and not args.no_timing:
        params = make_params("transformer", args, args.train, args.test,
                             os.path.join(tmp, "train_meta.json"))
        train_set = make_dataset(params, args.train, os.path.join(tmp, "train_meta.json"), noise=True)
        report["tessera_twin_timing"] = time_tessera_twin(args, train_set)

    if persistence_table is not None:
        report["persistence"] = {"rmse_per_frame": persistence_table,
                                 "horizon_rmse": horizon_rmse(persistence_table)}
    report["seconds"] = time.perf_counter() - t_start

    # The table.
    frames = report["data"]["test_frames"]
    heads = ["RMSE-1", "RMSE-10", "RMSE-50", f"RMSE-all ({frames - 1} frames)"]
    print()
    print(f"graph-physics {str(report['versions']['graph_physics_commit'])[:7]} on "
          f"{os.path.basename(args.test)} ({len(persistence_table or [])} test trajectories), "
          f"{args.steps} training steps, torch {report['versions']['torch']}, 1 thread")
    print("| model | " + " | ".join(heads) + " | parameters | s / train step | s / model step |")
    print("|---|" + "---|" * (len(heads) + 3))
    for kind, e in report["models"].items():
        tm = e.get("timing", {})
        cells = [f"{v:.3g}" for v in e["rollout"]["horizon_rmse"]]
        ts = f"{tm['train_step_s']:.3f}" if tm else "-"
        ms = f"{tm['model_step_s']:.3f}" if tm else "-"
        print(f"| graph-physics {kind} | " + " | ".join(cells) + f" | {e['parameters']:,} | {ts} | {ms} |")
    if "persistence" in report:
        cells = [f"{v:.3g}" for v in report["persistence"]["horizon_rmse"]]
        print("| persistence | " + " | ".join(cells) + " | - | - | - |")
    if "tessera_twin_timing" in report:
        for kind, t in report["tessera_twin_timing"].items():
            print(f"Tessera's PyTorch twin ({kind}, {t['parameters']:,} parameters), same graph, "
                  f"same stack: model step {t['model_step_s']:.3f} s")
    if args.json:
        with open(args.json, "w") as fp:
            json.dump(report, fp, indent=1)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
