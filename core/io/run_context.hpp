#pragma once
// Where a run's driver (a solver's or a model family's) writes: the communicator, the
// run directory and its open results file, and the timers. The `tessera` command makes
// one per run (experiments/), tests make their own.
#include <mpi.h>

#include <string>

#include "core/io/checkpoints.hpp"
#include "core/io/results_file.hpp"
#include "core/runtime/timers.hpp"

namespace tessera::io {

struct RunContext {
  MPI_Comm comm = MPI_COMM_NULL;
  std::string directory;           // results/<name>/<run-id>/ or --out
  std::string name;                // run.name
  ResultsFile* results = nullptr;  // open; closed by the caller after the run
  runtime::Timers* timers = nullptr;
  // Kinds that can resume: where to write checkpoints and, for `tessera run --resume`,
  // the one to start from. Null for the others (and in tests that need none).
  Checkpoints* checkpoints = nullptr;
};

}  // namespace tessera::io
