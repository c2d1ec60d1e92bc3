// Loop detectors on one rank: they read the cell under them and derive speed and flow.
#include <stdexcept>
#include <vector>

#include "solvers/lwr/detectors.hpp"
#include "tests/support/catch.hpp"

using namespace tessera::solvers::lwr;

TEST_CASE("detectors record density, speed and flow per sample", "[detectors]") {
  LwrParameters p;
  p.cells = 4;
  p.road_length = 2.0;
  p.diagram.v_max = 2.0;
  p.diagram.rho_max = 1.0;
  LwrSolver solver(MPI_COMM_SELF, p);
  solver.set_density({0.1, 0.2, 0.3, 0.4});
  DetectorArray detectors({0.25, 1.9}, 2.0);
  detectors.sample(solver, 0.0);
  solver.set_density({0.5, 0.6, 0.7, 0.8});
  detectors.sample(solver, 1.0);
  CHECK(detectors.sample_count() == 2);
  const DetectorArray::Series s = detectors.gather(MPI_COMM_SELF);
  REQUIRE(s.detectors == 2);
  REQUIRE(s.samples == 2);
  CHECK(s.time == std::vector<double>{0.0, 1.0});
  CHECK(s.position == std::vector<double>{0.25, 1.9});
  // Row-major detectors x samples.
  CHECK(s.density == std::vector<double>{0.1, 0.5, 0.4, 0.8});
  for (std::size_t k = 0; k < 4; ++k) {
    CHECK(s.speed[k] == Approx(2.0 * (1.0 - s.density[k])));
    CHECK(s.flow[k] == Approx(s.density[k] * s.speed[k]));
  }
  DetectorArray elsewhere({0.5}, 3.0);
  CHECK_THROWS_AS(elsewhere.sample(solver, 0.0), std::invalid_argument);
}
