#include "models/hopfield/config.hpp"

#include <cmath>
#include <utility>

#include "core/runtime/error.hpp"
#include "models/hopfield/idx_reader.hpp"

namespace tessera::models::hopfield {

using config::at_least;
using config::between;
using config::greater_than;

void add_hopfield_keys(config::Schema& s) {
  s.add_string("hopfield.task", std::string("capacity"),
               {"capacity", "beta_sweep", "images", "learning"}, "which Hopfield experiment");
  s.add_real("hopfield.beta", 1.0, greater_than(0), "inverse temperature of retrieval");
  s.add_int("hopfield.max_steps", 1, at_least(1), "updates per retrieval at most");
  s.add_real("hopfield.eps", 1e-6, at_least(0), "stop updating when no entry moves by eps");
  s.add_string("hopfield.corruption", std::string("mask"), {"mask", "flip"},
               "how queries are corrupted: entries set to 0 or sign-flipped");
  s.add_real("hopfield.fraction", 0.25, between(0, 1), "fraction of query entries corrupted");
  s.add_real("hopfield.success_error", 0.1, greater_than(0),
             "a retrieval succeeds when |xi - x| / |x| is below this");
  s.add_int("hopfield.classical_sweeps", 20, at_least(1),
            "asynchronous sweeps of the classical net");

  s.add_real_list("capacity.dims", std::vector<double>{16, 32, 64, 128}, at_least(1),
                  "pattern dimensions d");
  s.add_real_list("capacity.counts", std::vector<double>{4, 8, 16, 32, 64, 128, 256, 512, 1024},
                  at_least(1), "numbers of stored patterns N");
  s.add_string("capacity.kinds", std::string("both"), {"both", "binary", "gaussian"},
               "pattern kinds");
  s.add_int("capacity.queries", 64, at_least(1), "queries per point (stored patterns, corrupted)");

  s.add_real_list("beta_sweep.betas",
                  std::vector<double>{0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10},
                  greater_than(0), "inverse temperatures");
  s.add_int("beta_sweep.patterns", 256, at_least(2), "stored Gaussian patterns");
  s.add_int("beta_sweep.dim", 64, at_least(1), "pattern dimension");
  s.add_int("beta_sweep.queries", 64, at_least(1), "queries (stored patterns plus noise)");
  s.add_real("beta_sweep.noise", 0.5, at_least(0), "std of the noise added to the queries");
  s.add_int("beta_sweep.steps", 100, at_least(1), "updates at most (to a fixed point)");
  s.add_real("beta_sweep.mass", 0.9, between(0, 1), "mass that the counted patterns must carry");

  s.add_string("images.dir", std::string(), {},
               "folder of the Fashion-MNIST IDX files; empty: $TESSERA_FASHION_MNIST or "
               "/usr/share/datasets/fashion-mnist");
  s.add_real_list("images.counts", std::vector<double>{8, 32, 128, 512}, at_least(1),
                  "numbers K of stored images");
  s.add_int("images.grid", 8, at_least(1), "images shown in the grid (of the first K)");

  s.add_int("learning.train", 6000, at_least(1), "training images");
  s.add_int("learning.test", 2000, at_least(1), "test images");
  s.add_int("learning.epochs", 3, at_least(1), "epochs");
  s.add_int("learning.batch", 64, at_least(1), "mini-batch size");
  s.add_real("learning.lr", 3e-3, greater_than(0), "Adam learning rate");
  s.add_int("learning.hidden", 64, at_least(1), "Hopfield pooling output width");
  s.add_int("learning.heads", 4, at_least(1), "Hopfield heads (divides learning.hidden)");
}

HopfieldConfig from_config(const config::Config& c) {
  HopfieldConfig h;
  h.source = c.source();
  h.seed = static_cast<std::uint64_t>(c.get_int("run.seed"));
  h.hopfield.task = c.get_string("hopfield.task");
  h.hopfield.beta = c.get_real("hopfield.beta");
  h.hopfield.max_steps = c.get_int("hopfield.max_steps");
  h.hopfield.eps = c.get_real("hopfield.eps");
  h.hopfield.corruption = c.get_string("hopfield.corruption");
  h.hopfield.fraction = c.get_real("hopfield.fraction");
  h.hopfield.success_error = c.get_real("hopfield.success_error");
  h.hopfield.classical_sweeps = c.get_int("hopfield.classical_sweeps");
  h.capacity.dims = c.get_real_list("capacity.dims");
  h.capacity.counts = c.get_real_list("capacity.counts");
  h.capacity.kinds = c.get_string("capacity.kinds");
  h.capacity.queries = c.get_int("capacity.queries");
  h.beta_sweep.betas = c.get_real_list("beta_sweep.betas");
  h.beta_sweep.patterns = c.get_int("beta_sweep.patterns");
  h.beta_sweep.dim = c.get_int("beta_sweep.dim");
  h.beta_sweep.queries = c.get_int("beta_sweep.queries");
  h.beta_sweep.noise = c.get_real("beta_sweep.noise");
  h.beta_sweep.steps = c.get_int("beta_sweep.steps");
  h.beta_sweep.mass = c.get_real("beta_sweep.mass");
  h.images.dir = c.get_string("images.dir");
  h.images.counts = c.get_real_list("images.counts");
  h.images.grid = c.get_int("images.grid");
  h.learning.train = c.get_int("learning.train");
  h.learning.test = c.get_int("learning.test");
  h.learning.epochs = c.get_int("learning.epochs");
  h.learning.batch = c.get_int("learning.batch");
  h.learning.lr = c.get_real("learning.lr");
  h.learning.hidden = c.get_int("learning.hidden");
  h.learning.heads = c.get_int("learning.heads");
  return h;
}

std::string images_dir(const HopfieldConfig& c) {
  const std::string& dir = c.images.dir;
  return dir.empty() ? fashion_mnist_directory() : dir;
}

void validate(const HopfieldConfig& c, int /*ranks*/) {
  config::with_source(c.source, [&] {
    const std::string& task = c.hopfield.task;
    for (const auto& [key, values] :
         {std::pair<const char*, const std::vector<double>*>{"capacity.dims", &c.capacity.dims},
          {"capacity.counts", &c.capacity.counts},
          {"images.counts", &c.images.counts}}) {
      for (double v : *values) {
        if (v != std::floor(v)) {
          throw InputError(str("key '", key, "' holds ", v, ": expected whole numbers"));
        }
      }
    }
    if (task == "images" || task == "learning") {
      read_fashion_mnist(images_dir(c), "t10k", 1);
    }
    if (task == "learning" && c.learning.hidden % c.learning.heads != 0) {
      throw InputError(str("key 'learning.hidden' = ", c.learning.hidden,
                           " is not divisible by learning.heads = ", c.learning.heads));
    }
  });
}

}  // namespace tessera::models::hopfield
