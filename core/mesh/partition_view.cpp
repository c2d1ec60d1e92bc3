#include "core/mesh/partition_view.hpp"

#include "core/graph/csr_graph.hpp"
#include "core/io/vtk_series.hpp"
#include "core/mesh/broadcast.hpp"
#include "core/mesh/node_graph.hpp"
#include "core/mesh/submesh.hpp"
#include "core/mesh/vtk_piece.hpp"
#include "core/parallel/halo_plan.hpp"
#include "core/parallel/partition.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/runtime.hpp"

namespace tessera::mesh {

using config::at_least;

void add_mesh_partition_keys(config::Schema& s) {
  add_channel_mesh_keys(s);
  s.add_string("partition.method", std::string("metis"), {"metis", "blocks"},
               "metis: k-way graph partition; blocks: contiguous node ids (for comparison)");
  s.add_int("partition.parts", 0, at_least(0),
            "number of parts; 0: one per rank (then each rank also builds its halo)");
  s.add_int("partition.halo_hops", 1, at_least(1), "hops of the halo (K for K-hop operators)");
}

MeshPartitionConfig mesh_partition_from_config(const config::Config& c) {
  MeshPartitionConfig p;
  p.source = c.source();
  p.mesh = channel_mesh_from_config(c);
  p.method = c.get_string("partition.method");
  p.parts = static_cast<int>(c.get_int("partition.parts"));
  p.halo_hops = static_cast<int>(c.get_int("partition.halo_hops"));
  p.seed = static_cast<int>(c.get_int("run.seed"));
  p.vtk = c.get_bool("output.vtk");
  return p;
}

void validate(const MeshPartitionConfig& c, int ranks) {
  if (c.parts != 0 && c.parts != ranks && ranks > 1) {
    throw InputError(str(c.source, ": key 'partition.parts' = ", c.parts, " with ", ranks,
                         " ranks: expected 0 or ", ranks,
                         " (a partition into other part counts is computed on one rank)"));
  }
  if (c.mesh.from_file) config::with_source(c.source, [&] { resolve_mesh_file(c.mesh); });
}

PartitionSummary run_mesh_partition(const MeshPartitionConfig& c, const io::RunContext& ctx) {
  const int rank = runtime::comm_rank(ctx.comm);
  const int ranks = runtime::comm_size(ctx.comm);
  Mesh m;
  {
    runtime::Timers::Scope scope(*ctx.timers, "mesh");
    // Gmsh is serial and files are read once: rank 0 makes the mesh, everyone gets it.
    runtime::on_root(
        ctx.comm, [&] { config::with_source(c.source, [&] { m = load_channel_mesh(c.mesh); }); });
    broadcast_mesh(ctx.comm, m);
  }
  runtime::log::info(str("mesh: ", m.num_points(), " nodes, ", m.num_cells(),
                         m.cell_kind == CellKind::kTriangle ? " triangles" : " tetrahedra"));
  const graph::HostCsr graph = node_graph(
      m, c.mesh.from_file ? c.source + ": key 'mesh.file' = \"" + c.mesh.file + "\"" : c.source);
  const std::int64_t parts_key = c.parts;
  const int parts = parts_key == 0 ? ranks : static_cast<int>(parts_key);
  const int hops = static_cast<int>(c.halo_hops);

  parallel::Partition partition;
  {
    runtime::Timers::Scope scope(*ctx.timers, "partition");
    runtime::on_root(ctx.comm, [&] {
      partition = c.method == "metis"
                      ? parallel::partition_metis(graph, parts, static_cast<int>(c.seed))
                      : parallel::partition_blocks(graph.num_nodes(), parts);
    });
    partition.parts = parts;
    partition.owner.resize(graph.num_nodes());
    MPI_Bcast(partition.owner.data(), static_cast<int>(partition.owner.size()), MPI_INT, 0,
              ctx.comm);
  }
  const parallel::PartitionStats stats = parallel::partition_stats(graph, partition, hops);
  runtime::log::info(str("partition: ", parts, " parts (", c.method, "), edge cut ", stats.edge_cut,
                         ", imbalance ", stats.imbalance, ", halo fraction ", stats.halo_fraction(),
                         " for ", hops, " hop(s)"));

  io::ResultsFile& results = *ctx.results;
  const std::uint64_t n = graph.num_nodes();
  std::vector<double> owner(partition.owner.begin(), partition.owner.end());
  results.write_root_array("/mesh/points", {n, static_cast<std::uint64_t>(m.dimension)}, m.points);
  results.write_root_array("/mesh/cells",
                           {m.num_cells(), static_cast<std::uint64_t>(m.nodes_per_cell())},
                           std::vector<double>(m.cells.begin(), m.cells.end()));
  std::vector<double> types;
  for (const NodeType t : m.node_types) types.push_back(static_cast<double>(t));
  if (!types.empty()) results.write_root_array("/mesh/node_type", {n}, types);
  results.write_root_array("/partition/owner", {n}, owner);
  auto as_double = [](const std::vector<long long>& v) {
    return std::vector<double>(v.begin(), v.end());
  };
  const std::uint64_t p = static_cast<std::uint64_t>(parts);
  results.write_root_array("/partition/owned", {p}, as_double(stats.owned));
  results.write_root_array("/partition/halo", {p}, as_double(stats.halo));
  results.write_root_array("/partition/neighbours", {p}, as_double(stats.neighbours));
  results.set_attribute("/partition/owner", "edge_cut", static_cast<double>(stats.edge_cut));
  results.set_attribute("/partition/owner", "imbalance", stats.imbalance);
  results.set_attribute("/partition/owner", "halo_fraction", stats.halo_fraction());
  results.set_attribute("/partition/owner", "halo_hops", static_cast<double>(hops));
  results.set_attribute("/partition/owner", "method", c.method);

  // A cell belongs to the part of its first node: every cell is written exactly once.
  std::vector<Index> my_cells;
  const bool one_rank_per_part = parts == ranks;
  for (std::size_t cell = 0; cell < m.num_cells(); ++cell) {
    const int part = partition.owner[m.cells[m.nodes_per_cell() * cell]];
    if ((one_rank_per_part && part == rank) || (!one_rank_per_part && rank == 0)) {
      my_cells.push_back(static_cast<Index>(cell));
    }
  }

  if (one_rank_per_part) {
    runtime::Timers::Scope scope(*ctx.timers, "halo_plan");
    const parallel::HaloPlan plan(ctx.comm, graph, partition.owner, hops);
    long long ghosts = static_cast<long long>(plan.ghost_count());
    std::vector<long long> all_ghosts(ranks);
    MPI_Gather(&ghosts, 1, MPI_LONG_LONG, all_ghosts.data(), 1, MPI_LONG_LONG, 0, ctx.comm);
    results.write_root_array("/partition/plan_ghosts", {p}, as_double(all_ghosts));
    // The partition as a field in the global node order, each rank writing its nodes.
    std::vector<std::int64_t> rows(plan.global_ids().begin(),
                                   plan.global_ids().begin() + plan.owned_count());
    results.begin_field_step(0.0);
    results.write_field_rows("partition", static_cast<std::int64_t>(n), rows,
                             std::vector<double>(rows.size(), static_cast<double>(rank)));
    runtime::log::info(str("halo: rank 0 owns ", plan.owned_count(), " nodes with ",
                           plan.ghost_count(), " ghosts and ", plan.neighbours().size(),
                           " neighbour rank(s)"));
  }

  if (c.vtk) {
    runtime::Timers::Scope scope(*ctx.timers, "output");
    io::VtkSeries series(ctx.comm, ctx.directory, "partition");
    io::UnstructuredPiece piece;
    piece.cell_offsets.push_back(0);
    if (!my_cells.empty()) {
      const Submesh part = extract_cells(m, my_cells);
      std::vector<double> node_part(part.global_points.size());
      for (std::size_t i = 0; i < node_part.size(); ++i) {
        node_part[i] = partition.owner[part.global_points[i]];
      }
      piece = to_vtk_piece(part.mesh, {{"partition", 1, node_part}});
      std::vector<double> global_id(part.global_points.begin(), part.global_points.end());
      piece.point_data.push_back({"global_id", 1, global_id});
      std::vector<double> cell_part(part.global_cells.size());
      for (std::size_t k = 0; k < cell_part.size(); ++k) {
        cell_part[k] = partition.owner[m.cells[m.nodes_per_cell() * part.global_cells[k]]];
      }
      piece.cell_data.push_back({"partition", 1, cell_part});
    }
    series.write_step(0.0, piece);
  }
  PartitionSummary summary;
  summary.nodes = static_cast<long long>(n);
  summary.parts = parts;
  summary.edge_cut = stats.edge_cut;
  summary.imbalance = stats.imbalance;
  summary.halo_fraction = stats.halo_fraction();
  return summary;
}

}  // namespace tessera::mesh
