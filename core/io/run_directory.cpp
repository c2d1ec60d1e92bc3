#include "core/io/run_directory.hpp"

#include <ctime>
#include <filesystem>
#include <fstream>

#include "core/runtime/error.hpp"

namespace tessera::io {
namespace fs = std::filesystem;

std::string timestamp_run_id() {
  std::time_t now = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y%m%d-%H%M%S", std::localtime(&now));
  return buffer;
}

namespace {

// Rank 0's part: returns the directory, or throws InputError.
std::string make_directory(const RunDirectoryRequest& request) {
  fs::path directory;
  if (!request.explicit_directory.empty()) {
    directory = request.explicit_directory;
    if (fs::exists(directory / "run.h5") && !request.overwrite) {
      throw InputError(str("output directory ", directory.string(),
                           " already holds a run (run.h5); choose another --out, remove it, or "
                           "pass --overwrite"));
    }
  } else {
    const fs::path parent = fs::path(request.results_root) / request.experiment_name;
    const std::string id = timestamp_run_id();
    directory = parent / id;
    for (int suffix = 2; fs::exists(directory); ++suffix) {
      directory = parent / str(id, "-", suffix);
    }
  }
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) {
    throw InputError(str("cannot create the output directory ", directory.string(), ": ",
                         ec.message(), " (set output.dir or --out to a writable place)"));
  }
  const fs::path probe = directory / ".tessera-write-test";
  {
    std::ofstream out(probe);
    out << "ok\n";
    if (!out) {
      throw InputError(str("output directory ", directory.string(),
                           " is not writable (set output.dir or --out to a writable place)"));
    }
  }
  fs::remove(probe, ec);
  return directory.string();
}

}  // namespace

std::string prepare_run_directory(MPI_Comm comm, const RunDirectoryRequest& request) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string directory;
  std::string error;
  if (rank == 0) {
    try {
      directory = make_directory(request);
    } catch (const InputError& e) {
      error = e.what();
    }
  }
  // Broadcast either the directory or the error, so that every rank throws the same.
  std::string message = error.empty() ? "D" + directory : "E" + error;
  int length = static_cast<int>(message.size());
  MPI_Bcast(&length, 1, MPI_INT, 0, comm);
  message.resize(length);
  MPI_Bcast(message.data(), length, MPI_CHAR, 0, comm);
  if (message[0] == 'E') throw InputError(message.substr(1));
  return message.substr(1);
}

}  // namespace tessera::io
