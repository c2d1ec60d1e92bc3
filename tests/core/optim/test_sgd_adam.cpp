#include <cmath>
#include <vector>

#include "core/optim/adam.hpp"
#include "core/optim/sgd.hpp"
#include "core/runtime/error.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tessera;
using namespace tessera::optim;
using Catch::Matchers::Contains;

namespace {

// Two slices "a" (2) and "b" (1) with fixed parameters; gradients are set per step.
template <class T>
nn::ParameterStore<T> small_store() {
  nn::ParameterStore<T> store;
  store.add("a", {2});
  store.add("b", {1});
  store.finalize();
  store.set_slice(0, {1.0, -2.0});
  store.set_slice(1, {0.5});
  return store;
}

template <class T>
void set_grads(nn::ParameterStore<T>& store, const std::vector<double>& g) {
  auto host = Kokkos::create_mirror_view(store.grads());
  for (std::size_t i = 0; i < g.size(); ++i) host(i) = static_cast<T>(g[i]);
  Kokkos::deep_copy(store.grads(), host);
}

template <class T>
std::vector<double> params_of(const nn::ParameterStore<T>& store) {
  auto host = Kokkos::create_mirror_view(store.params());
  Kokkos::deep_copy(host, store.params());
  return std::vector<double>(host.data(), host.data() + host.extent(0));
}

const std::vector<std::vector<double>> kGrads = {
    {0.3, -0.1, 2.0}, {-0.2, 0.4, 1.0}, {0.05, 0.0, -0.5}, {0.1, 0.2, 0.3}};

// Runs `steps` steps with kGrads, saves to a checkpoint, loads into a fresh optimiser
// and checks that both continue identically for the remaining gradients.
template <class Optimiser, class Options>
void check_resume(const Options& options, int steps, const std::string& tag) {
  const testing::ScopedTempDir dir(tag);
  const std::string path = dir.path() + "/run.h5";
  auto store = small_store<double>();
  Optimiser opt(store, options);
  for (int k = 0; k < steps; ++k) {
    set_grads(store, kGrads[k]);
    opt.step(store);
  }
  {
    io::ResultsFile file(MPI_COMM_WORLD, path);
    store.save(file, "/checkpoint/parameters");
    opt.save(file, "/checkpoint/optimizer");
    file.close();
  }
  io::Hdf5Reader reader(path);
  nn::ParameterStore<double> resumed;
  resumed.add("a", {2});
  resumed.add("b", {1});
  resumed.finalize();
  resumed.load(reader, "/checkpoint/parameters");
  Options other = options;
  other.lr = 123.0;  // restored from the checkpoint
  Optimiser resumed_opt(resumed, other);
  resumed_opt.load(reader, "/checkpoint/optimizer");
  CHECK(resumed_opt.step_count() == steps);
  CHECK(resumed_opt.lr() == options.lr);
  for (std::size_t k = steps; k < kGrads.size(); ++k) {
    set_grads(store, kGrads[k]);
    opt.step(store);
    set_grads(resumed, kGrads[k]);
    resumed_opt.step(resumed);
  }
  CHECK(params_of(resumed) == params_of(store));
}

}  // namespace

TEST_CASE("SGD follows torch's update rule with momentum, Nesterov and weight decay", "[sgd]") {
  for (bool nesterov : {false, true}) {
    INFO("nesterov " << nesterov);
    auto store = small_store<double>();
    SgdOptions options;
    options.lr = 0.1;
    options.momentum = 0.9;
    options.weight_decay = 0.01;
    options.nesterov = nesterov;
    Sgd<double> opt(store, options);
    std::vector<double> p = {1.0, -2.0, 0.5}, buf(3);
    for (int k = 0; k < 3; ++k) {
      set_grads(store, kGrads[k]);
      opt.step(store);
      for (int i = 0; i < 3; ++i) {
        const double d = kGrads[k][i] + 0.01 * p[i];
        buf[i] = k == 0 ? d : 0.9 * buf[i] + d;
        p[i] -= 0.1 * (nesterov ? d + 0.9 * buf[i] : buf[i]);
      }
      const auto got = params_of(store);
      for (int i = 0; i < 3; ++i) CHECK(got[i] == Approx(p[i]).epsilon(1e-14));
    }
    CHECK(opt.step_count() == 3);
  }
}

