#pragma once
// Where a run writes: results/<experiment>/<run-id>/ by default (run-id from the
// start time, unique), or exactly the directory given with --out. Chosen on rank 0
// and broadcast, so every rank writes to the same place.
#include <mpi.h>

#include <string>

namespace tessera::io {

struct RunDirectoryRequest {
  std::string results_root = "results";  // output.dir
  std::string experiment_name;
  std::string explicit_directory;  // --out; empty: results_root/name/run-id
  bool overwrite = false;          // allow --out to hold an earlier run
};

// Collective. Creates the directory on rank 0 and checks that a file can be written in
// it; InputError (same on every rank) when it cannot, or when --out already holds a run
// and overwrite is false.
std::string prepare_run_directory(MPI_Comm comm, const RunDirectoryRequest& request);

// Run id from the local time, "20261125-171503".
std::string timestamp_run_id();

}  // namespace tessera::io
