#!/usr/bin/env bash
# End-to-end tests of the lwr_network experiment: one day of the 30 km corridor (about
# 230 cells, 60 detectors) with incidents, speed noise and dropouts; the data set it
# writes (series with a header, timestamps, sensors, sensor graph, incidents, run.h5,
# the VTK series) read back by the st_forecast experiment; 1 rank against N ranks
# (identical speed series); bad input.
# Usage: test_lwr_network_cli.sh TESSERA_BINARY CASE [RANKS]   CASE: run | bad_input | bench
set -uo pipefail
tessera="$1"
case_name="$2"
ranks="${3:-1}"
# shellcheck source=SCRIPTDIR/cli_helpers.sh
source "$(dirname "$0")/cli_helpers.sh"
make_work_dir tessera_lwr_network_cli

write_experiment() {  # write_experiment FILE [extra TOML lines...]
  local file="$1"
  shift
  {
    echo '[run]'
    echo 'experiment = "lwr_network"'
    echo '[network]'
    echo 'scenario = "corridor"'
    echo 'days = 1'
    echo '[incidents]'
    echo 'rate = 0.02'
    echo '[detectors]'
    echo 'speed_noise = 1.5'
    echo 'dropout_rate = 0.5'
    echo '[output]'
    echo 'field_interval = 3600'
    printf '%s\n' "$@"
  } >"$file"
}

case "$case_name" in
  run)
    write_experiment "$work/exp.toml"
    mpirun -np "$ranks" "$tessera" run "$work/exp.toml" --out "$work/run" >"$work/run.log" 2>&1 \
      && pass || fail "lwr_network run on $ranks ranks failed: $(cat "$work/run.log")"
    for file in speed.csv flow.csv density.csv timestamps.csv sensors.csv sensor_distances.csv \
                sensor_weights.csv incidents.csv network.pvd run.h5; do
      [ -s "$work/run/$file" ] && pass || fail "$file not written"
    done
    ls "$work/run"/*.partial >/dev/null 2>&1 && fail "a .partial file was left behind" || pass
    rows="$(wc -l <"$work/run/speed.csv")"
    [ "$rows" -eq 289 ] && pass || fail "speed.csv has $rows lines, expected a header + 288"
    head -1 "$work/run/speed.csv" | grep -q '^D000,D001' && pass || fail "speed.csv header"
    sed -n 2p "$work/run/timestamps.csv" | grep -q '^0,300,0,0,0,00:05$' && pass \
      || fail "timestamps.csv row 1: $(sed -n 2p "$work/run/timestamps.csv")"
    for object in /detectors/speed /detectors/flow /detectors/density /detectors/x /graph/edges \
                  /fields/density /metrics/mass_balance_relative_error /metrics/vehicles_on_network; do
      h5ls "$work/run/run.h5$object" >/dev/null 2>&1 && pass || fail "run.h5 lacks $object"
    done
    grep -q "LWR network done" "$work/run.log" && pass || fail "no summary: $(cat "$work/run.log")"
    error="$(grep -o 'mass balance error [0-9.e+-]*' "$work/run.log" | awk '{print $4}')"
    awk -v e="$error" 'BEGIN { exit !(e < 1e-12) }' && pass || fail "mass balance error $error"
    if [ "$ranks" -gt 1 ]; then
      # The same day on one rank: the speed series must be identical to the digit.
      "$tessera" run "$work/exp.toml" --out "$work/one" >"$work/one.log" 2>&1 \
        && pass || fail "one-rank run failed: $(cat "$work/one.log")"
      cmp -s "$work/run/speed.csv" "$work/one/speed.csv" && pass \
        || fail "speed.csv differs between 1 and $ranks ranks"
      cmp -s "$work/run/incidents.csv" "$work/one/incidents.csv" && pass \
        || fail "incidents.csv differs between 1 and $ranks ranks"
    else
      # The data set feeds the forecaster as it is: baselines on the simulated speeds.
      {
        echo '[run]'
        echo 'experiment = "st_forecast"'
        echo '[data]'
        echo "series = \"$work/run/speed.csv\""
        echo 'header = true'
        echo '[graph]'
        echo "file = \"$work/run/sensor_distances.csv\""
        echo 'format = "edges"'
        echo 'weighting = "gaussian"'
        echo '[model]'
        echo 'kinds = "mlp"'
        echo 'mlp_hidden = 8'
        echo '[train]'
        echo 'epochs = 1'
        echo 'batch = 64'
      } >"$work/forecast.toml"
      "$tessera" run "$work/forecast.toml" --out "$work/forecast" >"$work/forecast.log" 2>&1 \
        && pass || fail "st_forecast on the simulated data failed: $(cat "$work/forecast.log")"
      grep -q "persistence" "$work/forecast.log" && pass || fail "no baselines in the forecast log"
    fi
    ;;
  bad_input)
    write_experiment "$work/cfl.toml" '[corridor]' 'length_km = 30'
    sed -i 's/^days = 1/days = 1\ndt = 20/' "$work/cfl.toml"
    expect_error "a link shorter than one cell" 1 2 "shorter than one cell" -- \
      validate "$work/cfl.toml"
    write_experiment "$work/interval.toml"
    sed -i 's/^speed_noise = 1.5/speed_noise = 1.5\ninterval = 7/' "$work/interval.toml"
    expect_error "detector interval off the step" 1 2 \
      "key 'detectors.interval' = 7 s: expected a whole multiple of network.dt = 5 s" -- \
      validate "$work/interval.toml"
    write_experiment "$work/dropout.toml"
    sed -i 's/^dropout_rate = 0.5/dropout_rate = 0.5\nmin_dropout = 400/' "$work/dropout.toml"
    expect_error "longest dropout below the shortest" 1 2 \
      "keys 'detectors.min_dropout' and 'detectors.max_dropout' = 400 and 360 min" -- \
      validate "$work/dropout.toml"
    write_experiment "$work/hour.toml"
    sed -i 's/^days = 1/days = 1\ndt = 7/' "$work/hour.toml"
    expect_error "a time step that does not divide an hour" 1 2 \
      "key 'network.dt' = 7 s: expected a divisor of an hour" -- validate "$work/hour.toml"
    write_experiment "$work/short.toml" '[corridor]' 'length_km = 3'
    expect_error "a corridor too short" 1 2 "network.scenario = \"corridor\"" -- \
      validate "$work/short.toml"
    write_experiment "$work/graph.toml" '[graph]' 'max_distance_km = 0.2'
    expect_error "disconnected detectors" "$ranks" 2 "is disconnected from the sensor graph" -- \
      run "$work/graph.toml" --out "$work/graph"
    [ ! -e "$work/graph/run.h5" ] && pass || fail "a refused run left run.h5"
    write_experiment "$work/ranks.toml" '[corridor]' 'on_ramps = 0' 'off_ramps = 0' \
      'detector_spacing_km = 5'
    expect_error "more ranks than links" 4 2 "ranks for a road network of" -- \
      validate "$work/ranks.toml"
    ;;
  bench)
    mpirun -np "$ranks" "$tessera" bench traffic --quick --out "$work/bench" >"$work/bench.log" 2>&1 \
      && pass || fail "tessera bench traffic --quick failed: $(cat "$work/bench.log")"
    grep -q "M cell-updates/s" "$work/bench.log" && pass || fail "no cell-update rate in the log"
    ;;
  *)
    echo "unknown case $case_name"
    exit 2
    ;;
esac

finish_checks
