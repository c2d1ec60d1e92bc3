#include "core/parallel/halo_plan.hpp"

#include <algorithm>
#include <string>

#include "core/parallel/graph_part.hpp"
#include "core/parallel/partition.hpp"
#include "core/runtime/runtime.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/host_view.hpp"

using namespace tessera;
using namespace tessera::graph;
using namespace tessera::parallel;
using tessera::testing::host;

namespace {

HostCsr mesh_graph(std::size_t nx, std::size_t ny, bool self_loops) {
  const TriangleMesh mesh = grid_triangle_mesh(nx, ny);
  return to_host(csr_from_triangles(mesh.num_nodes(), mesh.triangles, self_loops));
}

double value_of(long long global, int component) {
  return 1.0 + global + 0.25 * component;
}

}  // namespace

TEST_CASE("METIS partitions are balanced and cut little", "[partition]") {
  const HostCsr g = mesh_graph(40, 30, false);
  for (int parts : {2, 4, 7}) {
    const Partition p = partition_metis(g, parts);
    const PartitionStats stats = partition_stats(g, p, 1);
    INFO(parts << " parts: cut " << stats.edge_cut << ", imbalance " << stats.imbalance);
    CHECK(stats.imbalance < 1.05);
    // Far below the cut of contiguous blocks of rows for the same part count... and of
    // a random assignment; on a 40 x 30 grid, 2 parts cut about 30-60 edges.
    const PartitionStats blocks = partition_stats(g, partition_blocks(g.num_nodes(), parts), 1);
    CHECK(stats.edge_cut <= blocks.edge_cut * 1.5);
    long long owned = 0;
    for (auto o : stats.owned) owned += o;
    CHECK(owned == static_cast<long long>(g.num_nodes()));
    CHECK(stats.halo_fraction() > 0.0);
  }
  const PartitionStats two_hops = partition_stats(g, partition_metis(g, 4), 2);
  const PartitionStats one_hop = partition_stats(g, partition_metis(g, 4), 1);
  CHECK(two_hops.halo_fraction() > one_hop.halo_fraction());
  CHECK_THROWS_AS(partition_metis(g, 0), InputError);
  CHECK_THROWS_AS(partition_metis(mesh_graph(2, 2, false), 5), InputError);
}

TEST_CASE("gather fills ghosts and a distributed K-hop sum equals the serial one", "[halo]") {
  const int size = runtime::comm_size(MPI_COMM_WORLD);
  const HostCsr g = mesh_graph(23, 17, true);
  const Partition partition = partition_metis(g, size);
  for (int hops : {1, 2, 3}) {
    INFO(hops << " hop(s) on " << size << " rank(s)");
    const HaloPlan plan(MPI_COMM_WORLD, g, partition.owner, hops);
    CHECK(plan.owned_count() > 0);
    // Owned rows hold their values, ghosts a poison value until gathered.
    tensor::Matrix<double> values("values", plan.local_count(), 3);
    auto h_values = host(values);
    for (std::size_t l = 0; l < plan.local_count(); ++l) {
      for (int c = 0; c < 3; ++c) {
        h_values(l, c) = l < plan.owned_count() ? value_of(plan.global_ids()[l], c) : -1e300;
      }
    }
    Kokkos::deep_copy(values, h_values);
    plan.gather(values);
    Kokkos::deep_copy(h_values, values);
    for (std::size_t l = 0; l < plan.local_count(); ++l) {
      REQUIRE(h_values(l, 1) == value_of(plan.global_ids()[l], 1));
    }
    // K-hop sum through the local operator equals the serial sum at every owned node.
    const HostCsr global_khop = k_hop(g, hops);
    const HostCsr local = plan.localize(global_khop);
    for (std::size_t l = 0; l < plan.owned_count(); ++l) {
      double distributed = 0, serial = 0;
      for (auto e = local.row_ptr[l]; e < local.row_ptr[l + 1]; ++e) {
        distributed += h_values(local.col_idx[e], 2);
      }
      const long long gid = plan.global_ids()[l];
      for (auto e = global_khop.row_ptr[gid]; e < global_khop.row_ptr[gid + 1]; ++e) {
        serial += value_of(global_khop.col_idx[e], 2);
      }
      REQUIRE(distributed == serial);
    }
    // The same number of ghosts as the partition statistics predict.
    const PartitionStats stats = partition_stats(g, partition, hops);
    CHECK(plan.ghost_count() ==
          static_cast<std::size_t>(stats.halo[runtime::comm_rank(MPI_COMM_WORLD)]));
    // With more than one rank, a wider operator reaches past the halo.
    if (hops < 3 && size > 1) CHECK_THROWS_AS(plan.localize(k_hop(g, hops + 1)), InputError);
  }
}

