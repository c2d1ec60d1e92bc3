#include "core/io/training_checkpoints.hpp"

#include <utility>
#include <vector>

#include "core/runtime/error.hpp"

namespace tessera::io {

TrainingSequence::TrainingSequence(Checkpoints* checkpoints, ResultsFile& results,
                                   std::string prefix, std::size_t models)
    : checkpoints_(checkpoints), results_(&results), prefix_(std::move(prefix)) {
  if (!checkpoints_ || !checkpoints_->resuming()) return;
  resume_ = std::make_unique<Hdf5Reader>(checkpoints_->resume_state_path());
  const std::vector<double> loop = resume_->read(prefix_ + "/loop");
  if (loop.size() != 2 || !(loop[0] >= 0 && loop[0] < static_cast<double>(models))) {
    throw InputError(str(resume_->path(), ": ", prefix_, "/loop does not name one of the ", models,
                         " models of model.kinds (a checkpoint of another run)"));
  }
  first_ = static_cast<std::size_t>(loop[0]);
  steps_before_ = static_cast<long long>(loop[1]);
}

const TrainingCheckpoints* TrainingSequence::for_model(
    std::size_t k, std::function<void(ResultsFile& state, std::size_t j)> write_done) {
  if (!checkpoints_) return nullptr;
  write_done_ = std::move(write_done);
  current_ = TrainingCheckpoints{};
  current_.group = prefix_ + "/training";
  current_.resume = k == first_ ? resume_.get() : nullptr;
  current_.boundary = [this, k](long long step,
                                const std::function<void(ResultsFile&)>& write_training) {
    checkpoints_->at_boundary(steps_before_ + step, *results_, [&](ResultsFile& state) {
      state.write_root_array(prefix_ + "/loop", {2},
                             {static_cast<double>(k), static_cast<double>(steps_before_)});
      for (std::size_t j = 0; j < k; ++j) write_done_(state, j);
      write_training(state);
    });
  };
  return &current_;
}

}  // namespace tessera::io
