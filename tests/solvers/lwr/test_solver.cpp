// Time stepping, boundaries, ghost layout and lookups of LwrSolver on one rank.
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "solvers/lwr/initial_conditions.hpp"
#include "solvers/lwr/lwr_solver.hpp"
#include "tests/support/catch.hpp"

using namespace tessera::solvers::lwr;

namespace {

LwrParameters base_parameters() {
  LwrParameters p;
  p.cells = 50;
  p.road_length = 5.0;
  p.diagram.kind = FluxKind::kGreenshields;
  p.diagram.v_max = 2.0;
  p.diagram.rho_max = 1.0;
  p.cfl = 0.8;
  return p;
}

template <typename Exception, typename Function>
std::string message_of(Function&& f) {
  try {
    f();
  } catch (const Exception& e) {
    return e.what();
  }
  return "<no exception>";
}

}  // namespace

TEST_CASE("stable_dt combines the CFL and diffusion limits", "[stepping]") {
  LwrParameters p = base_parameters();
  {
    LwrSolver solver(MPI_COMM_SELF, p);
    CHECK(solver.dx() == 0.1);
    CHECK(solver.stable_dt() == p.cfl * 0.1 / 2.0);
  }
  p.viscosity = 0.05;
  LwrSolver solver(MPI_COMM_SELF, p);
  const double dx = solver.dx();
  const double dt = solver.stable_dt();
  CHECK(dt <= p.cfl * dx / 2.0);
  CHECK(dt <= p.cfl * dx * dx / (2.0 * p.viscosity));
  CHECK(dt == Approx(p.cfl / (2.0 / dx + 2.0 * p.viscosity / (dx * dx))));

  CHECK_THROWS_AS(solver.step(dt * 1.01), std::logic_error);
  CHECK_THROWS_AS(solver.step(-dt), std::logic_error);
  CHECK(message_of<std::logic_error>([&] { solver.step(2 * dt); }).find("solver.cfl") !=
        std::string::npos);
  CHECK(solver.steps_taken() == 0);
  solver.step(dt);
  CHECK(solver.steps_taken() == 1);
  CHECK(solver.time() == dt);
}

TEST_CASE("advance_to lands exactly on the target", "[stepping]") {
  LwrSolver solver(MPI_COMM_SELF, base_parameters());
  const double dt = solver.stable_dt();
  solver.advance_to(1.0);
  CHECK(solver.time() == 1.0);
  CHECK(solver.steps_taken() == static_cast<long long>(std::ceil(1.0 / dt)));
  solver.advance_to(1.0);  // already there: no step
  CHECK(solver.steps_taken() == static_cast<long long>(std::ceil(1.0 / dt)));
  solver.advance_to(1.0 + 0.25 * dt);
  CHECK(solver.time() == 1.0 + 0.25 * dt);
  CHECK_THROWS_AS(solver.advance_to(0.5), std::logic_error);
}

TEST_CASE("ghost layout of density() on a ring of one rank", "[stepping]") {
  LwrParameters p = base_parameters();
  p.cells = 4;
  LwrSolver solver(MPI_COMM_SELF, p);
  solver.set_density({0.1, 0.2, 0.3, 0.4});
  solver.exchange_halo();
  auto host = Kokkos::create_mirror_view(solver.density());
  Kokkos::deep_copy(host, solver.density());
  REQUIRE(host.extent(0) == 6);
  CHECK(host(0) == 0.4);  // left ghost wraps to the last cell
  CHECK(host(1) == 0.1);
  CHECK(host(4) == 0.4);
  CHECK(host(5) == 0.1);  // right ghost wraps to the first cell
  CHECK(solver.density_host() == std::vector<double>{0.1, 0.2, 0.3, 0.4});
  CHECK_THROWS_AS(solver.set_density({0.1, 0.2}), std::invalid_argument);
}

