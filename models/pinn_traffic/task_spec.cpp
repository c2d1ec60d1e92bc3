#include "models/pinn_traffic/task_spec.hpp"

#include <algorithm>

#include "core/runtime/error.hpp"

namespace tessera::models::pinn_traffic {

std::vector<std::size_t> NetworkSpec::sizes() const {
  if (hidden_layers == 0 || width == 0) {
    throw InputError(str("model.hidden_layers = ", hidden_layers, " and model.width = ", width,
                         " must both be at least 1"));
  }
  std::vector<std::size_t> out{2};
  for (std::size_t l = 0; l < hidden_layers; ++l) out.push_back(width);
  out.push_back(outputs);
  return out;
}

const std::vector<std::string>& auxiliary_task_kinds() {
  static const std::vector<std::string> kinds = {
      "physics_heavy", "data_heavy", "resampled", "early_time", "other_collocation", "other_init"};
  return kinds;
}

TaskSpec auxiliary_task(const std::string& kind, const TaskSpec& main, double factor,
                        double early_fraction, std::uint64_t stream) {
  TaskSpec task = main;
  task.name = kind;
  task.stream = stream;
  if (kind == "physics_heavy") {
    task.weights.residual *= factor;
  } else if (kind == "data_heavy") {
    task.weights.data *= factor;
    task.weights.initial *= factor;
  } else if (kind == "resampled") {
    task.collocation.sampler = SamplerKind::kUniform;
    task.collocation.resample_every = 50;
  } else if (kind == "early_time") {
    task.collocation.time_fraction = early_fraction;
  } else if (kind == "other_collocation") {
    // Only the stream differs.
  } else if (kind == "other_init") {
    task.init_stream = stream;
  } else {
    std::string known;
    for (const auto& k : auxiliary_task_kinds()) known += (known.empty() ? "" : ", ") + k;
    throw InputError(str("unknown auxiliary task '", kind, "' (expected ", known, ")"));
  }
  return task;
}

std::vector<std::string> parse_task_list(const std::string& text, const std::string& key) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) {
      const auto& kinds = auxiliary_task_kinds();
      if (std::find(kinds.begin(), kinds.end(), item) == kinds.end()) {
        std::string known;
        for (const auto& k : kinds) known += (known.empty() ? "" : ", ") + k;
        throw InputError(str("key '", key, "': unknown auxiliary task '", item, "' (expected ",
                             "a comma-separated list of ", known, ")"));
      }
      if (std::find(out.begin(), out.end(), item) != out.end()) {
        throw InputError(str("key '", key, "': auxiliary task '", item, "' is listed twice"));
      }
      out.push_back(item);
    }
    start = end + 1;
  }
  return out;
}

}  // namespace tessera::models::pinn_traffic
