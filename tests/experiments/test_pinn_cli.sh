#!/usr/bin/env bash
# End-to-end tests of the pinn_traffic experiment: usage: test_pinn_cli.sh TESSERA CASE
# CASE: keys | bad_input | run (1 rank against 2 ranks, standard and MTO) | analysis | ngsim
set -uo pipefail
tessera="$1"
case_name="$2"
# shellcheck source=SCRIPTDIR/cli_helpers.sh
source "$(dirname "$0")/cli_helpers.sh"
make_work_dir tessera_pinn_cli

# A tiny ring-road PINN: 64 cells, 3 detectors, a 3 x 12 network, a few dozen steps.
write_experiment() {  # write_experiment FILE [extra TOML lines...]
  local file="$1"
  shift
  {
    echo '[run]'
    echo 'experiment = "pinn_traffic"'
    echo '[solver]'
    echo 'cells = 64'
    echo 't_end = 0.5'
    echo '[detectors]'
    echo 'positions = [0.2, 0.5, 0.8]'
    echo 'interval = 0.025'
    echo '[observations]'
    echo 'initial_points = 32'
    echo '[model]'
    echo 'hidden_layers = 3'
    echo 'width = 12'
    echo 'precision = "double"'
    echo '[collocation]'
    echo 'points = 203'
    echo 'boundary_points = 16'
    echo '[train]'
    echo 'adam_steps = 60'
    echo 'lr = 3e-3'
    echo 'lbfgs_evaluations = 20'
    echo 'log_every = 10'
    echo '[mto]'
    echo 'interval = 10'
    echo 'validation_points = 128'
    echo '[output]'
    echo "dir = \"$work/results\""
    echo 'field_interval = 0.025'
    printf '%s\n' "$@"
  } >"$file"
}

