# shellcheck shell=bash
# Shared helpers for the end-to-end tests of the `tessera` command: sourced (not run) by
# tests/experiments/test_cli.sh, tests/experiments/test_pinn_cli.sh and
# tests/solvers/flow/test_cli.sh, each relative to its own location:
#   source "$(dirname "$0")/cli_helpers.sh"
# Sets source_dir (the repository root), failures and checks (both 0) and defines:
#   make_work_dir PREFIX     $work: a fresh temporary folder, removed when the script exits
#   fail MESSAGE...          prints "FAIL: MESSAGE" and counts a failure
#   pass                     counts a passed check
#   make_sensor_data DIR N T a synthetic sensor series and graph (st_forecast tests)
#   expect_error ...         runs $tessera and checks its exit code and error message
#                            (with TESSERA_BAD_INPUT_LOG=FILE, appends each passed case)
#   finish_checks            prints the counts and exits 1 if anything failed, else 0
# The sourcing script sets `tessera` (the binary) before it calls expect_error.

# shellcheck disable=SC2034  # source_dir is used by the sourcing scripts
source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
failures=0
checks=0

make_work_dir() {  # make_work_dir PREFIX
  work="$(mktemp -d "${TMPDIR:-/tmp}/$1_XXXXXX")"
  trap 'rm -rf "$work"' EXIT
}

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { checks=$((checks + 1)); }

# expect_error NAME RANKS EXPECTED_CODE "text that must appear" -- tessera args...
# Passes when tessera (under mpirun for RANKS > 1) exits with EXPECTED_CODE, its output
# holds the text, "tessera: error" is printed exactly once, and the failed command left
# nothing under $work that looks like a finished run (a run.h5 written by this call). It
# runs in $work, so that runs without --out put their folder there.
# shellcheck disable=SC2154  # tessera is set by the sourcing script
expect_error() {
  local name="$1" np="$2" code="$3" text="$4"
  shift 5
  local out status marker=""
  if [ -n "${work:-}" ] && [ -d "$work" ]; then
    marker="$work/.expect_error_start"
    touch "$marker"
  fi
  if [ "$np" -eq 1 ]; then
    out="$(cd "${work:-.}" && "$tessera" "$@" 2>&1)"
  else
    out="$(cd "${work:-.}" && mpirun -np "$np" "$tessera" "$@" 2>&1)"
  fi
  status=$?
  local count
  count="$(grep -c "tessera: error" <<<"$out")"
  if [ "$status" -ne "$code" ]; then
    fail "$name: exit code $status, expected $code; output: $out"
  elif ! grep -qF -- "$text" <<<"$out"; then
    fail "$name: message lacks '$text'; output: $out"
  elif [ "$count" -ne 1 ]; then
    fail "$name: error printed $count times on $np ranks, expected once; output: $out"
  elif [ -n "$marker" ] && [ -n "$(find "$work" -name run.h5 -newer "$marker" -print -quit)" ]; then
    fail "$name: the failed run left $(find "$work" -name run.h5 -newer "$marker" -print -quit)"
  else
    pass
    # The catalogue of bad inputs (analysis/bad_input_catalogue.py) is made from these.
    if [ -n "${TESSERA_BAD_INPUT_LOG:-}" ]; then
      printf '%s\t%s\t%s\t%s\t%s\n' "$(basename "$0")" "$name" "$np" "$code" \
        "$(grep -m 1 "tessera: error" <<<"$out")" >>"$TESSERA_BAD_INPUT_LOG"
    fi
  fi
  [ -n "$marker" ] && rm -f "$marker"
  return 0
}

# A synthetic sensor series for the st_forecast tests: DIR/series.csv (a header of sensor
# ids 101, 102, ..., then STEPS rows of waves with a 4-hour period at 5-minute steps and one
# zero reading, the missing-value marker) and DIR/graph.csv (the chain of the sensors).
make_sensor_data() {  # make_sensor_data DIR SENSORS STEPS
  awk -v sensors="$2" -v steps="$3" 'BEGIN {
    for (n = 0; n < sensors; n++) printf "%s%d", (n ? "," : ""), 101 + n;
    printf "\n";
    for (t = 0; t < steps; t++) {
      for (n = 0; n < sensors; n++) {
        v = 55 + 10 * sin(2 * 3.14159265 * (t + 3 * n) / 48) + 0.3 * cos(1.3 * t * (n + 1));
        if (t == 20 && n == 2) v = 0;
        printf "%s%.4f", (n ? "," : ""), v;
      }
      printf "\n";
    }
  }' >"$1/series.csv"
  awk -v sensors="$2" 'BEGIN { for (i = 0; i < sensors; i++) { for (j = 0; j < sensors; j++)
    printf "%s%d", (j ? "," : ""), (i - j == 1 || j - i == 1); printf "\n" } }' >"$1/graph.csv"
}

# The last line of a script: "N passed, M failed", and the exit status 1 if M > 0.
finish_checks() {
  echo "$checks passed, $failures failed"
  [ "$failures" -eq 0 ] && exit 0
  exit 1
}
