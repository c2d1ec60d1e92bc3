// Finite-difference checks and errors of dense multi-head attention.
#include <cmath>
#include <limits>

#include "core/nn/attention.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/gradient_check.hpp"
#include "tests/support/host_view.hpp"

using namespace tessera;
using namespace tessera::nn;
using tessera::testing::check_gradient;
using tessera::testing::host;
using tessera::testing::random_matrix;
using tessera::testing::weighted_sum;

TEST_CASE("cross-attention with a mask: backward matches finite differences", "[attention]") {
  const std::size_t batch = 2, query_len = 3, key_len = 5, dim = 8, heads = 2;
  ParameterStore<double> store;
  MultiHeadAttention<double> attention;
  attention.declare(store, "attn", dim, heads);
  store.finalize();
  attention.init(store, 21);
  Matrix<double> xq = random_matrix(batch * query_len, dim, 1);
  Matrix<double> xkv = random_matrix(batch * key_len, dim, 2);
  // Additive bias with forbidden pairs (-inf) in two rows, never a whole row.
  Matrix<double> mask = random_matrix(query_len, key_len, 3, 0.5);
  {
    auto h_mask = host(mask);
    h_mask(0, 1) = h_mask(2, 0) = h_mask(2, 4) = -std::numeric_limits<double>::infinity();
    Kokkos::deep_copy(mask, h_mask);
  }
  const Matrix<double> r = random_matrix(batch * query_len, dim, 4);
  auto loss = [&] {
    return weighted_sum(attention.forward(store, xq, xkv, batch, query_len, key_len, mask), r);
  };
  loss();
  store.zero_grad();
  const AttentionInputGrads<double> grads = attention.backward(store, r);
  const auto params = check_gradient(store.params(), store.grads(), loss, 1e-6, 400);
  INFO("parameters: worst " << params.worst_index << ", abs " << params.max_abs_error);
  CHECK(params.max_relative_error < 1e-6);
  const auto query = check_gradient(tensor::flat(xq), tensor::flat(grads.query), loss);
  INFO("query: worst " << query.worst_index << ", abs " << query.max_abs_error);
  CHECK(query.max_relative_error < 1e-6);
  const auto key_value = check_gradient(tensor::flat(xkv), tensor::flat(grads.key_value), loss);
  INFO("key/value: worst " << key_value.worst_index << ", abs " << key_value.max_abs_error);
  CHECK(key_value.max_relative_error < 1e-6);

  // Forbidden pairs get zero weight in every batch and head.
  const auto probs = host(attention.probabilities());
  for (std::size_t bh = 0; bh < batch * heads; ++bh) {
    CHECK(probs(bh, 0, 1) == 0.0);
    CHECK(probs(bh, 2, 4) == 0.0);
    double row = 0;
    for (std::size_t j = 0; j < key_len; ++j) row += probs(bh, 1, j);
    CHECK(row == Approx(1.0));
  }
}

TEST_CASE("self-attention: backward_self matches finite differences", "[attention]") {
  const std::size_t batch = 3, len = 4, dim = 6, heads = 3;
  ParameterStore<double> store;
  MultiHeadAttention<double> attention;
  attention.declare(store, "self", dim, heads);
  store.finalize();
  attention.init(store, 5);
  Matrix<double> x = random_matrix(batch * len, dim, 6);
  const Matrix<double> r = random_matrix(batch * len, dim, 7);
  auto loss = [&] { return weighted_sum(attention.forward_self(store, x, batch, len), r); };
  loss();
  store.zero_grad();
  const Matrix<double> dx = attention.backward_self(store, r);
  const auto params = check_gradient(store.params(), store.grads(), loss);
  CHECK(params.max_relative_error < 1e-6);
  const auto inputs = check_gradient(tensor::flat(x), tensor::flat(dx), loss);
  CHECK(inputs.max_relative_error < 1e-6);
}

TEST_CASE("attention keeps batches apart", "[attention]") {
  // Changing batch 1's keys must not change batch 0's outputs.
  const std::size_t batch = 2, len = 3, dim = 4;
  ParameterStore<double> store;
  MultiHeadAttention<double> attention;
  attention.declare(store, "attn", dim, 2);
  store.finalize();
  attention.init(store, 1);
  Matrix<double> x = random_matrix(batch * len, dim, 2);
  const Matrix<double> y0("y0", batch * len, dim);
  Kokkos::deep_copy(y0, attention.forward_self(store, x, batch, len));
  {
    auto hx = host(x);
    for (std::size_t j = 0; j < dim; ++j) hx(len + 1, j) += 1.0;
    Kokkos::deep_copy(x, hx);
  }
  const auto y1 = host(attention.forward_self(store, x, batch, len));
  const auto h_y0 = host(y0);
  for (std::size_t i = 0; i < len; ++i) {
    for (std::size_t j = 0; j < dim; ++j) CHECK(y1(i, j) == h_y0(i, j));
  }
  CHECK(y1(len, 0) != h_y0(len, 0));
}

TEST_CASE("attention rejects bad shapes, naming the layer and both shapes", "[attention]") {
  using Catch::Matchers::Contains;
  ParameterStore<float> store;
  MultiHeadAttention<float> attention;
  CHECK_THROWS_AS(attention.declare(store, "odd", 10, 3), InputError);
  CHECK_THROWS_WITH(attention.declare(store, "odd", 10, 3),
                    Contains("odd") && Contains("10") && Contains("3"));
  attention.declare(store, "block0.attn", 8, 2);
  store.finalize();
  const Matrix<float> x("x", 6, 8), kv("kv", 10, 8), wide("wide", 6, 9);
  CHECK_THROWS_WITH(attention.forward(store, wide, kv, 2, 3, 5),
                    Contains("block0.attn") && Contains("[6 x 9]") && Contains("[2 * 3 x 8]"));
  CHECK_THROWS_WITH(attention.forward(store, x, kv, 2, 3, 4),
                    Contains("key/value") && Contains("[10 x 8]") && Contains("[2 * 4 x 8]"));
  CHECK_THROWS_WITH(attention.forward(store, x, kv, 2, 3, 5, Matrix<float>("mask", 5, 3)),
                    Contains("block0.attn") && Contains("mask [5 x 3]") && Contains("[3 x 5]"));
  attention.forward(store, x, kv, 2, 3, 5);
  CHECK_THROWS_WITH(attention.backward(store, Matrix<float>("dy", 10, 8)),
                    Contains("block0.attn") && Contains("[10 x 8]") && Contains("[6 x 8]"));
}
