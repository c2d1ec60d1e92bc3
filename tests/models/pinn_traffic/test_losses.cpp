// The loss of a traffic PINN: the change of variables of the residual, the periodic
// boundary term and the whole task gradient against finite differences, and the
// validation objective against the task's own loss.
#include <cmath>
#include <vector>

#include "models/pinn_traffic/periodic_loss.hpp"
#include "models/pinn_traffic/pinn_task.hpp"
#include "models/pinn_traffic/problem.hpp"
#include "tests/models/pinn_traffic/small_problem.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/gradient_check.hpp"

using namespace tessera;
using namespace tessera::models::pinn_traffic;
using tessera::testing::check_gradient;

TEST_CASE("the residual in normalised variables is the physical one rescaled", "[losses]") {
  // NGSIM-like units: a 1620 ft road over 900 s starting at t0 = 100 s.
  PinnProblem p;
  p.road_length = 1620;
  p.t_start = 100;
  p.t_end = 1000;
  p.v_max = 82;
  p.rho_max = 0.3;
  p.viscosity = 40;
  // rho(x, t) = rho_max g(x^, t^) with g = 0.4 + 0.2 sin(x^) cos(t^) + 0.1 x^^2 t^.
  const double xh = 0.3, th = -0.4;
  const double g = 0.4 + 0.2 * std::sin(xh) * std::cos(th) + 0.1 * xh * xh * th;
  const double g_x = 0.2 * std::cos(xh) * std::cos(th) + 0.2 * xh * th;
  const double g_t = -0.2 * std::sin(xh) * std::sin(th) + 0.1 * xh * xh;
  const double g_xx = -0.2 * std::sin(xh) * std::cos(th) + 0.2 * th;
  const double a = 2 / p.road_length, c = 2 / p.duration();
  const double rho = p.rho_max * g, rho_x = p.rho_max * a * g_x, rho_t = p.rho_max * c * g_t,
               rho_xx = p.rho_max * a * a * g_xx;
  const double physical =
      rho_t + p.v_max * (1 - 2 * rho / p.rho_max) * rho_x - p.viscosity * rho_xx;
  const LwrResidualCoefficients q = p.residual_parameters();
  CHECK(q.rho_max == 1.0);
  const double normalised = g_t + q.v_max * (1 - 2 * g / q.rho_max) * g_x - q.viscosity * g_xx;
  CHECK(normalised * p.rho_max * c == Approx(physical).epsilon(1e-12));
  // And the maps between the variables.
  CHECK(p.x_hat(0) == -1.0);
  CHECK(p.x_hat(1620) == 1.0);
  CHECK(p.t_hat(100) == -1.0);
  CHECK(p.t_of(p.t_hat(437.5)) == Approx(437.5));
  CHECK(p.rho_of(p.u_of(0.12)) == Approx(0.12));
}

TEST_CASE("periodic boundary loss: value and seed", "[losses]") {
  // Two pairs: (u, u_x) at the left ends (1, 2), (3, 4); at the right ends (0.5, 2), (3, 1).
  nn::Matrix<double> jet("jet", 16, 1);
  auto h = Kokkos::create_mirror_view(jet);
  const double u[4] = {1, 3, 0.5, 3}, ux[4] = {2, 4, 2, 1};
  for (int i = 0; i < 4; ++i) {
    h(i, 0) = u[i];
    h(4 + i, 0) = ux[i];
    h(8 + i, 0) = 0.7;  // u_t, u_xx: no part in the loss
    h(12 + i, 0) = -0.3;
  }
  Kokkos::deep_copy(jet, h);
  nn::Matrix<double> seed, scratch;
  const double expected = ((0.5 * 0.5 + 0) + (0 + 3 * 3)) / 2;
  CHECK(periodic_boundary_loss(jet, seed, 2.0) == Approx(expected));
  auto loss = [&] { return 2.0 * periodic_boundary_loss(jet, scratch); };
  CHECK(check_gradient(tensor::flat(jet), tensor::flat(seed), loss).max_relative_error < 1e-7);
  nn::Matrix<double> odd("odd", 12, 1);
  CHECK_THROWS_AS(periodic_boundary_loss(odd, seed), std::invalid_argument);
}

