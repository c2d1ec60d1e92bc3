#pragma once
// Configuration of the mesh_transformer experiment: the trajectory files ([data]), the
// models to train side by side in one run ([model]: the mesh transformer, MeshGraphNet or
// both), training ([train]) and the rollouts that score them ([rollout]).
#include <cstdint>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "models/mesh_transformer/dataset.hpp"
#include "models/mesh_transformer/surrogate.hpp"
#include "models/mesh_transformer/training.hpp"

namespace tessera::models::mesh_transformer {

struct MeshTransformerConfig {
  std::string source;  // the experiment file, for messages
  std::string data_root;
  std::string train_file, test_file;  // as written
  DataOptions data;
  std::size_t test_trajectories = 0;  // 0: all of the test file
  std::vector<ModelKind> kinds;       // trained in this order, each from scratch
  std::string checkpoint;             // model.checkpoint: start from an earlier run's models
  Surrogate<float>::Options model;    // kind set per entry of `kinds`
  TrainingOptions training;           // lr set per kind
  double transformer_lr = 1e-3, meshgraphnet_lr = 1e-4;
  std::string transformer_schedule, meshgraphnet_schedule;  // each model's own recipe
  std::size_t rollout_frames = 0;                           // 0: whole trajectories
  std::vector<double> horizons;  // RMSE horizons (frames); the whole rollout is added
  std::size_t vtk_trajectories = 1;
  bool vtk = true;
};

void add_mesh_transformer_keys(config::Schema& schema);
MeshTransformerConfig from_config(const config::Config& c);
// Checks that need no training (reads the headers of the data files): InputError naming
// the experiment file and the key.
void validate(const MeshTransformerConfig& config, int ranks);

// A data file's path: as written when it exists there, else under the data root.
std::string resolve_trajectory_file(const MeshTransformerConfig& config, const std::string& file,
                                    const char* key);

}  // namespace tessera::models::mesh_transformer
