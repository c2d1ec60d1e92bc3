// End-to-end finite-difference check of the pre-norm transformer block.
#include <limits>
#include <string>

#include "core/nn/transformer_block.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/gradient_check.hpp"
#include "tests/support/host_view.hpp"

using namespace tessera;
using namespace tessera::nn;
using tessera::testing::check_gradient;
using tessera::testing::host;
using tessera::testing::random_matrix;
using tessera::testing::weighted_sum;

TEST_CASE("transformer block backward matches finite differences", "[transformer_block]") {
  const std::size_t batch = 2, len = 4, dim = 8, heads = 2, hidden = 12;
  ParameterStore<double> store;
  TransformerBlock<double> block;
  block.declare(store, "blk", dim, heads, hidden);
  store.finalize();
  block.init(store, 9);
  // Layer norm weights away from 1/0 so that every parameter gradient is non-trivial.
  for (const char* name : {"blk.ln1.weight", "blk.ln2.weight"}) {
    store.init_normal(store.find(name), 1.0, 0.3, 4);
  }
  for (const char* name : {"blk.ln1.bias", "blk.ln2.bias"}) {
    store.init_normal(store.find(name), 0.0, 0.2, 5);
  }
  Matrix<double> x = random_matrix(batch * len, dim, 1);
  // Causal mask: step t sees steps <= t.
  Matrix<double> mask("mask", len, len);
  {
    auto h_mask = host(mask);
    for (std::size_t i = 0; i < len; ++i) {
      for (std::size_t j = i + 1; j < len; ++j) {
        h_mask(i, j) = -std::numeric_limits<double>::infinity();
      }
    }
    Kokkos::deep_copy(mask, h_mask);
  }
  const Matrix<double> r = random_matrix(batch * len, dim, 2);
  auto loss = [&] { return weighted_sum(block.forward(store, x, batch, len, mask), r); };
  loss();
  store.zero_grad();
  const Matrix<double> dx = block.backward(store, r);
  // h = 1e-5: through six layers the loss' round-off / h dominates the error at 1e-6
  // (measured: 1e-7 at h = 1e-5, 1.5e-6 at 1e-6, 1.8e-5 at 1e-7; truncation ~ h^2).
  const auto params = check_gradient(store.params(), store.grads(), loss, 1e-5, 600);
  std::string worst_slice;
  for (const auto& slice : store.slices()) {
    if (params.worst_index >= slice.offset) worst_slice = slice.name;
  }
  INFO("parameters: worst in " << worst_slice << ", abs " << params.max_abs_error);
  CHECK(params.max_relative_error < 1e-6);
  const auto inputs = check_gradient(tensor::flat(x), tensor::flat(dx), loss, 1e-5);
  INFO("inputs: worst " << inputs.worst_index << ", abs " << inputs.max_abs_error);
  CHECK(inputs.max_relative_error < 1e-6);
}

TEST_CASE("transformer block names its sub-layers and rejects bad shapes", "[transformer_block]") {
  using Catch::Matchers::Contains;
  ParameterStore<float> store;
  TransformerBlock<float> block;
  block.declare(store, "encoder.0", 8, 2, 16);
  store.finalize();
  for (const char* name :
       {"encoder.0.ln1.weight", "encoder.0.attn.wq.weight", "encoder.0.attn.wo.bias",
        "encoder.0.ln2.bias", "encoder.0.mlp.0.weight", "encoder.0.mlp.1.bias"}) {
    INFO(name);
    CHECK(store.find(name) >= 0);
  }
  CHECK_THROWS_WITH(block.forward(store, Matrix<float>("x", 10, 8), 3, 4),
                    Contains("encoder.0") && Contains("[10 x 8]") && Contains("[3 * 4 x 8]"));
  block.forward(store, Matrix<float>("x", 12, 8), 3, 4);
  CHECK_THROWS_WITH(block.backward(store, Matrix<float>("dy", 12, 7)),
                    Contains("encoder.0") && Contains("[12 x 7]") && Contains("[12 x 8]"));
}
