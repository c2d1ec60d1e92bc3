// The optimisers, schedules, clipping and L-BFGS against torch on the same problems, from
// tests/reference/optim.h5 (made by analysis/reference/reference_optim.py). Set
// TESSERA_TEST_VERBOSE=1 to print the measured agreement.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/io/hdf5_reader.hpp"
#include "core/optim/adam.hpp"
#include "core/optim/clip.hpp"
#include "core/optim/lbfgs.hpp"
#include "core/optim/schedule.hpp"
#include "core/optim/sgd.hpp"
#include "tests/core/optim/test_problem.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/gradient_check.hpp"

using namespace tessera;
using namespace tessera::optim;
using testing::max_abs_difference;
using testing::relative_error;

namespace {

const std::string kReference = TESSERA_SOURCE_DIR "/tests/reference/optim.h5";
const char* const kSlices[] = {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};
constexpr int kSteps = 5;

bool verbose() {
  const char* v = std::getenv("TESSERA_TEST_VERBOSE");
  return v != nullptr && std::string(v) == "1";
}

template <class T>
const char* dtype_name() {
  return sizeof(T) == 8 ? "float64" : "float32";
}

// The MLP of reference_optim.py with its data and initial weights.
template <class T>
struct Problem {
  nn::ParameterStore<T> store;
  testing::TanhMlp<T> mlp;
  tensor::Matrix<T> x, target;

  explicit Problem(const io::Hdf5Reader& ref) {
    std::vector<std::uint64_t> xd, td;
    const auto xv = ref.read("/problem/x", &xd);
    const auto tv = ref.read("/problem/target", &td);
    mlp.declare(store, xd[1], ref.shape("/initial/fc1.weight")[0], td[1]);
    store.finalize();
    for (const char* name : kSlices) {
      store.set_slice(store.find(name), ref.read(std::string("/initial/") + name));
    }
    x = testing::matrix_from<T>(xv, xd[0], xd[1]);
    target = testing::matrix_from<T>(tv, td[0], td[1]);
  }

  // torch.nn.functional.mse_loss (mean over all entries) and its gradient.
  double loss_and_grad() {
    store.zero_grad();
    return mlp.loss_and_grad(store, x, target,
                             static_cast<double>(target.extent(0) * target.extent(1)));
  }
};

template <class T>
void run_optimizer_case(const io::Hdf5Reader& ref, const std::string& name, double tolerance) {
  const std::string group = "/" + name;
  auto attr = [&](const char* key) { return ref.read_attribute(group, key); };
  const std::string kind = ref.read_string_attribute(group, "optimizer");
  REQUIRE((kind == "sgd" || kind == "adam" || kind == "adamw"));
  Problem<T> problem(ref);
  std::function<void()> step;
  std::function<void(double)> set_lr;
  std::function<long long()> count;
  std::unique_ptr<Sgd<T>> sgd;
  std::unique_ptr<Adam<T>> adam;
  if (kind == "sgd") {
    SgdOptions options;
    options.lr = attr("lr");
    options.momentum = attr("momentum");
    options.dampening = attr("dampening");
    options.nesterov = attr("nesterov") != 0;
    options.weight_decay = attr("weight_decay");
    sgd = std::make_unique<Sgd<T>>(problem.store, options);
    step = [&] { sgd->step(problem.store); };
    set_lr = [&](double lr) { sgd->set_lr(lr); };
    count = [&] { return sgd->step_count(); };
  } else {
    AdamOptions options = kind == "adamw" ? AdamW<T>::defaults() : AdamOptions{};
    options.lr = attr("lr");
    options.weight_decay = attr("weight_decay");
    options.amsgrad = attr("amsgrad") != 0;
    if (kind == "adamw") {
      adam = std::make_unique<AdamW<T>>(problem.store, options);
    } else {
      adam = std::make_unique<Adam<T>>(problem.store, options);
    }
    step = [&] { adam->step(problem.store); };
    set_lr = [&](double lr) { adam->set_lr(lr); };
    count = [&] { return adam->step_count(); };
  }
  const bool scheduled = attr("warmup") > 0;
  const Schedule schedule =
      scheduled ? Schedule::warmup_cosine(attr("lr"), static_cast<long long>(attr("warmup")),
                                          static_cast<long long>(attr("total")), attr("min_lr"))
                : Schedule::constant(attr("lr"));

  const std::string sub = group + "/" + dtype_name<T>();
  const auto losses = ref.read(sub + "/loss");
  double worst = 0, worst_loss = 0;
  for (int k = 0; k < kSteps; ++k) {
    const double loss = problem.loss_and_grad();
    worst_loss = std::max(worst_loss, std::abs(loss - losses[k]) / std::abs(losses[k]));
    set_lr(schedule.lr(count()));
    step();
    for (const char* slice : kSlices) {
      const int id = problem.store.find(slice);
      const std::size_t n = problem.store.slice(id).size();
      const auto all = ref.read(sub + "/" + slice);
      const std::vector<double> expected(all.begin() + k * n, all.begin() + (k + 1) * n);
      const auto got = problem.store.get_slice(id);
      const double error = relative_error(got, expected);
      INFO(name << " " << dtype_name<T>() << " step " << k + 1 << " " << slice
                << ": relative error " << error << ", max abs difference "
                << max_abs_difference(got, expected));
      CHECK(error < tolerance);
      worst = std::max(worst, error);
    }
  }
  CHECK(worst_loss < tolerance);
  if (verbose()) {
    std::printf("torch_reference %-16s %s: parameters max rel error %.2e, loss %.2e\n",
                name.c_str(), dtype_name<T>(), worst, worst_loss);
  }
}

}  // namespace

