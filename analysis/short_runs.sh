#!/usr/bin/env bash
# Runs every experiment file in experiments/ with short settings (via --set), each into
# OUT/<file stem>/, so that two builds can be compared run by run with
# analysis/compare_runs.py. Used to check that a change of structure changes no result:
#
#   analysis/short_runs.sh build-before/bin/tessera /tmp/before
#   analysis/short_runs.sh build/bin/tessera /tmp/after
#   for d in /tmp/before/*/; do /usr/bin/python3 analysis/compare_runs.py "$d" "/tmp/after/$(basename "$d")"; done
#
# RANKS (default 2) sets the MPI ranks of every run; about 3 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 2 ]; then
  echo "usage: analysis/short_runs.sh TESSERA_BINARY OUT_DIR" >&2
  exit 2
fi
tessera="$(realpath "$1")"
out="$2"
ranks="${RANKS:-2}"
mkdir -p "$out"
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
export OPENBLAS_NUM_THREADS=1 TESSERA_PROGRESS=off

coarse_channel=(--set mesh.size=0.08 --set mesh.cylinder_size=0.02)
short_pinn=(--set train.adam_steps=200 --set train.lbfgs_evaluations=40 --set train.log_every=20
            --set collocation.points=500 --set mto.interval=20)
short_truth=(--set solver.truth_refinement=2)

run() {
  local file="$1"
  shift
  local stem
  stem="$(basename "$file" .toml)"
  echo "== $stem"
  mpirun -np "$ranks" "$tessera" run "$file" --out "$out/$stem" --overwrite "$@" \
    >"$out/$stem.log" 2>&1 || { echo "   failed: see $out/$stem.log" >&2; return 1; }
}

run experiments/quickstart.toml --set solver.t_end=0.2
run experiments/lwr_riemann.toml
run experiments/lwr_ngsim.toml --set solver.t_end=30.0
run experiments/dfg_2d1.toml "${coarse_channel[@]}" --set solver.t_end=1.0
run experiments/dfg_2d2.toml "${coarse_channel[@]}" --set solver.t_end=0.05 \
  --set output.field_interval=0.01
run experiments/dfg_2d3.toml "${coarse_channel[@]}" --set solver.t_end=0.025 \
  --set output.field_interval=0.01
run experiments/dfg_convergence.toml --set solver.t_end=1.0
run experiments/cylinder_dataset.toml "${coarse_channel[@]}" --set dataset.train=1 \
  --set dataset.valid=1 --set dataset.test=1 --set dataset.frames=3 --set dataset.warmup=0.01
# The old spellings (mesh_size, cylinder_mesh_size) still work, with a deprecation warning.
run experiments/mesh_partition.toml --set mesh.mesh_size=0.04 --set mesh.cylinder_mesh_size=0.01
run experiments/hopfield_beta.toml --set beta_sweep.patterns=64
run experiments/hopfield_capacity.toml --set "capacity.dims=[16, 32]" \
  --set "capacity.counts=[4, 16, 64]"
run experiments/hopfield_images.toml --set "images.counts=[8, 32]"
run experiments/hopfield_learning.toml --set learning.train=256 --set learning.test=128 \
  --set learning.epochs=1
run experiments/pinn_ring.toml "${short_pinn[@]}" "${short_truth[@]}"
run experiments/pinn_riemann.toml "${short_pinn[@]}" "${short_truth[@]}"
run experiments/pinn_platoons.toml "${short_pinn[@]}" "${short_truth[@]}"
run experiments/pinn_mto_study.toml "${short_pinn[@]}" "${short_truth[@]}"
run experiments/pinn_ngsim.toml "${short_pinn[@]}"
# The mesh models on the trajectories made above (both kinds, tiny, a few steps).
run experiments/mesh_transformer_quick.toml --set "data.train=\"$out/cylinder_dataset/train.h5\"" \
  --set "data.test=\"$out/cylinder_dataset/test.h5\"" --set model.dim=16 --set model.layers=2 \
  --set model.latent=16 --set model.blocks=2 --set train.steps=6 --set train.warmup=2 \
  --set train.log_every=2
echo "short_runs: every experiment file ran; results in $out"
