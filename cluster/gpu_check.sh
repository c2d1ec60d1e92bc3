#!/usr/bin/env bash
# The GPU check (docs/portability.md): builds Kokkos 4.x with CUDA and Tessera against it,
# then on a machine with a GPU runs the test suite and `tessera bench nn` there and writes
# a report. Without a GPU, --compile-only checks that every target compiles.
#
# Usage: cluster/gpu_check.sh [--arch ARCH] [--prefix DIR] [--build-dir DIR] [--out DIR]
#                             [--jobs N] [--compile-only] [--tests REGEX] [--bench-only PART]
#   --arch ARCH       Kokkos_ARCH name (HOPPER90, AMPERE80, ...); default: from the GPU's
#                     compute capability (nvidia-smi), HOPPER90 with --compile-only
#   --prefix DIR      where Kokkos + KokkosKernels (CUDA) go (default build-kokkos-cuda-deps)
#   --build-dir DIR   Tessera's CUDA build (default build-kokkos-cuda)
#   --out DIR         the report folder (default results/gpu_check/<UTC time>)
#   --jobs N          compile jobs (default: the cores)
#   --compile-only    build everything, run nothing (machines without a GPU)
#   --tests REGEX     run only the tests matching REGEX (ctest -R); default: all
#   --bench-only PART `tessera bench nn --only PART`; default: the whole nn suite
# Environment: CUDACXX or PATH for nvcc (else /usr/local/cuda/bin/nvcc), TESSERA_VENDOR
# (the Kokkos tarballs when ../shared/vendor is not there).
# The report (report.md) holds the GPU, `tessera info`, the build times, the test summary
# and failures, and the benchmark table beside the same suite on the CPU build (build/,
# when it exists), measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "gpu_check.sh: $*" >&2; exit 2; }
usage="usage: cluster/gpu_check.sh [--arch ARCH] [--prefix DIR] [--build-dir DIR] [--out DIR] [--jobs N] [--compile-only] [--tests REGEX] [--bench-only PART]"

arch=""
prefix="build-kokkos-cuda-deps"
build_dir="build-kokkos-cuda"
out="results/gpu_check/$(date -u +%Y%m%dT%H%M%SZ)"
jobs="$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)"
compile_only=0
tests=""
bench_only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) [ $# -ge 2 ] || die "--arch expects a Kokkos_ARCH name"; arch="$2"; shift 2 ;;
    --prefix) [ $# -ge 2 ] || die "--prefix expects a folder"; prefix="$2"; shift 2 ;;
    --build-dir) [ $# -ge 2 ] || die "--build-dir expects a folder"; build_dir="$2"; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out expects a folder"; out="$2"; shift 2 ;;
    --jobs) [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || die "--jobs expects a positive count"; jobs="$2"; shift 2 ;;
    --compile-only) compile_only=1; shift ;;
    --tests) [ $# -ge 2 ] || die "--tests expects a ctest regex"; tests="$2"; shift 2 ;;
    --bench-only) [ $# -ge 2 ] || die "--bench-only expects a part of the nn suite"; bench_only="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) die "unknown argument '$1' ($usage)" ;;
  esac
done

# The GPU, and the Kokkos architecture of its compute capability.
gpu=""
if command -v nvidia-smi >/dev/null && gpu="$(nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -n 1)" && [ -n "$gpu" ]; then
  :
else
  gpu=""
fi
if [ -z "$gpu" ] && [ "$compile_only" -eq 0 ]; then
  die "no GPU visible (nvidia-smi lists none); run with --compile-only to check that the CUDA build compiles"
fi
if [ -z "$arch" ]; then
  if [ -n "$gpu" ]; then
    capability="$(echo "$gpu" | cut -d, -f2 | tr -d ' ')"
    case "$capability" in
      7.0) arch=VOLTA70 ;; 7.5) arch=TURING75 ;; 8.0) arch=AMPERE80 ;; 8.6) arch=AMPERE86 ;;
      8.9) arch=ADA89 ;; 9.0) arch=HOPPER90 ;; 10.0) arch=BLACKWELL100 ;; 12.0) arch=BLACKWELL120 ;;
      *) die "no Kokkos architecture known for compute capability '$capability' (give --arch)" ;;
    esac
  else
    arch=HOPPER90
  fi
fi

mkdir -p "$out"
report="$out/report.md"
log() { echo "gpu_check.sh: $*"; }
seconds_since() { echo $(( $(date +%s) - $1 )); }

# 1. Kokkos + KokkosKernels with CUDA (a no-op when PREFIX already holds them).
start=$(date +%s)
if ! cluster/build_kokkos.sh "$prefix" --backend "cuda:$arch" --jobs "$jobs" >"$out/build_kokkos.log" 2>&1; then
  tail -n 30 "$out/build_kokkos.log" >&2
  die "building Kokkos with CUDA failed (log: $out/build_kokkos.log)"
fi
kokkos_seconds=$(seconds_since "$start")
log "Kokkos + KokkosKernels (CUDA $arch) ready in $kokkos_seconds s"

