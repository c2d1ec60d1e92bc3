#include "experiments/bench/bench_halo.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/graph/csr_graph.hpp"
#include "core/parallel/halo_plan.hpp"
#include "core/parallel/partition.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/runtime.hpp"

namespace tessera::bench {
namespace {

graph::HostCsr mesh_graph(std::size_t nx, std::size_t ny) {
  const graph::TriangleMesh mesh = graph::grid_triangle_mesh(nx, ny);
  return graph::to_host(graph::csr_from_triangles(mesh.num_nodes(), mesh.triangles, true));
}

}  // namespace

std::vector<BenchRow> bench_halo_exchange(MPI_Comm comm, const BenchOptions& options) {
  const int ranks = runtime::comm_size(comm);
  std::vector<std::size_t> sides = {100, 316, 1000};  // 10k, 100k, 1M nodes
  if (options.quick) sides = {30};
  constexpr int kComponents = 4;  // e.g. velocity, pressure and one more per node
  std::vector<BenchRow> rows;
  for (std::size_t side : sides) {
    const graph::HostCsr graph = mesh_graph(side, side);
    const parallel::Partition partition = parallel::partition_metis(graph, ranks);
    const parallel::HaloPlan plan(comm, graph, partition.owner, 1);
    const graph::HostCsr local = plan.localize(graph);
    // Rows are the owned nodes, columns local ids of owned and ghost nodes: a rectangular
    // operator, so its arrays go to the device without the square-graph check.
    const graph::IndexView row_ptr = tensor::to_device(local.row_ptr, "bench::row_ptr");
    const graph::IndexView col_idx = tensor::to_device(local.col_idx, "bench::col_idx");
    tensor::Matrix<double> values("values", plan.local_count(), kComponents);
    tensor::Matrix<double> sums("sums", plan.owned_count(), kComponents);
    Kokkos::deep_copy(values, 1.0);

    auto neighbour_sum = [&] {
      Kokkos::parallel_for(
          "bench::neighbour_sum", Kokkos::RangePolicy<tensor::ExecSpace>(0, plan.owned_count()),
          KOKKOS_LAMBDA(const int i) {
            for (int c = 0; c < kComponents; ++c) {
              double acc = 0;
              for (int e = row_ptr(i); e < row_ptr(i + 1); ++e) acc += values(col_idx(e), c);
              sums(i, c) = acc;
            }
          });
    };
    // Every rank times the same number of calls; barriers keep the exchanges aligned.
    auto exchange = [&] {
      MPI_Barrier(comm);
      plan.gather(values);
    };
    const double compute = max_over_ranks(comm, time_median(neighbour_sum, options.repeats, options.warmup));
    const double halo = max_over_ranks(comm, time_median(exchange, options.repeats, options.warmup));
    double barrier_only = max_over_ranks(
        comm, time_median([&] { MPI_Barrier(comm); }, options.repeats, options.warmup));
    const double exchange_seconds = std::max(0.0, halo - barrier_only);
    long long bytes = static_cast<long long>(plan.rows_received()) * kComponents * 8;
    long long total_bytes = 0;
    MPI_Allreduce(&bytes, &total_bytes, 1, MPI_LONG_LONG, MPI_SUM, comm);
    long long ghosts = static_cast<long long>(plan.ghost_count()), total_ghosts = 0;
    MPI_Allreduce(&ghosts, &total_ghosts, 1, MPI_LONG_LONG, MPI_SUM, comm);

    const std::string shape =
        str("nodes=", graph.num_nodes(), " ranks=", ranks, " components=", kComponents);
    BenchRow sum_row{"neighbour_sum", shape, compute, 0, 0, "one-hop sum over owned nodes", {}};
    BenchRow halo_row{"halo_exchange", shape, exchange_seconds, 0, 0,
                      "gather of a 1-hop halo (barrier time subtracted)", {}};
    halo_row.extra = compute > 0 ? exchange_seconds / compute : 0;
    halo_row.more = {{"bytes_per_step", static_cast<double>(total_bytes)},
                     {"ghost_nodes", static_cast<double>(total_ghosts)},
                     {"compute_seconds", compute},
                     {"exchange_over_compute", halo_row.extra}};
    rows.push_back(sum_row);
    rows.push_back(halo_row);
    runtime::log::info(str("  halo: ", shape, ": compute ", compute, " s, exchange ",
                           exchange_seconds, " s, ", total_bytes, " bytes per step"));
  }
  return rows;
}

std::vector<BenchRow> bench_partition_quality(MPI_Comm comm, const BenchOptions& options) {
  std::vector<BenchRow> rows;
  if (runtime::comm_rank(comm) != 0) return rows;
  const std::size_t side = options.quick ? 40 : 1000;
  const graph::HostCsr graph = mesh_graph(side, side);
  std::vector<int> part_counts;
  for (int p = 2; p <= (options.quick ? 8 : 1024); p *= 2) part_counts.push_back(p);
  for (int parts : part_counts) {
    const auto start = std::chrono::steady_clock::now();
    const parallel::Partition partition = parallel::partition_metis(graph, parts);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const parallel::PartitionStats one = parallel::partition_stats(graph, partition, 1);
    const parallel::PartitionStats two = parallel::partition_stats(graph, partition, 2);
    BenchRow row{"partition_quality", str("nodes=", graph.num_nodes(), " parts=", parts), seconds,
                 0, one.halo_fraction(), "METIS k-way; extra = 1-hop halo fraction", {}};
    row.more = {{"parts", static_cast<double>(parts)},
                {"edge_cut", static_cast<double>(one.edge_cut)},
                {"imbalance", one.imbalance},
                {"halo_fraction_1hop", one.halo_fraction()},
                {"halo_fraction_2hop", two.halo_fraction()},
                {"max_neighbours", static_cast<double>(*std::max_element(
                                       one.neighbours.begin(), one.neighbours.end()))}};
    rows.push_back(row);
    runtime::log::info(str("  partition: ", parts, " parts: cut ", one.edge_cut, ", imbalance ",
                           one.imbalance, ", halo fraction ", one.halo_fraction(), " (1 hop), ",
                           two.halo_fraction(), " (2 hops), METIS ", seconds, " s"));
  }
  return rows;
}

}  // namespace tessera::bench