TEST_CASE("open road boundaries", "[stepping]") {
  LwrParameters p = base_parameters();
  p.boundary = Boundary::kOpen;
  SECTION("a uniform road fed and drained at its own density stays uniform") {
    p.upstream_density = p.downstream_density = 0.7;
    p.viscosity = 0.01;
    LwrSolver solver(MPI_COMM_SELF, p);
    solver.set_density(std::vector<double>(50, 0.7));
    solver.advance_to(3.0);
    for (double rho : solver.density_host()) CHECK(rho == 0.7);
  }
  SECTION("an empty road fills at the upstream flow until the front reaches the end") {
    p.upstream_density = 0.3;  // free flow: inflow f(0.3) = 2 * 0.3 * 0.7 = 0.42
    LwrSolver solver(MPI_COMM_SELF, p);
    solver.advance_to(1.0);  // the front (speed <= 2) is still inside the 5 m road
    CHECK(solver.total_mass() == Approx(0.42 * 1.0).epsilon(1e-12));
    const std::vector<double> rho = solver.density_host();
    CHECK(rho.front() == Approx(0.3).epsilon(1e-3));  // far behind the fan
    CHECK(rho.back() == 0.0);
  }
  SECTION("a jam downstream blocks the outflow") {
    p.downstream_density = p.diagram.rho_max;
    LwrSolver solver(MPI_COMM_SELF, p);
    solver.set_density(std::vector<double>(50, 0.2));
    const double mass0 = solver.total_mass();
    solver.step(solver.stable_dt());
    // Nothing enters (upstream is empty) and nothing leaves (supply of a jam is zero).
    CHECK(solver.total_mass() == Approx(mass0).epsilon(1e-14));
  }
}

TEST_CASE("positions map to cells", "[stepping]") {
  LwrParameters p = base_parameters();
  p.cells = 5;
  LwrSolver solver(MPI_COMM_SELF, p);
  solver.set_density({0.1, 0.2, 0.3, 0.4, 0.5});
  CHECK(solver.cell_center(0) == 0.5);
  CHECK(solver.cell_center(4) == 4.5);
  CHECK(solver.owns_position(0.0));
  CHECK(solver.owns_position(5.0));
  CHECK_FALSE(solver.owns_position(-0.1));
  CHECK_FALSE(solver.owns_position(5.1));
  CHECK(solver.density_at(0.0) == 0.1);
  CHECK(solver.density_at(2.5) == 0.3);
  CHECK(solver.density_at(3.99) == 0.4);
  CHECK(solver.density_at(5.0) == 0.5);  // the end of the road belongs to the last cell
  CHECK_THROWS_AS(solver.density_at(5.5), std::out_of_range);
}

TEST_CASE("check_finite names the step, the time and the bad cell", "[stepping]") {
  LwrParameters p = base_parameters();
  p.cells = 4;
  LwrSolver solver(MPI_COMM_SELF, p);
  solver.set_density({0.1, 0.2, 0.3, 0.4});
  CHECK_NOTHROW(solver.check_finite());
  solver.set_density({0.1, std::numeric_limits<double>::quiet_NaN(), 0.3, 1.5});
  const std::string message = message_of<std::runtime_error>([&] { solver.check_finite(); });
  INFO(message);
  CHECK(message.find("2 cell(s)") != std::string::npos);
  CHECK(message.find("step 0") != std::string::npos);
  CHECK(message.find("time 0") != std::string::npos);
  CHECK(message.find("cell 1") != std::string::npos);
  CHECK(message.find("nan") != std::string::npos);
  solver.set_density({0.1, 0.2, 0.3, 1.0 + 1e-6});
  CHECK_THROWS_AS(solver.check_finite(), std::runtime_error);
}

TEST_CASE("block decomposition gives the first ranks one cell more", "[stepping]") {
  const long long firsts[] = {0, 3, 6, 8};
  const long long counts[] = {3, 3, 2, 2};
  for (int r = 0; r < 4; ++r) {
    const BlockDecomposition block = block_decomposition(10, 4, r);
    CHECK(block.first == firsts[r]);
    CHECK(block.count == counts[r]);
  }
  const BlockDecomposition single = block_decomposition(7, 1, 0);
  CHECK(single.first == 0);
  CHECK(single.count == 7);
}
