#!/usr/bin/env bash
# Mesh-convergence series of the DFG benchmarks: runs experiments/dfg_convergence.toml
# (2D-1) and experiments/dfg_2d2.toml (2D-2) on refined channel meshes, one run at a
# time, then prints the tables with analysis/dfg_table.py.
# usage: analysis/dfg_convergence.sh [OUT_DIR] [LEVELS_2D1] [LEVELS_2D2]
#   levels are "size:cylinder_size" pairs, e.g. "0.08:0.02 0.04:0.01"; "" runs none
# Environment: TESSERA (default build/bin/tessera), MPIRUN (e.g. "mpirun -np 2"),
#   PRESSURE_SOLVER (cg or amg; default cg: amg needs a build with hypre).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-results/dfg_convergence}"
levels_2d1="${2-0.08:0.02 0.04:0.01 0.02:0.005 0.01:0.0025}"
levels_2d2="${3-0.04:0.01 0.02:0.005}"
tessera="${TESSERA:-$root/build/bin/tessera}"
runner=(${MPIRUN:-})
pressure=(--set solver.pressure_solver="${PRESSURE_SOLVER:-cg}")
runs=()
for level in $levels_2d1; do
  size="${level%%:*}" cylinder="${level##*:}"
  dir="$out/2d1_$size"
  [ -f "$dir/run.h5" ] || nice "${runner[@]}" "$tessera" run "$root/experiments/dfg_convergence.toml" \
    --set mesh.size="$size" --set mesh.cylinder_size="$cylinder" "${pressure[@]}" --out "$dir" --overwrite
  runs+=("$dir")
done
for level in $levels_2d2; do
  size="${level%%:*}" cylinder="${level##*:}"
  dir="$out/2d2_$size"
  [ -f "$dir/run.h5" ] || nice "${runner[@]}" "$tessera" run "$root/experiments/dfg_2d2.toml" \
    --set mesh.size="$size" --set mesh.cylinder_size="$cylinder" --set output.vtk=false \
    --set output.field_interval=0 "${pressure[@]}" --out "$dir" --overwrite
  runs+=("$dir")
done
/usr/bin/python3 "$root/analysis/dfg_table.py" "${runs[@]}" --markdown "$out/table.md" --plot