TEST_CASE("scatter_add returns every ghost copy to its owner", "[halo]") {
  const int size = runtime::comm_size(MPI_COMM_WORLD);
  const HostCsr g = mesh_graph(19, 13, false);
  const Partition partition = partition_metis(g, size);
  const HaloPlan plan(MPI_COMM_WORLD, g, partition.owner, 2);
  // How many ranks hold each node as a ghost.
  std::vector<int> ghost_copies(g.num_nodes(), 0), total(g.num_nodes(), 0);
  for (std::size_t l = plan.owned_count(); l < plan.local_count(); ++l) {
    ghost_copies[plan.global_ids()[l]] += 1;
  }
  MPI_Allreduce(ghost_copies.data(), total.data(), static_cast<int>(total.size()), MPI_INT, MPI_SUM,
                MPI_COMM_WORLD);
  tensor::Matrix<float> values("values", plan.local_count(), 2);
  auto h_values = host(values);
  for (std::size_t l = 0; l < plan.owned_count(); ++l) {
    h_values(l, 0) = static_cast<float>(value_of(plan.global_ids()[l], 0));
    h_values(l, 1) = 1.0f;
  }
  Kokkos::deep_copy(values, h_values);
  plan.gather(values);
  plan.scatter_add(values);
  Kokkos::deep_copy(h_values, values);
  for (std::size_t l = 0; l < plan.owned_count(); ++l) {
    const long long gid = plan.global_ids()[l];
    REQUIRE(h_values(l, 1) == Approx(1.0 + total[gid]));
    REQUIRE(h_values(l, 0) == Approx(value_of(gid, 0) * (1.0 + total[gid])));
  }
  for (std::size_t l = plan.owned_count(); l < plan.local_count(); ++l) {
    REQUIRE(h_values(l, 0) == 0.0f);
  }
  // A partition with more parts than ranks is refused.
  std::vector<int> bad(g.num_nodes(), size);
  CHECK_THROWS_AS(HaloPlan(MPI_COMM_WORLD, g, bad, 1), InputError);
}

