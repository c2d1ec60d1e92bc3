#include "core/parallel/halo_plan.hpp"
#include "core/parallel/partition.hpp"
#include "core/runtime/runtime.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using namespace tessera::graph;
using namespace tessera::parallel;

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
    for (std::size_t l = 0; l < plan.local_count(); ++l) {
      for (int c = 0; c < 3; ++c) {
        values(l, c) = l < plan.owned_count() ? value_of(plan.global_ids()[l], c) : -1e300;
      }
    }
    plan.gather(values);
    for (std::size_t l = 0; l < plan.local_count(); ++l) {
      REQUIRE(values(l, 1) == value_of(plan.global_ids()[l], 1));
    }
    // K-hop sum through the local operator equals the serial sum at every owned node.
    const HostCsr global_khop = k_hop(g, hops);
    const HostCsr local = plan.localize(global_khop);
    for (std::size_t l = 0; l < plan.owned_count(); ++l) {
      double distributed = 0, serial = 0;
      for (auto e = local.row_ptr[l]; e < local.row_ptr[l + 1]; ++e) {
        distributed += values(local.col_idx[e], 2);
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
  for (std::size_t l = 0; l < plan.owned_count(); ++l) {
    values(l, 0) = static_cast<float>(value_of(plan.global_ids()[l], 0));
    values(l, 1) = 1.0f;
  }
  plan.gather(values);
  plan.scatter_add(values);
  for (std::size_t l = 0; l < plan.owned_count(); ++l) {
    const long long gid = plan.global_ids()[l];
    REQUIRE(values(l, 1) == Approx(1.0 + total[gid]));
    REQUIRE(values(l, 0) == Approx(value_of(gid, 0) * (1.0 + total[gid])));
  }
  for (std::size_t l = plan.owned_count(); l < plan.local_count(); ++l) {
    REQUIRE(values(l, 0) == 0.0f);
  }
  // A partition with more parts than ranks is refused.
  std::vector<int> bad(g.num_nodes(), size);
  CHECK_THROWS_AS(HaloPlan(MPI_COMM_WORLD, g, bad, 1), InputError);
}
