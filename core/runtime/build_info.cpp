#include "core/runtime/build_info.hpp"

#include <dlfcn.h>

#include <Kokkos_Core.hpp>
#include <algorithm>
#if __has_include(<KokkosKernels_config.h>)
#include <KokkosKernels_config.h>
#endif
#if __has_include(<Trilinos_version.h>)
#include <Trilinos_version.h>
#endif

#include "core/io/results_file.hpp"
#include "core/io/vtk_series.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"

// Fortran BLAS entry point; only its address is taken, to find the BLAS library.
extern "C" void sgemm_(const char*, const char*, const int*, const int*, const int*, const float*,
                       const float*, const int*, const float*, const int*, const float*, float*,
                       const int*);

namespace tessera::runtime {

std::string kokkos_version() {
  return str(KOKKOS_VERSION / 10000, ".", KOKKOS_VERSION / 100 % 100, ".", KOKKOS_VERSION % 100);
}

std::string kokkos_backends() {
  std::string out;
  auto add = [&](const char* name) { out += (out.empty() ? "" : ", ") + std::string(name); };
#ifdef KOKKOS_ENABLE_SERIAL
  add("Serial");
#endif
#ifdef KOKKOS_ENABLE_OPENMP
  add("OpenMP");
#endif
#ifdef KOKKOS_ENABLE_THREADS
  add("Threads");
#endif
#ifdef KOKKOS_ENABLE_CUDA
  add("Cuda");
#endif
#ifdef KOKKOS_ENABLE_HIP
  add("HIP");
#endif
#ifdef KOKKOS_ENABLE_SYCL
  add("SYCL");
#endif
  out += str(" (default execution space: ", Kokkos::DefaultExecutionSpace::name(), ")");
  return out;
}

std::string blas_description() {
  // The library that really provides sgemm (Debian picks it through alternatives).
  Dl_info where{};
  std::string library = "unknown library";
  if (dladdr(reinterpret_cast<void*>(&sgemm_), &where) != 0 && where.dli_fname != nullptr) {
    library = where.dli_fname;
  }
  using GetConfig = char* (*)();
  auto get_config = reinterpret_cast<GetConfig>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  if (get_config != nullptr) {
    return str(get_config(), ", ", blas_threads(), " thread(s) per rank (", library, ")");
  }
  return str(library, " (not OpenBLAS: gemm may be slow; install libopenblas-dev)");
}

std::vector<std::pair<std::string, std::string>> build_info(MPI_Comm comm) {
  char library[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(library, &length);
  std::string mpi(library, static_cast<std::size_t>(length));
  // Open MPI counts the terminating NUL in `length`: text only, so that grep reads it.
  const auto line_end = mpi.find_first_of(std::string("\r\n\0", 3));
  if (line_end != std::string::npos) mpi.resize(line_end);
  int major = 0, minor = 0;
  MPI_Get_version(&major, &minor);

  std::vector<std::pair<std::string, std::string>> info;
  info.emplace_back("Tessera", TESSERA_VERSION);
  info.emplace_back("Kokkos", kokkos_version());
  info.emplace_back("Kokkos backends", kokkos_backends());
#if defined(KOKKOSKERNELS_VERSION)
  info.emplace_back("KokkosKernels",
                    str(KOKKOSKERNELS_VERSION / 10000, ".", KOKKOSKERNELS_VERSION / 100 % 100, ".",
                        KOKKOSKERNELS_VERSION % 100));
#elif defined(TRILINOS_VERSION_STRING)
  info.emplace_back("KokkosKernels", str("from Trilinos ", TRILINOS_VERSION_STRING,
                                         " (matches Kokkos ", kokkos_version(), ")"));
#else
  info.emplace_back("KokkosKernels", "version unknown");
#endif
  info.emplace_back("MPI library", str(mpi, " (MPI ", major, ".", minor, ")"));
  info.emplace_back("MPI ranks", std::to_string(comm_size(comm)));
#ifdef TESSERA_GPU_AWARE_MPI
  info.emplace_back("GPU-aware MPI", "on (device buffers passed to MPI)");
#else
  info.emplace_back("GPU-aware MPI", "off (halos staged through host memory)");
#endif
  info.emplace_back("HDF5",
                    str(io::hdf5_version(), io::hdf5_is_parallel() ? " (parallel)" : " (serial)"));
  info.emplace_back("VTK", io::vtk_version());
  info.emplace_back("BLAS", blas_description());
  const bool split_gemm = kokkos_threads() > 1 && blas_threads() == 1;
  info.emplace_back("Threads per rank",
                    str(kokkos_threads(), " Kokkos (", Kokkos::DefaultHostExecutionSpace::name(),
                        "), ", blas_threads(), " BLAS",
                        split_gemm ? " (gemm split over the Kokkos threads)" : ""));
  info.emplace_back("Cores available", std::to_string(available_cores()));
  return info;
}

}  // namespace tessera::runtime
