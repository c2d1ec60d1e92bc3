#!/usr/bin/env bash
# Tessera set-up, idempotent: installs the Debian packages the project needs when they
# are missing, configures and builds (Release, in build/). Then, by argument:
#   ./setup.sh              set-up only
#   ./setup.sh quickstart   set-up, run experiments/quickstart.toml under MPI, plot it
#   ./setup.sh test         set-up, run the whole test suite (ctest)
#   ./setup.sh bench        set-up plus python3-torch, then the benchmark report against
#                           PyTorch (analysis/bench_report.py; extra arguments go to it,
#                           e.g. ./setup.sh bench --quick)
#   ./setup.sh fuzz [S]     set-up plus clang, then every libFuzzer target for S seconds
#                           (default 30; analysis/fuzz_study.sh, build-fuzz/)
#   ./setup.sh test-kokkos4 the packages, then Kokkos 4.x with OpenMP built from source
#                           (cluster/build_kokkos.sh, sources from ../shared/vendor or
#                           TESSERA_VENDOR) into build-kokkos4/, Tessera against it in
#                           build-kokkos-openmp/, and the whole suite with OMP_NUM_THREADS
#                           = cores on 1 rank, cores / N on N ranks (docs/portability.md)
# Environment: TESSERA_BUILD_DIR (default build; build-kokkos-openmp for test-kokkos4),
# TESSERA_JOBS (default: cores), TESSERA_RANKS (quickstart ranks, default min(2, cores)).
set -euo pipefail
cd "$(dirname "$0")"

mode="${1:-setup}"
case "$mode" in
  setup|quickstart|test|bench|fuzz|test-kokkos4) ;;
  -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
  *) echo "setup.sh: unknown mode '$mode' (expected: quickstart, test, bench, fuzz, test-kokkos4, or nothing)" >&2
     exit 2 ;;
esac
shift $(( $# > 0 ? 1 : 0 ))

build_dir="${TESSERA_BUILD_DIR:-build}"
if [ "$mode" = test-kokkos4 ]; then build_dir="${TESSERA_BUILD_DIR:-build-kokkos-openmp}"; fi
# nproc obeys OMP_NUM_THREADS; the cores are what the machine gives this process.
cores="$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)"
jobs="${TESSERA_JOBS:-$cores}"

packages=(
  build-essential cmake pkg-config ccache
  libtrilinos-kokkos-dev libtrilinos-kokkos-kernels-dev libopenblas-dev libhypre-dev
  openmpi-bin libopenmpi-dev libhdf5-openmpi-dev hdf5-tools libvtk9-dev
  catch2 libcli11-dev libgmsh-dev libmetis-dev
  python3-numpy python3-h5py python3-matplotlib
  zlib1g-dev dataset-fashion-mnist
)
# The benchmark report times PyTorch beside Tessera (Debian's torch, CPU).
if [ "$mode" = bench ]; then packages+=(python3-torch); fi
# The fuzz targets need clang and its libFuzzer runtime.
if [ "$mode" = fuzz ]; then packages+=(clang libclang-rt-14-dev); fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]})); then
  echo "setup.sh: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo_cmd=(); elif command -v sudo >/dev/null; then sudo_cmd=(sudo);
  else
    echo "setup.sh: these Debian packages are missing and I am not root: ${missing[*]}" >&2
    exit 1
  fi
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
fi

# OpenMPI refuses to start as root without this consent (containers, CI).
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# Quiet a harmless OpenMPI warning in containers without ptrace (shared-memory copies).
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# One BLAS thread per rank unless the user says otherwise: ranks x threads <= cores.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"

kokkos_flags=()
if [ "$mode" = test-kokkos4 ]; then
  # Kokkos 4.x (OpenMP + Serial) and KokkosKernels from source; a no-op when installed.
  cluster/build_kokkos.sh build-kokkos4 --backend openmp --jobs "$jobs"
  kokkos_flags=(-DKokkos_ROOT="$PWD/build-kokkos4" -DKokkosKernels_ROOT="$PWD/build-kokkos4")
fi
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "${kokkos_flags[@]}"
cmake --build "$build_dir" -j "$jobs"

case "$mode" in
  quickstart)
    ranks="${TESSERA_RANKS:-$((cores < 2 ? 1 : 2))}"
    mpirun -np "$ranks" "$build_dir/bin/tessera" run experiments/quickstart.toml
    out="$(ls -td results/quickstart/*/ | head -n 1)"
    /usr/bin/python3 analysis/plot_lwr.py "$out"
    echo "Open $out/density.pvd in ParaView for the density over time."
    ;;
  test)
    ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"
    ;;
  bench)
    /usr/bin/python3 analysis/bench_report.py --tessera "$build_dir/bin/tessera" "$@"
    ;;
  fuzz)
    JOBS="$jobs" analysis/fuzz_study.sh "${1:-30}"
    ;;
  test-kokkos4)
    "$build_dir/bin/tessera" info | grep -E "^Kokkos|^Threads"
    # One test at a time: each 1-rank test uses every core.
    OMP_NUM_THREADS="${OMP_NUM_THREADS:-$cores}" ctest --test-dir "$build_dir" --output-on-failure -j 1
    ;;
esac
