// NGSIM US-80 (real data, ../shared/data): the density grid reads as 81 space bins of
// 20 ft by 180 time bins of 5 s, detector rows become observations and the other rows
// the held-out metric, and a short PINN training on it runs. Skipped without the data.
#include <cmath>

#include "models/pinn_traffic/ground_truth.hpp"
#include "models/pinn_traffic/training.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/shared_data.hpp"

using namespace tessera;
using namespace tessera::models::pinn_traffic;

TEST_CASE("NGSIM US-80 density: detector rows train, held-out rows score", "[ngsim]") {
  const auto path = testing::shared_data_file("traffic/NGSIM_US80_4pm_Density_Data.txt");
  if (!path) return;
  const DensityGrid grid = read_density_grid(*path, 20.0, 5.0, 1.0, 0.3);
  REQUIRE(grid.nx() == 81);
  REQUIRE(grid.nt() == 180);
  CHECK(grid.road_length == 1620.0);
  CHECK(grid.t_end == 900.0);
  double lowest = 1, highest = 0;
  for (double rho : grid.density) {
    lowest = std::min(lowest, rho);
    highest = std::max(highest, rho);
  }
  CHECK(lowest > 0.0009);  // 0.001-0.239 veh/ft (SOURCES.md)
  CHECK(highest < 0.24);
  const auto rows = columns_at(grid, {10, 410, 810, 1210, 1610});
  REQUIRE(rows == std::vector<std::size_t>{0, 20, 40, 60, 80});
  const ObservationSet obs = column_observations(grid, rows);
  CHECK(obs.size() == 5 * 180);
  std::vector<std::size_t> held_out;
  for (std::size_t ix = 0; ix < grid.nx(); ++ix) {
    if (ix % 20 != 0) held_out.push_back(ix);
  }

  PinnSetup setup;
  setup.problem.road_length = grid.road_length;
  setup.problem.t_end = grid.t_end;
  setup.problem.ring = false;
  setup.problem.v_max = 82;
  setup.problem.rho_max = 0.3;
  setup.problem.viscosity = 10;
  setup.network.hidden_layers = 3;
  setup.network.width = 16;
  setup.main.collocation.points = 256;
  setup.main.weights.initial = 0;
  setup.main.weights.boundary = 0;
  setup.data = make_training_data(setup.problem, obs, grid, 0, 0);
  setup.evaluation = make_evaluation_set(setup.problem, grid, held_out);
  setup.training.adam_evaluations = 100;
  setup.training.lbfgs_evaluations = 0;
  setup.training.log_every = 50;
  setup.training.optimiser.lr = 3e-3;
  const TrainingResult result = train_pinn<float>(MPI_COMM_SELF, setup);
  CHECK(std::isfinite(result.metrics.relative_l2));
  CHECK(result.metrics.relative_l2 < 1.0);
  CHECK(result.metrics.relative_l2 != result.metrics.relative_l2_all);
}