TEST_CASE("SGD: plain steps, dampening, learning-rate changes, option errors", "[sgd]") {
  auto store = small_store<float>();
  SgdOptions options;
  options.lr = 0.5;
  Sgd<float> opt(store, options);
  set_grads(store, {1.0, 2.0, -4.0});
  opt.step(store);
  CHECK(params_of(store) == std::vector<double>{0.5, -3.0, 2.5});
  opt.set_lr(0.25);
  opt.step(store);
  CHECK(params_of(store) == std::vector<double>{0.25, -3.5, 3.5});

  auto damp = small_store<double>();
  options.momentum = 0.5;
  options.dampening = 0.5;
  Sgd<double> damped(damp, options);
  set_grads(damp, {1.0, 1.0, 1.0});
  damped.step(damp);  // buffer = g (torch does not dampen the first step)
  damped.step(damp);  // buffer = 0.5 g + 0.5 g = g
  CHECK(params_of(damp)[0] == Approx(1.0 - 2 * 0.5));

  SgdOptions bad;
  bad.nesterov = true;
  CHECK_THROWS_WITH(Sgd<float>(store, bad), Contains("nesterov needs momentum"));
  bad.nesterov = false;
  bad.lr = -1;
  CHECK_THROWS_AS(Sgd<float>(store, bad), InputError);
}

TEST_CASE("optimisers refuse a NaN or Inf gradient, naming the slice and the step", "[sgd]") {
  auto store = small_store<float>();
  Sgd<float> sgd(store);
  Adam<float> adam(store);
  set_grads(store, {0.1, 0.2, 0.3});
  sgd.step(store);
  adam.step(store);
  set_grads(store, {0.1, 0.2, std::nan("")});
  CHECK_THROWS_WITH(sgd.step(store), Contains("SGD step 2") && Contains("gradient 'b'"));
  set_grads(store, {0.1, INFINITY, 0.0});
  CHECK_THROWS_WITH(adam.step(store), Contains("Adam step 2") && Contains("gradient 'a'"));
  AdamW<float> adamw(store);
  CHECK_THROWS_WITH(adamw.step(store), Contains("AdamW step 1"));
}

TEST_CASE("SGD state survives a checkpoint", "[sgd]") {
  SgdOptions options;
  options.lr = 0.1;
  options.momentum = 0.9;
  options.nesterov = true;
  check_resume<Sgd<double>>(options, 2, "sgd_resume");
}

TEST_CASE("Adam's first step is lr * g / (|g| + eps) after bias correction", "[adam]") {
  auto store = small_store<double>();
  AdamOptions options;
  options.lr = 0.01;
  options.eps = 1e-3;  // large enough to show that eps sits outside the square root
  Adam<double> opt(store, options);
  set_grads(store, kGrads[0]);
  opt.step(store);
  const std::vector<double> p0 = {1.0, -2.0, 0.5};
  const auto got = params_of(store);
  for (int i = 0; i < 3; ++i) {
    const double g = kGrads[0][i];
    CHECK(got[i] == Approx(p0[i] - 0.01 * g / (std::abs(g) + 1e-3)).epsilon(1e-14));
  }
}

