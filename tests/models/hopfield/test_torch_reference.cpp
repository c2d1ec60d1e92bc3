// models/hopfield in float against PyTorch (float32) on the same weights and inputs:
// tests/reference/hopfield.h5, written by analysis/reference/reference_hopfield.py (the
// same equations in torch). Outputs, input and parameter gradients, retrieved states
// and energies must agree to 1e-5 in the norm-wise relative error. Set
// TESSERA_REFERENCE_REPORT=1 to print the measured errors.
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "core/io/hdf5_reader.hpp"
#include "core/nn/hopfield.hpp"
#include "core/nn/hopfield_lookup.hpp"
#include "models/hopfield/hopfield_pooling.hpp"
#include "models/hopfield/memory.hpp"
#include "models/hopfield/patterns.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using namespace tessera::models::hopfield;
using tessera::nn::Hopfield;
using tessera::nn::HopfieldInputGrads;
using tessera::nn::HopfieldLayer;
using tessera::nn::HopfieldOptions;

namespace {

constexpr double kTolerance = 1e-5;

struct Reference {
  io::Hdf5Reader file{TESSERA_SOURCE_DIR "/tests/reference/hopfield.h5"};

  std::size_t attribute(const std::string& group, const std::string& name) const {
    return static_cast<std::size_t>(file.read_attribute("/" + group, name));
  }

  Matrix<float> matrix(const std::string& path) const {
    std::vector<std::uint64_t> dims;
    const std::vector<double> values = file.read(path, &dims);
    const std::size_t rows = dims.size() == 2 ? dims[0] : 1;
    Matrix<float> m(path, rows, dims.back());
    auto host = Kokkos::create_mirror_view(m);
    for (std::size_t k = 0; k < values.size(); ++k) host.data()[k] = static_cast<float>(values[k]);
    Kokkos::deep_copy(m, host);
    return m;
  }

  void check_close(const std::string& what, const std::vector<double>& ours,
                   const std::string& path, double floor = 1e-30) const {
    const std::vector<double> torch = file.read(path);
    REQUIRE(ours.size() == torch.size());
    double diff = 0, norm = 0;
    for (std::size_t k = 0; k < ours.size(); ++k) {
      diff += (ours[k] - torch[k]) * (ours[k] - torch[k]);
      norm += torch[k] * torch[k];
    }
    const double relative = std::sqrt(diff) / std::max(std::sqrt(norm), floor);
    if (std::getenv("TESSERA_REFERENCE_REPORT")) {
      std::cout << "torch reference " << what << ": relative " << relative << "\n";
    }
    INFO(what << " vs " << path << ": relative error " << relative);
    CHECK(relative < kTolerance);
  }
  void check_close(const std::string& what, const Matrix<float>& ours,
                   const std::string& path) const {
    check_close(what, to_host(ours).values, path);
  }

  void load_parameters(ParameterStore<float>& store, const std::string& group) const {
    const std::vector<std::string> names = file.members("/" + group + "/params");
    REQUIRE(names.size() == store.slices().size());
    for (const auto& name : names) {
      INFO(group << ": parameter " << name);
      const int id = store.find(name);
      REQUIRE(id >= 0);
      store.set_slice(id, file.read("/" + group + "/params/" + name));
    }
    store.zero_grad();
  }

  // The key bias and the stored patterns' LayerNorm bias get no gradient in exact
  // arithmetic (both shift all scores of a query row by the same amount, which softmax
  // ignores): both sides hold round-off, so they are compared relative to the gradient
  // of the matching weight.
  void check_parameter_grads(const ParameterStore<float>& store, const std::string& group) const {
    auto ends_with = [](const std::string& name, const std::string& tail) {
      return name.size() > tail.size() &&
             name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
    };
    for (std::size_t i = 0; i < store.slices().size(); ++i) {
      const std::string& name = store.slices()[i].name;
      double floor = 1e-30;
      if (ends_with(name, ".wk.bias") || ends_with(name, ".norm_stored.bias")) {
        const std::vector<double> w =
            file.read("/" + group + "/grads/" + name.substr(0, name.size() - 4) + "weight");
        double sq = 0;
        for (double v : w) sq += v * v;
        floor = std::sqrt(sq);
      }
      check_close(group + " grad " + name, store.get_slice(static_cast<int>(i), true),
                  "/" + group + "/grads/" + name, floor);
    }
  }

