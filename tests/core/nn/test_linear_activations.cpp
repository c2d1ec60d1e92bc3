#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/nn/activations.hpp"
#include "core/nn/linear.hpp"
#include "core/nn/parameter_store.hpp"
#include "core/runtime/error.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/gradient_check.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tessera;
using namespace tessera::nn;
using tessera::testing::check_gradient;
using tessera::testing::random_matrix;
using tessera::testing::weighted_sum;

TEST_CASE("linear backward matches finite differences", "[linear]") {
  ParameterStore<double> store;
  Linear<double> layer;
  layer.declare(store, "fc", 5, 4);
  store.finalize();
  layer.init(store, 11);
  Matrix<double> x = random_matrix(6, 5, 1);
  const Matrix<double> r = random_matrix(6, 4, 2);
  auto loss = [&] { return weighted_sum(layer.forward(store, x), r); };
  loss();
  store.zero_grad();
  const Matrix<double> dx = layer.backward(store, r);
  const auto params = check_gradient(store.params(), store.grads(), loss);
  CHECK(params.max_relative_error < 1e-7);
  const auto inputs = check_gradient(tensor::flat(x), tensor::flat(dx), loss);
  CHECK(inputs.max_relative_error < 1e-7);
}

TEST_CASE("every activation's backward matches finite differences", "[activations]") {
  for (auto kind : {ActivationKind::kRelu, ActivationKind::kGeluTanh, ActivationKind::kGeluErf,
                    ActivationKind::kTanh, ActivationKind::kSilu, ActivationKind::kSine}) {
    INFO(activation_name(kind));
    Activation<double> act(kind, "act");
    Matrix<double> x = random_matrix(5, 7, 3);
    const Matrix<double> r = random_matrix(5, 7, 4);
    auto loss = [&] { return weighted_sum(act.forward(x), r); };
    loss();
    const Matrix<double> dx = act.backward(r);
    const auto check = check_gradient(tensor::flat(x), tensor::flat(dx), loss);
    INFO("worst entry " << check.worst_index << ", abs error " << check.max_abs_error);
    CHECK(check.max_relative_error < 1e-6);
  }
  CHECK(activation_value(ActivationKind::kGeluErf, 1.0) == Approx(0.8413447460685429));
  CHECK(activation_value(ActivationKind::kGeluTanh, 1.0) == Approx(0.8411919906082768));
  CHECK(activation_value(ActivationKind::kSilu, 1.0) == Approx(0.7310585786300049));
  CHECK_THROWS_AS(activation_from_name("swish"), InputError);
}

TEST_CASE("parameter store slices, initialisers and errors", "[parameter_store]") {
  ParameterStore<float> store;
  const int w = store.add("w", {3, 4});
  const int b = store.add("b", {4});
  CHECK_THROWS(store.add("w", {1}));
  store.finalize();
  CHECK(store.size() == 16);
  CHECK(store.slice(b).offset == 12);
  CHECK(store.param_matrix(w).extent(0) == 3);
  CHECK(store.param_matrix(b).extent(1) == 4);
  store.init_xavier_uniform(w, 4, 3, 9);
  const auto values = store.get_slice(w);
  const double bound = std::sqrt(6.0 / 7.0);
  for (double v : values) CHECK(std::abs(v) <= bound);
  // The same seed and slice give the same values (rank-count independent init).
  ParameterStore<float> again;
  again.add("w", {3, 4});
  again.finalize();
  again.init_xavier_uniform(0, 4, 3, 9);
  CHECK(again.get_slice(0) == values);
  Kokkos::deep_copy(Kokkos::subview(store.params(), 2), std::nanf(""));
  CHECK_THROWS_WITH(store.check_finite("step 7"),
                    Catch::Matchers::Contains("step 7") && Catch::Matchers::Contains("'w'"));
  CHECK_THROWS_WITH(store.set_slice(b, {1.0}), Catch::Matchers::Contains("'b'"));
}

