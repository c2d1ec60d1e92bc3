// Finite-difference checks and errors of MLP, gated MLP, embedding, dropout, residual
// and the losses.
#include <cmath>
#include <vector>

#include "core/nn/dropout.hpp"
#include "core/nn/embedding.hpp"
#include "core/nn/gated_mlp.hpp"
#include "core/nn/losses.hpp"
#include "core/nn/mlp.hpp"
#include "core/nn/residual.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/gradient_check.hpp"
#include "tests/support/host_view.hpp"

using namespace tessera;
using namespace tessera::nn;
using Catch::Matchers::Contains;
using tessera::testing::check_gradient;
using tessera::testing::host;
using tessera::testing::random_matrix;
using tessera::testing::weighted_sum;

TEST_CASE("MLP backward matches finite differences for every activation", "[mlp]") {
  for (auto kind : {ActivationKind::kGeluErf, ActivationKind::kGeluTanh, ActivationKind::kTanh,
                    ActivationKind::kSilu, ActivationKind::kSine}) {
    INFO(activation_name(kind));
    ParameterStore<double> store;
    Mlp<double> mlp;
    mlp.declare(store, "mlp", {5, 7, 6, 3}, kind);
    store.finalize();
    mlp.init(store, 3);
    Matrix<double> x = random_matrix(8, 5, 1);
    const Matrix<double> r = random_matrix(8, 3, 2);
    auto loss = [&] { return weighted_sum(mlp.forward(store, x), r); };
    loss();
    store.zero_grad();
    const Matrix<double> dx = mlp.backward(store, r);
    const auto params = check_gradient(store.params(), store.grads(), loss);
    CHECK(params.max_relative_error < 1e-6);
    const auto inputs = check_gradient(tensor::flat(x), tensor::flat(dx), loss);
    CHECK(inputs.max_relative_error < 1e-6);
  }
}

TEST_CASE("MLP layer names, the first-layer shortcut and errors", "[mlp]") {
  ParameterStore<float> store;
  Mlp<float> mlp;
  CHECK_THROWS_WITH(mlp.declare(store, "head", {4}, ActivationKind::kRelu), Contains("head"));
  mlp.declare(store, "head", {4, 8, 2}, ActivationKind::kRelu);
  store.finalize();
  CHECK(store.find("head.0.weight") >= 0);
  CHECK(store.find("head.1.bias") >= 0);
  CHECK(mlp.depth() == 2);
  mlp.init(store, 1);
  CHECK_THROWS_WITH(mlp.forward(store, Matrix<float>("x", 3, 5)),
                    Contains("head") && Contains("[3 x 5]") && Contains("[rows x 4]"));
  mlp.forward(store, Matrix<float>("x", 3, 4));
  CHECK_THROWS_WITH(mlp.backward(store, Matrix<float>("dy", 3, 3)),
                    Contains("head") && Contains("[3 x 3]") && Contains("[rows x 2]"));
  CHECK(mlp.backward(store, Matrix<float>("dy", 3, 2), false).data() == nullptr);
}

TEST_CASE("gated MLP backward matches finite differences (erf and tanh GELU)", "[gated_mlp]") {
  for (auto kind : {ActivationKind::kGeluErf, ActivationKind::kGeluTanh}) {
    INFO(activation_name(kind));
    ParameterStore<double> store;
    GatedMlp<double> mlp;
    mlp.declare(store, "gmlp", 5, 9, 4, kind);
    store.finalize();
    mlp.init(store, 4);
    Matrix<double> x = random_matrix(7, 5, 1);
    const Matrix<double> r = random_matrix(7, 4, 2);
    auto loss = [&] { return weighted_sum(mlp.forward(store, x), r); };
    loss();
    store.zero_grad();
    const Matrix<double> dx = mlp.backward(store, r);
    const auto params = check_gradient(store.params(), store.grads(), loss, 1e-6, 300);
    CHECK(params.max_relative_error < 1e-6);
    const auto inputs = check_gradient(tensor::flat(x), tensor::flat(dx), loss);
    CHECK(inputs.max_relative_error < 1e-6);
  }
  ParameterStore<float> store;
  GatedMlp<float> mlp;
  mlp.declare(store, "ffn", 5, 9, 4);
  store.finalize();
  CHECK_THROWS_WITH(mlp.forward(store, Matrix<float>("x", 2, 6)),
                    Contains("ffn") && Contains("[2 x 6]") && Contains("[rows x 5]"));
}

