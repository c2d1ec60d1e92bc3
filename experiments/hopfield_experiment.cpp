// The hopfield experiment: modern Hopfield networks (capacity, beta sweep, Fashion-MNIST
// retrieval, HopfieldPooling classifier), each beside its classical or MLP baseline
// (models/hopfield owns the keys, the configuration and the drivers).
#include "core/runtime/error.hpp"
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
    const hopfield::HopfieldConfig h = hopfield::from_config(c);
    hopfield::validate(h, ranks);
    // Only the learning task has a training loop whose state a checkpoint holds.
    if (h.hopfield.task != "learning" &&
        (c.get_int("output.checkpoint_every") > 0 || c.get_real("output.checkpoint_seconds") > 0)) {
      throw InputError(str(c.source(), ": output.checkpoint_every / output.checkpoint_seconds: ",
                           "hopfield.task = \"", h.hopfield.task,
                           "\" has no training loop and cannot write checkpoints or resume; only "
                           "hopfield.task = \"learning\" can; leave the checkpoint keys at 0"));
    }
  };
  // The learning task: checkpoints of the training state (models/hopfield/run.cpp).
  kind.resumable = true;
  kind.run = [](const config::Config& c, RunContext& context) {
    const hopfield::HopfieldSummary s = hopfield::run_hopfield(hopfield::from_config(c), context);
    runtime::log::info(str("hopfield done: task ", s.task, " on ", s.ranks, " rank(s)"));
  };
  return kind;
}

}  // namespace tessera::experiments
