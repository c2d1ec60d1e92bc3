#pragma once
// What this binary was built with and runs on, for `tessera info` and for the
// attributes of every results file.
#include <mpi.h>

#include <string>
#include <utility>
#include <vector>

namespace tessera::runtime {

// (label, value) pairs in display order: Tessera, Kokkos, backends, KokkosKernels,
// MPI library, ranks, HDF5, VTK, BLAS, cores. Collective (counts ranks per node).
std::vector<std::pair<std::string, std::string>> build_info(MPI_Comm comm);

std::string kokkos_version();
std::string kokkos_backends();
std::string blas_description();

}  // namespace tessera::runtime
