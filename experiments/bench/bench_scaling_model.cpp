// `tessera bench scaling_model` (rows described in bench_scaling_model.hpp): ping-pong
// latency and bandwidth, all-reduce latency, and the halo volumes of the flow solver's
// and the mesh transformer's partitions for up to 1,024 parts.
#include "experiments/bench/bench_scaling_model.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "core/graph/csr_graph.hpp"
#include "core/mesh/channel_generator.hpp"
#include "core/mesh/node_graph.hpp"
#include "core/parallel/partition.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/runtime.hpp"
#include "solvers/flow/flow_solver.hpp"
#include "solvers/flow/p2_mesh.hpp"

namespace tessera::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Calls in a timed batch so that one batch takes about `target` seconds, from the time of
// `calibration_calls` calls; 1 to 10^7.
long long calls_per_batch(double calibration_seconds, long long calibration_calls, double target) {
  const double per_call = std::max(calibration_seconds / calibration_calls, 1e-9);
  return std::clamp(static_cast<long long>(std::ceil(target / per_call)), 1LL, 10'000'000LL);
}

// Max and mean over parts of one per-part count.
struct Spread {
  double max = 0, mean = 0;
};
Spread spread(const std::vector<long long>& per_part) {
  Spread s;
  for (const long long v : per_part) {
    s.max = std::max(s.max, static_cast<double>(v));
    s.mean += static_cast<double>(v);
  }
  s.mean /= static_cast<double>(std::max<std::size_t>(1, per_part.size()));
  return s;
}

// P = 1, 2, 4, ..., up to 1024 (quick: 8) and at most `nodes`.
std::vector<int> part_counts(const BenchOptions& options, std::size_t nodes) {
  std::vector<int> counts;
  for (int p = 1; p <= (options.quick ? 8 : 1024) && static_cast<std::size_t>(p) <= nodes; p *= 2) {
    counts.push_back(p);
  }
  return counts;
}

struct MeshSize {
  double size, cylinder_size;
};

mesh::Mesh channel_mesh(const MeshSize& size) {
  mesh::ChannelSpec spec;
  spec.mesh_size = size.size;
  spec.cylinder_mesh_size = size.cylinder_size;
  return mesh::generate_channel_mesh(spec);
}

// The halo columns shared by the partition rows: owned, ghosts, neighbours.
void add_halo_columns(BenchRow& row, const parallel::PartitionStats& stats,
                      const std::string& prefix) {
  const Spread owned = spread(stats.owned), ghosts = spread(stats.halo),
               neighbours = spread(stats.neighbours);
  row.more.insert(row.more.end(), {{prefix + "max_owned", owned.max},
                                   {prefix + "mean_owned", owned.mean},
                                   {prefix + "max_ghosts", ghosts.max},
                                   {prefix + "mean_ghosts", ghosts.mean},
                                   {prefix + "max_neighbours", neighbours.max},
                                   {prefix + "mean_neighbours", neighbours.mean}});
}

}  // namespace