TEST_CASE("embedding gathers rows and scatter-adds repeated ids", "[embedding]") {
  ParameterStore<double> store;
  Embedding<double> embedding;
  embedding.declare(store, "emb", 6, 4);
  store.finalize();
  embedding.init(store, 2);
  tensor::Vector<int> ids("ids", 7);
  const int values[7] = {3, 0, 3, 5, 1, 3, 0};
  {
    auto h_ids = host(ids);
    for (int i = 0; i < 7; ++i) h_ids(i) = values[i];
    Kokkos::deep_copy(ids, h_ids);
  }
  const Matrix<double> r = random_matrix(7, 4, 3);
  auto loss = [&] { return weighted_sum(embedding.forward(store, ids), r); };
  loss();
  const Matrix<double> table = store.param_matrix(embedding.weight_id());
  const Matrix<double> y = embedding.forward(store, ids);
  {
    const auto hy = host(y), h_table = host(table);
    for (int i = 0; i < 7; ++i) {
      for (std::size_t j = 0; j < 4; ++j) CHECK(hy(i, j) == h_table(values[i], j));
    }
  }
  store.zero_grad();
  embedding.backward(store, r);
  const auto params = check_gradient(store.params(), store.grads(), loss);
  CHECK(params.max_relative_error < 1e-6);
  // Row 2 and 4 are never looked up: no gradient.
  const Matrix<double> grad = store.grad_matrix(embedding.weight_id());
  const auto h_grad = host(grad), hr = host(r);
  for (std::size_t j = 0; j < 4; ++j) {
    CHECK(h_grad(2, j) == 0.0);
    CHECK(h_grad(3, j) == Approx(hr(0, j) + hr(2, j) + hr(5, j)));
  }
  Kokkos::deep_copy(Kokkos::subview(ids, 4), 6);
  CHECK_THROWS_AS(embedding.forward(store, ids), std::out_of_range);
  CHECK_THROWS_WITH(embedding.forward(store, ids),
                    Contains("emb") && Contains("id 6") && Contains("position 4"));
  Kokkos::deep_copy(Kokkos::subview(ids, 4), 1);
  embedding.forward(store, ids);
  CHECK_THROWS_WITH(embedding.backward(store, Matrix<double>("dy", 7, 5)),
                    Contains("emb") && Contains("[7 x 5]") && Contains("[7 x 4]"));
}