TEST_CASE("the task gradient of all four terms matches finite differences", "[losses]") {
  PinnSetup setup = testing::small_setup(64);
  setup.network.hidden_layers = 2;
  setup.network.width = 6;
  setup.main.weights = LossWeights{1.3, 0.7, 2.0, 0.5};
  PinnTask<double> task(MPI_COMM_SELF, setup.problem, setup.network, setup.main, setup.data, 3,
                        setup.training.optimiser, 10);
  const LossTerms terms = task.gradient();
  CHECK(terms.data > 0);
  CHECK(terms.residual > 0);
  CHECK(terms.initial > 0);
  CHECK(terms.boundary > 0);
  CHECK(terms.total == Approx(1.3 * terms.data + 0.7 * terms.residual + 2.0 * terms.initial +
                              0.5 * terms.boundary));
  tensor::Vector<double> analytic("analytic", task.store().size());
  Kokkos::deep_copy(analytic, task.store().grads());
  auto loss = [&] { return task.gradient().total; };
  const auto check = check_gradient(task.store().params(), analytic, loss, 1e-6, 400);
  CHECK(check.max_relative_error < 1e-6);
}

TEST_CASE("a learned diagram, the speed term and the scaled residual match finite differences",
          "[losses]") {
  PinnSetup setup = testing::small_setup_with_speeds(64);
  setup.problem.v_max = 3.0;  // v_max' = v_max T / L = 1.5: the residual is divided by 1.5
  setup.network.hidden_layers = 2;
  setup.network.width = 6;
  setup.network.learn_diagram = true;
  setup.main.weights = LossWeights{1.3, 0.7, 2.0, 0.5, 0.8};
  REQUIRE(setup.data.speed_count() == setup.data.observation_count());
  PinnTask<double> task(MPI_COMM_SELF, setup.problem, setup.network, setup.main, setup.data, 3,
                        setup.training.optimiser, 10);
  CHECK(task.coefficients().residual_scale == Approx(1 / 1.5));
  // Away from the configured diagram, so that both of its gradients are exercised.
  std::vector<double> p = task.parameters();
  p[p.size() - 2] = 0.15;
  p[p.size() - 1] = -0.1;
  task.set_parameters(p);
  CHECK(task.diagram()[0] == Approx(3.0 * std::exp(0.15)));
  CHECK(task.diagram()[1] == Approx(std::exp(-0.1)));
  const LossTerms terms = task.gradient();
  CHECK(terms.speed > 0);
  CHECK(terms.total == Approx(1.3 * terms.data + 0.7 * terms.residual + 2.0 * terms.initial +
                              0.5 * terms.boundary + 0.8 * terms.speed));
  tensor::Vector<double> analytic("analytic", task.store().size());
  Kokkos::deep_copy(analytic, task.store().grads());
  auto loss = [&] { return task.gradient().total; };
  const auto check = check_gradient(task.store().params(), analytic, loss, 1e-6, 400);
  CHECK(check.max_relative_error < 1e-6);
  // The validator computes the same objective on the same points.
  const std::vector<double> points =
      sample_points(setup.main.collocation.sampler, 64, Box{}, 3, setup.main.stream, 0);
  Validator<double> validator(setup.problem, setup.network, setup.main.weights, setup.data, points);
  CHECK(validator.objective(task.parameters()).total == Approx(task.gradient().total));
}

TEST_CASE("the ARZ residual: equilibrium states and the task gradient against finite differences",
          "[losses]") {
  ArzResidualCoefficients c;
  c.v_max = 2.0;
  c.viscosity = 0.01;
  c.relaxation = 3.0;
  c.residual_scale = 0.5;
  // A uniform state at Greenshields' speed (w = 1 - u) is a solution; off it the speed
  // relaxes: r2 = -s k (1 - u - w).
  CHECK(ArzPoint{0.3, 0.7, 0, 0, 0, 0, 0}.r1(c) == 0.0);
  CHECK(ArzPoint{0.3, 0.7, 0, 0, 0, 0, 0}.r2(c) == Approx(0.0).margin(1e-15));
  CHECK(ArzPoint{0.3, 0.5, 0, 0, 0, 0, 0}.r2(c) == Approx(-0.5 * 3.0 * 0.2));
  // r1 term by term: s (u_t + v' (u_x w + u w_x) - eps' u_xx).
  CHECK(ArzPoint{0.2, 0.5, 1.0, 2.0, 0.3, 0, 0}.r1(c) ==
        Approx(0.5 * (0.3 + 2.0 * (1.0 * 0.5 + 0.2 * 2.0))));

  PinnSetup setup = testing::small_setup_with_speeds(64);
  setup.problem.ring = false;
  setup.problem.arz = true;
  setup.problem.relaxation_time = 0.2;
  setup.problem.v_max = 3.0;
  setup.network.hidden_layers = 2;
  setup.network.width = 6;
  setup.network.outputs = 2;
  setup.data.boundary_times.clear();
  setup.main.weights = LossWeights{1.3, 0.7, 2.0, 0.0, 0.8};
  PinnTask<double> task(MPI_COMM_SELF, setup.problem, setup.network, setup.main, setup.data, 3,
                        setup.training.optimiser, 10);
  const LossTerms terms = task.gradient();
  CHECK(terms.residual > 0);
  CHECK(terms.speed > 0);
  tensor::Vector<double> analytic("analytic", task.store().size());
  Kokkos::deep_copy(analytic, task.store().grads());
  auto loss = [&] { return task.gradient().total; };
  CHECK(check_gradient(task.store().params(), analytic, loss, 1e-6, 400).max_relative_error < 1e-6);
  // The validator computes the same objective; a one-output network is refused.
  const std::vector<double> points =
      sample_points(setup.main.collocation.sampler, 64, Box{}, 3, setup.main.stream, 0);
  Validator<double> validator(setup.problem, setup.network, setup.main.weights, setup.data, points);
  CHECK(validator.objective(task.parameters()).total == Approx(task.gradient().total));
  setup.network.outputs = 1;
  CHECK_THROWS_AS(PinnTask<double>(MPI_COMM_SELF, setup.problem, setup.network, setup.main,
                                   setup.data, 3, setup.training.optimiser, 10),
                  std::invalid_argument);
}

