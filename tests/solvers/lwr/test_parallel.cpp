// Run on 1, 2 and 4 ranks: the decomposed solver must reproduce a one-rank run
// (MPI_COMM_SELF, on every rank) bitwise, and so must its detector series.
#include <cmath>
#include <string>
#include <vector>

#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"
#include "solvers/lwr/detectors.hpp"
#include "solvers/lwr/initial_conditions.hpp"
#include "solvers/lwr/lwr_solver.hpp"
#include "tests/support/catch.hpp"

using namespace tessera::solvers::lwr;
using tessera::runtime::comm_rank;
using tessera::runtime::comm_size;

namespace {

struct Setup {
  const char* name;
  LwrParameters params;
  InitialCondition initial;
};

std::vector<Setup> setups() {
  std::vector<Setup> out;
  {
    Setup s{"ring, Greenshields, viscous, platoons", {}, {}};
    s.params.cells = 203;  // uneven over 2 and 4 ranks
    s.params.road_length = 3.0;
    s.params.diagram.kind = FluxKind::kGreenshields;
    s.params.diagram.v_max = 1.2;
    s.params.diagram.rho_max = 1.0;
    s.params.cfl = 0.9;
    s.params.viscosity = 1e-3;
    s.params.boundary = Boundary::kRing;
    s.initial.kind = InitialCondition::Kind::kPlatoons;
    s.initial.base = 0.1;
    s.initial.platoons = 4;
    s.initial.platoon_density = 0.85;
    s.initial.platoon_length = 0.3;
    s.initial.seed = 7;
    out.push_back(s);
  }
  {
    Setup s{"open, triangular, inviscid, bell", {}, {}};
    s.params.cells = 150;
    s.params.road_length = 2.0;
    s.params.diagram.kind = FluxKind::kTriangular;
    s.params.diagram.v_max = 1.0;
    s.params.diagram.rho_max = 1.0;
    s.params.diagram.wave_speed = 0.4;
    s.params.cfl = 1.0;
    s.params.boundary = Boundary::kOpen;
    s.params.upstream_density = 0.25;
    s.params.downstream_density = 0.9;
    s.initial.kind = InitialCondition::Kind::kBell;
    s.initial.base = 0.2;
    s.initial.amplitude = 0.6;
    s.initial.center = 0.8;
    s.initial.width = 0.25;
    out.push_back(s);
  }
  return out;
}

}  // namespace

TEST_CASE("any rank count reproduces one rank bitwise", "[parallel]") {
  const int rank = comm_rank(MPI_COMM_WORLD);
  for (const Setup& setup : setups()) {
    INFO(setup.name << " on " << comm_size(MPI_COMM_WORLD) << " ranks");
    const LwrParameters& p = setup.params;
    LwrSolver world(MPI_COMM_WORLD, p);
    LwrSolver reference(MPI_COMM_SELF, p);
    world.set_density(
        initial_cell_averages(setup.initial, p, world.first_cell(), world.local_cells()));
    reference.set_density(initial_cell_averages(setup.initial, p, 0, p.cells));
    REQUIRE(world.total_mass() == Approx(reference.total_mass()).epsilon(1e-14));

    const std::vector<double> positions = {0.0, 0.37, 0.5 * p.road_length, 1.41, p.road_length};
    DetectorArray world_detectors(positions, p.road_length);
    DetectorArray reference_detectors(positions, p.road_length);
    for (int k = 1; k <= 4; ++k) {
      const double t = 0.15 * k;
      world.advance_to(t);
      reference.advance_to(t);
      world.check_finite();
      world_detectors.sample(world, t);
      reference_detectors.sample(reference, t);
    }
    CHECK(world.steps_taken() == reference.steps_taken());
    CHECK(world.time() == reference.time());

    const std::vector<double> mine = world.density_host();
    const std::vector<double> all = reference.density_host();
    long long mismatches = 0;
    double worst = 0.0;
    for (long long i = 0; i < world.local_cells(); ++i) {
      const double a = mine[static_cast<std::size_t>(i)];
      const double b = all[static_cast<std::size_t>(world.first_cell() + i)];
      if (a != b) ++mismatches;
      worst = std::fmax(worst, std::fabs(a - b));
    }
    INFO("rank " << rank << ": " << mismatches << " cells differ, by up to " << worst);
    CHECK(mismatches == 0);
    CHECK(world.total_mass() == Approx(reference.total_mass()).epsilon(1e-13));

    const DetectorArray::Series gathered = world_detectors.gather(MPI_COMM_WORLD);
    const DetectorArray::Series expected = reference_detectors.gather(MPI_COMM_SELF);
    CHECK(gathered.time == expected.time);
    CHECK(gathered.position == expected.position);
    if (rank == 0) {
      CHECK(gathered.density == expected.density);
      CHECK(gathered.speed == expected.speed);
      CHECK(gathered.flow == expected.flow);
    }
  }
}

TEST_CASE("more ranks than cells fails on every rank", "[parallel]") {
  const int size = comm_size(MPI_COMM_WORLD);
  LwrParameters p;
  p.cells = size - 1;
  std::string message = "<no InputError>";
  try {
    LwrSolver solver(MPI_COMM_WORLD, p);
  } catch (const tessera::InputError& e) {
    message = e.what();
  }
  INFO(message);
  if (size == 1) {
    CHECK(message.find("solver.cells = 0") != std::string::npos);
  } else {
    CHECK(message.find(tessera::str(size, " ranks for ", size - 1,
                                    " cells: each rank needs at least one cell (solver.cells = ",
                                    size - 1, ")")) != std::string::npos);
  }
}