TEST_CASE("the reference problem's gradient matches finite differences", "[torch_reference]") {
  io::Hdf5Reader ref(kReference);
  Problem<double> problem(ref);
  const double loss = problem.loss_and_grad();
  CHECK(loss == Approx(ref.read("/sgd/float64/loss")[0]).epsilon(1e-14));
  tensor::Vector<double> analytic("analytic", problem.store.size());
  Kokkos::deep_copy(analytic, problem.store.grads());
  const auto check = testing::check_gradient(problem.store.params(), analytic,
                                             [&] { return problem.loss_and_grad(); });
  INFO("worst entry " << check.worst_index << ", abs error " << check.max_abs_error);
  CHECK(check.max_relative_error < 1e-6);
  if (verbose())
    std::printf("torch_reference MLP gradient FD rel error %.2e\n", check.max_relative_error);
}

TEST_CASE("SGD, Adam and AdamW match torch.optim for 5 steps", "[torch_reference]") {
  io::Hdf5Reader ref(kReference);
  for (const char* name : {"sgd", "sgd_momentum", "sgd_nesterov", "adam", "adam_l2_amsgrad",
                           "adamw", "adamw_schedule"}) {
    run_optimizer_case<double>(ref, name, 1e-6);
    run_optimizer_case<float>(ref, name, 1e-5);
  }
}

TEST_CASE("schedules match torch.optim.lr_scheduler", "[torch_reference]") {
  io::Hdf5Reader ref(kReference);
  const std::string wc = "/schedule/warmup_cosine";
  const Schedule cosine =
      Schedule::warmup_cosine(ref.read_attribute(wc, "peak_lr"),
                              static_cast<long long>(ref.read_attribute(wc, "warmup_steps")),
                              static_cast<long long>(ref.read_attribute(wc, "total_steps")),
                              ref.read_attribute(wc, "min_lr"));
  const auto cosine_lrs = ref.read(wc + "/lr");
  double worst = 0;
  for (std::size_t s = 0; s < cosine_lrs.size(); ++s) {
    INFO("warm-up + cosine, step " << s);
    CHECK(cosine.lr(static_cast<long long>(s)) == Approx(cosine_lrs[s]).epsilon(1e-12));
    worst = std::max(worst, std::abs(cosine.lr(s) - cosine_lrs[s]) / cosine_lrs[s]);
  }
  const std::string sd = "/schedule/step_decay";
  const Schedule decay = Schedule::step_decay(
      ref.read_attribute(sd, "lr"), static_cast<long long>(ref.read_attribute(sd, "step_size")),
      ref.read_attribute(sd, "gamma"));
  const auto decay_lrs = ref.read(sd + "/lr");
  for (std::size_t s = 0; s < decay_lrs.size(); ++s) {
    INFO("step decay, step " << s);
    CHECK(decay.lr(static_cast<long long>(s)) == Approx(decay_lrs[s]).epsilon(1e-12));
    worst = std::max(worst, std::abs(decay.lr(s) - decay_lrs[s]) / decay_lrs[s]);
  }
  if (verbose()) std::printf("torch_reference schedules max rel error %.2e\n", worst);
}

