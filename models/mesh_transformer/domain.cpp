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
                                     const std::vector<graph::HostCsr>& layer_graphs,
                                     std::vector<int> owner) {
  std::vector<const graph::HostCsr*> reach = {&mesh};
  for (const auto& g : layer_graphs) reach.push_back(&g);
  if (owner.empty()) owner = parallel::partition_metis(mesh, runtime::comm_size(domain)).owner;
  return std::make_unique<MeshPart>(domain, graph_union(reach), std::move(owner));
}

graph::CsrGraph device_graph(const MeshPart* part, const graph::HostCsr& global,
                             std::vector<std::size_t>* edges) {
  if (!part) {
    if (edges) edges->clear();
    return graph::to_device(global);
  }
  return graph::to_device(part->local_graph(global, edges));
}

graph::CsrGraph device_attention_graph(const MeshPart* part, const graph::HostCsr& mesh_graph,
                                       std::size_t global_nodes, bool self_loops) {
  if (!part) return graph::to_device(with_global_nodes(mesh_graph, global_nodes, self_loops));
  const bool first = runtime::comm_rank(part->halo().comm()) == 0;
  return graph::to_device(with_global_nodes(part->local_graph(mesh_graph), global_nodes,
                                            self_loops, part->owned(), first));
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
