#!/usr/bin/env bash
# Size sweep of the mesh transformer (issue 13, experiment 2): d x L trained for the same
# steps on the same samples of experiments/mesh_transformer_medium.toml's data (16
# cylinder trajectories, 3.4k nodes), rolled out on its 4 held-out test trajectories
# beside persistence; one table and one plot of RMSE-all against parameters and against
# training FLOPs (docs/mesh_transformer.md, "Size sweep").
#   d<D>_l<L>   the transformer with width D and L blocks (4 heads), the file's recipe
# Usage: analysis/mesh_size_sweep.sh [OUT=results/mesh_size_sweep] [STEPS=300] [VARIANT...]
# Default variants: d32, d64, d128 x L 4, 8, 15. On one core, 300 steps: from 30 s (d32_l4)
# to about 11 minutes (d128_l15) of training, about 40 minutes for all nine with their
# rollouts. Needs the medium data set (see experiments/mesh_transformer_medium.toml).
# Training FLOPs are counted, not measured: 3 x the forward multiply-adds x 2, from the
# layer shapes and each mesh's edge count (the encoder, L blocks of Q/K/V/O, the gated
# MLP and the attention over each node's neighbours, the decoder).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-results/mesh_size_sweep}"
steps="${2:-300}"
shift 2 || shift $#
all="d32_l4 d32_l8 d32_l15 d64_l4 d64_l8 d64_l15 d128_l4 d128_l8 d128_l15"
variants=("${@:-$all}")
read -r -a variants <<<"${variants[*]}"
mkdir -p "$out"
for v in "${variants[@]}"; do
  if [[ ! "$v" =~ ^d([0-9]+)_l([0-9]+)$ ]]; then
    echo "mesh_size_sweep.sh: unknown variant '$v' (expected d<width>_l<blocks>, e.g. d64_l8)" >&2
    exit 2
  fi
  d="${BASH_REMATCH[1]}" l="${BASH_REMATCH[2]}"
  if [[ -f "$out/$v/run.h5" ]]; then echo "$v: done before ($out/$v/run.h5)"; continue; fi
  echo "$v: training ($(date +%H:%M:%S))"
  build/bin/tessera run experiments/mesh_transformer_medium.toml --out "$out/$v" \
    --set model.kinds=transformer --set "model.dim=$d" --set "model.layers=$l" \
    --set "train.steps=$steps" --set rollout.vtk_trajectories=0 >"$out/$v.log" 2>&1
done
/usr/bin/python3 - "$out" "${variants[@]}" <<'PY'
import os, sys
import h5py
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
out, names = sys.argv[1], sys.argv[2:]
data = "results/cylinder_dataset_medium/data/train.h5"
with h5py.File(data, "r") as f:  # mean nodes and directed mesh edges of the training meshes
    nodes, edges = [], []
    for k in f:
        cells = f[k]["cells"][0]
        pairs = {tuple(sorted((int(a), int(b)))) for c in cells
                 for a, b in ((c[0], c[1]), (c[1], c[2]), (c[2], c[0]))}
        nodes.append(f[k]["mesh_pos"].shape[1])
        edges.append(2 * len(pairs))
nodes, edges = float(np.mean(nodes)), float(np.mean(edges))


def training_flops(d, layers, batch):
    """Per optimiser step: 2 flops per multiply-add, backward twice the forward."""
    per_node = 11 * d + 3 * d * d + 3 * d * d + 2 * d  # encoder, decoder (4 Linears each)
    per_node += layers * (4 * d * d + 9 * d * d)  # Q, K, V, O; W1, W2 (d -> 3d), W3
    attention = layers * 2 * d * edges  # scores and the weighted sum over each neighbour
    return 3 * 2 * batch * (per_node * nodes + attention)


rows = []
for v in names:
    path = os.path.join(out, v, "run.h5")
    if not os.path.exists(path):
        print(f"{v}: no run.h5 (not run or failed: {out}/{v}.log)")
        continue
    with h5py.File(path, "r") as f:
        a = dict(f.attrs)
        horizons = [int(h) for h in f["rollout/horizons"][()]]
        rmse = f["rollout/transformer/horizon_rmse"][()]
        persistence = f["rollout/persistence/horizon_rmse"][()] if "rollout/persistence/horizon_rmse" in f else None
    d, layers = (int(x) for x in v[1:].split("_l"))
    rows.append(dict(name=v, d=d, layers=layers, params=float(a["transformer_parameters"]),
                     flops=training_flops(d, layers, 2), seconds=float(a["transformer_train_seconds_per_step"]),
                     loss=float(a["transformer_final_loss"]), rmse=rmse, persistence=persistence,
                     horizons=horizons))
if not rows:
    sys.exit("mesh_size_sweep.sh: no finished runs")
# The stored horizons end with 0: the whole rollout.
labels = [f"RMSE-{h}" if h else "RMSE-all" for h in rows[0]["horizons"]]
lines = [f"Mesh transformer size sweep: rollout RMSE, mean over the test trajectories "
         f"(velocity, all nodes); meshes of {nodes:,.0f} nodes and {edges:,.0f} directed edges on average.", "",
         "| d x L | parameters | training GFLOP / step | s / step | final loss | " + " | ".join(labels) + " |",
         "|---|---|---|---|---|" + "---|" * len(labels)]
for r in rows:
    lines.append(f"| {r['d']} x {r['layers']} | {r['params']:,.0f} | {r['flops'] / 1e9:.1f} | {r['seconds']:.3f} | "
                 f"{r['loss']:.3g} | " + " | ".join(f"{x:.3g}" for x in r["rmse"]) + " |")
p = rows[0]["persistence"]
if p is not None:
    lines.append("| persistence (baseline) | - | - | - | - | " + " | ".join(f"{x:.3g}" for x in p) + " |")
text = "\n".join(lines) + "\n"
with open(os.path.join(out, "size_sweep.md"), "w") as f:
    f.write(text)
print(text)
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, key, label in ((axes[0], "params", "parameters"), (axes[1], "flops", "training FLOP per step")):
    for d in sorted({r["d"] for r in rows}):
        pts = sorted((r[key], r["rmse"][-1]) for r in rows if r["d"] == d)
        ax.loglog([x for x, _ in pts], [y for _, y in pts], "o-", label=f"d = {d} (L = 4, 8, 15)")
    if p is not None:
        ax.axhline(p[-1], color="grey", ls="--", label="persistence")
    ax.set_xlabel(label)
    ax.set_ylabel("rollout RMSE-all")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
fig.tight_layout()
fig.savefig(os.path.join(out, "size_sweep.png"), dpi=110)
print(f"wrote {out}/size_sweep.md, size_sweep.png")
PY
