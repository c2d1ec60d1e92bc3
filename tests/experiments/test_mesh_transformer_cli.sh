#!/usr/bin/env bash
# End-to-end tests of the mesh_transformer experiment: a tiny trajectory data set made by
# the flow experiment, both models trained a few steps and rolled out, the plot script;
# bad input. Usage: test_mesh_transformer_cli.sh TESSERA_BINARY CASE [RANKS]
# CASE: run (on RANKS ranks) | bad_input | bench (the quick benchmark part and its twin)
set -uo pipefail
tessera="$1"
case_name="$2"
ranks="${3:-1}"
# shellcheck source=SCRIPTDIR/cli_helpers.sh
source "$(dirname "$0")/cli_helpers.sh"
make_work_dir tessera_mesh_cli

make_data() {
  "$tessera" run "$source_dir/experiments/cylinder_dataset.toml" --out "$work/data" \
    --set mesh.size=0.08 --set mesh.cylinder_size=0.02 --set dataset.train=2 \
    --set dataset.valid=0 --set dataset.test=1 --set dataset.frames=6 --set dataset.warmup=0.05 \
    --set output.vtk=false >"$work/data.log" 2>&1 || fail "data set run failed: $(cat "$work/data.log")"
}

write_experiment() {  # write_experiment FILE [extra TOML lines...]
  local file="$1"
  shift
  {
    echo '[run]'
    echo 'experiment = "mesh_transformer"'
    echo '[data]'
    echo "train = \"$work/data/train.h5\""
    echo "test = \"$work/data/test.h5\""
    echo '[model]'
    echo 'dim = 16'
    echo 'layers = 2'
    echo 'latent = 16'
    echo 'blocks = 2'
    echo '[train]'
    echo 'steps = 10'
    echo 'warmup = 2'
    echo 'log_every = 5'
    echo '[rollout]'
    echo 'horizons = [1, 3]'
    printf '%s\n' "$@"
  } >"$file"
}

