#include "models/mesh_transformer/domain.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "core/parallel/mpi_types.hpp"
#include "core/parallel/partition.hpp"
#include "core/parallel/sharded_softmax.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"
#include "core/tensor/host_copy.hpp"
#include "models/mesh_transformer/surrogate.hpp"

namespace tessera::models::mesh_transformer {

std::unique_ptr<MeshPart> split_mesh(MPI_Comm domain, const graph::HostCsr& mesh,
                                     const std::vector<graph::HostCsr>& layer_graphs) {
  std::vector<const graph::HostCsr*> reach = {&mesh};
  for (const auto& g : layer_graphs) reach.push_back(&g);
  std::vector<int> owner = parallel::partition_metis(mesh, runtime::comm_size(domain)).owner;
  return std::make_unique<MeshPart>(domain, graph_union(reach), std::move(owner));
}

namespace {

// `rows` plus the random pairs that touch its own nodes (with_random_edges' pairs: the
// node and edge counts are summed over the ranks, and every rank draws every pair).
parallel::OwnedRows with_random_rows(MPI_Comm domain, const parallel::OwnedRows& rows,
                                     double fraction, std::uint64_t seed, std::uint64_t stream) {
  long long counts[2] = {static_cast<long long>(rows.size()),
                         static_cast<long long>(rows.columns.size())};
  MPI_Allreduce(MPI_IN_PLACE, counts, 2, MPI_LONG_LONG, MPI_SUM, domain);
  const auto n = static_cast<std::size_t>(counts[0]);
  const auto edges = static_cast<std::size_t>(counts[1]);
  if (std::llround(fraction * static_cast<double>(edges) / 2) == 0 || n < 2) return rows;
  std::vector<std::vector<long long>> added(rows.size());
  const auto add = [&](long long a, long long b) {
    const auto at = std::lower_bound(rows.ids.begin(), rows.ids.end(), a);
    if (at != rows.ids.end() && *at == a)
      added[static_cast<std::size_t>(at - rows.ids.begin())].push_back(b);
  };
  random_pairs(n, edges, fraction, seed, stream, [&](long long a, long long b) {
    add(a, b);
    add(b, a);
  });
  parallel::OwnedRows out;
  for (std::size_t l = 0; l < rows.size(); ++l) {
    std::vector<long long> row(
        rows.columns.begin() + static_cast<std::ptrdiff_t>(rows.row_ptr[l]),
        rows.columns.begin() + static_cast<std::ptrdiff_t>(rows.row_ptr[l + 1]));
    row.insert(row.end(), added[l].begin(), added[l].end());
    std::sort(row.begin(), row.end());
    row.erase(std::unique(row.begin(), row.end()), row.end());
    out.add_row(rows.ids[l], row);
  }
  return out;
}

}  // namespace

AttentionRows attention_rows(MPI_Comm domain, const parallel::OwnedRows& mesh,
                             const AttentionGraphOptions& o, std::size_t blocks,
                             std::uint64_t trajectory, std::size_t heads) {
  check_attention_options(o, blocks, heads);
  AttentionRows out;
  const parallel::OwnedRows base = o.hops == 1 && !o.self_loops
                                       ? mesh
                                       : parallel::k_hop_rows(domain, mesh, o.hops, o.self_loops);
  out.graphs.push_back(
      with_random_rows(domain, base, o.random_edges, o.seed, kRandomEdgeStream + trajectory));
  if (o.dilated_layers > 0) {
    out.graphs.push_back(parallel::dilated_rows(domain, mesh, o.dilation, 2, o.self_loops));
  }
  out.block_graph = block_graphs(o, blocks, heads);
  return out;
}

graph::CsrGraph device_graph(const MeshPart* part, const graph::HostCsr& global,
                             std::vector<std::size_t>* edges) {
  if (!part) {
    if (edges) edges->clear();
    return graph::to_device(global);
  }
  return graph::to_device(part->local_graph(global, edges));
}

namespace {

// A part's local attention graph on the device, with its token rows (see domain.hpp).
graph::CsrGraph with_part_tokens(const MeshPart& part, const graph::HostCsr& local,
                                 std::size_t global_nodes, bool self_loops) {
  const bool first = runtime::comm_rank(part.halo().comm()) == 0;
  return graph::to_device(with_global_nodes(local, global_nodes, self_loops, part.owned(), first));
}

}  // namespace

graph::CsrGraph device_attention_graph(const MeshPart* part, const graph::HostCsr& mesh_graph,
                                       std::size_t global_nodes, bool self_loops) {
  if (!part) return graph::to_device(with_global_nodes(mesh_graph, global_nodes, self_loops));
  return with_part_tokens(*part, part->local_graph(mesh_graph), global_nodes, self_loops);
}

graph::CsrGraph device_attention_graph(const MeshPart& part, const parallel::OwnedRows& rows,
                                       std::size_t global_nodes, bool self_loops) {
  return with_part_tokens(part, part.local_graph(rows), global_nodes, self_loops);
}

namespace {

// Row of own node i: the nodes of the piece's cells whose first node is i (global ids).
parallel::OwnedRows piece_reach(const Trajectory& t) {
  const mesh::Mesh& m = t.piece.mesh;
  const auto per_cell = static_cast<std::size_t>(m.nodes_per_cell());
  std::vector<std::vector<long long>> rows(t.frame_nodes.size());
  for (std::size_t c = 0; c < m.num_cells(); ++c) {
    const auto global = [&](std::size_t k) {
      return static_cast<long long>(
          t.piece.global_points[static_cast<std::size_t>(m.cells[c * per_cell + k])]);
    };
    const auto at = std::lower_bound(t.frame_nodes.begin(), t.frame_nodes.end(), global(0));
    if (at == t.frame_nodes.end() || *at != global(0)) {
      throw std::invalid_argument(
          str(t.name, ": a piece cell's first node ", global(0), " is not this part's"));
    }
    for (std::size_t k = 0; k < per_cell; ++k) {
      rows[static_cast<std::size_t>(at - t.frame_nodes.begin())].push_back(global(k));
    }
  }
  parallel::OwnedRows out;
  for (std::size_t l = 0; l < rows.size(); ++l) {
    std::sort(rows[l].begin(), rows[l].end());
    rows[l].erase(std::unique(rows[l].begin(), rows[l].end()), rows[l].end());
    out.add_row(t.frame_nodes[l], rows[l]);
  }
  return out;
}

}  // namespace

PieceRows::PieceRows(MPI_Comm domain, const Trajectory& t) : plan_(domain, piece_reach(t)) {
  for (const mesh::Index g : t.piece.global_points) {
    local_.push_back(static_cast<std::size_t>(plan_.local_id(g)));  // in the plan: its reach
  }
}

std::vector<double> PieceRows::operator()(const std::vector<double>& own, std::size_t width) const {
  if (own.size() != plan_.owned_count() * width) {
    throw std::invalid_argument(str("piece rows: ", own.size(), " values for ", plan_.owned_count(),
                                    " own nodes x ", width));
  }
  std::vector<double> local = own;
  local.resize(plan_.local_count() * width, 0.0);
  const auto values = tensor::from_host<double>(local, plan_.local_count(), width, "piece_rows");
  plan_.gather(values);
  local = tensor::to_host(values);
  std::vector<double> out(local_.size() * width);
  for (std::size_t i = 0; i < local_.size(); ++i) {
    std::copy_n(local.begin() + static_cast<std::ptrdiff_t>(local_[i] * width), width,
                out.begin() + static_cast<std::ptrdiff_t>(i * width));
  }
  return out;
}

template <class T>
nn::SplitQueryRows<T> split_global_rows(const MeshPart& part, std::size_t global_nodes) {
  nn::SplitQueryRows<T> s;
  s.first = part.local();
  s.count = global_nodes;
  const MPI_Comm comm = part.halo().comm();
  s.merge = [comm](const tensor::Matrix<T>& lse, const tensor::Matrix<T>& context) {
    parallel::merge_softmax(comm, lse, context);
  };
  s.sum = [comm](const tensor::Matrix<T>& d_context) { parallel::allreduce_sum(comm, d_context); };
  return s;
}

template <class T>
void broadcast_rows(const tensor::Matrix<T>& rows, MPI_Comm comm) {
  parallel::through_host(rows, [&](T* values, int count) {
    MPI_Bcast(values, count, parallel::mpi_type<T>(), 0, comm);
  });
}

template <class T>
void reduce_rows_to_first(const tensor::Matrix<T>& rows, MPI_Comm comm) {
  const bool first = runtime::comm_rank(comm) == 0;
  parallel::through_host(rows, [&](T* values, int count) {
    MPI_Reduce(first ? MPI_IN_PLACE : values, values, count, parallel::mpi_type<T>(), MPI_SUM, 0,
               comm);
    if (!first) std::fill(values, values + count, T(0));
  });
}

template nn::SplitQueryRows<float> split_global_rows(const MeshPart&, std::size_t);
template nn::SplitQueryRows<double> split_global_rows(const MeshPart&, std::size_t);
template void broadcast_rows(const tensor::Matrix<float>&, MPI_Comm);
template void broadcast_rows(const tensor::Matrix<double>&, MPI_Comm);
template void reduce_rows_to_first(const tensor::Matrix<float>&, MPI_Comm);
template void reduce_rows_to_first(const tensor::Matrix<double>&, MPI_Comm);

}  // namespace tessera::models::mesh_transformer