std::vector<BenchRow> bench_pingpong(MPI_Comm comm, const BenchOptions& options) {
  const int rank = runtime::comm_rank(comm);
  std::vector<BenchRow> rows;
  if (runtime::comm_size(comm) < 2) {
    runtime::log::info("  pingpong: needs 2 ranks (run under mpirun -np 2): no rows on 1 rank");
    return rows;
  }
  std::vector<int> sizes = {8, 64, 512, 4096, 32768, 262144, 2097152};
  if (options.quick) sizes = {8, 4096, 262144};
  // 5 batches of about 40 ms per size (0.2 s); quick: 3 of 2 ms.
  const int batches = options.quick ? 3 : 5;
  const double batch_seconds = options.quick ? 0.002 : 0.04;
  const int warmup = options.quick ? 5 : 20;
  constexpr long long kCalibration = 10;
  constexpr int kTag = 7301;
  std::vector<char> buffer(static_cast<std::size_t>(*std::max_element(sizes.begin(), sizes.end())),
                           1);
  if (rank <= 1) {
    const int peer = 1 - rank;
    for (const int bytes : sizes) {
      auto round_trips = [&](long long count) {
        for (long long k = 0; k < count; ++k) {
          if (rank == 0) {
            MPI_Send(buffer.data(), bytes, MPI_BYTE, peer, kTag, comm);
            MPI_Recv(buffer.data(), bytes, MPI_BYTE, peer, kTag, comm, MPI_STATUS_IGNORE);
          } else {
            MPI_Recv(buffer.data(), bytes, MPI_BYTE, peer, kTag, comm, MPI_STATUS_IGNORE);
            MPI_Send(buffer.data(), bytes, MPI_BYTE, peer, kTag, comm);
          }
        }
      };
      round_trips(warmup);
      // Rank 0 sizes the batches from a few timed round trips and tells rank 1.
      auto start = Clock::now();
      round_trips(kCalibration);
      long long per_batch = calls_per_batch(seconds_since(start), kCalibration, batch_seconds);
      if (rank == 0) {
        MPI_Send(&per_batch, 1, MPI_LONG_LONG, peer, kTag + 1, comm);
      } else {
        MPI_Recv(&per_batch, 1, MPI_LONG_LONG, peer, kTag + 1, comm, MPI_STATUS_IGNORE);
      }
      std::vector<double> one_way;
      for (int b = 0; b < batches; ++b) {
        start = Clock::now();
        round_trips(per_batch);
        one_way.push_back(seconds_since(start) / static_cast<double>(per_batch) / 2);
      }
      if (rank != 0) continue;
      const double seconds = median(one_way);
      BenchRow row;
      row.benchmark = "pingpong";
      row.shape = str("bytes=", bytes);
      row.seconds = seconds;
      row.extra = bytes / seconds;
      row.note = "median one-way time (round trip / 2) between ranks 0 and 1; extra = bytes/s";
      row.more = {{"bytes", static_cast<double>(bytes)},
                  {"one_way_seconds", seconds},
                  {"bandwidth_bytes_per_second", bytes / seconds},
                  {"round_trips_per_batch", static_cast<double>(per_batch)}};
      rows.push_back(row);
      runtime::log::info(str("  pingpong ", bytes, " B: one-way ", seconds * 1e6, " us, ",
                             bytes / seconds / 1e9, " GB/s (", batches, " x ", per_batch,
                             " round trips)"));
    }
  }
  MPI_Barrier(comm);
  return rows;
}

std::vector<BenchRow> bench_allreduce(MPI_Comm comm, const BenchOptions& options) {
  const int ranks = runtime::comm_size(comm);
  // 11 batches of about 20 ms per count (0.2 s); quick: 3 of 2 ms.
  const int batches = options.quick ? 3 : 11;
  const double batch_seconds = options.quick ? 0.002 : 0.02;
  constexpr long long kCalibration = 100;
  std::vector<BenchRow> rows;
  for (const int doubles : {1, 2}) {
    std::vector<double> send(static_cast<std::size_t>(doubles), 1.0), receive(send.size());
    auto calls = [&](long long count) {
      for (long long k = 0; k < count; ++k) {
        MPI_Allreduce(send.data(), receive.data(), doubles, MPI_DOUBLE, MPI_SUM, comm);
      }
    };
    calls(kCalibration);  // warm-up
    MPI_Barrier(comm);
    auto start = Clock::now();
    calls(kCalibration);
    // Every rank must make the same number of calls: rank 0's count.
    long long per_batch = calls_per_batch(seconds_since(start), kCalibration, batch_seconds);
    MPI_Bcast(&per_batch, 1, MPI_LONG_LONG, 0, comm);
    std::vector<double> per_call;
    for (int b = 0; b < batches; ++b) {
      MPI_Barrier(comm);
      start = Clock::now();
      calls(per_batch);
      per_call.push_back(seconds_since(start) / static_cast<double>(per_batch));
    }
    const double mine = median(per_call);
    double seconds = mine;
    MPI_Allreduce(&mine, &seconds, 1, MPI_DOUBLE, MPI_MAX, comm);
    BenchRow row;
    row.benchmark = "allreduce";
    row.shape = str("ranks=", ranks, " doubles=", doubles);
    row.seconds = seconds;
    row.note = "MPI_Allreduce sum; max over ranks of the median time per call";
    row.more = {{"ranks", static_cast<double>(ranks)},
                {"doubles", static_cast<double>(doubles)},
                {"seconds", seconds},
                {"calls_per_batch", static_cast<double>(per_batch)}};
    rows.push_back(row);
    runtime::log::info(str("  allreduce of ", doubles, " double(s) on ", ranks, " rank(s): ",
                           seconds * 1e6, " us (", batches, " x ", per_batch, " calls)"));
  }
  if (runtime::comm_rank(comm) != 0) rows.clear();
  return rows;
}