case "$case_name" in
  run)
    make_data
    write_experiment "$work/exp.toml"
    mpirun -np "$ranks" "$tessera" run "$work/exp.toml" --out "$work/run" >"$work/run.log" 2>&1 \
      && pass || fail "mesh_transformer run on $ranks ranks failed: $(cat "$work/run.log")"
    for object in /rollout/transformer/rmse /rollout/meshgraphnet/rmse /rollout/persistence/rmse \
                  /rollout/horizons /metrics/transformer_loss /metrics/meshgraphnet_loss \
                  /checkpoint/transformer/parameters /checkpoint/meshgraphnet/normalizers/node_mean; do
      h5ls "$work/run/run.h5$object" >/dev/null 2>&1 && pass || fail "run.h5 lacks $object"
    done
    grep -q "rollout RMSE of persistence (baseline)" "$work/run.log" && pass \
      || fail "the log lacks the baseline: $(cat "$work/run.log")"
    [ -s "$work/run/rollout_transformer_0.pvd" ] && pass || fail "no rollout VTK series"
    # Evaluation from the checkpoint: the same rollout errors without training.
    mpirun -np "$ranks" "$tessera" run "$work/exp.toml" --out "$work/again" \
      --set "model.checkpoint=\"$work/run/run.h5\"" --set train.steps=0 >"$work/again.log" 2>&1 \
      && pass || fail "evaluation from the checkpoint failed: $(cat "$work/again.log")"
    h5diff "$work/run/run.h5" "$work/again/run.h5" /rollout/transformer/horizon_rmse >/dev/null \
      && pass || fail "the checkpoint does not give the same rollout"
    # A checkpoint of another architecture is refused, naming the file and the parameter.
    expect_error "other architecture" "$ranks" 2 "checkpoint" -- run "$work/exp.toml" \
      --out "$work/wrong" --set model.dim=32 --set "model.checkpoint=\"$work/run/run.h5\"" \
      --set train.steps=0
    # Global attention nodes (and half the heads of the last block dilated): a transformer
    # with tokens trains and rolls out; the checkpoint without them is refused for it.
    mpirun -np "$ranks" "$tessera" run "$work/exp.toml" --out "$work/global" \
      --set model.kinds=transformer --set model.global_nodes=2 --set model.dilated_layers=1 \
      --set model.dilated_heads=2 >"$work/global.log" 2>&1 \
      && pass || fail "a run with global nodes and dilated heads failed: $(cat "$work/global.log")"
    h5ls "$work/global/run.h5/rollout/transformer/rmse" >/dev/null 2>&1 && pass \
      || fail "the run with global nodes has no rollout"
    expect_error "checkpoint without global nodes" "$ranks" 2 "global.tokens" -- run "$work/exp.toml" \
      --out "$work/wrong_global" --set model.kinds=transformer --set model.global_nodes=2 \
      --set "model.checkpoint=\"$work/run/run.h5\"" --set train.steps=0
    # Each mesh split over the 2 ranks (halo exchange before every block) instead of the
    # batch: the same training, so the same rollout errors up to float rounding.
    if [ "$ranks" = 2 ]; then
      mpirun -np 2 "$tessera" run "$work/exp.toml" --out "$work/split" --set train.domain_ranks=2 \
        >"$work/split.log" 2>&1 && pass || fail "a run with train.domain_ranks=2 failed: $(cat "$work/split.log")"
      grep -q "split over 2 ranks (METIS)" "$work/split.log" && pass \
        || fail "the split run does not report its partition: $(cat "$work/split.log")"
      # Each rank read only its own part of each mesh and its own nodes' frames.
      grep -q "read in 2 parts" "$work/split.log" && pass \
        || fail "the split run does not report reading its meshes in parts: $(cat "$work/split.log")"
      # Its rollout series is partitioned as the computation: one piece per rank.
      pvtu=$(ls "$work/split/"rollout_transformer_0_*.pvtu 2>/dev/null | head -n 1)
      [ -n "$pvtu" ] && [ "$(grep -c "<Piece" "$pvtu")" = 2 ] && pass \
        || fail "the split run's rollout is not written as 2 pieces: ${pvtu:-no .pvtu}"
      for name in transformer meshgraphnet; do
        h5diff -p 1e-4 "$work/run/run.h5" "$work/split/run.h5" "/rollout/$name/horizon_rmse" \
          >"$work/split_diff.txt" 2>&1 && pass \
          || fail "$name: the split mesh's rollout differs from the batch-parallel run: $(cat "$work/split_diff.txt")"
      done
      # Global attention nodes on the split mesh: their softmax is merged over the ranks.
      mpirun -np 2 "$tessera" run "$work/exp.toml" --out "$work/global_split" \
        --set train.domain_ranks=2 --set model.kinds=transformer --set model.global_nodes=2 \
        --set model.dilated_layers=1 --set model.dilated_heads=2 >"$work/global_split.log" 2>&1 \
        && pass || fail "a split run with global nodes failed: $(cat "$work/global_split.log")"
      h5diff -p 1e-4 "$work/global/run.h5" "$work/global_split/run.h5" \
        /rollout/transformer/horizon_rmse >"$work/split_diff.txt" 2>&1 && pass \
        || fail "global nodes: the split mesh's rollout differs from the batch-parallel run: $(cat "$work/split_diff.txt")"
      # The split-mesh training step benchmarks (quick forms), with blocks kept and recomputed.
      for part in mesh_split mesh_split_large mesh_split_weak mesh_split_million mesh_split_global; do
        mpirun -np 2 "$tessera" bench halo --quick --only "$part" --out "$work/bench_$part" \
          >"$work/bench_$part.log" 2>&1 && pass || fail "bench halo --only $part failed: $(cat "$work/bench_$part.log")"
        grep -q "^mesh_split_step,.*ranks=2" "$work/bench_$part/bench.csv" && pass \
          || fail "$part: bench.csv lacks the 2-rank mesh_split_step rows: $(cat "$work/bench_$part/bench.csv")"
      done
      grep -q "recompute ranks=2" "$work/bench_mesh_split_large/bench.csv" && pass \
        || fail "mesh_split_large has no recomputed case"
      # The split's sizes are in run.h5 for the performance model: the 1-rank run holds
      # the whole mesh without ghosts, each of 2 ranks about half of it and some ghosts.
      if /usr/bin/python3 -c "import h5py" 2>/dev/null; then
        /usr/bin/python3 - "$work/run/run.h5" "$work/split/run.h5" <<'PY' && pass || fail "the split sizes in run.h5 are wrong"
import sys, h5py
whole, split = (dict(h5py.File(p, "r").attrs) for p in sys.argv[1:3])
n = whole["transformer_train_mesh_nodes"]
assert n > 0 and whole["transformer_train_max_local_nodes"] == n, whole
assert whole["transformer_train_max_ghost_nodes"] == 0 == whole["transformer_train_max_neighbours"]
assert split["transformer_train_mesh_nodes"] == n, split
assert n / 2 < split["transformer_train_max_local_nodes"] < n, split
assert split["transformer_train_max_ghost_nodes"] > 0 and split["transformer_train_max_neighbours"] == 1, split
assert split["meshgraphnet_train_max_ghost_nodes"] > 0, split
PY
        # A strong-scaling sweep of the split mesh (sweep.ranks_key) and the performance
        # model on it: the 1-rank prediction is the 1-rank runs' own time, the 2-rank point
        # has an error entry.
        cat >"$work/sweep.toml" <<EOF
