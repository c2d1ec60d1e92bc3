// Ground truth and observations: the simulated truth grid, loop detectors against it,
// probe vehicles, noise, data-grid detector rows, and the data in network variables.
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "models/pinn_traffic/ground_truth.hpp"
#include "models/pinn_traffic/training_data.hpp"
#include "tests/models/pinn_traffic/small_problem.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tessera;
using namespace tessera::models::pinn_traffic;

TEST_CASE("the simulated truth and its loop detectors agree", "[observations]") {
  const SimulatedData sim = testing::small_simulation();
  const DensityGrid& g = sim.truth;
  REQUIRE(g.nx() == 64);
  REQUIRE(g.nt() == 21);  // t = 0, 0.025, ..., 0.5
  CHECK(g.t.back() == Approx(0.5));
  CHECK(g.x[0] == Approx(0.5 / 64));
  // Mass is conserved on the ring.
  double first = 0, last = 0;
  for (std::size_t i = 0; i < g.nx(); ++i) {
    first += g.at(0, i);
    last += g.at(g.nt() - 1, i);
  }
  CHECK(last == Approx(first).epsilon(1e-12));
  // Three detectors sampled with the fields: each sample is the grid value of its cell.
  REQUIRE(sim.observations.size() == 3 * 21);
  CHECK(sim.observations.count(ObservationSource::kDetector) == 63);
  for (std::size_t k = 0; k < sim.observations.size(); ++k) {
    const auto it = static_cast<std::size_t>(std::lround(sim.observations.t[k] / 0.025));
    const auto ix = static_cast<std::size_t>(sim.observations.x[k] * 64);
    CHECK(sim.observations.density[k] == g.at(it, ix));
  }
}

TEST_CASE("probe vehicles ride the simulated traffic", "[observations]") {
  SimulationSpec spec;
  spec.lwr.cells = 100;
  spec.initial.kind = solvers::lwr::InitialCondition::Kind::kUniform;
  spec.initial.density = 0.25;  // speed 0.75 everywhere
  spec.t_end = 0.4;
  spec.field_interval = 0.1;
  SensorSpec sensors;
  sensors.detector_positions = {0.5};
  sensors.detector_interval = 0.1;
  sensors.probes = 4;
  sensors.probe_interval = 0.1;
  const SimulatedData sim = simulate_lwr(spec, sensors);
  REQUIRE(sim.observations.count(ObservationSource::kProbe) == 4 * 5);
  // In uniform traffic a probe moves at v(rho) = 0.75 and wraps around the ring.
  std::vector<double> start;
  for (std::size_t k = 0; k < sim.observations.size(); ++k) {
    if (sim.observations.source[k] != static_cast<int>(ObservationSource::kProbe)) continue;
    CHECK(sim.observations.density[k] == Approx(0.25));
    if (sim.observations.t[k] == 0) start.push_back(sim.observations.x[k]);
  }
  REQUIRE(start.size() == 4);
  // Samples are time-major: the 4 probes of the last sample time are the last 4 entries.
  for (std::size_t p = 0; p < 4; ++p) {
    const double x = sim.observations.x[sim.observations.size() - 4 + p];
    CHECK(std::fmod(start[p] + 0.75 * 0.4, 1.0) == Approx(x).margin(1e-9));
  }
}

TEST_CASE("observation noise is reproducible and keeps densities non-negative", "[observations]") {
  ObservationSet a;
  for (int i = 0; i < 200; ++i) a.add(0.1, 0.01 * i, 0.01, ObservationSource::kDetector);
  ObservationSet b = a;
  add_noise(a, 0.05, 3);
  add_noise(b, 0.05, 3);
  CHECK(a.density == b.density);
  double changed = 0;
  for (double rho : a.density) {
    CHECK(rho >= 0);
    changed += rho != 0.01;
  }
  CHECK(changed > 150);
}

