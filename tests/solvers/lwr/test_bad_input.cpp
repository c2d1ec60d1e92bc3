// Bad input is an InputError whose message names the key to fix and its allowed range.
#include <string>
#include <vector>

#include "core/runtime/error.hpp"
#include "solvers/lwr/detectors.hpp"
#include "solvers/lwr/initial_conditions.hpp"
#include "solvers/lwr/lwr_solver.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/input_error.hpp"

using tessera::testing::input_error_of;

using namespace tessera::solvers::lwr;
using tessera::InputError;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("solver parameters out of range name their key", "[bad_input]") {
  const LwrParameters good;
  CHECK_NOTHROW(validate_parameters(good));
  struct Case {
    const char* key;
    const char* range;
    void (*spoil)(LwrParameters&);
  };
  const Case cases[] = {
      {"solver.cells = -5", "at least 1", [](LwrParameters& p) { p.cells = -5; }},
      {"solver.cells = 0", "at least 1", [](LwrParameters& p) { p.cells = 0; }},
      {"solver.road_length = 0", "positive", [](LwrParameters& p) { p.road_length = 0.0; }},
      {"solver.cfl = 1.5", "(0, 1]", [](LwrParameters& p) { p.cfl = 1.5; }},
      {"solver.cfl = 0", "(0, 1]", [](LwrParameters& p) { p.cfl = 0.0; }},
      {"solver.viscosity = -0.1", ">= 0", [](LwrParameters& p) { p.viscosity = -0.1; }},
      {"solver.v_max = 0", "positive", [](LwrParameters& p) { p.diagram.v_max = 0.0; }},
      {"solver.rho_max = -1", "positive", [](LwrParameters& p) { p.diagram.rho_max = -1.0; }},
      {"solver.wave_speed = 0", "positive",
       [](LwrParameters& p) {
         p.diagram.kind = FluxKind::kTriangular;
         p.diagram.wave_speed = 0.0;
       }},
      {"solver.upstream_density = 1.2", "[0, 1]",
       [](LwrParameters& p) { p.upstream_density = 1.2; }},
      {"solver.downstream_density = -0.1", "[0, 1]",
       [](LwrParameters& p) { p.downstream_density = -0.1; }},
  };
  for (const Case& c : cases) {
    LwrParameters p;
    c.spoil(p);
    const std::string message = input_error_of([&] { validate_parameters(p); });
    INFO(message);
    CHECK(contains(message, c.key));
    CHECK(contains(message, c.range));
    // The constructor validates too.
    CHECK_THROWS_AS(LwrSolver(MPI_COMM_SELF, p), InputError);
  }
}

TEST_CASE("more ranks than cells", "[bad_input]") {
  const std::string message = input_error_of([] { block_decomposition(3, 4, 0); });
  INFO(message);
  CHECK(contains(message,
                 "4 ranks for 3 cells: each rank needs at least one cell "
                 "(solver.cells = 3)"));
}

TEST_CASE("detectors off the road", "[bad_input]") {
  CHECK_NOTHROW(DetectorArray({0.0, 0.5, 1.0}, 1.0));
  const std::string message = input_error_of([] { DetectorArray({0.5, 1.25}, 1.0); });
  INFO(message);
  CHECK(contains(message, "detectors.positions[1] = 1.25"));
  CHECK(contains(message, "[0, 1]"));
  CHECK(contains(input_error_of([] { DetectorArray({-0.5}, 1.0); }), "detectors.positions[0]"));
}

TEST_CASE("initial conditions out of range name their key", "[bad_input]") {
  LwrParameters p;
  p.diagram.rho_max = 0.2;
  InitialCondition ic;
  ic.density = 0.3;
  CHECK(contains(input_error_of([&] { initial_cell_averages(ic, p, 0, p.cells); }),
                 "initial.density = 0.3"));
  ic.kind = InitialCondition::Kind::kRiemann;
  ic.rho_left = 0.1;
  ic.rho_right = -0.1;
  CHECK(contains(input_error_of([&] { validate_initial_condition(ic, p); }),
                 "initial.rho_right = -0.1"));
  ic.rho_right = 0.1;
  ic.x0 = 2.0;
  CHECK(contains(input_error_of([&] { validate_initial_condition(ic, p); }), "initial.x0 = 2"));
  ic.kind = InitialCondition::Kind::kBell;
  ic.base = 0.1;
  ic.amplitude = 0.05;
  ic.width = 0.0;
  CHECK(contains(input_error_of([&] { validate_initial_condition(ic, p); }), "initial.width = 0"));
  ic.width = 0.1;
  ic.amplitude = 0.5;
  CHECK(contains(input_error_of([&] { validate_initial_condition(ic, p); }), "initial.amplitude"));
  ic.kind = InitialCondition::Kind::kPlatoons;
  ic.platoon_density = 0.15;
  ic.platoons = 3;
  ic.platoon_length = 0.0;
  CHECK(contains(input_error_of([&] { validate_initial_condition(ic, p); }),
                 "initial.platoon_length = 0"));
  ic.platoon_length = 0.1;
  ic.platoons = -1;
  CHECK(contains(input_error_of([&] { validate_initial_condition(ic, p); }),
                 "initial.platoons = -1"));
}