  HopfieldOptions options(const std::string& g) const {
    HopfieldOptions o;
    o.state_size = attribute(g, "state_size");
    o.stored_size = attribute(g, "stored_size");
    o.projection_size = attribute(g, "projection_size");
    o.hidden_size = attribute(g, "hidden_size");
    o.pattern_size = attribute(g, "pattern_size");
    o.output_size = attribute(g, "output_size");
    o.heads = attribute(g, "heads");
    o.beta = file.read_attribute("/" + g, "beta");
    o.normalize_state = o.normalize_stored = o.normalize_projection =
        attribute(g, "normalize") != 0;
    return o;
  }
};

}  // namespace

TEST_CASE("retrieval and energy agree with PyTorch", "[torch_reference]") {
  const Reference ref;
  HopfieldMemory<float> memory(MPI_COMM_SELF, ref.matrix("/retrieval/patterns"));
  RetrievalOptions options;
  options.beta = ref.file.read_attribute("/retrieval", "beta");
  options.max_steps = 1;
  ref.check_close("retrieval 1 step",
                  memory.retrieve(ref.matrix("/retrieval/queries"), options).states,
                  "/retrieval/states_1");
  options.max_steps = 3;
  const Retrieval<float> r = memory.retrieve(ref.matrix("/retrieval/queries"), options);
  ref.check_close("retrieval 3 steps", r.states, "/retrieval/states_3");
  std::vector<double> energy;
  for (const auto& step : r.energy) energy.insert(energy.end(), step.begin(), step.end());
  ref.check_close("retrieval energies", energy, "/retrieval/energy");
}

TEST_CASE("Hopfield layer agrees with PyTorch", "[torch_reference]") {
  const Reference ref;
  const std::string g = "hopfield";
  ParameterStore<float> store;
  Hopfield<float> layer;
  layer.declare(store, "hf", ref.options(g));
  store.finalize();
  ref.load_parameters(store, g);
  const Matrix<float>& z = layer.forward(
      store, ref.matrix("/hopfield/state"), ref.matrix("/hopfield/stored"),
      ref.matrix("/hopfield/projection"), ref.attribute(g, "batch"), ref.attribute(g, "query_len"),
      ref.attribute(g, "key_len"), ref.matrix("/hopfield/mask"));
  ref.check_close("hopfield y", z, "/hopfield/y");
  const HopfieldInputGrads<float> grads = layer.backward(store, ref.matrix("/hopfield/dy"));
  ref.check_close("hopfield d_state", grads.state, "/hopfield/d_state");
  ref.check_close("hopfield d_stored", grads.stored, "/hopfield/d_stored");
  ref.check_close("hopfield d_projection", grads.projection, "/hopfield/d_projection");
  ref.check_parameter_grads(store, g);
}

TEST_CASE("HopfieldPooling agrees with PyTorch", "[torch_reference]") {
  const Reference ref;
  const std::string g = "hopfield_pooling";
  ParameterStore<float> store;
  HopfieldPooling<float> pooling;
  pooling.declare(store, "pool", ref.options(g), ref.attribute(g, "quantity"));
  store.finalize();
  ref.load_parameters(store, g);
  ref.check_close("pooling y",
                  pooling.forward(store, ref.matrix("/" + g + "/x"), ref.attribute(g, "batch"),
                                  ref.attribute(g, "len")),
                  "/" + g + "/y");
  ref.check_close("pooling dx", pooling.backward(store, ref.matrix("/" + g + "/dy")),
                  "/" + g + "/dx");
  ref.check_parameter_grads(store, g);
}

TEST_CASE("HopfieldLayer agrees with PyTorch", "[torch_reference]") {
  const Reference ref;
  const std::string g = "hopfield_layer";
  ParameterStore<float> store;
  HopfieldLayer<float> layer;
  layer.declare(store, "lookup", ref.options(g), ref.attribute(g, "quantity"));
  store.finalize();
  ref.load_parameters(store, g);
  ref.check_close("lookup y", layer.forward(store, ref.matrix("/" + g + "/x")), "/" + g + "/y");
  ref.check_close("lookup dx", layer.backward(store, ref.matrix("/" + g + "/dy")), "/" + g + "/dx");
  ref.check_parameter_grads(store, g);
}
