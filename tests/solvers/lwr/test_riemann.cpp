// The solver against exact Riemann solutions: the L1 error must fall at the rate of a
// first-order monotone scheme (about 1 for shocks, a little less near the kinks of a
// rarefaction, 1/2 for a contact that is only smeared, never sharpened).
#include <cmath>
#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

#include "solvers/lwr/initial_conditions.hpp"
#include "solvers/lwr/lwr_solver.hpp"
#include "solvers/lwr/riemann_exact.hpp"
#include "tests/support/catch.hpp"

using namespace tessera::solvers::lwr;

namespace {

FundamentalDiagram greenshields() {
  FundamentalDiagram d;
  d.kind = FluxKind::kGreenshields;
  d.v_max = 1.0;
  d.rho_max = 1.0;
  return d;
}

FundamentalDiagram triangular() {
  FundamentalDiagram d;
  d.kind = FluxKind::kTriangular;
  d.v_max = 1.0;
  d.rho_max = 1.0;
  d.wave_speed = 0.5;  // critical density 1/3
  return d;
}

struct RiemannCase {
  std::string name;
  FundamentalDiagram diagram;
  double rho_left;
  double rho_right;
  double x0;
  double t;  // waves stay inside [0, 1] until then
};

// L1 error over [0, 1] against the exact cell averages, on an open road whose boundary
// densities are the two far-field states, averaged over every step in [t/2, t]. A
// discrete shock's error depends on where the shock sits inside its cell; a single time
// can land on a lucky or an unlucky phase and make the observed rate jump around (the
// sharp shocks of the triangular diagram show it most).
double l1_error(const RiemannCase& c, long long cells) {
  LwrParameters p;
  p.cells = cells;
  p.road_length = 1.0;
  p.diagram = c.diagram;
  p.cfl = 0.9;
  p.boundary = Boundary::kOpen;
  p.upstream_density = c.rho_left;
  p.downstream_density = c.rho_right;
  InitialCondition ic;
  ic.kind = InitialCondition::Kind::kRiemann;
  ic.rho_left = c.rho_left;
  ic.rho_right = c.rho_right;
  ic.x0 = c.x0;
  LwrSolver solver(MPI_COMM_SELF, p);
  solver.set_density(initial_cell_averages(ic, p, 0, cells));
  solver.advance_to(0.5 * c.t);
  const double dx = solver.dx();
  double error_sum = 0.0;
  int samples = 0;
  while (solver.time() < c.t) {
    solver.advance_to(std::fmin(solver.time() + solver.stable_dt(), c.t));
    const std::vector<double> rho = solver.density_host();
    for (long long i = 0; i < cells; ++i) {
      const double a = static_cast<double>(i) * dx;
      const double exact = riemann_exact_cell_average(c.diagram, c.rho_left, c.rho_right, c.x0, a,
                                                      a + dx, solver.time());
      error_sum += std::fabs(rho[static_cast<std::size_t>(i)] - exact) * dx;
    }
    ++samples;
  }
  solver.check_finite();
  return error_sum / samples;
}

// Errors on N = 100, 200, 400, 800 and the smallest observed rate between neighbours.
double worst_rate(const RiemannCase& c) {
  const std::vector<long long> grid = {100, 200, 400, 800};
  std::vector<double> errors;
  for (long long n : grid) errors.push_back(l1_error(c, n));
  double worst = 1e300;
  std::printf("riemann %-32s", c.name.c_str());
  for (std::size_t k = 0; k < grid.size(); ++k) {
    std::printf("  N=%lld e=%.3e", grid[k], errors[k]);
    if (k > 0) {
      const double rate = std::log2(errors[k - 1] / errors[k]);
      std::printf(" (rate %.2f)", rate);
      worst = std::fmin(worst, rate);
      UNSCOPED_INFO(c.name << ": N = " << grid[k] << ", L1 error " << errors[k] << ", rate "
                           << rate);
    }
  }
  std::printf("\n");
  return worst;
}

}  // namespace

