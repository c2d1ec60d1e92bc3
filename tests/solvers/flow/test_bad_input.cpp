// Bad input: meshes without the parts a channel flow needs, a time step beyond the CFL
// limit, and divergence, each a clear error naming the step, the last good state kept.
#include <cmath>
#include <limits>

#include "core/mesh/channel_generator.hpp"
#include "core/runtime/error.hpp"
#include "solvers/flow/dfg.hpp"
#include "tests/solvers/flow/flow_test_meshes.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using namespace tessera::solvers::flow;
using Catch::Matchers::Contains;

namespace {

FlowParameters dfg_parameters(double dt) {
  FlowParameters p;
  p.dt = dt;
  p.obstacle_circle = Circle{0.2, 0.2, 0.05};
  return p;
}

}  // namespace

TEST_CASE("a mesh without an obstacle or inflow is rejected", "[bad_input]") {
  const mesh::Mesh box = testing::rectangle_mesh(8, 4, 0, 2.2, 0, 0.41);
  CHECK_THROWS_WITH(check_channel_mesh(box, "box.vtu"),
                    Contains("box.vtu") && Contains("no obstacle boundary"));
  mesh::Mesh no_inflow = testing::small_channel();
  for (auto& tag : no_inflow.boundary_tags) {
    if (tag == mesh::BoundaryTag::kInflow) tag = mesh::BoundaryTag::kWall;
  }
  CHECK_THROWS_WITH(check_channel_mesh(no_inflow, "closed.vtu"), Contains("no inflow"));
  mesh::Mesh no_outflow = testing::small_channel();
  for (auto& tag : no_outflow.boundary_tags) {
    if (tag == mesh::BoundaryTag::kOutflow) tag = mesh::BoundaryTag::kWall;
  }
  CHECK_THROWS_AS(FlowSolver(MPI_COMM_SELF, no_outflow, dfg_parameters(0.01), {}, "closed.vtu"),
                  InputError);
}

TEST_CASE("a step above the CFL limit names the step and keeps the last state", "[bad_input]") {
  const mesh::Mesh m = testing::small_channel();
  ChannelFlow flow;
  flow.max_inflow = 1.5;
  FlowParameters p = dfg_parameters(0.2);
  p.max_cfl = 2.0;
  FlowBoundary b;
  b.velocity = channel_inflow(flow);
  FlowSolver solver(MPI_COMM_SELF, m, p, b);
  CHECK_THROWS_WITH(solver.step(),
                    Contains("step 1") && Contains("CFL") && Contains("Lower the time step"));
  CHECK(solver.steps_taken() == 0);
  CHECK(solver.time() == 0.0);
}

TEST_CASE("a non-finite state is divergence at a named step", "[bad_input]") {
  const mesh::Mesh m = testing::small_channel();
  FlowBoundary b;
  b.velocity = [](double, double, double t, mesh::BoundaryTag tag) -> std::array<double, 2> {
    if (tag != mesh::BoundaryTag::kInflow) return {0.0, 0.0};
    return {t > 0.025 ? std::numeric_limits<double>::quiet_NaN() : 0.3, 0.0};
  };
  FlowSolver solver(MPI_COMM_SELF, m, dfg_parameters(0.01), b);
  solver.step();
  solver.step();
  const auto good = solver.global_vertex_velocity();
  try {
    solver.step();
    FAIL("no error");
  } catch (const CollectiveError& e) {
    CHECK_THAT(e.what(), Contains("diverged at step 3") && Contains("step 2"));
  }
  CHECK(solver.steps_taken() == 2);
  CHECK(solver.global_vertex_velocity() == good);
}
