#include "models/st_forecast/sensor_split.hpp"

#include <algorithm>

#include "core/graph/neighbourhoods.hpp"
#include "core/parallel/partition.hpp"
#include "core/runtime/runtime.hpp"

namespace tessera::models::st_forecast {

graph::HostCsr laplacian_pattern(const std::vector<graph::Index>& row_ptr,
                                 const std::vector<graph::Index>& col_idx) {
  graph::HostCsr adjacency;
  adjacency.row_ptr.push_back(0);
  for (std::size_t i = 0; i + 1 < row_ptr.size(); ++i) {
    for (auto e = row_ptr[i]; e < row_ptr[i + 1]; ++e) {
      if (static_cast<std::size_t>(col_idx[e]) != i) adjacency.col_idx.push_back(col_idx[e]);
    }
    adjacency.row_ptr.push_back(static_cast<graph::Index>(adjacency.col_idx.size()));
  }
  return adjacency;
}

std::unique_ptr<parallel::GraphPart> split_sensors(MPI_Comm group, const ScaledLaplacian& laplacian,
                                                   std::size_t hops, std::size_t cheb_order) {
  const graph::HostCsr adjacency = laplacian_pattern(laplacian.row_ptr, laplacian.col_idx);
  const int parts = runtime::comm_size(group);
  if (static_cast<std::size_t>(parts) > adjacency.num_nodes()) {
    throw InputError(str("st_forecast: ", adjacency.num_nodes(), " sensors cannot be split over ",
                         parts, " ranks"));
  }
  const std::size_t reach = std::max<std::size_t>({hops, cheb_order > 0 ? cheb_order - 1 : 0, 1});
  const graph::HostCsr ghosts = graph::k_hop(adjacency, static_cast<int>(reach), false);
  return std::make_unique<parallel::GraphPart>(group, ghosts,
                                               parallel::partition_metis(adjacency, parts).owner);
}

}  // namespace tessera::models::st_forecast
