#pragma once
// Checkpoints of a model training in tests of resumed training: write the state at chosen
// boundaries of an uninterrupted training, then resume from each of those files.
#include <mpi.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "core/io/hdf5_reader.hpp"
#include "core/io/results_file.hpp"
#include "core/io/training_checkpoints.hpp"

namespace tessera::testing {

// Writes the training's state to path(step) at each boundary step listed in `at`.
inline io::TrainingCheckpoints writing_at(std::vector<long long> at,
                                          std::function<std::string(long long)> path) {
  io::TrainingCheckpoints writing;
  writing.boundary = [at = std::move(at), path = std::move(path)](
                         long long step, const std::function<void(io::ResultsFile&)>& write) {
    if (std::find(at.begin(), at.end(), step) == at.end()) return;
    io::ResultsFile file(MPI_COMM_SELF, path(step));
    write(file);
    file.close();
  };
  return writing;
}

// Resumes from `reader`; `first_boundary` receives the first boundary the resumed
// training reaches (where it starts again).
inline io::TrainingCheckpoints resuming_from(const io::Hdf5Reader& reader,
                                             long long& first_boundary) {
  io::TrainingCheckpoints resuming;
  resuming.resume = &reader;
  first_boundary = -1;
  resuming.boundary = [&first_boundary](long long now,
                                        const std::function<void(io::ResultsFile&)>&) {
    if (first_boundary < 0) first_boundary = now;
  };
  return resuming;
}

}  // namespace tessera::testing