TEST_CASE("dropout: scale, eval identity, backward, rank-count independence", "[dropout]") {
  const std::size_t rows = 40, cols = 50;
  Matrix<double> x = random_matrix(rows, cols, 1);
  Dropout<double> dropout("drop", 0.3, 77, 2);
  Matrix<double> y("y", rows, cols);  // a copy: the layer reuses its output buffer
  Kokkos::deep_copy(y, dropout.forward(x, true, 5));
  const auto hy = host(y);
  std::size_t kept = 0;
  {
    const auto hx = host(x);
    for (std::size_t i = 0; i < rows; ++i) {
      for (std::size_t j = 0; j < cols; ++j) {
        if (hy(i, j) != 0.0) {
          ++kept;
          CHECK(hy(i, j) == Approx(hx(i, j) / 0.7));
        }
      }
    }
  }
  CHECK(std::abs(static_cast<double>(kept) / (rows * cols) - 0.7) < 0.04);

  // Backward applies the same mask; it is linear, so FD holds exactly.
  const Matrix<double> r = random_matrix(rows, cols, 2);
  auto loss = [&] { return weighted_sum(dropout.forward(x, true, 5), r); };
  loss();
  const Matrix<double> dx = dropout.backward(r);
  CHECK(check_gradient(tensor::flat(x), tensor::flat(dx), loss).max_relative_error < 1e-6);

  // Two "ranks" with half the rows each draw the same mask as one rank with all rows.
  Matrix<double> full("full", rows, cols);
  Kokkos::deep_copy(full, dropout.forward(x, true, 9));
  const std::size_t half_rows = rows / 2;
  const auto top = Kokkos::subview(x, Kokkos::make_pair(std::size_t(0), half_rows), Kokkos::ALL);
  const auto bottom = Kokkos::subview(x, Kokkos::make_pair(half_rows, rows), Kokkos::ALL);
  Matrix<double> x_top("top", half_rows, cols), x_bottom("bottom", rows - half_rows, cols);
  Kokkos::deep_copy(x_top, top);
  Kokkos::deep_copy(x_bottom, bottom);
  Dropout<double> rank0("drop", 0.3, 77, 2), rank1("drop", 0.3, 77, 2);
  const Matrix<double> y_top = rank0.forward(x_top, true, 9, 0, rows * cols);
  const Matrix<double> y_bottom = rank1.forward(x_bottom, true, 9, half_rows * cols, rows * cols);
  const auto h_top = host(y_top), h_bottom = host(y_bottom), h_full = host(full);
  bool same = true, differs_from_step5 = false;
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      const double part = i < half_rows ? h_top(i, j) : h_bottom(i - half_rows, j);
      same = same && part == h_full(i, j);
      differs_from_step5 = differs_from_step5 || (h_full(i, j) == 0.0) != (hy(i, j) == 0.0);
    }
  }
  CHECK(same);
  CHECK(differs_from_step5);

  const Matrix<double> eval = dropout.forward(x, false, 5);
  const auto h_eval = host(eval), hx = host(x);
  for (std::size_t j = 0; j < cols; ++j) CHECK(h_eval(3, j) == hx(3, j));
  CHECK_THROWS_AS(Dropout<float>("drop", 1.0, 1), InputError);
  CHECK_THROWS_WITH(Dropout<float>("block.drop", -0.1, 1), Contains("block.drop"));
}

TEST_CASE("residual add passes the gradient to both inputs", "[residual]") {
  Matrix<double> a = random_matrix(3, 4, 1), b = random_matrix(3, 4, 2);
  Residual<double> residual("skip");
  const Matrix<double> y = residual.forward(a, b);
  CHECK(host(y)(2, 3) == host(a)(2, 3) + host(b)(2, 3));
  const Matrix<double> dy = random_matrix(3, 4, 3);
  CHECK(residual.backward(dy).data() == dy.data());
  CHECK_THROWS_WITH(residual.forward(a, Matrix<double>("b", 3, 5)),
                    Contains("skip") && Contains("[3 x 4]") && Contains("[3 x 5]"));
  add_in_place(a, b);
  CHECK(host(a)(1, 1) == host(y)(1, 1));
}

