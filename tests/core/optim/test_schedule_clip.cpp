#include <cmath>
#include <vector>

#include "core/optim/clip.hpp"
#include "core/optim/schedule.hpp"
#include "core/runtime/error.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using namespace tessera::optim;
using Catch::Matchers::Contains;

TEST_CASE("schedules follow their closed forms", "[schedule]") {
  const Schedule constant = Schedule::constant(0.3);
  CHECK(constant.lr(0) == 0.3);
  CHECK(constant.lr(1000000) == 0.3);

  const double peak = 0.1, min_lr = 0.01;
  const Schedule cosine = Schedule::warmup_cosine(peak, 4, 14, min_lr);
  CHECK(cosine.lr(0) == Approx(peak / 4).epsilon(1e-15));
  CHECK(cosine.lr(2) == Approx(peak * 3 / 4).epsilon(1e-15));
  CHECK(cosine.lr(3) == Approx(peak).epsilon(1e-15));
  CHECK(cosine.lr(4) == Approx(peak).epsilon(1e-15));                 // start of the decay
  CHECK(cosine.lr(9) == Approx((peak + min_lr) / 2).epsilon(1e-14));  // half-way
  CHECK(cosine.lr(14) == Approx(min_lr).epsilon(1e-14));
  CHECK(cosine.lr(500) == min_lr);  // stays at the floor
  for (long long s = 5; s <= 14; ++s) CHECK(cosine.lr(s) < cosine.lr(s - 1));
  // No warm-up: a plain cosine from the first step.
  CHECK(Schedule::warmup_cosine(1.0, 0, 10).lr(0) == 1.0);
  CHECK(Schedule::warmup_cosine(1.0, 0, 10).lr(5) == Approx(0.5).epsilon(1e-15));

  const Schedule decay = Schedule::step_decay(0.8, 3, 0.5);
  CHECK(decay.lr(0) == 0.8);
  CHECK(decay.lr(2) == 0.8);
  CHECK(decay.lr(3) == 0.4);
  CHECK(decay.lr(8) == 0.2);
  CHECK(decay.lr(9) == 0.1);

  // MeshGraphNets': 1e-4 x 0.1^(step / 5e6) + 1e-6, continuous.
  const Schedule exponential = Schedule::exponential(1e-4, 5000000, 0.1, 1e-6);
  CHECK(exponential.lr(0) == Approx(1.01e-4).epsilon(1e-14));
  CHECK(exponential.lr(2500000) == Approx(1e-4 * std::sqrt(0.1) + 1e-6).epsilon(1e-14));
  CHECK(exponential.lr(5000000) == Approx(1.1e-5).epsilon(1e-14));
  CHECK(schedule_kind_from_name("exponential") == ScheduleKind::kExponential);
  CHECK_THROWS_AS(Schedule::exponential(1e-4, 0, 0.1), InputError);

  CHECK(schedule_kind_from_name("warmup_cosine") == ScheduleKind::kWarmupCosine);
  CHECK(schedule_name(ScheduleKind::kStepDecay) == "step_decay");
  CHECK_THROWS_WITH(schedule_kind_from_name("cosine"), Contains("warmup_cosine"));
  CHECK_THROWS_WITH(Schedule::warmup_cosine(0.1, 10, 5), Contains("warmup_steps = 10"));
  CHECK_THROWS_AS(Schedule::step_decay(0.1, 0, 0.5), InputError);
  CHECK_THROWS_AS(Schedule::constant(-1), InputError);
  CHECK_THROWS_AS(Schedule::constant(NAN), InputError);
}

namespace {
nn::ParameterStore<double> store_with_grads(const std::vector<double>& g) {
  nn::ParameterStore<double> store;
  store.add("w", {2});
  store.add("b", {g.size() - 2});
  store.finalize();
  auto host = Kokkos::create_mirror_view(store.grads());
  for (std::size_t i = 0; i < g.size(); ++i) host(i) = g[i];
  Kokkos::deep_copy(store.grads(), host);
  return store;
}
}  // namespace

TEST_CASE("clip_grad_norm scales by max_norm / (norm + 1e-6) only above max_norm", "[clip]") {
  auto store = store_with_grads({3.0, 0.0, 4.0});
  CHECK(global_grad_norm(store) == 5.0);
  CHECK(clip_grad_norm(store, 10.0) == 5.0);
  CHECK(store.get_slice(0, true) == std::vector<double>{3.0, 0.0});  // untouched
  CHECK(clip_grad_norm(store, 1.0) == 5.0);
  const double c = 1.0 / (5.0 + 1e-6);
  CHECK(store.get_slice(0, true)[0] == Approx(3.0 * c).epsilon(1e-15));
  CHECK(store.get_slice(1, true)[0] == Approx(4.0 * c).epsilon(1e-15));
  CHECK(global_grad_norm(store) == Approx(1.0).epsilon(1e-6));

  auto bad = store_with_grads({1.0, 2.0, std::nan("")});
  CHECK_THROWS_WITH(clip_grad_norm(bad, 1.0), Contains("clip_grad_norm") && Contains("'b'"));
  CHECK_THROWS_AS(clip_grad_norm(store, -1.0), InputError);
}
