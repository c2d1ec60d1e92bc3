#include "core/io/checkpoints.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/stop_signal.hpp"

namespace tessera::io {
namespace fs = std::filesystem;
namespace {

constexpr const char* kPrefix = "step_";

std::string folder_name(long long step) {
  char name[64];
  std::snprintf(name, sizeof(name), "%s%012lld", kPrefix, step);
  return name;
}

// Rank 0 runs `work`; every rank learns whether it threw, and all throw together.
template <typename F>
void on_root(MPI_Comm comm, int rank, const F& work) {
  std::string error;
  if (rank == 0) {
    try {
      work();
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "unknown error";
    }
  }
  int failed = error.empty() ? 0 : 1;
  MPI_Bcast(&failed, 1, MPI_INT, 0, comm);
  if (failed) throw std::runtime_error(rank == 0 ? error : "checkpoint failed on rank 0");
}

}  // namespace

std::vector<CheckpointFolder> list_checkpoints(const std::string& run_directory) {
  std::vector<CheckpointFolder> found;
  const fs::path root = fs::path(run_directory) / "checkpoints";
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return found;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.rfind(kPrefix, 0) != 0) continue;
    const std::string digits = name.substr(std::string(kPrefix).size());
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) continue;
    found.push_back({entry.path().string(), std::stoll(digits)});
  }
  std::sort(found.begin(), found.end(),
            [](const CheckpointFolder& a, const CheckpointFolder& b) { return a.step < b.step; });
  return found;
}

Checkpoints::Checkpoints(MPI_Comm comm, std::string run_directory, CheckpointPolicy policy,
                         std::string config_toml)
    : comm_(comm),
      run_directory_(std::move(run_directory)),
      checkpoint_directory_((fs::path(run_directory_) / "checkpoints").string()),
      policy_(policy),
      config_toml_(std::move(config_toml)) {
  MPI_Comm_rank(comm_, &rank_);
  last_seconds_ = MPI_Wtime();
}

void Checkpoints::resume_from(const std::string& folder, long long step) {
  resume_folder_ = folder;
  resume_step_ = step;
  last_step_ = step;
}

std::string Checkpoints::resume_state_path() const {
  return (fs::path(resume_folder_) / "state.h5").string();
}

bool Checkpoints::due(long long step) {
  // [signal on any rank, policy on rank 0]: rank 0's clock decides for everyone.
  int local[2] = {runtime::stop_signal_received() ? 1 : 0, 0};
  if (rank_ == 0) {
    const bool by_steps = policy_.every_steps > 0 && step - last_step_ >= policy_.every_steps;
    const bool by_time =
        policy_.every_seconds > 0 && MPI_Wtime() - last_seconds_ >= policy_.every_seconds;
    local[1] = (by_steps || by_time) ? 1 : 0;
  }
  int global[2] = {0, 0};
  MPI_Allreduce(local, global, 2, MPI_INT, MPI_MAX, comm_);
  stop_requested_ = global[0] != 0;
  return global[0] != 0 || global[1] != 0;
}

void Checkpoints::write(long long step, ResultsFile& results,
                        const std::function<void(ResultsFile& state)>& write_state) {
  const fs::path final_folder = fs::path(checkpoint_directory_) / folder_name(step);
  const fs::path partial_folder = final_folder.string() + ".partial";
  on_root(comm_, rank_, [&] {
    fs::create_directories(checkpoint_directory_);
    fs::remove_all(partial_folder);
    fs::create_directories(partial_folder);
    std::ofstream config(partial_folder / "config.toml");
    config << config_toml_;
    if (!config)
      throw std::runtime_error(str("cannot write ", (partial_folder / "config.toml").string()));
  });
  {
    ResultsFile state(comm_, (partial_folder / "state.h5").string());
    state.set_attribute("/", "step", static_cast<double>(step));
    write_state(state);
    state.close();
  }
  results.snapshot((partial_folder / "run.h5").string());
  on_root(comm_, rank_, [&] {
    // A folder of this step from an earlier attempt (a run resumed from an older
    // checkpoint reaches the same step again) is replaced.
    fs::remove_all(final_folder);
    fs::rename(partial_folder, final_folder);
    // Folders left half-written by a run killed while writing one.
    for (const auto& entry : fs::directory_iterator(checkpoint_directory_)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(kPrefix, 0) == 0 && entry.path().extension() == ".partial") {
        fs::remove_all(entry.path());
      }
    }
    const auto folders = list_checkpoints(run_directory_);
    const std::size_t keep = static_cast<std::size_t>(std::max(1, policy_.keep));
    for (std::size_t i = 0; i + keep < folders.size(); ++i) {
      fs::remove_all(folders[i].path);
    }
  });
  ++written_;
  last_step_ = step;
  last_seconds_ = MPI_Wtime();
  runtime::log::info(str("checkpoint: step ", step, " in ", final_folder.string()));
  if (stop_requested_) {
    const std::string signal = runtime::stop_signal_name();
    throw Preempted(str(signal.empty() ? "a stop signal (on another rank)" : signal,
                        " received: checkpoint of step ", step, " written to ",
                        final_folder.string(), "; continue with: tessera run --resume ",
                        run_directory_));
  }
}

}  // namespace tessera::io
