#pragma once
// A fresh temporary directory shared by all ranks of MPI_COMM_WORLD: made by rank 0,
// named after its process id (so concurrent test runs do not collide), broadcast.
#include <mpi.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace tessera::testing {

inline std::string shared_temp_dir(const std::string& tag) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::string dir;
  if (rank == 0) {
    dir = (std::filesystem::temp_directory_path() /
           ("tessera_" + tag + "_" + std::to_string(::getpid())))
              .string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  int length = static_cast<int>(dir.size());
  MPI_Bcast(&length, 1, MPI_INT, 0, MPI_COMM_WORLD);
  dir.resize(length);
  MPI_Bcast(dir.data(), length, MPI_CHAR, 0, MPI_COMM_WORLD);
  return dir;
}

}  // namespace tessera::testing
