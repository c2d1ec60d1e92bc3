// Trajectory files: what the flow experiment writes is read back by core/mesh's
// MeshGraphNets reader with the mesh, node types, fields and dt intact.
#include <filesystem>

#include "core/mesh/channel_generator.hpp"
#include "core/mesh/meshgraphnets_reader.hpp"
#include "solvers/flow/dfg.hpp"
#include "solvers/flow/trajectory_file.hpp"
#include "tests/solvers/flow/flow_test_meshes.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tessera;
using namespace tessera::solvers::flow;

TEST_CASE("trajectory files are MeshGraphNets-style HDF5", "[dataset]") {
  const std::string dir = testing::shared_temp_dir("flow_dataset");
  const mesh::Mesh m = testing::small_channel();
  ChannelFlow flow;
  flow.max_inflow = 1.0;
  FlowParameters p;
  p.dt = 0.01;
  FlowBoundary b;
  b.velocity = channel_inflow(flow);
  FlowSolver solver(MPI_COMM_SELF, m, p, b);
  std::vector<std::vector<double>> velocity, pressure;
  for (int k = 0; k < 3; ++k) {
    solver.step();
    velocity.push_back(solver.global_vertex_velocity());
    pressure.push_back(solver.global_vertex_pressure());
  }
  const std::string path = dir + "/train.h5";
  {
    TrajectoryFile file(path);
    file.write_trajectory(0, m, velocity, pressure, 0.02, {{"max_inflow", 1.0}});
    CHECK(std::filesystem::exists(path + ".partial"));
    file.close();
  }
  REQUIRE(std::filesystem::exists(path));
  const mesh::Mesh back = mesh::read_meshgraphnets_h5(path, 0);
  CHECK(back.num_points() == m.num_points());
  CHECK(back.cells == m.cells);
  CHECK(back.node_types == m.node_types);
  REQUIRE(back.steps.size() == 3);
  CHECK(back.steps[2].time == Approx(0.04));
  const mesh::Field& u = back.field(2, "velocity");
  REQUIRE(u.components == 2);
  for (std::size_t i = 0; i < u.values.size(); ++i) {
    CHECK(u.values[i] == Approx(velocity[2][i]).margin(1e-5).epsilon(1e-6));
  }
  CHECK(back.field(1, "pressure").values.size() == m.num_points());
  std::filesystem::remove_all(dir);
}
