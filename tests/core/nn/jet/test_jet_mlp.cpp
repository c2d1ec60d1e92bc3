// JetMlp: the jets against finite differences of u in x and t, and the reverse sweep
// against central finite differences over the parameters (double precision).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include "core/nn/jet_mlp.hpp"
#include "core/runtime/error.hpp"
#include "models/pinn_traffic/lwr_residual.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/gradient_check.hpp"

using namespace tessera;
using namespace tessera::nn;
// The LWR residual (models/pinn_traffic) is the PDE loss these jets were built for.
using tessera::models::pinn_traffic::lwr_residual_loss;
using tessera::models::pinn_traffic::LwrResidualCoefficients;
using tessera::testing::check_gradient;
using tessera::testing::random_matrix;
using tessera::testing::weighted_sum;

namespace {

std::vector<double> to_host(const Matrix<double>& m) {
  auto host = Kokkos::create_mirror_view(m);
  Kokkos::deep_copy(host, m);
  return std::vector<double>(host.data(), host.data() + m.extent(0) * m.extent(1));
}

double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    norm += b[i] * b[i];
  }
  return std::sqrt(diff / std::max(norm, 1e-300));
}

Matrix<double> shifted(const Matrix<double>& points, double dx, double dt) {
  Matrix<double> out("shifted", points.extent(0), 2);
  Kokkos::deep_copy(out, points);
  auto host = Kokkos::create_mirror_view(out);
  Kokkos::deep_copy(host, out);
  for (std::size_t i = 0; i < out.extent(0); ++i) {
    host(i, 0) += dx;
    host(i, 1) += dt;
  }
  Kokkos::deep_copy(out, host);
  return out;
}

// A small network with nonzero biases (init() leaves them at zero, which would hide a
// missing bias term).
struct Net {
  ParameterStore<double> store;
  JetMlp<double> mlp;
  Net(std::vector<std::size_t> sizes, ActivationKind kind, std::uint64_t seed) {
    mlp.declare(store, "pinn", std::move(sizes), kind);
    store.finalize();
    mlp.init(store, seed);
    for (std::size_t l = 0; l < mlp.layer_count(); ++l) {
      store.init_normal(mlp.bias_id(l), 0.0, 0.2, seed + 100);
    }
  }
};

}  // namespace

TEST_CASE("jet MLP derivatives match finite differences of u", "[jet_forward]") {
  for (auto kind : {ActivationKind::kTanh, ActivationKind::kSine}) {
    INFO(activation_name(kind));
    Net net({2, 6, 5, 2}, kind, 3);  // width 2 output: the jet is per column
    const std::size_t n = 7;
    const Matrix<double> points = random_matrix(n, 2, 5, 0.7);
    const auto jet = to_host(net.mlp.forward(net.store, points));
    REQUIRE(jet.size() == 4 * n * 2);
    auto block = [&](JetPart part) {
      const std::size_t b = static_cast<std::size_t>(part);
      return std::vector<double>(jet.begin() + b * n * 2, jet.begin() + (b + 1) * n * 2);
    };
    auto u_at = [&](double dx, double dt) {
      return to_host(net.mlp.forward_values(net.store, shifted(points, dx, dt)));
    };
    const std::vector<double> u = u_at(0, 0);
    const double h = 1e-5;   // first derivatives: truncation ~h^2, round-off ~1e-16 / h
    const double h2 = 1e-3;  // second: truncation ~h^2, round-off ~1e-16 / h^2
    std::vector<double> fd_x(u.size()), fd_t(u.size()), fd_xx(u.size());
    const auto xp = u_at(h, 0), xm = u_at(-h, 0), tp = u_at(0, h), tm = u_at(0, -h);
    const auto xxp = u_at(h2, 0), xxm = u_at(-h2, 0);
    for (std::size_t i = 0; i < u.size(); ++i) {
      fd_x[i] = (xp[i] - xm[i]) / (2 * h);
      fd_t[i] = (tp[i] - tm[i]) / (2 * h);
      fd_xx[i] = (xxp[i] - 2 * u[i] + xxm[i]) / (h2 * h2);
    }
    CHECK(relative_error(block(JetPart::kValue), u) < 1e-14);
    const double ex = relative_error(block(JetPart::kDx), fd_x);
    const double et = relative_error(block(JetPart::kDt), fd_t);
    const double exx = relative_error(block(JetPart::kDxx), fd_xx);
    INFO("u_x " << ex << ", u_t " << et << ", u_xx " << exx);
    CHECK(ex < 1e-8);
    CHECK(et < 1e-8);
    CHECK(exx < 1e-6);
  }
}