TEST_CASE("a checkpoint loads into the same model and not into another", "[parameter_store]") {
  const testing::ScopedTempDir dir("checkpoint");
  const std::string path = dir.path() + "/run.h5";
  ParameterStore<float> store;
  Linear<float> layer;
  layer.declare(store, "fc", 3, 2);
  store.finalize();
  layer.init(store, 5);
  {
    io::ResultsFile file(MPI_COMM_WORLD, path);
    store.save(file, "/checkpoint/parameters");
    file.close();
  }
  io::Hdf5Reader reader(path);
  ParameterStore<float> same;
  Linear<float> same_layer;
  same_layer.declare(same, "fc", 3, 2);
  same.finalize();
  same.load(reader, "/checkpoint/parameters");
  CHECK(same.get_slice(0) == store.get_slice(0));
  CHECK(same.get_slice(1) == store.get_slice(1));

  ParameterStore<float> wider;
  Linear<float> wider_layer;
  wider_layer.declare(wider, "fc", 4, 2);
  wider.finalize();
  CHECK_THROWS_WITH(wider.load(reader, "/checkpoint/parameters"),
                    Catch::Matchers::Contains("different model") &&
                        Catch::Matchers::Contains("fc.weight") &&
                        Catch::Matchers::Contains("[2 x 3]"));
  ParameterStore<float> renamed;
  Linear<float> renamed_layer;
  renamed_layer.declare(renamed, "head", 3, 2);
  renamed.finalize();
  CHECK_THROWS_WITH(renamed.load(reader, "/checkpoint/parameters"),
                    Catch::Matchers::Contains("does not exist in this model"));
}

TEST_CASE("the float GELU (erf form) agrees with the exact one", "[activations]") {
  double worst_value = 0, worst_derivative = 0;
  for (double x = -8; x <= 8; x += 0.01) {
    float value = 0, derivative = 0;
    activation_with_derivative<ActivationKind::kGeluErf>(static_cast<float>(x), value, derivative);
    const double xf = static_cast<float>(x);
    worst_value =
        std::max(worst_value, std::abs(value - activation_value(ActivationKind::kGeluErf, xf)) /
                                  std::max(1.0, std::abs(xf)));
    worst_derivative =
        std::max(worst_derivative,
                 std::abs(derivative - activation_derivative(ActivationKind::kGeluErf, xf)));
  }
  INFO("value error " << worst_value << ", derivative error " << worst_derivative);
  CHECK(worst_value < 5e-7);
  CHECK(worst_derivative < 1e-6);
}

TEST_CASE("the float activations' ISA clones give the generic loop's bits", "[activations]") {
  // Every kind, runs of several lengths (vector bodies and scalar tails), arguments past
  // every cut-off (tanh's 9, exp's 87) and the special values.
  if (!detail::activation_runs_cloned()) {
    WARN("no ISA clones in this build (not x86-64 GCC or Clang): the generic loop runs");
  }
  std::mt19937 engine(2026);
  std::uniform_real_distribution<float> uniform(-100.0f, 100.0f);
  std::vector<float> x(257);
  for (float& v : x) v = uniform(engine) * (uniform(engine) > 0 ? 1.0f : 0.05f);
  x[0] = 0.0f;
  x[1] = -0.0f;
  x[2] = std::numeric_limits<float>::infinity();
  x[3] = -std::numeric_limits<float>::infinity();
  x[4] = std::numeric_limits<float>::quiet_NaN();
  x[5] = 1e-30f;
  for (const std::string name : {"relu", "gelu_tanh", "gelu", "tanh", "silu", "sine", "identity"}) {
    const ActivationKind kind = activation_from_name(name);
    for (const std::size_t count : {1, 7, 16, 33, 257}) {
      std::vector<float> y(count), d(count), y_generic(count), d_generic(count);
      detail::activation_forward_run(kind, count, x.data(), y.data(), d.data());
      detail::activation_run(kind, count, x.data(), y_generic.data(), d_generic.data());
      INFO(name << ", " << count << " entries");
      CHECK(std::memcmp(y.data(), y_generic.data(), count * sizeof(float)) == 0);
      CHECK(std::memcmp(d.data(), d_generic.data(), count * sizeof(float)) == 0);
    }
  }
}
