// Finite-difference checks (double) of Hopfield, HopfieldPooling and HopfieldLayer.
#include <cmath>
#include <limits>

#include "core/nn/hopfield.hpp"
#include "core/nn/hopfield_lookup.hpp"
#include "models/hopfield/hopfield_pooling.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/gradient_check.hpp"
#include "tests/support/host_view.hpp"

using namespace tessera;
using namespace tessera::models::hopfield;
using tessera::nn::Hopfield;
using tessera::nn::HopfieldInputGrads;
using tessera::nn::HopfieldLayer;
using tessera::nn::HopfieldOptions;
using tessera::testing::check_gradient;
using tessera::testing::host;
using tessera::testing::random_matrix;
using tessera::testing::weighted_sum;

namespace {
void check(const char* what, const tessera::testing::GradientCheck& g) {
  INFO(what << ": worst entry " << g.worst_index << ", abs " << g.max_abs_error << ", relative "
            << g.max_relative_error);
  CHECK(g.max_relative_error < 1e-6);
}
}  // namespace

TEST_CASE("Hopfield: heads, beta, norms, mask: backward matches finite differences", "[layers]") {
  const std::size_t batch = 2, query_len = 3, key_len = 5;
  HopfieldOptions o;
  o.state_size = 6;
  o.stored_size = 5;
  o.projection_size = 4;
  o.hidden_size = 3;
  o.pattern_size = 2;
  o.output_size = 7;
  o.heads = 2;
  o.beta = 0.8;
  for (bool norms : {true, false}) {
    o.normalize_state = o.normalize_stored = o.normalize_projection = norms;
    ParameterStore<double> store;
    Hopfield<double> layer;
    layer.declare(store, "hf", o);
    store.finalize();
    layer.init(store, 3);
    // Move the LayerNorm affine parameters away from 1 and 0.
    if (norms) {
      for (const char* s : {"hf.norm_state.weight", "hf.norm_stored.bias"}) {
        store.init_uniform(store.find(s), 0.5, 1.5, 9);
      }
    }
    Matrix<double> r = random_matrix(batch * query_len, 6, 1);
    Matrix<double> y = random_matrix(batch * key_len, 5, 2);
    Matrix<double> p = random_matrix(batch * key_len, 4, 3);
    Matrix<double> mask = random_matrix(query_len, key_len, 4, 0.5);
    {
      auto h_mask = host(mask);
      h_mask(0, 1) = h_mask(2, 3) = -std::numeric_limits<double>::infinity();
      Kokkos::deep_copy(mask, h_mask);
    }
    const Matrix<double> w = random_matrix(batch * query_len, 7, 5);
    auto loss = [&] {
      return weighted_sum(layer.forward(store, r, y, p, batch, query_len, key_len, mask), w);
    };
    loss();
    store.zero_grad();
    const HopfieldInputGrads<double> g = layer.backward(store, w);
    check("parameters", check_gradient(store.params(), store.grads(), loss, 1e-6, 400));
    check("state", check_gradient(tensor::flat(r), tensor::flat(g.state), loss));
    check("stored", check_gradient(tensor::flat(y), tensor::flat(g.stored), loss));
    check("projection", check_gradient(tensor::flat(p), tensor::flat(g.projection), loss));
    const auto a = host(layer.association());
    CHECK(a(0, 0, 1) == 0.0);
    CHECK(a(3, 2, 3) == 0.0);
  }
}

TEST_CASE("HopfieldPooling: backward matches finite differences", "[layers]") {
  const std::size_t batch = 3, len = 4, quantity = 2;
  HopfieldOptions o;
  o.state_size = 6;
  o.heads = 2;
  o.output_size = 3;
  ParameterStore<double> store;
  HopfieldPooling<double> pooling;
  pooling.declare(store, "pool", o, quantity);
  store.finalize();
  pooling.init(store, 7);
  Matrix<double> x = random_matrix(batch * len, 6, 8);
  const Matrix<double> w = random_matrix(batch * quantity, 3, 9);
  auto loss = [&] { return weighted_sum(pooling.forward(store, x, batch, len), w); };
  loss();
  store.zero_grad();
  const Matrix<double> dx = pooling.backward(store, w);
  check("parameters", check_gradient(store.params(), store.grads(), loss, 1e-6, 400));
  check("input", check_gradient(tensor::flat(x), tensor::flat(dx), loss));
}

TEST_CASE("HopfieldLayer (learned lookup): backward matches finite differences", "[layers]") {
  HopfieldOptions o;
  o.state_size = 5;
  o.stored_size = 4;
  o.hidden_size = 3;
  o.output_size = 2;
  o.beta = 1.3;
  o.normalize_stored = false;
  ParameterStore<double> store;
  HopfieldLayer<double> layer;
  layer.declare(store, "lookup", o, 6);
  store.finalize();
  layer.init(store, 11);
  Matrix<double> x = random_matrix(7, 5, 12);
  const Matrix<double> w = random_matrix(7, 2, 13);
  auto loss = [&] { return weighted_sum(layer.forward(store, x), w); };
  loss();
  store.zero_grad();
  const Matrix<double> dx = layer.backward(store, w);
  check("parameters", check_gradient(store.params(), store.grads(), loss, 1e-6, 400));
  check("input", check_gradient(tensor::flat(x), tensor::flat(dx), loss));
}