TEST_CASE("jet MLP accessors, initialisation and errors", "[jet_forward]") {
  ParameterStore<double> store;
  JetMlp<double> mlp;
  mlp.declare(store, "pinn", {2, 200, 200, 1});
  CHECK(store.find("pinn.linear1.weight") >= 0);
  CHECK(store.slice(store.find("pinn.linear0.weight")).shape == std::vector<std::size_t>{200, 2});
  CHECK(store.slice(store.find("pinn.linear2.bias")).shape == std::vector<std::size_t>{1});
  store.finalize();
  mlp.init(store, 7);
  // Glorot normal: standard deviation sqrt(2 / (fan_in + fan_out)), biases zero.
  const auto w = store.get_slice(mlp.weight_id(1));
  double sum_sq = 0;
  for (double v : w) sum_sq += v * v;
  CHECK(std::sqrt(sum_sq / w.size()) == Approx(std::sqrt(2.0 / 400.0)).epsilon(0.03));
  for (double b : store.get_slice(mlp.bias_id(1))) CHECK(b == 0.0);

  CHECK_THROWS_AS(mlp.backward(store, Matrix<double>("seed", 4, 1)), std::logic_error);
  const Matrix<double> points = random_matrix(3, 2, 1);
  mlp.forward_values(store, points);
  CHECK(mlp.points() == 3);
  CHECK(mlp.part(JetPart::kValue).extent(0) == 3);
  CHECK_THROWS_WITH(mlp.part(JetPart::kDx), Catch::Matchers::Contains("values only"));
  CHECK_THROWS_WITH(mlp.backward(store, Matrix<double>("seed", 12, 1)),
                    Catch::Matchers::Contains("[12 x 1]") && Catch::Matchers::Contains("[3 x 1]"));
  CHECK_THROWS_WITH(mlp.forward(store, random_matrix(3, 3, 1)),
                    Catch::Matchers::Contains("two columns"));

  ParameterStore<double> other;
  JetMlp<double> bad;
  CHECK_THROWS_AS(bad.declare(other, "pinn", {3, 4, 1}), InputError);
  CHECK_THROWS_WITH(bad.declare(other, "pinn", {2, 4, 1}, ActivationKind::kRelu),
                    Catch::Matchers::Contains("relu") && Catch::Matchers::Contains("tanh"));
}

TEST_CASE("jet MLP backward matches finite differences for any jet seed", "[jet_backward]") {
  // Chunks of 4 points split the 9 points unevenly (4, 4, 1).
  for (auto [kind, chunk] : {std::pair{ActivationKind::kTanh, std::size_t(0)},
                             std::pair{ActivationKind::kSine, std::size_t(0)},
                             std::pair{ActivationKind::kTanh, std::size_t(4)},
                             std::pair{ActivationKind::kSine, std::size_t(4)}}) {
    INFO(activation_name(kind) << ", chunk " << chunk);
    Net net({2, 6, 5, 2}, kind, 11);
    net.mlp.set_chunk_points(chunk);
    const Matrix<double> points = random_matrix(9, 2, 13, 0.8);
    const Matrix<double> r = random_matrix(4 * 9, 2, 17);
    auto loss = [&] { return weighted_sum(net.mlp.forward(net.store, points), r); };
    loss();
    net.store.zero_grad();
    net.mlp.backward(net.store, r);
    const auto check = check_gradient(net.store.params(), net.store.grads(), loss);
    INFO("worst entry " << check.worst_index << ", abs error " << check.max_abs_error);
    CHECK(check.max_relative_error < 1e-6);

    // The values-only pass has its own (one block) backward.
    const Matrix<double> rv = random_matrix(9, 2, 19);
    auto loss_values = [&] { return weighted_sum(net.mlp.forward_values(net.store, points), rv); };
    loss_values();
    net.store.zero_grad();
    net.mlp.backward(net.store, rv);
    const auto values = check_gradient(net.store.params(), net.store.grads(), loss_values);
    CHECK(values.max_relative_error < 1e-6);
  }
}

