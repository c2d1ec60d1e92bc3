// The hopfield experiment: modern Hopfield networks (capacity, beta sweep, Fashion-MNIST
// retrieval, HopfieldPooling classifier), each beside its classical or MLP baseline
// (models/hopfield owns the keys, the configuration and the drivers).
#include "core/runtime/log.hpp"
#include "experiments/experiment.hpp"
#include "models/hopfield/run.hpp"

namespace tessera::experiments {

namespace hopfield = models::hopfield;

ExperimentKind hopfield_experiment_kind() {
  ExperimentKind kind;
  kind.name = "hopfield";
  kind.description =
      "modern Hopfield networks: capacity, beta sweep, Fashion-MNIST retrieval, HopfieldPooling "
      "classifier";
  kind.add_keys = hopfield::add_hopfield_keys;
  kind.check = [](const config::Config& c, int ranks) {
    hopfield::validate(hopfield::from_config(c), ranks);
  };
  kind.run = [](const config::Config& c, RunContext& context) {
    const hopfield::HopfieldSummary s = hopfield::run_hopfield(hopfield::from_config(c), context);
    runtime::log::info(str("hopfield done: task ", s.task, " on ", s.ranks, " rank(s)"));
  };
  return kind;
}

}  // namespace tessera::experiments