TEST_CASE("a plan from each rank's own rows equals the one from the replicated graph", "[halo]") {
  const int size = runtime::comm_size(MPI_COMM_WORLD);
  const int rank = runtime::comm_rank(MPI_COMM_WORLD);
  const HostCsr g = mesh_graph(21, 16, false);
  // METIS parts, and a scattered owner (node i on rank (7 i) mod P): many neighbours, and
  // owners unrelated to the directory's blocks.
  std::vector<int> scattered(g.num_nodes());
  for (std::size_t i = 0; i < scattered.size(); ++i) scattered[i] = static_cast<int>(7 * i % size);
  for (const std::vector<int>& owner : {partition_metis(g, size).owner, scattered}) {
    for (int hops : {1, 2}) {
      INFO(hops << " hop(s) on " << size << " rank(s)");
      const HostCsr reach = hops == 1 ? g : k_hop(g, hops);
      const HaloPlan replicated(MPI_COMM_WORLD, g, owner, hops);
      const OwnedRows rows = own_rows(reach, owner, rank);
      const HaloPlan distributed(MPI_COMM_WORLD, rows);
      REQUIRE(distributed.global_ids() == replicated.global_ids());
      REQUIRE(distributed.owned_count() == replicated.owned_count());
      CHECK(distributed.neighbours() == replicated.neighbours());
      CHECK(distributed.rows_sent() == replicated.rows_sent());
      CHECK(distributed.rows_received() == replicated.rows_received());
      // The local operators agree, and a gather fills the same ghost values.
      const HostCsr a = distributed.localize(rows), b = replicated.localize(reach);
      CHECK(a.row_ptr == b.row_ptr);
      CHECK(a.col_idx == b.col_idx);
      tensor::Matrix<double> values("values", distributed.local_count(), 2);
      auto h_values = host(values);
      for (std::size_t l = 0; l < distributed.owned_count(); ++l) {
        h_values(l, 0) = value_of(distributed.global_ids()[l], 0);
        h_values(l, 1) = value_of(distributed.global_ids()[l], 1);
      }
      Kokkos::deep_copy(values, h_values);
      distributed.gather(values);
      Kokkos::deep_copy(h_values, values);
      for (std::size_t l = 0; l < distributed.local_count(); ++l) {
        REQUIRE(h_values(l, 1) == value_of(distributed.global_ids()[l], 1));
      }
    }
  }
}

TEST_CASE("a graph part from own rows equals the one from the replicated graph", "[halo]") {
  // The reach is the union of the mesh and its 2-hop graph (as a mesh model's layers read
  // them); each graph's local rows, and the edge each local edge is, agree.
  const int size = runtime::comm_size(MPI_COMM_WORLD);
  const int rank = runtime::comm_rank(MPI_COMM_WORLD);
  const HostCsr g = mesh_graph(17, 11, false), two = k_hop(g, 2, false);
  const std::vector<int> owner = partition_metis(g, size).owner;
  const GraphPart replicated(MPI_COMM_WORLD, graph_union({&g, &two}), owner);
  const OwnedRows mesh = own_rows(g, owner, rank), reach = own_rows(two, owner, rank);
  const OwnedRows both = rows_union({&mesh, &reach});
  CHECK(both.columns == own_rows(graph_union({&g, &two}), owner, rank).columns);
  const GraphPart distributed(MPI_COMM_WORLD, both);
  REQUIRE(distributed.rows() == replicated.rows());
  CHECK(distributed.owner().empty());
  std::vector<std::size_t> edges_distributed, edges_replicated;
  const HostCsr a = distributed.local_graph(mesh, &edges_distributed);
  const HostCsr b = replicated.local_graph(g, &edges_replicated);
  CHECK(a.row_ptr == b.row_ptr);
  CHECK(a.col_idx == b.col_idx);
  // Own edge k of the rows is global edge row_ptr[first own node] + ... : map and compare.
  std::vector<std::size_t> global_edge;  // of each own edge, in own-row order
  for (long long i : mesh.ids) {
    for (auto e = g.row_ptr[i]; e < g.row_ptr[i + 1]; ++e) global_edge.push_back(e);
  }
  REQUIRE(edges_distributed.size() == edges_replicated.size());
  for (std::size_t k = 0; k < edges_distributed.size(); ++k) {
    CHECK(global_edge[edges_distributed[k]] == edges_replicated[k]);
  }
  const HostCsr a2 = distributed.local_graph(reach), b2 = replicated.local_graph(two);
  CHECK(a2.col_idx == b2.col_idx);
  // What needs every node's owner is refused by a part from own rows.
  CHECK_THROWS_WITH(distributed.local_graph(g), Catch::Matchers::Contains("its own rows"));
  CHECK_THROWS_WITH(distributed.allgather_owned({}, 1), Catch::Matchers::Contains("its own rows"));
  if (size > 1) {  // another rank's rows
    CHECK_THROWS_AS(distributed.local_graph(own_rows(g, owner, (rank + 1) % size)),
                    std::invalid_argument);
  }
}

