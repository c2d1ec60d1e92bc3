# shellcheck shell=bash
# Shared helpers for the end-to-end tests of the `tessera` command: sourced (not run) by
# tests/experiments/test_cli.sh, tests/experiments/test_pinn_cli.sh and
# tests/solvers/flow/test_cli.sh, each relative to its own location:
#   source "$(dirname "$0")/cli_helpers.sh"
# Sets source_dir (the repository root), failures and checks (both 0) and defines:
#   make_work_dir PREFIX     $work: a fresh temporary folder, removed when the script exits
#   fail MESSAGE...          prints "FAIL: MESSAGE" and counts a failure
#   pass                     counts a passed check
#   expect_error ...         runs $tessera and checks its exit code and error message
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
# holds the text, and "tessera: error" is printed exactly once.
# shellcheck disable=SC2154  # tessera is set by the sourcing script
expect_error() {
  local name="$1" np="$2" code="$3" text="$4"
  shift 5
  local out status
  if [ "$np" -eq 1 ]; then
    out="$("$tessera" "$@" 2>&1)"
  else
    out="$(mpirun -np "$np" "$tessera" "$@" 2>&1)"
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
  else
    pass
  fi
}

# The last line of a script: "N passed, M failed", and the exit status 1 if M > 0.
finish_checks() {
  echo "$checks passed, $failures failed"
  [ "$failures" -eq 0 ] && exit 0
  exit 1
}
