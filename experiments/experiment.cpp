#include "experiments/experiment.hpp"

#include <filesystem>

#include "core/runtime/error.hpp"

namespace tessera::experiments {

const std::vector<ExperimentKind>& experiment_kinds() {
  static const std::vector<ExperimentKind> kinds = {
      lwr_experiment_kind(),          flow_experiment_kind(),
      pinn_traffic_experiment_kind(), mesh_partition_experiment_kind(),
      hopfield_experiment_kind(),     mesh_transformer_experiment_kind(),
      st_forecast_experiment_kind(),  lwr_network_experiment_kind()};
  return kinds;
}

const ExperimentKind& find_experiment_kind(const std::string& name, const std::string& where) {
  std::string known;
  for (const auto& kind : experiment_kinds()) {
    if (kind.name == name) return kind;
    known += (known.empty() ? "\"" : ", \"") + kind.name + "\"";
  }
  throw InputError(str(where, ": key 'run.experiment' = \"", name,
                       "\" is not a known experiment: expected one of ", known));
}

void add_common_keys(config::Schema& schema, const std::string& default_name) {
  std::vector<std::string> names;
  for (const auto& kind : experiment_kinds()) names.push_back(kind.name);
  schema.add_string("run.experiment", std::nullopt, names, "which experiment this file runs");
  schema.add_string("run.name", default_name, {},
                    "name of the run; results go to <output.dir>/<name>/<run-id>/");
  schema.add_int("run.seed", 1, config::at_least(0), "seed of every random choice of the run");
  schema.add_string("run.data_root", std::string(), {},
                    "folder of real data files; empty: $TESSERA_DATA or ../shared/data");
  schema.add_string("output.dir", std::string("results"), {}, "root folder of results");
  schema.add_bool("output.vtk", true, "write fields as a VTK time series for ParaView");
}

void add_checkpoint_keys(config::Schema& schema) {
  schema.add_int("output.checkpoint_every", 0, config::at_least(0),
                 "write a checkpoint every this many steps (solver or training steps of the "
                 "kind; 0: not by steps); `tessera run --resume RUN_DIR` continues from it");
  schema.add_real("output.checkpoint_seconds", 0.0, config::at_least(0),
                  "also write a checkpoint when this much wall time has passed since the "
                  "last (0: not by time)");
  schema.add_int("output.checkpoint_keep", 2, config::at_least(1),
                 "checkpoints kept in RUN_DIR/checkpoints (the newest ones)");
}

io::CheckpointPolicy checkpoint_policy(const config::Config& config) {
  io::CheckpointPolicy policy;
  policy.every_steps = config.get_int("output.checkpoint_every");
  policy.every_seconds = config.get_real("output.checkpoint_seconds");
  policy.keep = static_cast<int>(config.get_int("output.checkpoint_keep"));
  return policy;
}

namespace {

LoadedExperiment load_document(const config::TomlDocument& document, const std::string& path,
                               const std::string& default_name,
                               const std::vector<std::string>& overrides) {
  std::string kind_name;
  std::string where = path;
  if (auto it = document.values.find("run.experiment"); it != document.values.end()) {
    if (!it->second.is_string()) {
      throw InputError(str(path, ":", it->second.line,
                           ": key 'run.experiment' = ", it->second.to_toml(), " is a ",
                           it->second.type_name(), ": expected a string naming the experiment"));
    }
    kind_name = std::get<std::string>(it->second.data);
    where = str(path, ":", it->second.line);
  }
  for (const auto& item : overrides) {
    const std::string prefix = "run.experiment=";
    if (item.rfind(prefix, 0) == 0) {
      kind_name = item.substr(prefix.size());
      if (kind_name.size() >= 2 && kind_name.front() == '"') {
        kind_name = kind_name.substr(1, kind_name.size() - 2);
      }
      where = "--set run.experiment";
    }
  }
  if (kind_name.empty()) {
    std::string known;
    for (const auto& kind : experiment_kinds()) known += (known.empty() ? "" : ", ") + kind.name;
    throw InputError(str(path, ": required key 'run.experiment' is missing: expected one of ",
                         known, " in the [run] section"));
  }
  LoadedExperiment loaded;
  loaded.kind = &find_experiment_kind(kind_name, where);
  add_common_keys(loaded.schema, default_name);
  if (loaded.kind->resumable) add_checkpoint_keys(loaded.schema);
  loaded.kind->add_keys(loaded.schema);
  loaded.config = config::resolve(loaded.schema, document, overrides);
  return loaded;
}

}  // namespace

LoadedExperiment load_experiment(const std::string& path,
                                 const std::vector<std::string>& overrides) {
  return load_document(config::parse_toml_file(path), path,
                       std::filesystem::path(path).stem().string(), overrides);
}

LoadedExperiment load_experiment_text(const std::string& text, const std::string& source_name,
                                      const std::string& default_name) {
  return load_document(config::parse_toml(text, source_name), source_name, default_name, {});
}

}  // namespace tessera::experiments
