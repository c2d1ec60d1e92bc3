#!/usr/bin/env bash
# Input-noise and pushforward study of the mesh models (issue 13: drifting rollouts): the
# transformer of experiments/mesh_transformer_medium.toml trained and rolled out once per
# training-noise std, the rest unchanged, then a longer training at the best noise,
# MeshGraphNet at it, and pushforward training (train.pushforward); one table of rollout
# RMSE beside persistence (measured in each run on the same test trajectories) and a plot
# of RMSE against the frame (docs/mesh_transformer.md).
#   n0.002 n0.005 n0.01 n0.02 n0.05   transformer 64 x 5, 1,500 steps, that noise std
#   n0.01_s4000                       the same at noise 0.01, 4,000 steps
#   mgn_n0.01                         MeshGraphNet 64 x 4, 1,500 steps, noise 0.01
#   pf1_n0.01 pf2_n0.01               transformer, noise 0.01, pushforward of up to 1 or 2
#                                     model steps
#   pf1_n0.002                        transformer, noise 0.002, pushforward up to 1 step
#   mgn_pf1_n0.002                    MeshGraphNet, noise 0.002, pushforward up to 1 step
#   pf3_n0.01 pf4_n0.01               transformer, noise 0.01, pushforward up to 3 or 4 steps
#   pf2_n0.01_s4000                   pushforward up to 2 steps, 4,000 training steps
# Any pf<P>_n<std>[_s<steps>] or mgn_pf<P>_n<std>[_s<steps>] names a run of that kind, and
# any variant with _seed<k> appended is the same run with run.seed = k (seed spreads).
# A variant with u<S>_ in front trains through S unrolled model steps
# (train.unrolled_steps = S, backpropagation through time): u2_n0.01, u2_pf2_n0.01; it
# costs about 2S - 1 forward and S backward passes a sample.
# Usage: analysis/mesh_noise_study.sh [OUT=results/noise_study] [VARIANT...]
# About 9 minutes a transformer variant, 24 for n0.01_s4000 and 14 for mgn_n0.01 on one
# core; pushforward adds a forward pass to the samples that draw a model step. Needs the medium data set (see experiments/mesh_transformer_medium.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-results/noise_study}"
shift || true
all="n0.002 n0.005 n0.01 n0.02 n0.05 n0.01_s4000 mgn_n0.01 pf1_n0.01 pf2_n0.01 pf1_n0.002 mgn_pf1_n0.002 pf3_n0.01 pf4_n0.01 pf2_n0.01_s4000"
variants=("${@:-$all}")
read -r -a variants <<<"${variants[*]}"
mkdir -p "$out"
for v in "${variants[@]}"; do
  base="$v" seed_sets=""
  if [[ "$v" =~ ^(.+)_seed([0-9]+)$ ]]; then
    base="${BASH_REMATCH[1]}" seed_sets="--set run.seed=${BASH_REMATCH[2]}"
  fi
  if [[ "$base" =~ ^u([0-9]+)_(.+)$ ]]; then
    base="${BASH_REMATCH[2]}" seed_sets="$seed_sets --set train.unrolled_steps=${BASH_REMATCH[1]}"
    if [[ "$base" =~ ^n[0-9] ]]; then base="pf0_$base"; fi  # no pushforward
  fi
  case "$base" in
    n0.01_s4000) sets="--set model.kinds=transformer --set train.noise=0.01 --set train.steps=4000" ;;
    mgn_n0.01) sets="--set model.kinds=meshgraphnet --set train.noise=0.01" ;;
    pf[0-9]*_n* | mgn_pf[0-9]*_n*)
      kind=transformer; if [[ "$base" == mgn_* ]]; then kind=meshgraphnet; fi
      rest="${base#*pf}"; p="${rest%%_*}"; rest="${rest#*_n}"
      sets="--set model.kinds=$kind --set train.pushforward=$p --set train.noise=${rest%%_s*}"
      if [[ "$rest" == *_s* ]]; then sets="$sets --set train.steps=${rest##*_s}"; fi ;;
    n[0-9]*) sets="--set model.kinds=transformer --set train.noise=${base#n}" ;;  # n0.002: the ablation's A
    *) echo "mesh_noise_study.sh: unknown variant '$v' ($all)" >&2; exit 2 ;;
  esac
  sets="$sets $seed_sets"
  if [[ -f "$out/$v/run.h5" ]]; then echo "$v: done before ($out/$v/run.h5)"; continue; fi
  echo "$v: training ($(date +%H:%M:%S))"
  # shellcheck disable=SC2086
  build/bin/tessera run experiments/mesh_transformer_medium.toml --out "$out/$v" \
    --set rollout.vtk_trajectories=0 $sets >"$out/$v.log" 2>&1