# 2. Tessera against it: every target (the tests too), compiled by nvcc through nvcc_wrapper.
start=$(date +%s)
prefix_abs="$(cd "$prefix" && pwd)"
if ! { cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DKokkos_ROOT="$prefix_abs" \
         -DKokkosKernels_ROOT="$prefix_abs" -DCMAKE_CXX_COMPILER="$prefix_abs/bin/nvcc_wrapper" &&
       cmake --build "$build_dir" -j "$jobs"; } >"$out/build_tessera.log" 2>&1; then
  grep -E "error|Error" "$out/build_tessera.log" | head -n 30 >&2 || true
  die "building Tessera with CUDA failed (log: $out/build_tessera.log)"
fi
tessera_seconds=$(seconds_since "$start")
# Warnings in Tessera's own code (nvcc's "warning #" and the host compiler's "warning:").
own_warnings="$(grep -E "^$PWD/[^:(]*[:(][0-9]+.*warning" "$out/build_tessera.log" | sort -u || true)"
log "Tessera built with CUDA in $tessera_seconds s; $(echo -n "$own_warnings" | grep -c . || true) warning(s) in its own code"

{
  echo "# GPU check ($(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
  echo
  echo "- GPU: ${gpu:-none (compile only)}"
  echo "- Kokkos architecture: $arch; nvcc: $("$prefix_abs/bin/nvcc_wrapper" --version 2>/dev/null | sed -n 's/.*release \([0-9.]*\).*/\1/p' | head -n 1)"
  echo "- Kokkos + KokkosKernels: $kokkos_seconds s; Tessera, every target: $tessera_seconds s ($jobs jobs)"
  echo "- Warnings in Tessera's own code: $(echo -n "$own_warnings" | grep -c . || true)"
  if [ -n "$own_warnings" ]; then echo; echo '```'; echo "$own_warnings"; echo '```'; fi
} >"$report"

if [ "$compile_only" -eq 1 ]; then
  log "compile only: report in $report"
  exit 0
fi

# 3. The test suite on the GPU. Ranks share the one GPU; one test at a time so that the
# timings of the MPI tests stay comparable.
export OMPI_MCA_btl_vader_single_copy_mechanism=none OPENBLAS_NUM_THREADS=1
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
{ echo; echo "## tessera info"; echo; echo '```'; "$build_dir/bin/tessera" info; echo '```'; } >>"$report" 2>&1
start=$(date +%s)
ctest_args=(--test-dir "$build_dir" --output-on-failure -j 1)
if [ -n "$tests" ]; then ctest_args+=(-R "$tests"); fi
set +e
ctest "${ctest_args[@]}" >"$out/ctest.log" 2>&1
ctest_status=$?
set -e
{
  echo
  echo "## Test suite on the GPU ($(seconds_since "$start") s, ctest exit $ctest_status)"
  echo
  echo '```'
  grep -E "tests passed|tests failed|Failed|\*\*\*" "$out/ctest.log" || true
  echo '```'
} >>"$report"
log "test suite: $(grep -E "tests passed" "$out/ctest.log" || echo "no summary (see $out/ctest.log)")"

# 4. The nn benchmark on the GPU, then the same suite on the CPU build (build/) when there
# is one: times side by side, measured in the same run.
bench_args=(bench nn)
if [ -n "$bench_only" ]; then bench_args+=(--only "$bench_only"); fi
bench_csvs=()
for build in "$build_dir" build; do
  [ -x "$build/bin/tessera" ] || continue
  name="$(basename "$build")"
  if "$build/bin/tessera" "${bench_args[@]}" --out "$out/bench_$name" >"$out/bench_$name.log" 2>&1; then
    bench_csvs+=("$name=$out/bench_$name/bench.csv")
  else
    { echo; echo "## tessera ${bench_args[*]} on $name failed"; echo; echo '```'; tail -n 20 "$out/bench_$name.log"; echo '```'; } >>"$report"
  fi
done
if ((${#bench_csvs[@]})); then
  { echo; echo "## tessera ${bench_args[*]}: seconds per call"; echo; python3 - "${bench_csvs[@]}" <<'PYTHON'
import csv, sys
runs = [arg.split("=", 1) for arg in sys.argv[1:]]
tables = [(name, {(r["benchmark"], r["shape"]): float(r["seconds"]) for r in csv.DictReader(open(path))})
          for name, path in runs]
keys = list(tables[0][1])
header = ["benchmark", "shape"] + [name for name, _ in tables]
if len(tables) == 2: header.append(f"{tables[1][0]} / {tables[0][0]}")
print("| " + " | ".join(header) + " |")
print("|" + "---|" * len(header))
for key in keys:
    times = [table.get(key) for _, table in tables]
    cells = list(key) + ["" if t is None else f"{t:.4g}" for t in times]
    if len(tables) == 2: cells.append(f"{times[1] / times[0]:.2f}x" if None not in times else "")
    print("| " + " | ".join(cells) + " |")
PYTHON
  } >>"$report"
fi
log "report in $report"
exit "$ctest_status"