TEST_CASE("exact Riemann solutions: pointwise structure", "[riemann]") {
  const FundamentalDiagram g = greenshields();
  SECTION("Greenshields shock moves at (f(l) - f(r))/(l - r)") {
    // l = 0.2, r = 0.6: speed v_max (1 - (l + r)/rho_max) = 0.2.
    CHECK(riemann_exact_density(g, 0.2, 0.6, 0.5, 0.5 + 0.2 - 1e-9, 1.0) == 0.2);
    CHECK(riemann_exact_density(g, 0.2, 0.6, 0.5, 0.5 + 0.2 + 1e-9, 1.0) == 0.6);
  }
  SECTION("Greenshields rarefaction inverts f' inside the fan") {
    // l = 0.8 (f' = -0.6), r = 0.1 (f' = 0.8); at xi = 0 the density is sonic (0.5).
    CHECK(riemann_exact_density(g, 0.8, 0.1, 0.5, 0.5 - 0.61, 1.0) == 0.8);
    CHECK(riemann_exact_density(g, 0.8, 0.1, 0.5, 0.5 + 0.81, 1.0) == 0.1);
    CHECK(riemann_exact_density(g, 0.8, 0.1, 0.5, 0.5, 1.0) == Approx(0.5));
    CHECK(riemann_exact_density(g, 0.8, 0.1, 0.5, 0.5 + 0.4, 1.0) == Approx(0.3));
  }
  SECTION("triangular: fan at critical density, contacts on one branch") {
    const FundamentalDiagram tri = triangular();
    const double rho_c = tri.critical_density();
    // Congested to free: states -w < xi < v_max sit at capacity.
    CHECK(riemann_exact_density(tri, 0.9, 0.1, 0.0, -0.6, 1.0) == 0.9);
    CHECK(riemann_exact_density(tri, 0.9, 0.1, 0.0, -0.4, 1.0) == rho_c);
    CHECK(riemann_exact_density(tri, 0.9, 0.1, 0.0, 0.9, 1.0) == rho_c);
    CHECK(riemann_exact_density(tri, 0.9, 0.1, 0.0, 1.1, 1.0) == 0.1);
    // Both free-flowing: a contact at v_max, whichever state is denser.
    CHECK(riemann_exact_density(tri, 0.3, 0.1, 0.0, 0.99, 1.0) == 0.3);
    CHECK(riemann_exact_density(tri, 0.3, 0.1, 0.0, 1.01, 1.0) == 0.1);
    CHECK(riemann_exact_density(tri, 0.1, 0.3, 0.0, 0.99, 1.0) == 0.1);
    CHECK(riemann_exact_density(tri, 0.1, 0.3, 0.0, 1.01, 1.0) == 0.3);
    // Both congested: a contact at -w.
    CHECK(riemann_exact_density(tri, 0.9, 0.6, 0.0, -0.51, 1.0) == 0.9);
    CHECK(riemann_exact_density(tri, 0.9, 0.6, 0.0, -0.49, 1.0) == 0.6);
    CHECK(riemann_exact_density(tri, 0.6, 0.9, 0.0, -0.51, 1.0) == 0.6);
    CHECK(riemann_exact_density(tri, 0.6, 0.9, 0.0, -0.49, 1.0) == 0.9);
    // Free into congested: a shock at (f(l) - f(r))/(l - r) = -1/6.
    CHECK(riemann_exact_density(tri, 0.2, 0.8, 0.0, -1.0 / 6.0 - 1e-9, 1.0) == 0.2);
    CHECK(riemann_exact_density(tri, 0.2, 0.8, 0.0, -1.0 / 6.0 + 1e-9, 1.0) == 0.8);
  }
  SECTION("cell averages agree with fine sampling of the pointwise solution") {
    const FundamentalDiagram tri = triangular();
    for (const auto& [d, l, r] : {std::make_tuple(g, 0.8, 0.1), std::make_tuple(g, 0.2, 0.6),
                                  std::make_tuple(tri, 0.9, 0.1), std::make_tuple(tri, 0.2, 0.8)}) {
      for (double a = -1.0; a < 1.0; a += 0.1) {
        const double b = a + 0.1;
        const int samples = 20000;
        double sum = 0.0;
        for (int k = 0; k < samples; ++k) {
          sum += riemann_exact_density(d, l, r, 0.0, a + (k + 0.5) * 0.1 / samples, 1.0);
        }
        CHECK(riemann_exact_cell_average(d, l, r, 0.0, a, b, 1.0) ==
              Approx(sum / samples).margin(1e-4));
      }
    }
  }
}

// Observed (N = 100 -> 200 -> 400 -> 800): shocks 0.94 to 1.05; the Greenshields
// rarefaction 0.71, 0.74, 0.77 (first order is reached only asymptotically at the kinks
// of the fan); the triangular fan and contact 0.42 to 0.47. The triangular fan is bounded
// by two contact discontinuities (each branch of f is linear), and a first-order scheme
// smears a contact over O(sqrt(dx t)) cells, so 1/2 is the right rate there.
TEST_CASE("Godunov converges to exact Riemann solutions at first order", "[riemann]") {
  const FundamentalDiagram g = greenshields();
  const FundamentalDiagram tri = triangular();
  SECTION("Greenshields shock") {
    CHECK(worst_rate({"greenshields shock", g, 0.2, 0.6, 0.4, 0.5}) >= 0.8);
  }
  SECTION("Greenshields backward shock") {
    CHECK(worst_rate({"greenshields backward shock", g, 0.4, 0.9, 0.6, 0.5}) >= 0.8);
  }
  SECTION("Greenshields transonic rarefaction") {
    CHECK(worst_rate({"greenshields rarefaction", g, 0.8, 0.1, 0.4, 0.4}) >= 0.6);
  }
  SECTION("triangular shock") {
    CHECK(worst_rate({"triangular shock", tri, 0.2, 0.8, 0.5, 0.5}) >= 0.8);
  }
  SECTION("triangular rarefaction to capacity") {
    CHECK(worst_rate({"triangular rarefaction", tri, 0.9, 0.1, 0.5, 0.3}) >= 0.4);
  }
  SECTION("triangular contact (free branch)") {
    CHECK(worst_rate({"triangular free contact", tri, 0.3, 0.1, 0.2, 0.5}) >= 0.4);
  }
}
