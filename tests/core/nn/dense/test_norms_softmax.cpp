// Finite-difference checks and edge cases of LayerNorm, RMSNorm and softmax. Input
// gradients use h = 1e-5: at 1e-6 the loss' round-off / h dominates (layer norm 4.7e-7
// against 2.6e-8, softmax 4.5e-7 against 3.4e-8), too close to the 1e-6 bar.
#include <cmath>
#include <limits>

#include "core/nn/layer_norm.hpp"
#include "core/nn/softmax.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/gradient_check.hpp"
#include "tests/support/host_view.hpp"

using namespace tessera;
using namespace tessera::nn;
using tessera::testing::check_gradient;
using tessera::testing::host;
using tessera::testing::random_matrix;
using tessera::testing::weighted_sum;

namespace {
// Rows with a large common offset: the two-pass variance must not lose them.
Matrix<double> offset_rows(std::size_t rows, std::size_t cols, std::uint64_t seed, double shift) {
  Matrix<double> x = random_matrix(rows, cols, seed, 2.0);
  auto hx = host(x);
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) hx(i, j) += shift * static_cast<double>(i + 1);
  }
  Kokkos::deep_copy(x, hx);
  return x;
}
}  // namespace

TEST_CASE("layer norm backward matches finite differences", "[layer_norm]") {
  ParameterStore<double> store;
  LayerNorm<double> ln;
  ln.declare(store, "ln", 9);
  store.finalize();
  ln.init(store);
  // Weights away from 1 and 0, so that their gradients are exercised.
  tensor::fill_normal(store.params(), 0.5, 0.4, 3, 1);
  Matrix<double> x = offset_rows(7, 9, 1, 3.0);
  const Matrix<double> r = random_matrix(7, 9, 2);
  auto loss = [&] { return weighted_sum(ln.forward(store, x), r); };
  loss();
  store.zero_grad();
  const Matrix<double> dx = ln.backward(store, r);
  const auto params = check_gradient(store.params(), store.grads(), loss);
  INFO("parameters: worst " << params.worst_index << ", abs " << params.max_abs_error);
  CHECK(params.max_relative_error < 1e-6);
  const auto inputs = check_gradient(tensor::flat(x), tensor::flat(dx), loss, 1e-5);
  INFO("inputs: worst " << inputs.worst_index << ", abs " << inputs.max_abs_error);
  CHECK(inputs.max_relative_error < 1e-6);
}

TEST_CASE("layer norm output has zero mean and unit variance per row", "[layer_norm]") {
  ParameterStore<double> store;
  LayerNorm<double> ln;
  ln.declare(store, "ln", 32, 0.0);
  store.finalize();
  ln.init(store);
  const Matrix<double> x = offset_rows(4, 32, 5, 1e4);
  const auto y = host(ln.forward(store, x));
  for (std::size_t i = 0; i < 4; ++i) {
    double mean = 0, var = 0;
    for (std::size_t j = 0; j < 32; ++j) mean += y(i, j) / 32;
    for (std::size_t j = 0; j < 32; ++j) var += (y(i, j) - mean) * (y(i, j) - mean) / 32;
    CHECK(std::abs(mean) < 1e-10);
    CHECK(var == Approx(1.0).epsilon(1e-10));
  }
}

TEST_CASE("rms norm backward matches finite differences", "[layer_norm]") {
  ParameterStore<double> store;
  RMSNorm<double> norm;
  norm.declare(store, "rms", 11);
  store.finalize();
  norm.init(store);
  tensor::fill_normal(store.params(), 1.0, 0.4, 3, 1);
  Matrix<double> x = random_matrix(6, 11, 7, 1.5);
  const Matrix<double> r = random_matrix(6, 11, 8);
  auto loss = [&] { return weighted_sum(norm.forward(store, x), r); };
  loss();
  store.zero_grad();
  const Matrix<double> dx = norm.backward(store, r);
  const auto params = check_gradient(store.params(), store.grads(), loss);
  CHECK(params.max_relative_error < 1e-6);
  const auto inputs = check_gradient(tensor::flat(x), tensor::flat(dx), loss, 1e-5);
  CHECK(inputs.max_relative_error < 1e-6);
}

TEST_CASE("norms reject inputs of the wrong width, naming the layer and both shapes",
          "[layer_norm]") {
  ParameterStore<float> store;
  LayerNorm<float> ln;
  ln.declare(store, "encoder.ln1", 8);
  RMSNorm<float> rms;
  rms.declare(store, "encoder.rms", 8);
  store.finalize();
  const Matrix<float> x("x", 4, 7);
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(ln.forward(store, x),
                    Contains("encoder.ln1") && Contains("[4 x 7]") && Contains("[rows x 8]"));
  CHECK_THROWS_WITH(rms.forward(store, x), Contains("encoder.rms") && Contains("[4 x 7]"));
  const Matrix<float> ok("ok", 4, 8);
  ln.forward(store, ok);
  CHECK_THROWS_WITH(ln.backward(store, Matrix<float>("dy", 3, 8)),
                    Contains("encoder.ln1") && Contains("[3 x 8]") && Contains("[4 x 8]"));
}

TEST_CASE("softmax backward matches finite differences", "[softmax]") {
  Softmax<double> softmax("softmax");
  Matrix<double> x = random_matrix(5, 8, 11, 3.0);
  const Matrix<double> r = random_matrix(5, 8, 12);
  auto loss = [&] { return weighted_sum(softmax.forward(x), r); };
  loss();
  const Matrix<double> dx = softmax.backward(r);
  const auto inputs = check_gradient(tensor::flat(x), tensor::flat(dx), loss, 1e-5);
  CHECK(inputs.max_relative_error < 1e-6);
}

TEST_CASE("softmax is stable for large entries and zero for fully masked rows", "[softmax]") {
  const double inf = std::numeric_limits<double>::infinity();
  Matrix<double> x("x", 3, 3);
  auto hx = host(x);
  // exp(1000) overflows: only the shifted form gives the right answer.
  hx(0, 0) = 1000;
  hx(0, 1) = 1001;
  hx(0, 2) = 999;
  hx(1, 0) = -inf;
  hx(1, 1) = 0.5;
  hx(1, 2) = -inf;
  hx(2, 0) = hx(2, 1) = hx(2, 2) = -inf;
  Kokkos::deep_copy(x, hx);
  Softmax<double> softmax;
  const auto y = host(softmax.forward(x));
  const double e1 = std::exp(1.0), em1 = std::exp(-1.0);
  CHECK(y(0, 1) == Approx(e1 / (1 + e1 + em1)));
  CHECK(y(0, 0) == Approx(1 / (1 + e1 + em1)));
  CHECK(y(1, 1) == 1.0);
  CHECK(y(1, 0) == 0.0);
  for (std::size_t j = 0; j < 3; ++j) CHECK(y(2, j) == 0.0);
  Matrix<double> dy("dy", 3, 3);
  Kokkos::deep_copy(dy, 1.0);
  const auto dx = host(softmax.backward(dy));
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 3; ++j) CHECK(std::isfinite(dx(i, j)));
  }
  CHECK(std::abs(dx(0, 0)) < 1e-15);  // a constant shift of the input changes nothing
  CHECK_THROWS_WITH(softmax.backward(Matrix<double>("dy", 2, 3)),
                    Catch::Matchers::Contains("softmax") && Catch::Matchers::Contains("[2 x 3]"));
}
