#include "core/mesh/node_graph.hpp"

#include <limits>

#include "core/graph/csr_graph.hpp"
#include "core/runtime/error.hpp"

namespace tessera::mesh {

graph::HostCsr node_graph(const Mesh& mesh, const std::string& source_name) {
  if (mesh.num_points() >= static_cast<std::size_t>(std::numeric_limits<graph::Index>::max())) {
    throw InputError(str(source_name, ": ", mesh.num_points(),
                         " points do not fit 32-bit graph ids; partition the mesh first"));
  }
  std::vector<graph::Index> cells;
  cells.reserve(mesh.cells.size());
  for (const Index id : mesh.cells) {
    // Ids outside the mesh are reported by csr_from_cells; ids beyond 32 bits are too.
    cells.push_back(id < 0 || id > std::numeric_limits<graph::Index>::max()
                        ? graph::Index(-1)
                        : static_cast<graph::Index>(id));
  }
  try {
    return graph::to_host(
        graph::csr_from_cells(mesh.num_points(), cells, mesh.nodes_per_cell(), false));
  } catch (const InputError& e) {
    throw InputError(str(source_name, ": ", e.what()));
  }
}

}  // namespace tessera::mesh
