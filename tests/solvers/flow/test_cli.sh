#!/usr/bin/env bash
# End-to-end tests of `tessera run` with the flow experiment.
# usage: test_cli.sh TESSERA_BINARY CASE   CASE: dataset | diverge | ranks
set -uo pipefail
tessera="$1"
case_name="$2"
# shellcheck source=SCRIPTDIR/../../experiments/cli_helpers.sh
source "$(dirname "$0")/../../experiments/cli_helpers.sh"
make_work_dir tessera_flow_cli
python=/usr/bin/python3
small="--set mesh.size=0.08 --set mesh.cylinder_size=0.02"

case "$case_name" in
dataset)
  # A tiny data set: the split files exist, have the MeshGraphNets layout, and ParaView
  # series exist for each trajectory.
  "$tessera" run "$source_dir/experiments/cylinder_dataset.toml" $small \
    --set dataset.train=2 --set dataset.valid=1 --set dataset.test=0 --set dataset.frames=3 \
    --set dataset.steps_per_frame=1 --set dataset.warmup=0.02 --out "$work/ds" >"$work/log" 2>&1 ||
    fail "dataset run failed: $(cat "$work/log")"
  for f in train.h5 valid.h5 run.h5 train_0.pvd train_1.pvd valid_0.pvd; do
    [ -f "$work/ds/$f" ] || fail "missing $f"
  done
  [ -f "$work/ds/test.h5" ] && fail "test.h5 written for 0 test trajectories"
  "$python" - "$work/ds" <<'PY' || fail "layout check failed"
import sys, h5py
d = sys.argv[1]
with h5py.File(f"{d}/train.h5", "r") as f:
    assert sorted(f.keys()) == ["0", "1"], list(f.keys())
    g = f["1"]
    n = g["mesh_pos"].shape[1]
    assert g["mesh_pos"].shape == (1, n, 2)
    assert g["cells"].shape[0] == 1 and g["cells"].shape[2] == 3
    assert g["node_type"].shape == (1, n, 1)
    assert g["velocity"].shape == (3, n, 2), g["velocity"].shape
    assert g["pressure"].shape == (3, n, 1)
    for key in ["dt", "max_inflow", "cylinder_x", "cylinder_y", "cylinder_radius", "reynolds"]:
        assert key in g.attrs, key
    assert abs(g.attrs["dt"] - 0.005) < 1e-12  # solver.dt x steps_per_frame
    assert abs(f["0"].attrs["cylinder_x"] - f["1"].attrs["cylinder_x"]) > 0  # varied cases
with h5py.File(f"{d}/run.h5", "r") as f:  # every trajectory's solver is timed
    assert f.attrs["halo_exchanges_per_step"] > 1 and f.attrs["allreduces_per_step"] > 1
    assert f["timings/solver.halo_exchange"].attrs["calls"] > f["timings/solver"].attrs["calls"]
PY
  ;;
diverge)
  # A velocity limit reached at some step: exit code 1, the step named once, the results
  # file left as run.h5.partial with the last good fields and the failing step.
  out="$("$tessera" run "$source_dir/experiments/dfg_2d2.toml" $small --set solver.dt=0.01 \
    --set solver.t_end=1 --set flow.ramp_time=0.5 --set solver.velocity_limit=0.5 \
    --set output.field_interval=0.05 --set output.vtk=false --out "$work/div" 2>&1)"
  status=$?
  [ "$status" -eq 1 ] || fail "exit code $status, expected 1: $out"
  grep -q "diverged at step" <<<"$out" || fail "no step named: $out"
  [ "$(grep -c "tessera: error" <<<"$out")" -eq 1 ] || fail "error not printed once: $out"
  [ -f "$work/div/run.h5.partial" ] || fail "run.h5.partial missing"
  [ -f "$work/div/run.h5" ] && fail "a failed run left run.h5"
  "$python" - "$work/div/run.h5.partial" <<'PY' || fail "partial file check failed"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    step = f.attrs["diverged_at_step"]
    times = f["fields/time"][:]
    assert f["fields/velocity"].shape[0] == len(times) >= 2
    # the last field is the last good state: one step before the failing one
    assert abs(times[-1] - (step - 1) * 0.01) < 1e-9, (times[-1], step)