TEST_CASE("Adam with L2 weight decay and AMSGrad matches a scalar transcription", "[adam]") {
  auto store = small_store<double>();
  AdamOptions options;
  options.lr = 0.05;
  options.weight_decay = 0.1;
  options.amsgrad = true;
  Adam<double> opt(store, options);
  std::vector<double> p = {1.0, -2.0, 0.5}, m(3), v(3), vmax(3);
  for (int k = 0; k < 4; ++k) {
    set_grads(store, kGrads[k]);
    opt.step(store);
    const double bc1 = 1 - std::pow(0.9, k + 1), bc2 = 1 - std::pow(0.999, k + 1);
    for (int i = 0; i < 3; ++i) {
      const double g = kGrads[k][i] + 0.1 * p[i];
      m[i] = 0.9 * m[i] + 0.1 * g;
      v[i] = 0.999 * v[i] + 0.001 * g * g;
      vmax[i] = std::max(vmax[i], v[i]);
      p[i] -= 0.05 / bc1 * m[i] / (std::sqrt(vmax[i]) / std::sqrt(bc2) + 1e-8);
    }
    const auto got = params_of(store);
    for (int i = 0; i < 3; ++i) CHECK(got[i] == Approx(p[i]).epsilon(1e-13));
  }
  AdamOptions bad;
  bad.beta2 = 1.0;
  CHECK_THROWS_WITH(Adam<double>(store, bad), Contains("betas"));
}

TEST_CASE("Adam state survives a checkpoint, and only loads into Adam", "[adam]") {
  AdamOptions options;
  options.lr = 0.02;
  options.amsgrad = true;
  check_resume<Adam<double>>(options, 2, "adam_resume");

  const testing::ScopedTempDir dir("adam_kind");
  const std::string path = dir.path() + "/run.h5";
  auto store = small_store<double>();
  Adam<double> adam(store);
  {
    io::ResultsFile file(MPI_COMM_WORLD, path);
    adam.save(file, "/checkpoint/optimizer");
    file.close();
  }
  io::Hdf5Reader reader(path);
  Sgd<double> sgd(store);
  CHECK_THROWS_WITH(sgd.load(reader, "/checkpoint/optimizer"),
                    Contains("optimiser 'adam'") && Contains("this run uses 'sgd'"));
  AdamW<double> adamw(store);
  CHECK_THROWS_AS(adamw.load(reader, "/checkpoint/optimizer"), InputError);
  nn::ParameterStore<double> bigger;
  bigger.add("a", {5});
  bigger.finalize();
  Adam<double> wrong_size(bigger);
  CHECK_THROWS_WITH(wrong_size.load(reader, "/checkpoint/optimizer"),
                    Contains("exp_avg") && Contains("different model"));
  CHECK_THROWS_WITH(adam.load(reader, "/nothing"), Contains("no optimiser state"));
}

TEST_CASE("AdamW decays weights decoupled from the gradient", "[adamw]") {
  auto store = small_store<double>();
  AdamW<double> opt(store);
  CHECK(opt.options().weight_decay == 1e-2);  // torch's AdamW default
  CHECK(opt.name() == "adamw");
  opt.set_lr(0.1);
  // A zero gradient leaves only the decay: p *= 1 - lr * weight_decay.
  set_grads(store, {0.0, 0.0, 0.0});
  opt.step(store);
  const auto got = params_of(store);
  CHECK(got[0] == Approx(1.0 * 0.999).epsilon(1e-15));
  CHECK(got[1] == Approx(-2.0 * 0.999).epsilon(1e-15));
  // Decay does not enter the moments: with the same gradient, AdamW = decay + Adam step.
  auto a = small_store<double>();
  auto b = small_store<double>();
  AdamOptions options;
  options.lr = 0.1;
  options.weight_decay = 0.5;
  AdamW<double> adamw(a, options);
  options.weight_decay = 0;
  Adam<double> adam(b, options);
  set_grads(a, kGrads[1]);
  set_grads(b, kGrads[1]);
  adamw.step(a);
  adam.step(b);
  const auto pa = params_of(a), pb = params_of(b);
  const std::vector<double> p0 = {1.0, -2.0, 0.5};
  for (int i = 0; i < 3; ++i) CHECK(pa[i] == Approx(pb[i] - 0.05 * p0[i]).epsilon(1e-14));
}

TEST_CASE("AdamW state survives a checkpoint", "[adamw]") {
  AdamOptions options = AdamW<double>::defaults();
  options.lr = 0.03;
  check_resume<AdamW<double>>(options, 3, "adamw_resume");
}
