#!/usr/bin/env bash
# Builds Kokkos 4.x and KokkosKernels from source into PREFIX, with only what Tessera uses,
# and prints how to configure Tessera against them (docs/portability.md).
#
# Usage: cluster/build_kokkos.sh PREFIX [--backend openmp|cuda[:ARCH]] [--source DIR]
#                                [--jobs N] [--build-dir DIR]
#   --backend openmp     Serial + OpenMP (default): threads on a node
#   --backend cuda:ARCH  Serial + CUDA through nvcc_wrapper; ARCH is a Kokkos_ARCH name
#                        (HOPPER90, AMPERE80, ...; default HOPPER90)
#   --source DIR         where the tarballs (or unpacked trees) are: kokkos-<v>.tar.gz and
#                        kokkos-kernels-<v>.tar.gz, or kokkos-<v>/ and kokkos-kernels-<v>/.
#                        Default: ../shared/vendor beside this checkout, else $TESSERA_VENDOR.
#   --jobs N             parallel compile jobs (default: the cores)
#   --build-dir DIR      scratch folder (default PREFIX/build); removed when the build succeeds
# Idempotent: a PREFIX that already holds both installations of the same configuration
# is left alone (PREFIX/tessera-kokkos.txt records it). KokkosKernels is built with its
# BLAS component only and without pre-instantiated kernels (Tessera calls gemm alone, from
# headers, with OpenBLAS as the host BLAS), which takes a minute instead of fifteen.
set -euo pipefail

usage="usage: cluster/build_kokkos.sh PREFIX [--backend openmp|cuda[:ARCH]] [--source DIR] [--jobs N] [--build-dir DIR]"
die() { echo "build_kokkos.sh: $*" >&2; exit 2; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"

[ $# -ge 1 ] && { [ "$1" = -h ] || [ "$1" = --help ]; } && { echo "$usage"; exit 0; }
[ $# -ge 1 ] || die "expected an install PREFIX ($usage)"
prefix="$1"
shift
backend=openmp source_dir="" jobs="$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)" build_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) [ $# -ge 2 ] || die "--backend expects openmp or cuda[:ARCH]"; backend="$2"; shift 2 ;;
    --source) [ $# -ge 2 ] || die "--source expects a folder"; source_dir="$2"; shift 2 ;;
    --jobs) [ $# -ge 2 ] || die "--jobs expects a number"; jobs="$2"; shift 2 ;;
    --build-dir) [ $# -ge 2 ] || die "--build-dir expects a folder"; build_dir="$2"; shift 2 ;;
    *) die "unknown option '$1': expected --backend, --source, --jobs or --build-dir" ;;
  esac
done
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs expects a positive integer, got '$jobs'"

arch=""
case "$backend" in
  openmp) ;;
  cuda) arch=HOPPER90 ;;
  cuda:*) arch="${backend#cuda:}"; backend=cuda
    [[ "$arch" =~ ^[A-Z]+[0-9]+$ ]] || die "--backend cuda:ARCH expects a Kokkos_ARCH name such as HOPPER90 or AMPERE80, got '$arch'" ;;
  *) die "--backend expects openmp or cuda[:ARCH], got '$backend'" ;;
esac

command -v cmake >/dev/null || die "cmake not found (apt-get install cmake)"
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
build_dir="${build_dir:-$prefix/build}"

if [ -z "$source_dir" ]; then
  if [ -d "$repo/../shared/vendor" ]; then source_dir="$repo/../shared/vendor"
  elif [ -n "${TESSERA_VENDOR:-}" ]; then source_dir="$TESSERA_VENDOR"
  else die "no sources: give --source DIR (the Kokkos and KokkosKernels tarballs; ../shared/vendor is not here)"
  fi
fi
[ -d "$source_dir" ] || die "--source: no folder '$source_dir'"
source_dir="$(cd "$source_dir" && pwd)"

# The newest version present of each; a tarball or an unpacked tree.
find_source() {  # find_source NAME -> prints the tarball or folder
  local found
  found="$(find "$source_dir" -maxdepth 1 \( -name "$1-[0-9]*.tar.gz" -o -type d -name "$1-[0-9]*" \) | sort -V | tail -n 1)"
  [ -n "$found" ] || die "$source_dir: no $1-<version>.tar.gz or $1-<version>/ (expected the $1 sources)"
  echo "$found"
}
kokkos_src="$(find_source kokkos)"
kernels_src="$(find_source kokkos-kernels)"
version="$(basename "$kokkos_src" .tar.gz)"
version="${version#kokkos-}"
kernels_version="$(basename "$kernels_src" .tar.gz)"
kernels_version="${kernels_version#kokkos-kernels-}"

if [ "$backend" = cuda ]; then
  nvcc="${CUDACXX:-}"
  if [ -z "$nvcc" ]; then nvcc="$(command -v nvcc || true)"; fi
  if [ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ]; then nvcc=/usr/local/cuda/bin/nvcc; fi
  [ -n "$nvcc" ] || die "--backend cuda: no nvcc (put the CUDA toolkit's bin on PATH or set CUDACXX)"
fi

stamp="kokkos $version ($kokkos_src), kokkos-kernels $kernels_version ($kernels_src), backend $backend${arch:+ $arch}"
record="$prefix/tessera-kokkos.txt"
if [ -f "$record" ] && [ "$(cat "$record")" = "$stamp" ] &&
  { [ -f "$prefix/lib/cmake/Kokkos/KokkosConfig.cmake" ] || [ -f "$prefix/lib64/cmake/Kokkos/KokkosConfig.cmake" ]; } &&
  { [ -d "$prefix/lib/cmake/KokkosKernels" ] || [ -d "$prefix/lib64/cmake/KokkosKernels" ]; }; then
  echo "build_kokkos.sh: $prefix already holds $stamp: nothing to do"