case "$case_name" in
  keys)
    out="$("$tessera" keys pinn_traffic 2>&1)" || fail "keys pinn_traffic exited non-zero"
    for key in "points = 10000" 'sampler = "sobol"' "adam_steps = 10000" "enabled = false" \
      "viscosity = 0.005"; do
      grep -qF "$key" <<<"$out" && pass || fail "keys pinn_traffic lacks '$key'"
    done
    for file in pinn_ring pinn_riemann pinn_platoons pinn_ngsim pinn_mto_study; do
      "$tessera" validate "$source_dir/experiments/$file.toml" >/dev/null 2>&1 && pass \
        || [ "$file" = pinn_ngsim ] || fail "validate experiments/$file.toml"
    done
    ;;

  bad_input)
    write_experiment "$work/ok.toml"
    expect_error detector_outside 1 2 "detectors.positions[1] = 1.5 is outside the road" -- \
      run "$work/ok.toml" --set "detectors.positions=[0.5, 1.5]"
    expect_error detector_outside_np2 2 2 "ok.toml: detectors.positions[0] = -0.2" -- \
      validate "$work/ok.toml" --set "detectors.positions=[-0.2]"
    expect_error empty_observations 1 2 "ok.toml: empty observation set" -- \
      run "$work/ok.toml" --set "detectors.positions=[]"
    expect_error negative_eps 1 2 "'solver.viscosity' = -0.005 is out of range" -- \
      run "$work/ok.toml" --set solver.viscosity=-0.005
    expect_error truth_refinement 1 2 "'solver.truth_refinement' = 0 is out of range" -- \
      run "$work/ok.toml" --set solver.truth_refinement=0
    printf '0.1 0.2 0.3\n0.1 0.2 0.3\n0.1 -0.05 0.3\n0.1 0.2 0.3\n' >"$work/negative.txt"
    write_experiment "$work/negative.toml" '[data]' 'source = "ngsim"' \
      "file = \"$work/negative.txt\""
    sed -i 's/^positions = .*/positions = [10.0]/' "$work/negative.toml"
    expect_error negative_density 2 2 "negative.txt: row 3, column 2: density -0.05 is negative" -- \
      run "$work/negative.toml"
    printf '0.1 0.2 0.3\n0.1 0.2 0.3\n' >"$work/grid.txt"
    write_experiment "$work/all_rows.toml" '[data]' 'source = "ngsim"' "file = \"$work/grid.txt\""
    sed -i 's/^positions = .*/positions = [5.0, 25.0]/' "$work/all_rows.toml"
    expect_error no_held_out_rows 1 2 "none is left to evaluate on" -- run "$work/all_rows.toml"
    # Speeds, validation rows and the estimators' keys.
    printf '0.1 0.2 0.3\n0.1 0.2 0.3\n0.1 0.2 0.3\n0.1 0.2 0.3\n' >"$work/grid4.txt"
    printf '30 20 10\n30 20 10\n' >"$work/speed2.txt"
    write_experiment "$work/grid4.toml" '[data]' 'source = "ngsim"' "file = \"$work/grid4.txt\""
    sed -i 's/^positions = .*/positions = [10.0, 70.0]/' "$work/grid4.toml"
    expect_error speed_shape 1 2 "speed2.txt: a speed grid of 2 x 3" -- \
      run "$work/grid4.toml" --set "data.speed_file=\"$work/speed2.txt\""
    expect_error validation_observed 1 2 "grid4.toml: detectors.validation" -- \
      run "$work/grid4.toml" --set "detectors.validation=[15.0]"
    expect_error select_without_rows 1 2 "train.select = \"validation\" needs validation rows" -- \
      run "$work/grid4.toml" --set train.select=validation
    expect_error speed_without_file 1 2 "loss.speed_weight = 1 needs measured speeds" -- \
      run "$work/ok.toml" --set loss.speed_weight=1
    expect_error refine_points 1 2 "collocation.refine_points = 50 is more than" -- \
      run "$work/ok.toml" --set collocation.refine_every=10 --set collocation.refine_points=50 \
      --set collocation.refine_candidates=20
    expect_error asm_sign 1 2 "'baselines.asm_c_congested' = 5" -- \
      run "$work/ok.toml" --set baselines.asm_c_congested=5
    expect_error arz_ring 1 2 "model.pde = \"arz\" is for open roads" -- \
      run "$work/ok.toml" --set model.pde=arz
    expect_error arz_learned 1 2 "model.learn_diagram = true with model.pde = \"arz\"" -- \
      run "$work/grid4.toml" --set model.pde=arz --set model.learn_diagram=true
    expect_error unknown_task 1 2 "unknown auxiliary task 'bogus'" -- \
      run "$work/ok.toml" --set mto.enabled=true --set 'mto.tasks="data_heavy, bogus"'
    expect_error bad_sampler 1 2 "collocation.sampler" -- \
      run "$work/ok.toml" --set collocation.sampler=halton
    if [ -d "$work/results" ] && [ -n "$(find "$work/results" -name 'run.h5*')" ]; then
      fail "a rejected configuration left files: $(find "$work/results")"
    else
      pass
    fi
    ;;

  run)
    write_experiment "$work/exp.toml"
    for mode in standard mto; do
      extra=()
      [ "$mode" = mto ] && extra=(--set mto.enabled=true)
      "$tessera" run "$work/exp.toml" --out "$work/$mode-1" "${extra[@]}" >/dev/null 2>&1 \
        && pass || fail "$mode: 1-rank run failed"
      mpirun -np 2 "$tessera" run "$work/exp.toml" --out "$work/$mode-2" "${extra[@]}" \
        >"$work/$mode-2.log" 2>&1 && pass || fail "$mode: 2-rank run failed: $(cat "$work/$mode-2.log")"
      for d in "$mode-1" "$mode-2"; do
        [ -f "$work/$d/run.h5" ] && [ -f "$work/$d/pinn_spacetime.pvd" ] && pass \
          || fail "$d: run.h5 or pinn_spacetime.pvd missing"
      done
      # The same trajectory on 1 and 2 ranks, to round-off.
      for object in /pinn/density_pred /metrics/relative_l2 /metrics/loss_total; do
        h5diff -p 1e-8 "$work/$mode-1/run.h5" "$work/$mode-2/run.h5" "$object" >/dev/null \
          && pass || fail "$mode: $object differs between 1 and 2 ranks"
      done
      h5dump -a /relative_l2 "$work/$mode-1/run.h5" >/dev/null 2>&1 && pass \
        || fail "$mode: no relative_l2 attribute"
    done
    h5dump -d /metrics/mto_alpha "$work/mto-1/run.h5" >/dev/null 2>&1 && pass \
      || fail "mto: no /metrics/mto_alpha"
    ;;

  analysis)
    if ! /usr/bin/python3 -c "import h5py, matplotlib" 2>/dev/null; then
      echo "TESSERA_SKIP: /usr/bin/python3 lacks h5py or matplotlib"
      exit 0
    fi
    write_experiment "$work/exp.toml"
    "$tessera" run "$work/exp.toml" --out "$work/standard" --set output.vtk=false \
      >/dev/null 2>&1 || fail "standard run failed"
    "$tessera" run "$work/exp.toml" --out "$work/mto" --set output.vtk=false \
      --set mto.enabled=true >/dev/null 2>&1 || fail "mto run failed"
    /usr/bin/python3 "$source_dir/analysis/plot_pinn_traffic.py" "$work/mto" >"$work/plot.log" 2>&1 \
      || fail "plot_pinn_traffic.py failed: $(cat "$work/plot.log")"
    for png in pinn_spacetime pinn_error pinn_losses pinn_transfers pinn_estimators pinn_error_by_row; do
      [ -s "$work/mto/$png.png" ] && pass || fail "$png.png not written"
    done
    /usr/bin/python3 "$source_dir/analysis/pinn_mto_study.py" --standard "$work/standard" \
      --mto "$work/mto" --out "$work/study" >"$work/study.log" 2>&1 \
      || fail "pinn_mto_study.py failed: $(cat "$work/study.log")"
    [ -s "$work/study/mto_vs_standard.png" ] && pass || fail "mto_vs_standard.png not written"
    grep -q "| standard |" "$work/study/study.md" && pass || fail "study.md lacks the table"
    ;;

  ngsim)
    data_file=""
    for root in "${TESSERA_DATA:-}" "$source_dir/../shared/data"; do
      if [ -n "$root" ] && [ -f "$root/traffic/NGSIM_US80_4pm_Density_Data.txt" ]; then
        data_file="$root/traffic/NGSIM_US80_4pm_Density_Data.txt"
        break
      fi
    done
    if [ -z "$data_file" ]; then
      echo "TESSERA_SKIP: no shared data root (set TESSERA_DATA or place ../shared/data beside the project)"
      exit 0
    fi
    out="$("$tessera" run "$source_dir/experiments/pinn_ngsim.toml" --out "$work/ngsim" \
      --set train.adam_steps=20 --set train.lbfgs_evaluations=0 --set train.log_every=10 \
      --set collocation.points=256 --set output.vtk=false 2>&1)" \
      && pass || fail "ngsim run failed: $out"
    grep -q "on held-out rows" <<<"$out" && pass || fail "ngsim: no held-out metric: $out"
    # The classical estimators beside the PINN, scored on the same rows.
    grep -q "PINN against the best baseline" <<<"$out" && pass || fail "ngsim: no baseline line: $out"
    for name in mean interpolation adaptive_smoothing lwr; do
      h5dump -a /baselines/$name/density_pred/relative_l2 "$work/ngsim/run.h5" >/dev/null 2>&1 \
        && pass || fail "ngsim: /baselines/$name missing"
    done
    h5dump -a /relative_l2_validation "$work/ngsim/run.h5" >/dev/null 2>&1 && pass \
      || fail "ngsim: no validation error"
    h5dump -d /pinn/in_metric "$work/ngsim/run.h5" >/dev/null 2>&1 && pass \
      || fail "ngsim: /pinn/in_metric missing"
    ;;
  *)
    echo "unknown case $case_name"
    exit 2
    ;;
esac

finish_checks