done
# The table: every variant of the full list that has run, then any other variant asked for.
extra=()
for v in "${variants[@]}"; do [[ " $all " == *" $v "* ]] || extra+=("$v"); done
/usr/bin/python3 - "$out" $all "${extra[@]}" <<'PY'
import os, sys
import h5py
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
out, names = sys.argv[1], sys.argv[2:]


def last_frame_below(model, persistence):
    """The last frame up to which the model's error stays below persistence's, per frame
    (mean over trajectories of that frame's RMSE) and cumulative (the horizon RMSE of
    models/mesh_transformer: per trajectory over frames 1..t, then the mean); frame 0 is
    the true initial state."""
    def last_below(a, b):
        worse = np.nonzero(a[1:] >= b[1:])[0]
        return int(worse[0]) if worse.size else len(a) - 1
    t = np.arange(1, model.shape[1])
    horizon = lambda e: np.sqrt(np.cumsum(e[:, 1:] ** 2, axis=1) / t).mean(axis=0)
    return (last_below(model.mean(axis=0), persistence.mean(axis=0)),
            last_below(np.concatenate([[0], horizon(model)]), np.concatenate([[0], horizon(persistence)])))
rows, persistence = [], None
fig, ax = plt.subplots(figsize=(7, 4.5))
for v in names:
    path = os.path.join(out, v, "run.h5")
    if not os.path.exists(path):
        continue
    with h5py.File(path, "r") as f:
        model = "meshgraphnet" if v.startswith("mgn") else "transformer"
        h = f[f"/rollout/{model}/horizon_rmse"][()]
        curve = f[f"/rollout/{model}/rmse"][()].mean(axis=0)
        persistence = (f["/rollout/persistence/horizon_rmse"][()],
                       f["/rollout/persistence/rmse"][()].mean(axis=0))
        seconds = f.attrs.get(f"{model}_train_seconds_per_step", float("nan"))
        beats = (last_frame_below(f[f"/rollout/{model}/rmse"][()], f["/rollout/persistence/rmse"][()]))
    rows.append((v, h, seconds, beats))
    ax.plot(curve, label=v, linestyle=["-", "-.", ":"][(len(rows) - 1) // 10 % 3])  # 10 colours a style
if rows:
    print("| variant | RMSE-1 | RMSE-10 | RMSE-50 | RMSE-all | s / training step "
          "| below persistence up to frame (per frame / cumulative) |")
    print("|---|---|---|---|---|---|---|")
    for v, h, s, beats in rows:
        print(f"| {v} | " + " | ".join(f"{x:.4g}" for x in h) + f" | {s:.3f} | {beats[0]} / {beats[1]} |")
    print("| persistence | " + " | ".join(f"{x:.4g}" for x in persistence[0]) + " | - | - |")
    ax.plot(persistence[1], "k--", label="persistence")
    ax.set_xlabel("frame")
    ax.set_ylabel("rollout RMSE (mean over test trajectories)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out, "mesh_noise_rollout_rmse.png"), dpi=120)
    print(f"plot: {os.path.join(out, 'mesh_noise_rollout_rmse.png')}")
PY
