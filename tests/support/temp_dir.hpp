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

// A shared_temp_dir removed (by rank 0, once every rank is done) when it goes out of
// scope, so that a test leaves nothing behind even when a CHECK fails. Declare it before
// the files and readers that use it: they close first.
class ScopedTempDir {
 public:
  explicit ScopedTempDir(const std::string& tag) : path_(shared_temp_dir(tag)) {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  }
  // A static one is destroyed after MPI_Finalize, which every rank has passed: no barrier.
  ~ScopedTempDir() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Barrier(MPI_COMM_WORLD);
    std::error_code ignored;
    if (rank_ == 0) std::filesystem::remove_all(path_, ignored);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int rank_ = 0;
};

}  // namespace tessera::testing
