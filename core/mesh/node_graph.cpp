#include "core/mesh/node_graph.hpp"

#include <limits>

#include "core/graph/csr_graph.hpp"
#include "core/runtime/error.hpp"

namespace tessera::mesh {

// csr_from_cells checks the sizes and ids (32-bit graph ids); its errors get the source.
graph::HostCsr node_graph(const Mesh& mesh, const std::string& source_name) {
  std::vector<graph::Index> cells;
  cells.reserve(mesh.cells.size());
  for (const Index id : mesh.cells) {
    // An id beyond 32 bits becomes -1, which csr_from_cells reports as outside the mesh.
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
