#!/usr/bin/env bash
# The fault study of docs/reliability.md: for each resumable experiment kind and rank
# count, MOMENTS runs killed with SIGKILL at random moments, resumed with
# `tessera run --resume`, and compared with an uninterrupted run (bitwise: every HDF5
# dataset but timings, and every text file). Prints one line per kind and rank count.
#   analysis/fault_study.sh [TESSERA_BINARY] [MOMENTS]     (default build/bin/tessera, 20)
# Runs one case at a time (about 10-30 minutes on this 2-core machine for 20 moments).
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
tessera="${1:-$here/build/bin/tessera}"
moments="${2:-20}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1 TESSERA_PROGRESS=off
export TESSERA_FAULT_MOMENTS="$moments"
kinds="${TESSERA_FAULT_KINDS:-lwr lwr_network flow flow_dataset pinn_traffic pinn_mto hopfield st_forecast mesh_transformer}"
echo "| kind | ranks | moments | killed inside the run | resumed runs equal | failures |"
echo "|---|---|---|---|---|---|"
for kind in $kinds; do
  for ranks in 1 2; do
    log="$(mktemp)"
    bash "$here/tests/experiments/test_resume.sh" "$tessera" kill "$ranks" "$kind" >"$log" 2>&1
    killed=$(grep -c "SIGKILL" "$log")
    failed=$(grep -c "^FAIL" "$log")
    equal=$((moments - $(grep -c "^FAIL: moment" "$log")))
    echo "| $kind | $ranks | $moments | $killed | $equal | $failed |"
    grep "^FAIL" "$log" | head -5 | sed 's/^/    /'
    rm -f "$log"
  done
done
