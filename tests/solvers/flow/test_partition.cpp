// The solver's decomposition is the one the functions shared with `tessera bench
// scaling_model` compute (flow_vertex_partition, p2_node_owner; halo sizes from
// parallel::partition_stats on p2_graph), and timing its communication (set_timers)
// records the two regions without changing a single bit of the result.
#include <algorithm>

#include "core/mesh/channel_generator.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"
#include "solvers/flow/dfg.hpp"
#include "tests/solvers/flow/flow_test_meshes.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using namespace tessera::solvers::flow;

namespace {

FlowParameters dfg_parameters() {
  FlowParameters p;
  p.viscosity = 1e-3;
  p.dt = 0.01;
  p.obstacle_circle = Circle{0.2, 0.2, 0.05};
  return p;
}

FlowBoundary dfg_boundary() {
  ChannelFlow flow;
  flow.max_inflow = 1.5;
  flow.ramp_time = 0.05;
  FlowBoundary b;
  b.velocity = channel_inflow(flow);
  return b;
}

}  // namespace

TEST_CASE("p2_node_owner: midpoints follow their edge's first vertex", "[partition]") {
  const P2Mesh p2 = make_p2_mesh(testing::small_channel(), std::nullopt, "partition test");
  const parallel::Partition vertices = flow_vertex_partition(p2, 4, 1);
  REQUIRE(vertices.owner.size() == p2.num_vertices);
  const std::vector<int> owner = p2_node_owner(p2, vertices);
  REQUIRE(owner.size() == p2.num_nodes());
  for (std::size_t v = 0; v < p2.num_vertices; ++v) CHECK(owner[v] == vertices.owner[v]);
  for (std::size_t m = p2.num_vertices; m < p2.num_nodes(); ++m) {
    CHECK(owner[m] == vertices.owner[p2.edge_vertices[2 * (m - p2.num_vertices)]]);
  }
  // The vertex graph is the triangle adjacency without self-loops.
  const graph::HostCsr g = flow_vertex_graph(p2);
  REQUIRE(g.num_nodes() == p2.num_vertices);
  for (std::size_t i = 0; i < g.num_nodes(); ++i) {
    for (auto e = g.row_ptr[i]; e < g.row_ptr[i + 1]; ++e) {
      CHECK(static_cast<std::size_t>(g.col_idx[e]) != i);
    }
  }
  parallel::Partition wrong = vertices;
  wrong.owner.pop_back();
  CHECK_THROWS_AS(p2_node_owner(p2, wrong), InputError);
}

TEST_CASE("the solver's partition and halo are the shared functions'", "[partition_mpi]") {
  const int ranks = runtime::comm_size(MPI_COMM_WORLD);
  const int rank = runtime::comm_rank(MPI_COMM_WORLD);
  const FlowParameters p = dfg_parameters();
  const FlowSolver solver(MPI_COMM_WORLD, testing::small_channel(), p, dfg_boundary(),
                          "partition test");
  const P2Mesh& p2 = solver.p2_mesh();
  const std::vector<int> owner =
      p2_node_owner(p2, flow_vertex_partition(p2, ranks, p.partition_seed));
  // Owned nodes: ascending global ids, the same set.
  std::vector<long long> mine;
  for (std::size_t i = 0; i < owner.size(); ++i) {
    if (owner[i] == rank) mine.push_back(static_cast<long long>(i));
  }
  const parallel::HaloPlan& plan = solver.plan();
  const std::vector<long long> owned(plan.global_ids().begin(),
                                     plan.global_ids().begin() + plan.owned_count());
  CHECK(owned == mine);
  // Ghosts and neighbours: what the benchmark reports for this part.
  const parallel::PartitionStats stats =
      parallel::partition_stats(p2_graph(p2), parallel::Partition{ranks, owner}, 1);
  CHECK(static_cast<long long>(plan.ghost_count()) == stats.halo[rank]);
  CHECK(static_cast<long long>(plan.neighbours().size()) == stats.neighbours[rank]);
}

TEST_CASE("timed communication: regions and counts, results bitwise unchanged",
          "[comm_timers_mpi]") {
  const mesh::Mesh m = testing::small_channel();
  FlowSolver plain(MPI_COMM_WORLD, m, dfg_parameters(), dfg_boundary(), "untimed");
  FlowSolver timed(MPI_COMM_WORLD, m, dfg_parameters(), dfg_boundary(), "timed");
  runtime::Timers timers;
  timed.set_timers(&timers);
  constexpr int kSteps = 3;
  long long iterations = 0;
  for (int k = 0; k < kSteps; ++k) {
    plain.step();
    runtime::Timers::Scope scope(timers, "solver");
    iterations += timed.step().linear_iterations();
  }
  CHECK(plain.global_vertex_velocity() == timed.global_vertex_velocity());
  CHECK(plain.global_vertex_pressure() == timed.global_vertex_pressure());
  // Every iteration of CG and BiCGStab exchanges a halo at least once and reduces at least
  // twice; five solves per step.
  const long long exchanges = timers.calls(kHaloExchangeRegion);
  const long long allreduces = timers.calls(kAllreduceRegion);
  CHECK(exchanges >= iterations);
  CHECK(allreduces >= 2 * iterations);
  CHECK(exchanges >= 5 * 2 * kSteps);  // residual before and solution after each solve
  CHECK(timers.total_seconds(kHaloExchangeRegion) + timers.total_seconds(kAllreduceRegion) <=
        timers.total_seconds("solver"));
  // Same counts on every rank (the communication is collective).
  long long counts[2] = {exchanges, allreduces}, low[2] = {0, 0};
  MPI_Allreduce(counts, low, 2, MPI_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
  CHECK(low[0] == exchanges);
  CHECK(low[1] == allreduces);
  // Without timers nothing more is recorded.
  timed.set_timers(nullptr);
  timed.step();
  CHECK(timers.calls(kHaloExchangeRegion) == exchanges);
  CHECK(timers.calls(kAllreduceRegion) == allreduces);
}
