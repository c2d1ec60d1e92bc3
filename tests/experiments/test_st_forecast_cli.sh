#!/usr/bin/env bash
# End-to-end tests of the st_forecast experiment on a small generated sensor series
# (6 sensors, 4 days of 48 steps, a chain graph file): baselines, both models trained a
# few epochs (STTN, STGCN, MLP), the results file, the plot script; bad input.
# Usage: test_st_forecast_cli.sh TESSERA_BINARY CASE [RANKS]   CASE: run | bad_input
set -uo pipefail
tessera="$1"
case_name="$2"
ranks="${3:-1}"
# shellcheck source=SCRIPTDIR/cli_helpers.sh
source "$(dirname "$0")/cli_helpers.sh"
make_work_dir tessera_st_forecast_cli

make_data() {  # series.csv (header of sensor ids, 192 rows), graph.csv (6 x 6 chain)
  make_sensor_data "$work" 6 192
}

write_experiment() {  # write_experiment FILE [extra TOML lines...]
  local file="$1"
  shift
  {
    echo '[run]'
    echo 'experiment = "st_forecast"'
    echo '[data]'
    echo "series = \"$work/series.csv\""
    echo 'header = true'
    echo 'steps_per_day = 48'
    echo 'input_steps = 6'
    echo 'output_steps = 4'
    echo '[graph]'
    echo "file = \"$work/graph.csv\""
    echo '[model]'
    echo 'dim = 8'
    echo 'heads = 2'
    echo 'blocks = 1'
    echo 'ffn_hidden = 16'
    echo 'head_hidden = 16'
    echo 'eigenvectors = 2'
    echo 'mlp_hidden = 16'
    echo 'stgcn_blocks = 1'
    echo 'stgcn_channels = 8'
    echo 'stgcn_spatial_channels = 4'
    echo 'stid_dim = 8'
    echo 'stid_layers = 2'
    echo '[train]'
    echo 'epochs = 3'
    echo 'batch = 16'
    echo '[report]'
    echo 'horizons = [1, 2, 4]'
    printf '%s\n' "$@"
  } >"$file"
}

