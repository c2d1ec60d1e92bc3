#pragma once
// An experiment kind that `tessera run` can execute, selected by run.experiment in the
// TOML file. Each kind declares its keys (schema), checks a configuration for the
// given rank count without running (so that `tessera validate` catches everything it
// can), and runs.
#include <mpi.h>

#include <functional>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/io/run_context.hpp"

namespace tessera::experiments {

// What a run writes to (made by `tessera run`); drivers in solvers/ and models/ take it.
using RunContext = io::RunContext;

struct ExperimentKind {
  std::string name;         // value of run.experiment
  std::string description;  // one line for --help and `tessera list`
  std::function<void(config::Schema&)> add_keys;
  std::function<void(const config::Config&, int ranks)> check;  // throws InputError
  std::function<void(const config::Config&, RunContext&)> run;
  // Whether the driver writes checkpoints (context.checkpoints) and can continue from
  // one: `tessera run --resume`, the output.checkpoint_* keys and the stop signals.
  bool resumable = false;
};

const std::vector<ExperimentKind>& experiment_kinds();
// InputError listing the known kinds when `name` is not one.
const ExperimentKind& find_experiment_kind(const std::string& name, const std::string& where);

// The keys every experiment has: [run] experiment, name, seed, data_root; [output] dir,
// vtk, hdf5. `default_name` is the experiment file's stem.
void add_common_keys(config::Schema& schema, const std::string& default_name);

// The keys of a resumable kind: output.checkpoint_every, checkpoint_seconds, checkpoint_keep.
void add_checkpoint_keys(config::Schema& schema);
io::CheckpointPolicy checkpoint_policy(const config::Config& config);

// Reads the file, finds run.experiment (first in the file, then in --set), builds that
// kind's schema and resolves the configuration. InputErrors name the file and key.
struct LoadedExperiment {
  const ExperimentKind* kind = nullptr;
  config::Schema schema;
  config::Config config;
};
LoadedExperiment load_experiment(const std::string& path,
                                 const std::vector<std::string>& overrides);
// The same from TOML text (a checkpoint's config.toml); `source_name` names it in errors.
LoadedExperiment load_experiment_text(const std::string& text, const std::string& source_name,
                                      const std::string& default_name);

// The LWR traffic simulation (solvers/lwr).
ExperimentKind lwr_experiment_kind();

// Traffic on road networks with junctions, demand, incidents and detectors (solvers/lwr/network).
ExperimentKind lwr_network_experiment_kind();

// Incompressible flow past a cylinder (solvers/flow): DFG benchmarks and trajectory data sets.
ExperimentKind flow_experiment_kind();

// Physics-informed networks for traffic density, standard or multi-task (models/pinn_traffic).
ExperimentKind pinn_traffic_experiment_kind();

// Mesh generation or reading, METIS partition and halos (core/mesh, core/parallel).
ExperimentKind mesh_partition_experiment_kind();

// Modern Hopfield networks (models/hopfield): capacity, beta sweep, images, learning.
ExperimentKind hopfield_experiment_kind();

// The mesh transformer and MeshGraphNet on flow trajectories (models/mesh_transformer).
ExperimentKind mesh_transformer_experiment_kind();
// Traffic forecasting on sensor graphs: STTN and its baselines (models/st_forecast).
ExperimentKind st_forecast_experiment_kind();

}  // namespace tessera::experiments
