// The LWR residual and data-misfit losses on hand-made jets: values, sign conventions
// (an exact solution has zero residual), seeds against finite differences, errors.
#include <cmath>
#include <vector>

#include "core/runtime/error.hpp"
#include "models/pinn_traffic/lwr_residual.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/gradient_check.hpp"

using namespace tessera;
using namespace tessera::nn;
using namespace tessera::models::pinn_traffic;
using tessera::testing::check_gradient;
using tessera::testing::random_matrix;

namespace {

// A stacked (4n x 1) jet from per-point (u, u_x, u_t, u_xx).
Matrix<double> make_jet(const std::vector<std::vector<double>>& rows) {
  const std::size_t n = rows.size();
  Matrix<double> jet("jet", 4 * n, 1);
  auto host = Kokkos::create_mirror_view(jet);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t b = 0; b < 4; ++b) host(b * n + i, 0) = rows[i][b];
  }
  Kokkos::deep_copy(jet, host);
  return jet;
}

}  // namespace

TEST_CASE("LWR residual value and an exact solution", "[lwr_residual]") {
  Matrix<double> seed;
  // r = u_t + v_max (1 - 2u / rho_max) u_x - eps u_xx, by hand for two points.
  const LwrResidualCoefficients lwr{2.0, 4.0, 0.1};
  const Matrix<double> jet = make_jet({{1.0, 0.5, -0.25, 2.0}, {3.0, -1.0, 0.5, 0.0}});
  const double r0 = -0.25 + 2.0 * (1 - 2 * 1.0 / 4.0) * 0.5 - 0.1 * 2.0;
  const double r1 = 0.5 + 2.0 * (1 - 2 * 3.0 / 4.0) * -1.0;
  CHECK(lwr_residual_loss(jet, lwr, seed) == Approx((r0 * r0 + r1 * r1) / 2));
  CHECK(seed.extent(0) == 8);

  // The rarefaction fan of normalised Greenshields traffic, u = (1 - x / t) / 2 (f'(u) =
  // x / t), solves u_t + f(u)_x = 0 exactly: the residual must vanish.
  std::vector<std::vector<double>> fan;
  for (double x : {-0.5, 0.0, 0.3}) {
    for (double t : {0.7, 1.0, 2.0}) {
      fan.push_back({0.5 * (1 - x / t), -0.5 / t, 0.5 * x / (t * t), 0.0});
    }
  }
  CHECK(lwr_residual_loss(make_jet(fan), LwrResidualCoefficients{}, seed) < 1e-30);
}

TEST_CASE("LWR residual and misfit seeds match finite differences", "[lwr_residual]") {
  const LwrResidualCoefficients lwr{1.2, 0.9, 0.005};
  Matrix<double> jet = random_matrix(4 * 6, 1, 3);
  Matrix<double> seed, scratch;
  lwr_residual_loss(jet, lwr, seed, 0.5);
  auto loss = [&] { return 0.5 * lwr_residual_loss(jet, lwr, scratch); };
  const auto check = check_gradient(tensor::flat(jet), tensor::flat(seed), loss);
  CHECK(check.max_relative_error < 1e-6);

  // The misfit reads the value block of a stacked jet and leaves the other seeds at zero.
  const Matrix<double> data = random_matrix(6, 1, 5);
  CHECK(data_misfit_loss(jet, data, seed, 2.0) > 0);
  CHECK(seed.extent(0) == 24);
  auto misfit = [&] { return 2.0 * data_misfit_loss(jet, data, scratch); };
  const auto m = check_gradient(tensor::flat(jet), tensor::flat(seed), misfit);
  CHECK(m.max_relative_error < 1e-6);

  // Values only, two columns: mean over all entries.
  Matrix<double> out = random_matrix(3, 2, 7);
  const Matrix<double> target = random_matrix(3, 2, 9);
  auto out_host = Kokkos::create_mirror_view(out);
  auto target_host = Kokkos::create_mirror_view(target);
  Kokkos::deep_copy(out_host, out);
  Kokkos::deep_copy(target_host, target);
  double expected = 0;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 2; ++j) {
      expected += std::pow(out_host(i, j) - target_host(i, j), 2) / 6;
    }
  }
  CHECK(data_misfit_loss(out, target, seed) == Approx(expected));
}

TEST_CASE("LWR residual and misfit errors say what is wrong", "[lwr_residual]") {
  Matrix<double> seed;
  CHECK_THROWS_WITH(
      lwr_residual_loss(Matrix<double>("u", 8, 2), LwrResidualCoefficients{}, seed),
      Catch::Matchers::Contains("[8 x 2]") && Catch::Matchers::Contains("output width 1"));
  CHECK_THROWS_WITH(lwr_residual_loss(Matrix<double>("u", 6, 1), LwrResidualCoefficients{}, seed),
                    Catch::Matchers::Contains("forward_values"));
  CHECK_THROWS_AS(
      lwr_residual_loss(Matrix<double>("u", 8, 1), LwrResidualCoefficients{1, 0, 0}, seed),
      InputError);
  CHECK_THROWS_WITH(data_misfit_loss(Matrix<double>("u", 8, 1), Matrix<double>("d", 3, 1), seed),
                    Catch::Matchers::Contains("[3 x 1]") && Catch::Matchers::Contains("[8 x 1]"));
}
