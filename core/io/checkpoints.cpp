#include "core/io/checkpoints.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/io/hdf5_reader.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/runtime.hpp"
#include "core/runtime/stop_signal.hpp"

namespace tessera::io {
namespace fs = std::filesystem;
namespace {

constexpr const char* kPrefix = "step_";
// The attribute of state.h5 that holds the configuration it was written with.
constexpr const char* kConfigAttribute = "config";

std::string folder_name(long long step) {
  char name[64];
  std::snprintf(name, sizeof(name), "%s%012lld", kPrefix, step);
  return name;
}

// Where two configuration texts first differ, as "[section] line" of each (for a message).
std::pair<std::string, std::string> first_difference(const std::string& a, const std::string& b) {
  std::istringstream in_a(a), in_b(b);
  std::string line_a, line_b, section;
  while (true) {
    const bool more_a = static_cast<bool>(std::getline(in_a, line_a));
    const bool more_b = static_cast<bool>(std::getline(in_b, line_b));
    if (!more_a) line_a = "(no line)";
    if (!more_b) line_b = "(no line)";
    if (!more_a && !more_b) return {"", ""};
    if (line_a != line_b) {
      const std::string where = section.empty() ? "" : section + " ";
      return {where + line_a, where + line_b};
    }
    if (!line_a.empty() && line_a.front() == '[') section = line_a;
  }
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
  const std::string state_path = (fs::path(resume_folder_) / "state.h5").string();
  const std::string config_path = (fs::path(resume_folder_) / "config.toml").string();
  const Hdf5Reader state(state_path);
  std::string written_with;
  try {
    written_with = state.read_string_attribute("/", kConfigAttribute);
  } catch (const InputError&) {
    // Checkpoints of earlier versions do not say; their drivers check shapes.
    return state_path;
  }
  std::ifstream in(config_path);
  std::stringstream text;
  text << in.rdbuf();
  if (text.str() != written_with) {
    const auto [there, here] = first_difference(text.str(), written_with);
    throw InputError(str(state_path,
                         ": belongs to another run: it was written with another "
                         "configuration than ",
                         config_path, " (", there, " in config.toml, ", here,
                         " in the configuration of state.h5); put the checkpoint's own "
                         "config.toml back, or start a new run"));
  }
  return state_path;
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
  runtime::on_root(comm_, [&] {
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
    // So that a resume notices a config.toml edited or a state.h5 copied from another run.
    state.set_attribute("/", kConfigAttribute, config_toml_);
    write_state(state);
    state.close();
  }
  results.snapshot((partial_folder / "run.h5").string());
  runtime::on_root(comm_, [&] {
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