make_data
case "$case_name" in
  run)
    write_experiment "$work/exp.toml"
    mpirun -np "$ranks" "$tessera" run "$work/exp.toml" --out "$work/run" >"$work/run.log" 2>&1 \
      && pass || fail "st_forecast run on $ranks ranks failed: $(cat "$work/run.log")"
    for object in /test/persistence/mae /test/historical_average/rmse /test/previous_day/mape \
                  /test/sttn/mae /test/stgcn/mae /test/stid/mae /test/mlp/mae /test/horizon_minutes \
                  /metrics/sttn_validation_mae /metrics/mlp_train_mae /metrics/sttn_elapsed_seconds \
                  /checkpoint/sttn/parameters /checkpoint/stid/parameters; do
      h5ls "$work/run/run.h5$object" >/dev/null 2>&1 && pass || fail "run.h5 lacks $object"
    done
    for attribute in /train_windows /validation_windows /test_windows /zscore_mean /zscore_std; do
      h5dump -a "$attribute" "$work/run/run.h5" >/dev/null 2>&1 && pass \
        || fail "run.h5 lacks the attribute $attribute"
    done
    grep -q "sttn: epoch 1: train MAE" "$work/run/log.txt" && pass || fail "log.txt lacks the epoch lines"
    # The daily input: the models that take it train with a third input column.
    mpirun -np "$ranks" "$tessera" run "$work/exp.toml" --out "$work/previous_day" \
      --set 'model.daily_input="last_similar_day"' --set 'model.kinds="sttn, stid"' \
      >"$work/previous_day.log" 2>&1 \
      && pass || fail "st_forecast run with the daily input failed: $(cat "$work/previous_day.log")"
    grep -q "take the last_similar_day forecast of each horizon as an input" "$work/previous_day/log.txt" \
      && pass || fail "log.txt does not say the models take the daily input"
    h5dump -a /daily_input "$work/previous_day/run.h5" | grep -q '"last_similar_day"' && pass \
      || fail "run.h5 lacks daily_input = last_similar_day"
    h5ls "$work/previous_day/run.h5/test/last_similar_day/mae" >/dev/null 2>&1 && pass \
      || fail "run.h5 lacks the last-similar-day baseline"
    # The STTN's spatial attention keys sharded over the 2 ranks (one window group): the
    # same training as the batch split over them, up to float rounding.
    if [ "$ranks" = 2 ]; then
      mpirun -np 2 "$tessera" run "$work/exp.toml" --out "$work/sharded" --set train.sensor_ranks=2 \
        --set 'model.kinds="sttn"' >"$work/sharded.log" 2>&1 \
        && pass || fail "a run with train.sensor_ranks=2 failed: $(cat "$work/sharded.log")"
      grep -q "spatial attention keys sharded over 2 ranks" "$work/sharded.log" && pass \
        || fail "the sharded run does not say how it shards: $(cat "$work/sharded.log")"
      h5diff -p 1e-3 "$work/run/run.h5" "$work/sharded/run.h5" /test/sttn/mae >"$work/diff.txt" 2>&1 \
        && pass || fail "the sharded STTN's test MAE differs from the batch-split run: $(cat "$work/diff.txt")"
      # Graph attention: the sensors split over the 2 ranks (METIS, ghosts exchanged), the
      # same training as the batch split, up to float rounding.
      mpirun -np 2 "$tessera" run "$work/exp.toml" --out "$work/graph" --set model.spatial_hops=1 \
        --set 'model.kinds="sttn"' >"$work/graph.log" 2>&1 \
        && pass || fail "a graph-attention run failed: $(cat "$work/graph.log")"
      mpirun -np 2 "$tessera" run "$work/exp.toml" --out "$work/split" --set model.spatial_hops=1 \
        --set train.sensor_ranks=2 --set 'model.kinds="sttn"' >"$work/split.log" 2>&1 \
        && pass || fail "a run with the sensors split failed: $(cat "$work/split.log")"
      grep -q "sensors split over 2 ranks per sensor group" "$work/split.log" && pass \
        || fail "the split run does not say how it splits: $(cat "$work/split.log")"
      h5diff -p 1e-3 "$work/graph/run.h5" "$work/split/run.h5" /test/sttn/mae >"$work/diff.txt" 2>&1 \
        && pass || fail "the split STTN's test MAE differs from the batch-split run: $(cat "$work/diff.txt")"
      for part in st_forecast_sharded st_forecast_split; do  # the 2-rank benchmarks, quick
        mpirun -np 2 "$tessera" bench nn --quick --only "$part" --out "$work/bench_$part" \
          >"$work/bench_$part.log" 2>&1 && [ -s "$work/bench_$part/bench.h5" ] && pass \
          || fail "tessera bench nn --only $part failed: $(cat "$work/bench_$part.log")"
      done
      expect_error "split sensors with the Hopfield memory" 2 2 "the Hopfield ablation" -- \
        run "$work/exp.toml" --out "$work/split_memory" --set train.sensor_ranks=2 \
        --set model.spatial_hops=1 --set model.memory_patterns=4
    fi
    for text in "test MAE / RMSE / MAPE at" "persistence" "sttn against the best baseline"; do
      grep -q "$text" "$work/run.log" && pass || fail "the log lacks '$text': $(cat "$work/run.log")"
    done
    if /usr/bin/python3 -c "import h5py, matplotlib" 2>/dev/null; then
      /usr/bin/python3 "$source_dir/analysis/plot_st_forecast.py" "$work/run" >"$work/plot.log" 2>&1 \
        && pass || fail "plot_st_forecast.py failed: $(cat "$work/plot.log")"
      for file in st_forecast_horizons.png st_forecast_curves.png st_forecast_table.md; do
        [ -s "$work/run/$file" ] && pass || fail "$file not written"
      done
      grep -q "persistence (baseline)" "$work/run/st_forecast_table.md" && pass \
        || fail "the table lacks the baseline"
    fi
    ;;
  bad_input)
    write_experiment "$work/size.toml"
    head -5 "$work/graph.csv" | cut -d, -f1-5 >"$work/graph5.csv"
    sed -i "s|graph.csv|graph5.csv|" "$work/size.toml"
    expect_error "graph of another size" "$ranks" 2 "5 x 5 matrix, expected 6 x 6" -- \
      run "$work/size.toml" --out "$work/size"
    write_experiment "$work/long.toml"
    sed -i 's/^input_steps = 6/input_steps = 190/' "$work/long.toml"
    expect_error "window longer than the series" 1 2 "longer than the series (192 steps)" -- \
      validate "$work/long.toml"
    write_experiment "$work/kinds.toml"
    sed -i 's/^\[model\]/[model]\nkinds = "sttn, lstm"/' "$work/kinds.toml"
    expect_error "unknown model" 1 2 "key 'model.kinds': unknown forecaster 'lstm'" -- \
      validate "$work/kinds.toml"
    write_experiment "$work/stgcn.toml"
    sed -i 's/^stgcn_blocks = 1/stgcn_blocks = 2/' "$work/stgcn.toml"
    expect_error "STGCN blocks for a short window" 1 2 "key 'model.stgcn_blocks' = 2" -- \
      validate "$work/stgcn.toml"
    write_experiment "$work/eig.toml"
    sed -i 's/^eigenvectors = 2/eigenvectors = 6/' "$work/eig.toml"
    expect_error "too many eigenvectors" 1 2 "key 'model.eigenvectors' = 6: the 6 sensors" -- \
      validate "$work/eig.toml"
    write_experiment "$work/pday.toml"
    sed -i 's/^\[model\]/[model]\ndaily_input = "previous_day"/; s/^output_steps = 4/output_steps = 8/' \
      "$work/pday.toml"
    expect_error "daily input with more horizons than input steps" 1 2 \
      "key 'model.daily_input' = \"previous_day\" puts horizon t's day-before value beside input step t" -- \
      validate "$work/pday.toml"
    write_experiment "$work/nan.toml"
    sed -i '5s/^[^,]*,/nan,/' "$work/series.csv"
    expect_error "NaN reading" "$ranks" 2 "series.csv:line 5, column 1" -- \
      run "$work/nan.toml" --out "$work/nan"
    [ ! -e "$work/nan/run.h5" ] && pass || fail "a refused run left run.h5"
    ;;
  *)
    echo "unknown case $case_name"
    exit 2
    ;;
esac

finish_checks
