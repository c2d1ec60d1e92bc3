#!/usr/bin/env bash
# Fuzzing study (docs/reliability.md): builds the libFuzzer targets (tests/fuzz, clang,
# AddressSanitizer + UndefinedBehaviorSanitizer) in build-fuzz/, seeds each target's corpus
# from tests/fuzz/seeds and from the data root, runs every target for SECONDS and writes a
# table of executions, coverage and crashes to results/fuzz/summary.md.
#
# Usage: analysis/fuzz_study.sh [SECONDS=600] [TARGET...]     (default: every target)
# Environment: JOBS (build jobs, 2), TESSERA_DATA (data root, ../shared/data),
#   FUZZ_OUT (results/fuzz), FUZZ_SEED (libFuzzer's -seed; unset: a random seed per run,
#   to find new inputs; CI sets 1, so that every CI run replays the same inputs). A crash leaves its input in $FUZZ_OUT/<target>/crash-*; to keep
#   it as a regression test, fix the reader and copy the input to
#   tests/fuzz/regressions/<target>/ (the suite replays those with tessera_fuzz_replay).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
all_targets=(toml text vtu pvtu xdmf meshgraphnets_h5 idx)
targets=("${@:-${all_targets[@]}}")
out="${FUZZ_OUT:-results/fuzz}"
data="${TESSERA_DATA:-../shared/data}"
build=build-fuzz

if ! command -v clang++ >/dev/null; then
  echo "fuzz_study.sh: clang++ not found (apt-get install clang: libFuzzer ships with it)" >&2
  exit 2
fi
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -DTESSERA_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
make -C "$build" -j"${JOBS:-2}" "${targets[@]/#/fuzz_}" >/dev/null

# seed_corpus TARGET DIR: the committed seeds, plus what the data root offers (heads of the
# text files, with the first byte that picks the reader; the smaller meshes; Fashion-MNIST).
seed_corpus() {
  local target="$1" dir="$2"
  mkdir -p "$dir"
  cp tests/fuzz/seeds/"$target"/* "$dir"/
  case "$target" in
    toml) cp experiments/*.toml "$dir"/ ;;
    text)
      if [[ -d "$data" ]]; then
        local f
        for f in "$data"/traffic/*.txt; do
          { printf '\x00'; head -n 12 "$f" | cut -c 1-400; } >"$dir/grid_$(basename "$f")"
        done
        for f in "$data"/graphs/*.csv "$data"/timeseries/*.csv; do
          { printf '\x01'; head -n 12 "$f" | cut -c 1-400; } >"$dir/csv_$(basename "$f")"
        done
        { printf '\x02'; head -n 8 "$data/graphs/PeMSD7M_W_228.csv" | cut -d, -f1-8; } >"$dir/matrix_W_228.csv"
        { printf '\x03'; head -n 20 "$data/graphs/PEMS04_distance.csv"; } >"$dir/edges_PEMS04.csv"
      fi ;;
    # (if, not &&: without a data root the function must still succeed under set -e)
    vtu) if [[ -d "$data" ]]; then cp "$data"/mesh/cylinder_vtu/cylinder_0.vtu "$dir"/; fi ;;
    xdmf) if [[ -d "$data" ]]; then cp "$data"/mesh/cylinder_xdmf/mock.xdmf "$dir"/; fi ;;
    idx)
      local mnist="${TESSERA_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}"
      if [[ -f "$mnist/t10k-images-idx3-ubyte.gz" ]]; then
        # Three images and labels: an IDX header naming 3 items, then their bytes.
        /usr/bin/python3 - "$mnist" "$dir" <<'EOF'
import gzip, struct, sys
src, dst = sys.argv[1], sys.argv[2]
images = gzip.open(f"{src}/t10k-images-idx3-ubyte.gz").read()
labels = gzip.open(f"{src}/t10k-labels-idx1-ubyte.gz").read()
open(f"{dst}/mnist3_images.idx.gz", "wb").write(
    gzip.compress(images[:4] + struct.pack(">III", 3, 28, 28) + images[16:16 + 3 * 784]))
open(f"{dst}/mnist3_labels.idx", "wb").write(labels[:4] + struct.pack(">I", 3) + labels[8:11])
EOF
      fi ;;
  esac
}

mkdir -p "$out"
summary="$out/summary.md"
{
  echo "# Fuzzing study: ${seconds} s per target ($(date -u +%Y-%m-%d), $(clang++ --version | head -n 1))"
  echo
  echo "| target | seconds | executions | exec/s | coverage (edges) | features | corpus | crashes |"
  echo "|---|---|---|---|---|---|---|---|"
} >"$summary"
status=0
for target in "${targets[@]}"; do
  dir="$out/$target"
  rm -rf "$dir"
  seed_corpus "$target" "$dir/corpus"
  echo "fuzz_$target: ${seconds} s, $(ls "$dir/corpus" | wc -l) seeds" >&2
  # Leak checking off: HDF5, VTK and zlib keep allocations until exit. Single allocations
  # up to 16 GiB pass (VTK allocates what a compressed block's header declares, untouched
  # until it decompresses), a resident size over 4 GiB does not. A crash stops the target;
  # the study goes on with the next one.
  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/fuzz/fuzz_$target" "$dir/corpus" -max_total_time="$seconds" -timeout=20 ${FUZZ_SEED:+-seed="$FUZZ_SEED"} \
    -rss_limit_mb=4096 -malloc_limit_mb=16384 -print_final_stats=1 -artifact_prefix="$dir/" >"$dir/log.txt" 2>&1 || true
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log.txt" | grep -o '[0-9]*$' || echo 0)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$dir/log.txt" | grep -o '[0-9]*$' || echo 0)
  last=$(grep -E '^#[0-9]+' "$dir/log.txt" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo "?")
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo "?")
  corp=$(grep -o 'corp: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo "?")
  crashes=$(find "$dir" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'timeout-*' \
              -o -maxdepth 1 -name 'oom-*' | wc -l)
  [[ "$crashes" -gt 0 ]] && status=1
  echo "| $target | $seconds | $runs | $rate | $cov | $ft | $corp | $crashes |" >>"$summary"
  echo "fuzz_$target: $runs executions, coverage $cov, $crashes crash(es) (log: $dir/log.txt)" >&2
done
cat "$summary"
exit "$status"