PY
  # A time step whose CFL estimate is above solver.max_cfl is refused before running.
  out="$("$tessera" validate "$source_dir/experiments/dfg_2d2.toml" --set solver.dt=0.05 2>&1)"
  status=$?
  [ "$status" -eq 2 ] || fail "CFL: exit code $status, expected 2: $out"
  grep -q "solver.dt" <<<"$out" || fail "CFL message lacks the key: $out"
  ;;
ranks)
  # 1 and 2 ranks (Jacobi-CG), and 2 ranks with hypre's AMG for the pressure: the same
  # drag and lift series to solver tolerance.
  for np in 1 2; do
    mpirun -np $np "$tessera" run "$source_dir/experiments/dfg_2d2.toml" $small \
      --set solver.t_end=0.05 --set solver.dt=0.005 --set output.vtk=false \
      --set solver.pressure_tolerance=1e-12 --set solver.momentum_tolerance=1e-12 \
      --out "$work/np$np" >"$work/log$np" 2>&1 || fail "run on $np ranks failed: $(cat "$work/log$np")"
  done
  runs="np2"
  mpirun -np 2 "$tessera" run "$source_dir/experiments/dfg_2d2.toml" $small \
    --set solver.t_end=0.05 --set solver.dt=0.005 --set output.vtk=false \
    --set solver.pressure_tolerance=1e-12 --set solver.momentum_tolerance=1e-12 \
    --set solver.pressure_solver=amg --out "$work/amg" >"$work/logamg" 2>&1
  status=$?
  if [ "$status" -eq 0 ]; then
    runs="np2 amg"
  elif grep -q "needs hypre" "$work/logamg"; then
    echo "SKIPPED: the AMG pressure solver (this build has no hypre)"
  else
    fail "AMG run failed: $(cat "$work/logamg")"
  fi
  "$python" - "$work" $runs <<'PY' || fail "runs differ from 1 rank"
import sys, h5py, numpy as np
d = sys.argv[1]
a = h5py.File(f"{d}/np1/run.h5", "r")
for run in sys.argv[2:]:
    b = h5py.File(f"{d}/{run}/run.h5", "r")
    for name in ["metrics/drag_coefficient", "metrics/lift_coefficient", "fields/velocity", "fields/pressure"]:
        x, y = a[name][:], b[name][:]
        assert x.shape == y.shape, (run, name)
        assert np.max(np.abs(x - y)) < 1e-7, (run, name, np.max(np.abs(x - y)))
PY
  # The communication regions nested in "solver" and the message counts per step.
  "$python" - "$work" np1 $runs <<'PY' || fail "communication timings or counts missing"
import sys, h5py
d = sys.argv[1]
for run in sys.argv[2:]:
    f = h5py.File(f"{d}/{run}/run.h5", "r")
    solver = f["timings/solver"]
    for region in ["solver.halo_exchange", "solver.allreduce"]:
        t = f[f"timings/{region}"]
        assert t.attrs["calls"] > solver.attrs["calls"], (run, region)
        assert 0 <= t[1] <= solver[1], (run, region, t[:], solver[:])
    for name in ["halo_exchanges_per_step", "allreduces_per_step"]:
        assert f.attrs[name] > 1, (run, name)
    for name in ["steps", "pressure_iterations_per_step", "linear_iterations_per_step", "p2_nodes", "vertices"]:
        assert name in f.attrs, (run, name)
PY
  ;;
*)
  echo "unknown case $case_name"
  exit 2
  ;;
esac
if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "flow cli $case_name: ok"
