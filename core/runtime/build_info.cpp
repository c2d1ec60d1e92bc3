#include "core/runtime/build_info.hpp"

#include <dlfcn.h>

#include <Kokkos_Core.hpp>
#include <algorithm>

#include "core/io/results_file.hpp"
#include "core/io/vtk_series.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"

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
  using GetConfig = char* (*)();
  auto get_config = reinterpret_cast<GetConfig>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  if (get_config != nullptr) {
    return str(get_config(), ", ", blas_threads(), " thread(s) per rank");
  }
  return "reference or vendor BLAS (not OpenBLAS; gemm may be slow)";
}

std::vector<std::pair<std::string, std::string>> build_info(MPI_Comm comm) {
  char library[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(library, &length);
  std::string mpi(library, static_cast<std::size_t>(length));
  const auto line_end = mpi.find_first_of("\r\n");
  if (line_end != std::string::npos) mpi.resize(line_end);
  int major = 0, minor = 0;
  MPI_Get_version(&major, &minor);

  std::vector<std::pair<std::string, std::string>> info;
  info.emplace_back("Tessera", TESSERA_VERSION);
  info.emplace_back("Kokkos", kokkos_version());
  info.emplace_back("Kokkos backends", kokkos_backends());
#ifdef KOKKOSKERNELS_VERSION
  info.emplace_back("KokkosKernels", std::to_string(KOKKOSKERNELS_VERSION));
#else
  info.emplace_back("KokkosKernels", str("bundled with Kokkos ", kokkos_version()));
#endif
  info.emplace_back("MPI library", str(mpi, " (MPI ", major, ".", minor, ")"));
  info.emplace_back("MPI ranks", std::to_string(comm_size(comm)));
#ifdef TESSERA_GPU_AWARE_MPI
  info.emplace_back("GPU-aware MPI", "on (device buffers passed to MPI)");
#else
  info.emplace_back("GPU-aware MPI", "off (halos staged through host memory)");
#endif
  info.emplace_back("HDF5", str(io::hdf5_version(), io::hdf5_is_parallel() ? " (parallel)"
                                                                           : " (serial)"));
  info.emplace_back("VTK", io::vtk_version());
  info.emplace_back("BLAS", blas_description());
  info.emplace_back("Cores available", std::to_string(available_cores()));
  return info;
}

}  // namespace tessera::runtime
