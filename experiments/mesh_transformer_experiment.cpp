// The mesh_transformer experiment: the mesh transformer and its MeshGraphNet baseline
// trained on flow trajectories and scored by rollouts beside persistence
// (models/mesh_transformer owns the keys, the configuration and the driver).
#include "core/runtime/log.hpp"
#include "experiments/experiment.hpp"
#include "models/mesh_transformer/run.hpp"

namespace tessera::experiments {

namespace mt = models::mesh_transformer;

namespace {

void log_summary(const mt::MeshTransformerSummary& s) {
  auto horizon = [](double h) { return h == 0 ? std::string("all") : str(h); };
  std::string persistence;
  for (std::size_t h = 0; h < s.horizons.size(); ++h) {
    persistence += str(h ? ", " : "", horizon(s.horizons[h]), ": ", s.persistence[h]);
  }
  runtime::log::info(str("rollout RMSE of persistence (baseline): ", persistence));
  for (const mt::ModelResult& m : s.models) {
    std::string rmse;
    for (std::size_t h = 0; h < s.horizons.size(); ++h) {
      rmse += str(h ? ", " : "", horizon(s.horizons[h]), ": ", m.rmse[h]);
    }
    runtime::log::info(str("rollout RMSE of ", mt::model_kind_name(m.kind), " (", m.parameters,
                           " parameters, loss ", m.training.first_loss, " -> ",
                           m.training.final_loss, ", ", m.training.seconds_per_step, " s/step, ",
                           m.nodes_per_second, " nodes/s in rollouts): ", rmse));
  }
}

}  // namespace

ExperimentKind mesh_transformer_experiment_kind() {
  ExperimentKind kind;
  kind.name = "mesh_transformer";
  kind.description =
      "mesh transformer and MeshGraphNet trained on flow trajectories, scored by rollouts "
      "beside persistence";
  kind.add_keys = mt::add_mesh_transformer_keys;
  kind.check = [](const config::Config& c, int ranks) { mt::validate(mt::from_config(c), ranks); };
  // Checkpoints of the models' training (models/mesh_transformer/run.cpp).
  kind.resumable = true;
  kind.run = [](const config::Config& c, RunContext& context) {
    log_summary(mt::run_mesh_transformer(mt::from_config(c), context));
  };
  return kind;
}

}  // namespace tessera::experiments
