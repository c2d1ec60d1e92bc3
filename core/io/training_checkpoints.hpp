#pragma once
// How a training loop meets checkpoints (`tessera run --resume`, docs/reliability.md).
// The loop calls `boundary(step, write_state)` on every rank wherever its state is whole
// (`step`: the optimiser steps done); the run's io::Checkpoints decides whether one is due
// (or a stop signal asks for one) and then calls `write_state`, collectively, to write the
// state into the checkpoint's state file under `group`. `resume`, when set, is such a
// state file: the loop continues from it and, with the same options and rank count, ends
// bitwise equal to a training never interrupted. What the state holds is the family's
// (see its training.hpp).
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/io/checkpoints.hpp"
#include "core/io/hdf5_reader.hpp"
#include "core/io/results_file.hpp"

namespace tessera::io {

struct TrainingCheckpoints {
  std::function<void(long long step, const std::function<void(ResultsFile&)>& write_state)>
      boundary;
  const Hdf5Reader* resume = nullptr;
  std::string group = "/training";
};

// Runs that train several models one after the other (the `model.kinds` of st_forecast
// and mesh_transformer). A checkpoint holds `<prefix>/loop` = {the model in training, the
// optimiser steps of the models before it}, the results of the models done (written by
// the family), and the training state of the model in training (`<prefix>/training`).
// Checkpoint steps count the optimiser steps of all models, so they keep rising.
class TrainingSequence {
 public:
  // `checkpoints`: the run's (nullptr: none). On a resumed run, reads where the sequence
  // stood; InputError naming the state file when its loop names no model of the `models`.
  TrainingSequence(Checkpoints* checkpoints, ResultsFile& results, std::string prefix,
                   std::size_t models);

  // The first model to train: 0, or the one in training at the checkpoint (those before
  // it are done: read their results from resume_state()).
  std::size_t first() const { return first_; }
  const Hdf5Reader* resume_state() const { return resume_.get(); }

  // The checkpoints of model k's training (nullptr when the run writes none);
  // `write_done(state, j)` writes the result of model j < k into a checkpoint.
  const TrainingCheckpoints* for_model(
      std::size_t k, std::function<void(ResultsFile& state, std::size_t j)> write_done);
  // After model k trained: its optimiser steps.
  void finished(long long steps) { steps_before_ += steps; }

 private:
  Checkpoints* checkpoints_;
  ResultsFile* results_;
  std::string prefix_;
  std::unique_ptr<Hdf5Reader> resume_;
  std::size_t first_ = 0;
  long long steps_before_ = 0;
  TrainingCheckpoints current_;
  std::function<void(ResultsFile&, std::size_t)> write_done_;
};

}  // namespace tessera::io