TEST_CASE("a plan from own rows refuses inconsistent parts on every rank", "[halo]") {
  const int size = runtime::comm_size(MPI_COMM_WORLD);
  const int rank = runtime::comm_rank(MPI_COMM_WORLD);
  const HostCsr g = mesh_graph(9, 7, false);
  const std::vector<int> owner = partition_metis(g, size).owner;
  const auto refused = [](const OwnedRows& rows, const std::string& text) {
    try {
      HaloPlan plan(MPI_COMM_WORLD, rows);
      FAIL("accepted");
    } catch (const InputError& e) {
      CHECK_THAT(e.what(), Catch::Matchers::Contains(text));
    }
  };
  // Every rank gets the error, with the first offending rank's message.
  OwnedRows descending = own_rows(g, owner, rank);
  if (rank == size - 1 && descending.ids.size() > 1) {
    std::swap(descending.ids[0], descending.ids[1]);
  }
  refused(descending, "expected ids ascending");
  OwnedRows outside = own_rows(g, owner, rank);
  if (rank == 0) outside.columns.back() = static_cast<long long>(g.num_nodes()) + 5;
  refused(outside, "outside 0 ..");
  if (size > 1) {
    // Rank 1 also claims rank 0's first node (with an empty row).
    OwnedRows twice = own_rows(g, owner, rank);
    if (rank == 1) {
      const long long claimed = own_rows(g, owner, 0).ids.front();
      const auto at = std::lower_bound(twice.ids.begin(), twice.ids.end(), claimed);
      const auto row = static_cast<std::size_t>(at - twice.ids.begin());
      twice.ids.insert(at, claimed);
      twice.row_ptr.insert(twice.row_ptr.begin() + static_cast<std::ptrdiff_t>(row) + 1,
                           twice.row_ptr[row]);
    }
    refused(twice, "is owned by ranks 0 and 1");
  }
}

TEST_CASE("K-hop and dilated rows from own rows equal the replicated neighbourhoods", "[halo]") {
  const int size = runtime::comm_size(MPI_COMM_WORLD);
  const int rank = runtime::comm_rank(MPI_COMM_WORLD);
  const HostCsr g = mesh_graph(17, 13, false);
  std::vector<int> scattered(g.num_nodes());
  for (std::size_t i = 0; i < scattered.size(); ++i) scattered[i] = static_cast<int>(5 * i % size);
  for (const std::vector<int>& owner : {partition_metis(g, size).owner, scattered}) {
    const OwnedRows mesh = own_rows(g, owner, rank);
    for (bool self_loops : {false, true}) {
      for (int hops : {1, 2, 3}) {
        INFO(hops << " hop(s), self loops " << self_loops << ", " << size << " rank(s)");
        const OwnedRows rows = k_hop_rows(MPI_COMM_WORLD, mesh, hops, self_loops);
        const OwnedRows expected = own_rows(k_hop(g, hops, self_loops), owner, rank);
        REQUIRE(rows.ids == expected.ids);
        CHECK(rows.row_ptr == expected.row_ptr);
        CHECK(rows.columns == expected.columns);
      }
      INFO("dilation 2, count 2, self loops " << self_loops);
      const OwnedRows rows = dilated_rows(MPI_COMM_WORLD, mesh, 2, 2, self_loops);
      const OwnedRows expected = own_rows(dilated(g, 2, 2, self_loops), owner, rank);
      CHECK(rows.row_ptr == expected.row_ptr);
      CHECK(rows.columns == expected.columns);
    }
    // A 2-hop plan from the 2-hop rows gives the replicated 2-hop plan's ghosts.
    const HaloPlan from_rows(MPI_COMM_WORLD, k_hop_rows(MPI_COMM_WORLD, mesh, 2));
    const HaloPlan replicated(MPI_COMM_WORLD, g, owner, 2);
    CHECK(from_rows.global_ids() == replicated.global_ids());
  }
  CHECK_THROWS_AS(k_hop_rows(MPI_COMM_WORLD, own_rows(g, partition_metis(g, size).owner, rank), 0),
                  InputError);
}