TEST_CASE("losses and their gradients match finite differences", "[losses]") {
  const std::size_t rows = 6, cols = 5;
  Matrix<double> x = random_matrix(rows, cols, 1);
  const Matrix<double> target = random_matrix(rows, cols, 2);
  Matrix<double> mask("mask", rows, cols), weights("weights", rows, cols);
  {
    auto h_mask = host(mask), h_weights = host(weights);
    for (std::size_t i = 0; i < rows; ++i) {
      for (std::size_t j = 0; j < cols; ++j) {
        h_mask(i, j) = (i * cols + j) % 3 == 0 ? 0.0 : 1.0;
        h_weights(i, j) = 0.25 * static_cast<double>((i + 2 * j) % 5);
      }
    }
    Kokkos::deep_copy(mask, h_mask);
    Kokkos::deep_copy(weights, h_weights);
  }
  Matrix<double> grad, scratch;
  SECTION("mse") {
    double mean = 0;
    const auto hx = host(x), h_target = host(target);
    for (std::size_t k = 0; k < x.size(); ++k) {
      const double d = hx.data()[k] - h_target.data()[k];
      mean += d * d / static_cast<double>(x.size());
    }
    CHECK(mse_loss(x, target, grad) == Approx(mean));
    auto loss = [&] { return mse_loss(x, target, scratch); };
    CHECK(check_gradient(tensor::flat(x), tensor::flat(grad), loss).max_relative_error < 1e-6);
    // A global denominator (data-parallel ranks) scales loss and gradient alike.
    CHECK(mse_loss(x, target, scratch, 2.0 * x.size()) == Approx(mean / 2));
  }
  SECTION("masked mse, 0/1 mask and weights") {
    for (const Matrix<double>& m : {mask, weights}) {
      masked_mse_loss(x, target, m, grad);
      auto loss = [&] { return masked_mse_loss(x, target, m, scratch); };
      CHECK(check_gradient(tensor::flat(x), tensor::flat(grad), loss).max_relative_error < 1e-6);
    }
  }
  SECTION("masked mae, 0/1 mask and weights; zero gradient at equality") {
    for (const Matrix<double>& m : {mask, weights}) {
      masked_mae_loss(x, target, m, grad);
      auto loss = [&] { return masked_mae_loss(x, target, m, scratch); };
      CHECK(check_gradient(tensor::flat(x), tensor::flat(grad), loss).max_relative_error < 1e-6);
    }
    Kokkos::deep_copy(x, target);
    CHECK(masked_mae_loss(x, target, mask, grad) == 0.0);
    const auto h_grad = host(grad);
    for (std::size_t k = 0; k < grad.size(); ++k) CHECK(h_grad.data()[k] == 0.0);
  }
  SECTION("softmax cross-entropy: loss by hand, gradient, correct predictions") {
    const std::vector<int> labels = {0, 4, 2, 2, 1, 3};
    double expected = 0;
    std::size_t expected_correct = 0;
    const auto hx = host(x);
    for (std::size_t i = 0; i < rows; ++i) {
      double total = 0;
      std::size_t arg = 0;
      for (std::size_t c = 0; c < cols; ++c) {
        total += std::exp(hx(i, c));
        if (hx(i, c) > hx(i, arg)) arg = c;
      }
      expected += (std::log(total) - hx(i, labels[i])) / static_cast<double>(rows);
      expected_correct += arg == static_cast<std::size_t>(labels[i]);
    }
    std::size_t correct = 99;
    CHECK(softmax_cross_entropy(x, labels, grad, &correct) == Approx(expected).epsilon(1e-12));
    CHECK(correct == expected_correct);
    auto loss = [&] { return softmax_cross_entropy(x, labels, scratch, nullptr); };
    CHECK(check_gradient(tensor::flat(x), tensor::flat(grad), loss).max_relative_error < 1e-6);
    CHECK_THROWS_WITH(softmax_cross_entropy(x, std::vector<int>{1, 2}, grad, nullptr),
                      Contains("2 labels for 6 rows"));
  }
  SECTION("an empty mask gives zero, not NaN") {
    Matrix<double> none("none", rows, cols);
    CHECK(masked_mse_loss(x, target, none, grad) == 0.0);
    CHECK(masked_mae_loss(x, target, none, grad) == 0.0);
    CHECK(host(grad)(0, 0) == 0.0);
  }
  SECTION("shape mismatches name the loss and both shapes") {
    CHECK_THROWS_WITH(mse_loss(x, Matrix<double>("t", rows, cols + 1), grad),
                      Contains("mse_loss") && Contains("[6 x 5]") && Contains("[6 x 6]"));
    CHECK_THROWS_WITH(masked_mae_loss(x, target, Matrix<double>("m", 2, 5), grad),
                      Contains("masked_mae_loss") && Contains("mask [2 x 5]"));
  }
}