else
  rm -f "$record"
  mkdir -p "$build_dir"
  unpack() {  # unpack SOURCE -> prints the source tree
    local src="$1" tree
    if [ -d "$src" ]; then echo "$src"; return; fi
    tree="$build_dir/$(basename "$src" .tar.gz)"
    if [ ! -d "$tree" ]; then
      tar -xzf "$src" -C "$build_dir" || die "could not unpack $src"
    fi
    echo "$tree"
  }
  # cmake_install NAME LABEL SOURCE FLAGS...: configure, build and install one package,
  # its logs in the build folder (the last lines shown when a step fails).
  cmake_install() {
    local name="$1" label="$2" tree="$3" t0=$SECONDS step
    shift 3
    for step in configure build; do
      local log="$build_dir/$name-$step.log" status=0 doing=building
      if [ "$step" = configure ]; then
        doing=configuring
        cmake -S "$tree" -B "$build_dir/$name" "$@" >"$log" 2>&1 || status=$?
      else
        cmake --build "$build_dir/$name" -j "$jobs" >"$log" 2>&1 || status=$?
      fi
      if [ "$status" -ne 0 ]; then
        tail -n 30 "$log"
        die "$doing $label failed (log: $log)"
      fi
    done
    cmake --install "$build_dir/$name" >/dev/null
    echo "build_kokkos.sh: $label done in $((SECONDS - t0)) s"
  }
  kokkos_tree="$(unpack "$kokkos_src")"
  kernels_tree="$(unpack "$kernels_src")"

  kokkos_flags=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_CXX_STANDARD=17
                -DKokkos_ENABLE_SERIAL=ON -DKokkos_ENABLE_TESTS=OFF -DKokkos_ENABLE_EXAMPLES=OFF)
  if [ "$backend" = openmp ]; then
    kokkos_flags+=(-DKokkos_ENABLE_OPENMP=ON)
  else
    # CUDA 13 and Kokkos 4.6.01: the vendored patch guards three runtime-API call sites
    # (SOURCES.md beside the tarballs); applied once, to the unpacked tree only.
    patch_file="$source_dir/kokkos-$version-cuda13.patch"
    cuda_major="$("$nvcc" --version | sed -n 's/.*release \([0-9]*\)\..*/\1/p')"
    if [ "${cuda_major:-0}" -ge 13 ] && [ -f "$patch_file" ] && [ ! -f "$kokkos_tree/.tessera-cuda13-patched" ]; then
      (cd "$kokkos_tree" && patch -p1 --forward <"$patch_file") || die "could not apply $patch_file"
      touch "$kokkos_tree/.tessera-cuda13-patched"
    fi
    kokkos_flags+=(-DKokkos_ENABLE_CUDA=ON -DKokkos_ENABLE_CUDA_LAMBDA=ON "-DKokkos_ARCH_$arch=ON"
                   -DCMAKE_CXX_COMPILER="$kokkos_tree/bin/nvcc_wrapper")
    export CUDA_ROOT="${CUDA_ROOT:-$(dirname "$(dirname "$nvcc")")}"
    export NVCC_WRAPPER_DEFAULT_COMPILER="${NVCC_WRAPPER_DEFAULT_COMPILER:-g++}"
  fi
  echo "build_kokkos.sh: Kokkos $version ($backend${arch:+ $arch}) into $prefix"
  cmake_install kokkos Kokkos "$kokkos_tree" "${kokkos_flags[@]}"

  kernels_flags=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" -DKokkos_ROOT="$prefix"
                 -DKokkosKernels_ENABLED_COMPONENTS=BLAS -DKokkosKernels_ADD_DEFAULT_ETI=OFF
                 -DKokkosKernels_ENABLE_TESTS=OFF -DKokkosKernels_ENABLE_EXAMPLES=OFF
                 -DKokkosKernels_ENABLE_PERFTESTS=OFF)
  if [ "$backend" = cuda ]; then
    kernels_flags+=(-DCMAKE_CXX_COMPILER="$prefix/bin/nvcc_wrapper")
  fi
  # The host BLAS (Debian: libopenblas-dev) for gemm on host memory, when there is one.
  if [ -e /usr/lib/x86_64-linux-gnu/libopenblas.so ] || ldconfig -p 2>/dev/null | grep -q "libblas.so "; then
    kernels_flags+=(-DKokkosKernels_ENABLE_TPL_BLAS=ON)
  else
    echo "build_kokkos.sh: no host BLAS found (libopenblas-dev): KokkosKernels' own gemm will be used on the host"
  fi
  echo "build_kokkos.sh: KokkosKernels $kernels_version (BLAS, no pre-instantiation) into $prefix"
  cmake_install kernels KokkosKernels "$kernels_tree" "${kernels_flags[@]}"
  echo "$stamp" >"$record"
  rm -rf "$build_dir"
fi

compiler=""
if [ "$backend" = cuda ]; then compiler=" -DCMAKE_CXX_COMPILER=$prefix/bin/nvcc_wrapper"; fi
cat <<EOF
Configure Tessera against it (a build folder of its own):
  cmake -S $repo -B build-kokkos-$backend -DCMAKE_BUILD_TYPE=Release -DKokkos_ROOT=$prefix -DKokkosKernels_ROOT=$prefix$compiler
  cmake --build build-kokkos-$backend -j $jobs
EOF
if [ "$backend" = openmp ]; then
  echo "Threads per rank: OMP_NUM_THREADS (ranks x threads <= cores; OMP_WAIT_POLICY=passive where ranks share cores)"
fi