TEST_CASE("adaptive weights balance gradient norms; refinement adds the worst residual points",
          "[losses]") {
  PinnSetup setup = testing::small_setup_with_speeds(128);
  setup.main.weights.speed = 1.0;
  setup.main.adaptive.every = 5;
  setup.main.collocation.refinement.every = 10;
  setup.main.collocation.refinement.points = 16;
  setup.main.collocation.refinement.candidates = 256;
  PinnTask<double> task(MPI_COMM_SELF, setup.problem, setup.network, setup.main, setup.data, 3,
                        setup.training.optimiser, 30);
  task.adam_step();  // step 0 adapts the weights first
  const LossWeights& w = task.weights();
  CHECK(w.residual == setup.main.weights.residual);  // the reference term keeps its weight
  CHECK(w.data != setup.main.weights.data);
  CHECK(w.speed != setup.main.weights.speed);
  CHECK(w.data > 0);
  CHECK(w.boundary != 1.0);  // the periodic boundary term (weight 1) is adapted too
  // One update from 1: w = 0.1 + 0.9 max|g_r| / mean|g_d|, so w > 0.1.
  CHECK(w.data > 0.1);
  // 5 steps: one weight update per 5 steps costs 1 + 4 evaluations (residual + 4 terms).
  for (int s = 1; s < 5; ++s) task.adam_step();
  CHECK(task.gradient_evaluations() == 5 + 5);
  CHECK(task.refined_points().empty());
  for (int s = 5; s < 11; ++s) task.adam_step();
  REQUIRE(task.refined_points().size() == 2 * 16);
  // The added points are inside the box and are the candidates of largest |residual|.
  for (double v : task.refined_points()) CHECK(std::abs(v) <= 1.0);
  // A task at the same parameters without refinement scores them higher than its own
  // points on average.
  setup.main.collocation.refinement.every = 0;
  setup.main.adaptive.every = 0;
  PinnTask<double> plain(MPI_COMM_SELF, setup.problem, setup.network, setup.main, setup.data, 3,
                         setup.training.optimiser, 30);
  plain.set_parameters(task.parameters());
  plain.set_weights(LossWeights{0, 1, 0, 0, 0});
  const double base = plain.gradient().residual;
  plain.set_refined_points(task.refined_points());
  const double with_refined = plain.gradient().residual;  // mean over 128 + 16 points
  const double refined_mean = (with_refined * 144 - base * 128) / 16;
  CHECK(refined_mean > 2 * base);
}

TEST_CASE("the validator scores a task's parameters with the main objective", "[losses]") {
  PinnSetup setup = testing::small_setup(100);
  // Validation points equal to the task's collocation set: the same objective.
  const std::vector<double> points = sample_points(setup.main.collocation.sampler, 100, Box{},
                                                   setup.training.seed, setup.main.stream, 0);
  PinnTask<double> task(MPI_COMM_SELF, setup.problem, setup.network, setup.main, setup.data,
                        setup.training.seed, setup.training.optimiser, 10);
  Validator<double> validator(setup.problem, setup.network, setup.main.weights, setup.data, points);
  for (int step = 0; step < 3; ++step) task.adam_step();
  const LossTerms expected = task.gradient();
  const LossTerms got = validator.objective(task.parameters());
  CHECK(got.total == Approx(expected.total).epsilon(1e-12));
  CHECK(got.boundary == Approx(expected.boundary).epsilon(1e-12));
  CHECK_THROWS_AS(validator.objective({1.0, 2.0}), std::invalid_argument);
}