TEST_CASE("the LWR residual plus data misfit gradient matches finite differences",
          "[jet_backward]") {
  for (auto kind : {ActivationKind::kTanh, ActivationKind::kSine}) {
    INFO(activation_name(kind));
    Net net({2, 8, 8, 8, 1}, kind, 23);
    const LwrResidualCoefficients lwr{1.3, 1.1, 0.005};
    const Matrix<double> collocation = random_matrix(16, 2, 29, 0.6);
    const Matrix<double> observations = random_matrix(5, 2, 31, 0.6);
    const Matrix<double> data = random_matrix(5, 1, 37, 0.3);
    Matrix<double> seed;
    // L = mean(r^2) + 0.5 mean((u - data)^2): two forward/backward pairs, gradients add.
    auto loss = [&] {
      const double residual = lwr_residual_loss(net.mlp.forward(net.store, collocation), lwr, seed);
      return residual +
             0.5 * data_misfit_loss(net.mlp.forward_values(net.store, observations), data, seed);
    };
    net.store.zero_grad();
    lwr_residual_loss(net.mlp.forward(net.store, collocation), lwr, seed);
    net.mlp.backward(net.store, seed);
    data_misfit_loss(net.mlp.forward_values(net.store, observations), data, seed, 0.5);
    net.mlp.backward(net.store, seed);
    const auto check = check_gradient(net.store.params(), net.store.grads(), loss);
    INFO("worst entry " << check.worst_index << ", abs error " << check.max_abs_error);
    CHECK(check.max_relative_error < 1e-6);
  }
}

TEST_CASE("chunked passes give the results of one pass over all points", "[jet_backward]") {
  for (auto kind : {ActivationKind::kTanh, ActivationKind::kSine}) {
    INFO(activation_name(kind));
    const std::size_t n = 16;
    const Matrix<double> points = random_matrix(n, 2, 41, 0.7);
    const LwrResidualCoefficients lwr{1.0, 1.0, 0.005};

    // Scalar u: forward_backward with the LWR loss in chunks of 5 (5, 5, 5, 1 points)
    // against forward + loss + backward over all points in one chunk.
    Net whole({2, 7, 7, 1}, kind, 43), chunked({2, 7, 7, 1}, kind, 43);
    whole.mlp.set_chunk_points(n);
    chunked.mlp.set_chunk_points(5);
    Matrix<double> seed;
    whole.store.zero_grad();
    const double expected = lwr_residual_loss(whole.mlp.forward(whole.store, points), lwr, seed);
    whole.mlp.backward(whole.store, seed);
    chunked.store.zero_grad();
    const double loss = chunked.mlp.forward_backward(
        chunked.store, points, [&](const Matrix<double>& jet, Matrix<double>& s, double weight) {
          return lwr_residual_loss(jet, lwr, s, weight);
        });
    CHECK(loss == Approx(expected).epsilon(1e-13));
    CHECK(relative_error(
              to_host(Matrix<double>(chunked.store.grads().data(), 1, chunked.store.size())),
              to_host(Matrix<double>(whole.store.grads().data(), 1, whole.store.size()))) < 1e-13);
    CHECK_THROWS_WITH(chunked.mlp.part(JetPart::kValue), Catch::Matchers::Contains("no forward"));

    // Width 2: the chunk layout is relaid for the loss and back; forward in chunks of 3
    // gives the same stacked jet.
    Net wide({2, 6, 2}, kind, 47), wide_chunked({2, 6, 2}, kind, 47);
    wide_chunked.mlp.set_chunk_points(3);
    CHECK(relative_error(to_host(wide_chunked.mlp.forward(wide_chunked.store, points)),
                         to_host(wide.mlp.forward(wide.store, points))) < 1e-14);
    CHECK(relative_error(to_host(wide_chunked.mlp.forward_values(wide_chunked.store, points)),
                         to_host(wide.mlp.forward_values(wide.store, points))) < 1e-14);
    // L = mean over points of sum over parts b and columns k of (b + 1) jet^2.
    auto square_loss = [](const Matrix<double>& jet, Matrix<double>& s, double weight) {
      const std::size_t count = jet.extent(0) / kJetParts;
      tensor::ensure_shape(s, "seed", jet.extent(0), jet.extent(1));
      auto j = Kokkos::create_mirror_view(jet);
      auto g = Kokkos::create_mirror_view(s);
      Kokkos::deep_copy(j, jet);
      double total = 0;
      for (std::size_t r = 0; r < jet.extent(0); ++r) {
        const double factor = static_cast<double>(r / count + 1) / static_cast<double>(count);
        for (std::size_t k = 0; k < jet.extent(1); ++k) {
          total += factor * j(r, k) * j(r, k);
          g(r, k) = weight * 2 * factor * j(r, k);
        }
      }
      Kokkos::deep_copy(s, g);
      return total;
    };
    wide.store.zero_grad();
    const Matrix<double>& jet = wide.mlp.forward(wide.store, points);
    Matrix<double> stacked_jet("jet", jet.extent(0), 2);
    Kokkos::deep_copy(stacked_jet, jet);
    Matrix<double> wide_seed;
    const double wide_expected = square_loss(stacked_jet, wide_seed, 1.0);
    wide.mlp.backward(wide.store, wide_seed);
    wide_chunked.store.zero_grad();
    CHECK(wide_chunked.mlp.forward_backward(wide_chunked.store, points, square_loss) ==
          Approx(wide_expected).epsilon(1e-13));
    CHECK(relative_error(to_host(Matrix<double>(wide_chunked.store.grads().data(), 1,
                                                wide_chunked.store.size())),
                         to_host(Matrix<double>(wide.store.grads().data(), 1, wide.store.size()))) <
          1e-13);
  }
}

