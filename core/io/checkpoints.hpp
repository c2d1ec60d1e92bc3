#pragma once
// Checkpoints of a run, for `tessera run --resume RUN_DIR`:
//   <run>/checkpoints/step_<012d>/state.h5     the driver's state (fields, solver and
//                                              model state, counters), in global order
//                                 /run.h5       the results file as it stood then
//                                 /config.toml  the resolved configuration
// A folder is written as step_<...>.partial and renamed when complete, so a run killed
// while writing one never leaves a checkpoint that looks usable; only the newest
// output.checkpoint_keep complete folders are kept.
//
// A driver calls at_boundary(step, ...) where its state is whole (after a step, an
// output event, a training step). A checkpoint is written there when output.checkpoint_every
// steps or output.checkpoint_seconds of wall time have passed since the last, or when
// SIGTERM/SIGUSR1 arrived on any rank; after a signal the run ends with Preempted.
#include <mpi.h>

#include <functional>
#include <string>
#include <vector>

#include "core/io/results_file.hpp"

namespace tessera::io {

struct CheckpointPolicy {
  long long every_steps = 0;  // 0: not by steps
  double every_seconds = 0;   // 0: not by wall time
  int keep = 2;               // complete checkpoint folders kept, the newest ones
};

class Checkpoints {
 public:
  // `config_toml`: the resolved configuration, stored with each checkpoint.
  Checkpoints(MPI_Comm comm, std::string run_directory, CheckpointPolicy policy,
              std::string config_toml);

  // A resumed run: the checkpoint folder it starts from and its step.
  void resume_from(const std::string& folder, long long step);
  bool resuming() const { return !resume_folder_.empty(); }
  const std::string& resume_folder() const { return resume_folder_; }
  // The checkpoint's state.h5. InputError naming it and config.toml beside it when it
  // was written with another configuration than that file holds (an edited config.toml,
  // a state.h5 of another run): continuing would mix two runs.
  std::string resume_state_path() const;
  long long resume_step() const { return resume_step_; }

  // Collective (one small all-reduce): whether a checkpoint is due at this boundary.
  bool due(long long step);
  // Collective: writes the checkpoint of `step`: `write_state` fills state.h5 (a
  // ResultsFile: write_root_array / write_distributed_array / set_attribute; a driver may
  // put files of its own beside it, in parent_path(state.path())), then the results file
  // is copied there too. Throws Preempted afterwards when a stop signal
  // made it due.
  void write(long long step, ResultsFile& results,
             const std::function<void(ResultsFile& state)>& write_state);
  // due() then write(): the one call a driver's loop makes.
  void at_boundary(long long step, ResultsFile& results,
                   const std::function<void(ResultsFile& state)>& write_state) {
    if (due(step)) write(step, results, write_state);
  }

  int written() const { return written_; }
  const std::string& directory() const { return checkpoint_directory_; }

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  std::string run_directory_;
  std::string checkpoint_directory_;
  CheckpointPolicy policy_;
  std::string config_toml_;
  std::string resume_folder_;
  long long resume_step_ = 0;
  long long last_step_ = 0;
  double last_seconds_ = 0;
  bool stop_requested_ = false;
  int written_ = 0;
};

struct CheckpointFolder {
  std::string path;
  long long step = 0;
};
// The complete checkpoint folders of a run directory, oldest first.
std::vector<CheckpointFolder> list_checkpoints(const std::string& run_directory);

}  // namespace tessera::io
