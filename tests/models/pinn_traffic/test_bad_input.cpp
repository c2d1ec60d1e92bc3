// Bad input is an InputError whose message names the key or the file (and row and
// column) to fix: detectors off the road, no observations, negative densities in a data
// file, a negative viscosity, and the other ranges a user can get wrong.
#include <fstream>
#include <string>

#include "core/runtime/error.hpp"
#include "models/pinn_traffic/ground_truth.hpp"
#include "models/pinn_traffic/problem.hpp"
#include "models/pinn_traffic/training.hpp"
#include "tests/models/pinn_traffic/small_problem.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/input_error.hpp"

using tessera::testing::input_error_of;
#include "tests/support/temp_dir.hpp"

using namespace tessera;
using namespace tessera::models::pinn_traffic;
using Catch::Contains;

namespace {

std::string write_file(const std::string& name, const std::string& text) {
  static const testing::ScopedTempDir dir("pinn_bad_input");
  const std::string path = dir.path() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

SimulationSpec ring_spec() {
  SimulationSpec spec;
  spec.lwr.cells = 32;
  spec.initial.kind = solvers::lwr::InitialCondition::Kind::kUniform;
  spec.initial.density = 0.3;
  spec.t_end = 0.1;
  spec.field_interval = 0.05;
  return spec;
}

}  // namespace

TEST_CASE("detector positions outside the road", "[bad_input]") {
  SensorSpec sensors;
  sensors.detector_positions = {0.5, 1.5};
  CHECK_THAT(input_error_of([&] { simulate_lwr(ring_spec(), sensors); }),
             Contains("detectors.positions[1] = 1.5 is outside the road [0, 1]"));
  sensors.detector_positions = {-0.1};
  CHECK_THAT(input_error_of([&] { simulate_lwr(ring_spec(), sensors); }),
             Contains("detectors.positions[0] = -0.1"));
  DensityGrid grid;
  grid.x = {10, 30};
  grid.t = {2.5};
  grid.road_length = 40;
  grid.density = {0.1, 0.2};
  CHECK_THAT(input_error_of([&] {
               columns_at(grid, {10.0, 41.0});
             }),
             Contains("detectors.positions[1] = 41 is outside the road [0, 40]"));
}

TEST_CASE("a truth refinement out of range", "[bad_input]") {
  SensorSpec sensors;
  sensors.detector_positions = {0.5};
  SimulationSpec spec = ring_spec();
  spec.truth_refinement = 0;
  CHECK_THAT(input_error_of([&] { simulate_lwr(spec, sensors); }),
             Contains("solver.truth_refinement = 0 must be in [1, 64]"));
  spec.truth_refinement = 65;
  CHECK_THAT(input_error_of([&] { simulate_lwr(spec, sensors); }),
             Contains("solver.truth_refinement = 65"));
}

TEST_CASE("an empty observation set", "[bad_input]") {
  SensorSpec sensors;  // no detectors, no probes
  const SimulatedData sim = simulate_lwr(ring_spec(), sensors);
  CHECK(sim.observations.empty());
  const std::string message =
      input_error_of([&] { require_observations(sim.observations, "ring.toml"); });
  CHECK_THAT(message, Contains("ring.toml: empty observation set"));
  CHECK_THAT(message, Contains("detectors.positions"));
  CHECK_THAT(message, Contains("observations.probes"));
}

TEST_CASE("negative densities and other bad values in a data file", "[bad_input]") {
  const std::string negative = write_file("negative.txt", "0.1 0.2 0.3\n0.1 -0.02 0.3\n");
  const std::string message = input_error_of([&] { read_density_grid(negative, 20, 5, 1, 0.3); });
  CHECK_THAT(message, Contains("negative.txt: row 2, column 2: density -0.02 is negative"));
  const std::string high = write_file("high.txt", "0.1 0.2\n0.1 0.9\n");
  CHECK_THAT(input_error_of([&] { read_density_grid(high, 20, 5, 1, 0.3); }),
             Contains("high.txt: row 2, column 2") && Contains("solver.rho_max = 0.3"));
  const std::string text = write_file("text.txt", "0.1 0.2\n0.1 n/a\n");
  CHECK_THAT(input_error_of([&] { read_density_grid(text, 20, 5, 1, 0.3); }),
             Contains("text.txt") && Contains("not a number"));
  const std::string tiny = write_file("tiny.txt", "0.1 0.2\n");
  CHECK_THAT(input_error_of([&] { read_density_grid(tiny, 20, 5, 1, 0.3); }),
             Contains("at least 2 rows"));
  CHECK_THAT(input_error_of([&] { read_density_grid(negative, 0, 5, 1, 0.3); }),
             Contains("data.cell_length = 0"));
}

TEST_CASE("a negative viscosity and other PDE parameters", "[bad_input]") {
  PinnProblem p;
  p.viscosity = -0.005;
  CHECK_THAT(input_error_of([&] { p.validate(); }),
             Contains("solver.viscosity = -0.005 is out of range") && Contains(">= 0"));
  p.viscosity = 0;  // eps = 0 is the pure LWR model
  CHECK_NOTHROW(p.validate());
  p.v_max = 0;
  CHECK_THAT(input_error_of([&] { p.validate(); }), Contains("solver.v_max = 0"));
  p = PinnProblem{};
  p.t_end = 0;
  CHECK_THAT(input_error_of([&] { p.validate(); }), Contains("solver.t_end"));
  // The simulation refuses it too, with the solver's message.
  SimulationSpec spec = ring_spec();
  spec.lwr.viscosity = -1;
  SensorSpec sensors;
  sensors.detector_positions = {0.5};
  CHECK_THAT(input_error_of([&] { simulate_lwr(spec, sensors); }),
             Contains("solver.viscosity = -1"));
  spec = ring_spec();
  spec.lwr.diagram.kind = solvers::lwr::FluxKind::kTriangular;
  CHECK_THAT(input_error_of([&] { simulate_lwr(spec, sensors); }), Contains("Greenshields"));
  // And a task on a problem with eps < 0.
  PinnSetup setup = testing::small_setup();
  setup.problem.viscosity = -0.1;
  CHECK_THAT(input_error_of([&] { train_pinn<float>(MPI_COMM_SELF, setup); }),
             Contains("solver.viscosity = -0.1"));
}

TEST_CASE("training options out of range", "[bad_input]") {
  PinnSetup setup = testing::small_setup();
  setup.mto.enabled = true;
  setup.mto.tasks.clear();
  CHECK_THAT(input_error_of([&] { train_pinn<float>(MPI_COMM_SELF, setup); }),
             Contains("mto.tasks names no auxiliary task"));
  setup = testing::small_setup();
  setup.main.collocation.points = 0;
  CHECK_THAT(input_error_of([&] { train_pinn<float>(MPI_COMM_SELF, setup); }),
             Contains("collocation.points = 0"));
  setup = testing::small_setup();
  setup.training.optimiser.schedule = "sawtooth";
  CHECK_THAT(input_error_of([&] { train_pinn<float>(MPI_COMM_SELF, setup); }),
             Contains("train.schedule"));
  setup = testing::small_setup();
  setup.network.hidden_layers = 0;
  CHECK_THAT(input_error_of([&] { train_pinn<float>(MPI_COMM_SELF, setup); }),
             Contains("model.hidden_layers = 0"));
}