TEMPLATE_TEST_CASE("clip_grad_norm matches torch.nn.utils.clip_grad_norm_", "[torch_reference]",
                   double, float) {
  const double tolerance = sizeof(TestType) == 8 ? 1e-12 : 1e-5;
  io::Hdf5Reader ref(kReference);
  Problem<TestType> problem(ref);
  problem.loss_and_grad();
  const std::string group = std::string("/clip/") + dtype_name<TestType>();
  const double norm = clip_grad_norm(problem.store, ref.read_attribute(group, "max_norm"));
  const double expected_norm = ref.read(group + "/total_norm")[0];
  CHECK(std::abs(norm - expected_norm) / expected_norm < tolerance);
  double worst = 0;
  for (const char* slice : kSlices) {
    const auto got = problem.store.get_slice(problem.store.find(slice), true);
    const auto expected = ref.read(group + "/" + slice);
    INFO(slice << ": max abs difference " << max_abs_difference(got, expected));
    CHECK(relative_error(got, expected) < tolerance);
    worst = std::max(worst, relative_error(got, expected));
  }
  if (verbose()) {
    std::printf("torch_reference clip %s: norm rel error %.2e, gradients %.2e\n",
                dtype_name<TestType>(), std::abs(norm - expected_norm) / expected_norm, worst);
  }
}

TEST_CASE("L-BFGS evaluates the same points as torch.optim.LBFGS on Rosenbrock",
          "[torch_reference]") {
  io::Hdf5Reader ref(kReference);
  for (const char* name : {"strong_wolfe", "history3", "fixed_step"}) {
    INFO("case " << name);
    const std::string group = std::string("/lbfgs/") + name;
    auto attr = [&](const char* key) { return ref.read_attribute(group, key); };
    LbfgsOptions options;
    options.lr = attr("lr");
    options.max_iter = static_cast<int>(attr("max_iter"));
    options.history_size = static_cast<int>(attr("history_size"));
    options.tolerance_grad = attr("tolerance_grad");
    options.tolerance_change = attr("tolerance_change");
    options.strong_wolfe = attr("strong_wolfe") != 0;

    nn::ParameterStore<double> store;
    store.add("x", {2});
    store.finalize();
    store.set_slice(0, {-1.5, 2.0});
    std::vector<double> points, values;
    auto closure = [&](nn::ParameterStore<double>& s) {
      s.zero_grad();
      const auto p = s.get_slice(0);
      const double a = 1 - p[0], b = p[1] - p[0] * p[0];
      // Same operation order as torch's autograd.
      auto g = Kokkos::create_mirror_view(s.grads());
      g(0) = -(2 * a) + (-(100 * (2 * b))) * (2 * p[0]);
      g(1) = 100 * (2 * b);
      Kokkos::deep_copy(s.grads(), g);
      points.insert(points.end(), p.begin(), p.end());
      values.push_back(a * a + 100 * (b * b));
      return values.back();
    };
    Lbfgs<double> lbfgs(store, options);
    lbfgs.step(store, closure);

    const auto torch_points = ref.read(group + "/points");
    const auto torch_values = ref.read(group + "/values");
    CHECK(values.size() == torch_values.size());
    CHECK(lbfgs.iterations() == static_cast<long long>(attr("n_iter")));
    CHECK(lbfgs.function_evaluations() == static_cast<long long>(attr("func_evals")));
    // The first evaluations agree to the last bit; later ones drift apart by round-off
    // (torch's dot products go through BLAS) amplified along the curved valley, without
    // changing any decision of the line search: same counts, same end point.
    const std::size_t common = std::min(values.size(), torch_values.size());
    double worst_point = 0, worst_early = 0;
    for (std::size_t e = 0; e < common; ++e) {
      const double difference = std::max(std::abs(points[2 * e] - torch_points[2 * e]),
                                         std::abs(points[2 * e + 1] - torch_points[2 * e + 1]));
      worst_point = std::max(worst_point, difference);
      if (e < 10) worst_early = std::max(worst_early, difference);
    }
    const double final_error = max_abs_difference(store.get_slice(0), ref.read(group + "/final"));
    INFO("worst point difference " << worst_point << ", in the first 10 evaluations " << worst_early
                                   << ", final " << final_error);
    CHECK(worst_early < 1e-13);
    CHECK(worst_point < 1e-7);
    CHECK(final_error < 1e-10);
    if (verbose()) {
      std::printf(
          "torch_reference lbfgs %-12s: %zu evaluations (torch %zu), %lld iterations, "
          "max |x - x_torch| first 10 evaluations %.1e, all %.1e, final %.1e\n",
          name, values.size(), torch_values.size(), lbfgs.iterations(), worst_early, worst_point,
          final_error);
    }
  }
}
