// Kovasznay flow: the steady state of the scheme is the Taylor-Hood solution, whose
// error falls like h^3 (velocity, L2) and h^2 (pressure, L2).
#include <cmath>
#include <vector>

#include "solvers/flow/flow_solver.hpp"
#include "tests/solvers/flow/flow_test_meshes.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using namespace tessera::solvers::flow;

namespace {

struct SteadyResult {
  std::array<double, 2> errors;
  int steps;
};

SteadyResult solve_kovasznay(MPI_Comm comm, std::size_t n, double dt) {
  const testing::Kovasznay exact;
  const mesh::Mesh m = testing::rectangle_mesh(n, n * 4 / 3, -0.5, 1.0, -0.5, 1.5);
  FlowParameters p;
  p.viscosity = exact.nu;
  p.dt = dt;
  p.time_order = 1;
  p.outflow_velocity_dirichlet = true;
  FlowBoundary b;
  b.velocity = [exact](double x, double y, double, mesh::BoundaryTag) {
    const auto s = exact(x, y);
    return std::array<double, 2>{s[0], s[1]};
  };
  b.outflow_pressure = [exact](double x, double y) { return exact(x, y)[2]; };
  FlowSolver solver(comm, m, p, b, "kovasznay");
  int steps = 0;
  for (; steps < 400; ++steps) {
    const StepReport r = solver.step();
    if (r.relative_change < 1e-9) break;
  }
  return {solver.l2_errors(exact), steps};
}

}  // namespace

TEST_CASE("Kovasznay flow converges at the Taylor-Hood rates", "[exact]") {
  std::vector<std::array<double, 2>> errors;
  const std::vector<std::size_t> sizes = {6, 12, 24};
  for (std::size_t n : sizes) {
    const SteadyResult r = solve_kovasznay(MPI_COMM_SELF, n, 0.1);
    errors.push_back(r.errors);
    WARN("n = " << n << ": velocity L2 error " << r.errors[0] << ", pressure L2 error "
                << r.errors[1] << " after " << r.steps << " steps");
  }
  for (std::size_t k = 1; k < errors.size(); ++k) {
    const double rate_u = std::log2(errors[k - 1][0] / errors[k][0]);
    const double rate_p = std::log2(errors[k - 1][1] / errors[k][1]);
    WARN("rates: velocity " << rate_u << ", pressure " << rate_p);
    CHECK(rate_u > 2.7);
    CHECK(rate_p > 1.7);
  }
}