std::vector<BenchRow> bench_flow_partition(MPI_Comm comm, const BenchOptions& options) {
  namespace flow = solvers::flow;
  std::vector<BenchRow> rows;
  if (runtime::comm_rank(comm) != 0) return rows;
  std::vector<MeshSize> sizes = {{0.02, 0.005}, {0.005, 0.00125}};  // 3.5k and 55k vertices
  if (options.quick) sizes = {{0.08, 0.02}};
  const int seed = flow::FlowParameters{}.partition_seed;
  for (const MeshSize& size : sizes) {
    const flow::P2Mesh p2 = flow::make_p2_mesh(channel_mesh(size), std::nullopt, "scaling_model");
    const graph::HostCsr coupling = flow::p2_graph(p2);
    const graph::HostCsr vertex_graph = flow::flow_vertex_graph(p2);
    for (const int parts : part_counts(options, p2.num_vertices)) {
      const auto start = Clock::now();
      const parallel::Partition vertices = flow::flow_vertex_partition(p2, parts, seed);
      const double seconds = seconds_since(start);
      const parallel::Partition nodes{parts, flow::p2_node_owner(p2, vertices)};
      const parallel::PartitionStats p2_stats = parallel::partition_stats(coupling, nodes, 1);
      const parallel::PartitionStats p1_stats =
          parallel::partition_stats(vertex_graph, vertices, 1);
      BenchRow row;
      row.benchmark = "flow_partition";
      row.shape = str("vertices=", p2.num_vertices, " p2_nodes=", p2.num_nodes(), " parts=", parts);
      row.seconds = seconds;
      row.extra = p2_stats.halo_fraction();
      row.note = "flow solver partition, one-hop P2 halo; extra = ghosts / owned";
      row.more = {{"parts", static_cast<double>(parts)},
                  {"vertices", static_cast<double>(p2.num_vertices)},
                  {"p2_nodes", static_cast<double>(p2.num_nodes())}};
      add_halo_columns(row, p2_stats, "");
      row.more.insert(row.more.end(), {{"edge_cut", static_cast<double>(p1_stats.edge_cut)},
                                       {"p2_coupling_cut", static_cast<double>(p2_stats.edge_cut)},
                                       {"imbalance", p2_stats.imbalance}});
      add_halo_columns(row, p1_stats, "pressure_");
      row.more.insert(row.more.end(),
                      {{"mesh_size", size.size}, {"cylinder_mesh_size", size.cylinder_size}});
      rows.push_back(row);
      const Spread ghosts = spread(p2_stats.halo), neighbours = spread(p2_stats.neighbours);
      runtime::log::info(str("  flow_partition: ", row.shape, ": ghosts max ", ghosts.max, " mean ",
                             ghosts.mean, ", neighbours max ", neighbours.max, " mean ",
                             neighbours.mean, ", METIS ", seconds, " s"));
    }
  }
  return rows;
}

std::vector<BenchRow> bench_mesh_partition(MPI_Comm comm, const BenchOptions& options) {
  std::vector<BenchRow> rows;
  if (runtime::comm_rank(comm) != 0) return rows;
  const mesh::Mesh m =
      channel_mesh(options.quick ? MeshSize{0.08, 0.02} : MeshSize{0.005, 0.00125});
  // The mesh transformer's graph (models/mesh_transformer/dataset.cpp): the vertex
  // adjacency of the cells, without self-loops.
  const graph::HostCsr graph = mesh::node_graph(m, "bench scaling_model channel mesh");
  for (const int parts : part_counts(options, graph.num_nodes())) {
    const auto start = Clock::now();
    const parallel::Partition partition = parallel::partition_metis(graph, parts);
    const double seconds = seconds_since(start);
    for (const int hops : {1, 2}) {
      const parallel::PartitionStats stats = parallel::partition_stats(graph, partition, hops);
      BenchRow row;
      row.benchmark = "mesh_partition";
      row.shape = str("nodes=", graph.num_nodes(), " parts=", parts, " hops=", hops);
      row.seconds = seconds;
      row.extra = stats.halo_fraction();
      row.note = "mesh transformer graph, METIS, K-hop halo; extra = ghosts / owned";
      row.more = {{"parts", static_cast<double>(parts)},
                  {"hops", static_cast<double>(hops)},
                  {"nodes", static_cast<double>(graph.num_nodes())}};
      add_halo_columns(row, stats, "");
      row.more.insert(row.more.end(), {{"edge_cut", static_cast<double>(stats.edge_cut)},
                                       {"imbalance", stats.imbalance}});
      rows.push_back(row);
      const Spread ghosts = spread(stats.halo), neighbours = spread(stats.neighbours);
      runtime::log::info(str("  mesh_partition: ", row.shape, ": ghosts max ", ghosts.max, " mean ",
                             ghosts.mean, ", neighbours max ", neighbours.max, " mean ",
                             neighbours.mean));
    }
  }
  return rows;
}

}  // namespace tessera::bench