[sweep]
name = "mesh_split"
experiment = "$work/exp.toml"
kind = "strong"
measure = "mesh.forward_backward"
ranks_key = "train.domain_ranks"
set = ["model.kinds=\"transformer\"", "rollout.vtk_trajectories=0"]
[axis]
ranks = [1, 2]
EOF
        /usr/bin/python3 "$source_dir/cluster/sweep.py" "$work/sweep.toml" --out "$work/study" \
          --tessera "$tessera" >"$work/sweep.log" 2>&1 && pass || fail "the split-mesh sweep failed: $(cat "$work/sweep.log")"
        grep -q "split over 2 ranks (METIS)" "$work/study/logs/np2-rep1.log" && pass \
          || fail "the 2-rank point did not split its mesh: $(cat "$work/study/logs/np2-rep1.log")"
        mpirun -np 2 "$tessera" bench scaling_model --quick --out "$work/bench_model" \
          >"$work/bench_model.log" 2>&1 && pass || fail "bench scaling_model failed: $(cat "$work/bench_model.log")"
        /usr/bin/python3 "$source_dir/analysis/performance_model.py" --bench "$work/bench_model" \
          --mesh-study "$work/study" --cores 2 --max-ranks 8 --out "$work/model" >"$work/model.log" 2>&1 \
          && pass || fail "performance_model.py --mesh-study failed: $(cat "$work/model.log")"
        /usr/bin/python3 - "$work/model/model.csv" <<'PY' && pass || fail "model.csv: $(cat "$work/model/model.csv")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
measured = [r for r in rows if r["model"] == "mesh_measured"]
assert [int(r["ranks"]) for r in measured] == [1, 2], measured
one, two = measured
assert one["predicted here (s/step)"] == one["measured (s/step)"] and one["error"] in ("+0%", "-0%"), one
assert two["error"].endswith("%") and float(two["ghosts (max)"]) > 0, two
assert [int(r["ranks"]) for r in rows if r["model"] == "mesh_strong_k1"] == [1, 2, 4, 8], rows
PY
        [ -s "$work/model/model.png" ] && pass || fail "the model's plot is missing"
      fi
    fi
    if /usr/bin/python3 -c "import h5py, matplotlib" 2>/dev/null; then
      /usr/bin/python3 "$source_dir/analysis/plot_mesh_transformer.py" "$work/run" >"$work/plot.log" 2>&1 \
        && pass || fail "plot_mesh_transformer.py failed: $(cat "$work/plot.log")"
      for file in mesh_rollout_rmse.png mesh_losses.png mesh_table.md; do
        [ -s "$work/run/$file" ] && pass || fail "$file not written"
      done
      grep -q "persistence (baseline)" "$work/run/mesh_table.md" && pass || fail "table lacks the baseline"
    fi
    ;;
  bad_input)
    write_experiment "$work/missing.toml"
    expect_error "missing data" 1 2 "key 'data.train'" -- validate "$work/missing.toml"
    write_experiment "$work/kinds.toml"
    sed -i 's/^\[model\]/[model]\nkinds = "transformer, gnn"/' "$work/kinds.toml"
    expect_error "unknown model kind" 1 2 "key 'model.kinds': model kind 'gnn'" -- \
      validate "$work/kinds.toml"
    write_experiment "$work/heads.toml"
    sed -i 's/^dim = 16/dim = 15/' "$work/heads.toml"
    make_data
    expect_error "heads" 1 2 "model.dim' = 15" -- validate "$work/heads.toml"
    expect_error "dilated heads" 1 2 "key 'model.dilated_heads' = 5 but model.heads = 4" -- \
      validate "$work/missing.toml" --set "data.train=\"$work/data/train.h5\"" \
      --set "data.test=\"$work/data/test.h5\"" --set model.dilated_layers=1 --set model.dilated_heads=5
    expect_error "domain ranks" 1 2 "key 'train.domain_ranks' = 2 does not divide the 1 ranks" -- \
      validate "$work/missing.toml" --set "data.train=\"$work/data/train.h5\"" \
      --set "data.test=\"$work/data/test.h5\"" --set train.domain_ranks=2
    expect_error "unrolled steps" 1 2 \
      "key 'train.unrolled_steps' = 2 learns each step's change from the model's own state" -- \
      validate "$work/missing.toml" --set "data.train=\"$work/data/train.h5\"" \
      --set "data.test=\"$work/data/test.h5\"" --set train.unrolled_steps=2 \
      --set train.noise_corrected_target=false
    ;;
  bench)
    "$tessera" bench nn --quick --only mesh --out "$work/bench" >"$work/bench.log" 2>&1 \
      && pass || fail "tessera bench nn --only mesh failed: $(cat "$work/bench.log")"
    for name in mesh_transformer_step meshgraphnet_step; do
      grep -q "^$name," "$work/bench/bench.csv" && pass || fail "bench.csv lacks $name"
    done
    if /usr/bin/python3 -c "import torch" 2>/dev/null; then
      /usr/bin/python3 "$source_dir/analysis/reference/bench_mesh_torch.py" --quick >"$work/torch.json" \
        && pass || fail "bench_mesh_torch.py failed"
      /usr/bin/python3 - "$work/torch.json" "$work/bench/bench.csv" <<'PY2' && pass || fail "parameter counts differ"
import csv, json, sys
torch_rows = {r["benchmark"]: r["extra"] for r in json.load(open(sys.argv[1]))}
ours = {r["benchmark"]: float(r["extra"]) for r in csv.DictReader(open(sys.argv[2]))}
sys.exit(0 if all(abs(ours[k] - v) < 0.5 for k, v in torch_rows.items()) else 1)
PY2
    fi
    ;;
  *)
    echo "unknown case $case_name"
    exit 2
    ;;
esac

finish_checks