TEST_CASE("the float tanh jet's ISA clones give the generic loops' bits", "[jet_forward]") {
  // Runs of several lengths (vector bodies and scalar tails), pre-activations beyond
  // tanh's cut at |z| = 9, and the same bias for every entry of a run.
  if (!detail::tanh_jet_runs_cloned()) {
    WARN("no ISA clones in this build (not x86-64 GCC or Clang): the generic loops run");
  }
  std::mt19937 engine(12345);
  std::uniform_real_distribution<float> uniform(-12.0f, 12.0f);
  auto next = [&] { return uniform(engine); };
  for (const std::size_t count : {1, 7, 16, 33, 128}) {
    std::vector<float> z(4 * count), a(4 * count), a_generic(4 * count);
    for (float& v : z) v = next();
    const float bias = 0.25f;
    detail::tanh_jet_forward_run(count, bias, &z[0], &z[count], &z[2 * count], &z[3 * count], &a[0],
                                 &a[count], &a[2 * count], &a[3 * count]);
    detail::jet_activation_run<detail::TanhJet, float>(
        count, bias, &z[0], &z[count], &z[2 * count], &z[3 * count], &a_generic[0],
        &a_generic[count], &a_generic[2 * count], &a_generic[3 * count], nullptr);
    CHECK(std::memcmp(a.data(), a_generic.data(), a.size() * sizeof(float)) == 0);

    std::vector<float> g(4 * count);
    for (float& v : g) v = next();
    std::vector<float> g_generic = g;
    detail::tanh_jet_backward_run(count, &g[0], &g[count], &g[2 * count], &g[3 * count], &z[count],
                                  &z[2 * count], &z[3 * count], &a[0]);
    detail::jet_activation_backward_run<detail::TanhJet, float>(
        count, &g_generic[0], &g_generic[count], &g_generic[2 * count], &g_generic[3 * count],
        &z[count], &z[2 * count], &z[3 * count], &a[0], nullptr);
    CHECK(std::memcmp(g.data(), g_generic.data(), g.size() * sizeof(float)) == 0);
  }
}
