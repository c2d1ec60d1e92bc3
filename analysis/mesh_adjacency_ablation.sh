#!/usr/bin/env bash
# Adjacency ablation of the mesh transformer (issue 13, experiment 3): the transformer of
# experiments/mesh_transformer_medium.toml trained and rolled out once per attention
# graph, the rest unchanged (training noise 0.002, pinned here), then one table of
# rollout RMSE (docs/mesh_transformer.md).
#   A         the mesh edges, no self loops (graph-physics' default)
#   self      A + self loops
#   hop2      the 2-hop union
#   dilated   half the heads of the last 2 blocks on hop distances 2 and 4
#   global    A + 4 global attention nodes
#   random    A + random node pairs, 10 % of the mesh edges
# Usage: analysis/mesh_adjacency_ablation.sh [OUT=results/mesh_ablation] [VARIANT...]
# Runs the variants one after the other (run two copies with disjoint variants to use two
# cores). Needs the medium data set (see experiments/mesh_transformer_medium.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-results/mesh_ablation}"
shift || true
variants=("${@:-A self hop2 dilated global random}")
read -r -a variants <<<"${variants[*]}"
declare -A sets=(
  [A]=""
  [self]="--set model.self_loops=true"
  [hop2]="--set model.hops=2"
  [dilated]="--set model.dilated_layers=2 --set model.dilated_heads=2"
  [global]="--set model.global_nodes=4"
  [random]="--set model.random_edges=0.1"
)
mkdir -p "$out"
for v in "${variants[@]}"; do
  if [[ -z "${sets[$v]+set}" ]]; then
    echo "mesh_adjacency_ablation.sh: unknown variant '$v' (A self hop2 dilated global random)" >&2
    exit 2
  fi
  if [[ -f "$out/$v/run.h5" ]]; then echo "$v: done before ($out/$v/run.h5)"; continue; fi
  echo "$v: training ($(date +%H:%M:%S))"
  # shellcheck disable=SC2086
  build/bin/tessera run experiments/mesh_transformer_medium.toml --out "$out/$v" \
    --set model.kinds=transformer --set train.noise=0.002 ${sets[$v]} >"$out/$v.log" 2>&1
done
/usr/bin/python3 - "$out" <<'PY'
import os, sys
import h5py
out = sys.argv[1]
rows = []
for v in ["A", "self", "hop2", "dilated", "global", "random"]:
    path = os.path.join(out, v, "run.h5")
    if not os.path.exists(path):
        continue
    with h5py.File(path, "r") as f:
        h = f["/rollout/transformer/horizon_rmse"][()]
        p = f["/rollout/persistence/horizon_rmse"][()]
    rows.append((v, h, p))
if rows:
    print("| variant | RMSE-1 | RMSE-10 | RMSE-50 | RMSE-all |")
    print("|---|---|---|---|---|")
    for v, h, _ in rows:
        print(f"| {v} | " + " | ".join(f"{x:.4g}" for x in h) + " |")
    print("| persistence | " + " | ".join(f"{x:.4g}" for x in rows[0][2]) + " |")
PY