TEST_CASE("a data grid's detector rows are observed, the others held out", "[observations]") {
  const testing::ScopedTempDir dir("pinn_grid");
  const std::string path = dir.path() + "/grid.txt";
  {
    std::ofstream out(path);  // 4 space bins (rows) x 3 time bins (columns)
    out << "0.1 0.2 0.3\n0.11 0.21 0.31\n0.12 0.22 0.32\n0.13 0.23 0.33\n";
  }
  const DensityGrid g = read_density_grid(path, 20.0, 5.0, 1.0, 0.5);
  CHECK(g.nx() == 4);
  CHECK(g.nt() == 3);
  CHECK(g.road_length == 80.0);
  CHECK(g.t_end == 15.0);
  CHECK(g.x[1] == 30.0);
  CHECK(g.t[2] == 12.5);
  CHECK(g.at(2, 1) == 0.31);  // time bin 2 of space bin 1
  const auto columns = columns_at(g, {79.0, 10.0, 15.0, 80.0});
  CHECK(columns == std::vector<std::size_t>{0, 3});
  const ObservationSet obs = column_observations(g, columns);
  CHECK(obs.size() == 6);
  CHECK(obs.density[4] == 0.23);  // bin 3 at time bin 1

  PinnProblem problem;
  problem.road_length = g.road_length;
  problem.t_end = g.t_end;
  problem.ring = false;
  problem.rho_max = 0.5;
  const TrainingData data = make_training_data(problem, obs, g, 10, 8);
  CHECK(data.initial_count() == 4);    // at most the row
  CHECK(data.boundary_times.empty());  // open road
  CHECK(data.observation_values[4] == Approx(0.46));
  for (double v : data.observation_points) {
    CHECK(v >= -1.0);
    CHECK(v <= 1.0);
  }
  const EvaluationSet eval = make_evaluation_set(problem, g, {1, 2});
  CHECK(eval.size() == 12);
  int counted = 0;
  for (char c : eval.in_metric) counted += c;
  CHECK(counted == 6);
  CHECK(eval.in_metric[1] == 1);  // time 0, bin 1
  CHECK(eval.in_metric[3] == 0);  // time 0, bin 3 (observed)
}

TEST_CASE("training data of a ring road in network variables", "[observations]") {
  const SimulatedData sim = testing::small_simulation();
  const PinnSetup setup = testing::small_setup();
  const TrainingData& d = setup.data;
  CHECK(d.observation_count() == sim.observations.size());
  CHECK(d.initial_count() == 32);
  CHECK(d.boundary_times.size() == 16);
  for (std::size_t i = 0; i < d.initial_count(); ++i) CHECK(d.initial_points[2 * i + 1] == -1.0);
  CHECK(setup.evaluation.size() == 64 * 21);
}

TEST_CASE("a refined truth is the block average of the finer simulation", "[observations]") {
  SimulationSpec coarse = testing::small_simulation_spec();
  coarse.lwr.cells = 16;
  coarse.t_end = 0.2;
  coarse.field_interval = 0.05;
  coarse.truth_refinement = 4;
  SimulationSpec fine = coarse;
  fine.lwr.cells = 64;
  fine.truth_refinement = 1;
  SensorSpec sensors;
  sensors.detector_positions = {0.2, 0.5};
  sensors.detector_interval = 0.05;
  sensors.probes = 3;
  sensors.probe_interval = 0.05;
  const SimulatedData a = simulate_lwr(coarse, sensors);
  const SimulatedData b = simulate_lwr(fine, sensors);
  // The scoring grid keeps solver.cells columns at their centres ...
  REQUIRE(a.truth.nx() == 16);
  REQUIRE(a.truth.nt() == b.truth.nt());
  CHECK(a.truth.x[0] == Approx(0.5 / 16));
  CHECK(a.truth.x[15] == Approx(15.5 / 16));
  // ... with the averages of the 4 solver cells of each.
  for (std::size_t it = 0; it < a.truth.nt(); ++it) {
    for (std::size_t i = 0; i < 16; ++i) {
      double sum = 0;
      for (std::size_t j = 0; j < 4; ++j) sum += b.truth.at(it, 4 * i + j);
      CHECK(a.truth.at(it, i) == Approx(sum / 4).epsilon(1e-14));
    }
  }
  // Detectors and probes sample the solver's (refined) cells, as in the finer simulation.
  CHECK(a.observations.x == b.observations.x);
  CHECK(a.observations.density == b.observations.density);
  CHECK(a.solver_steps == b.solver_steps);
}
