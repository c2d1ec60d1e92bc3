#pragma once
// The mesh_transformer experiment's driver: read the training and test trajectories,
// train each configured model (the mesh transformer, MeshGraphNet) from scratch on the
// same samples, score each by autoregressive rollouts on the test trajectories beside
// the persistence baseline (the initial state held), and write the loss series, the RMSE
// per rollout frame, the RMSE at the horizons, timings, the parameters and normalisers,
// and the rollouts of the first test trajectories for ParaView.
#include <string>
#include <vector>

#include "core/io/run_context.hpp"
#include "models/mesh_transformer/config.hpp"

namespace tessera::models::mesh_transformer {

struct ModelResult {
  ModelKind kind = ModelKind::kTransformer;
  std::size_t parameters = 0;
  TrainingSummary training;
  std::vector<double> rmse;  // mean over test trajectories, per horizon, then the whole rollout
  double rollout_seconds = 0;
  double nodes_per_second = 0;  // node updates per second in the rollouts (inference)
};

struct MeshTransformerSummary {
  std::size_t train_trajectories = 0, test_trajectories = 0, nodes = 0;
  std::vector<double> horizons;     // the configured ones, then 0 = whole rollout
  std::vector<double> persistence;  // baseline RMSE at the same horizons
  std::vector<ModelResult> models;
};

MeshTransformerSummary run_mesh_transformer(const MeshTransformerConfig& config,
                                            const io::RunContext& context);

}  // namespace tessera::models::mesh_transformer
