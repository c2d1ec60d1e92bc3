#include "core/mesh/vtk_piece.hpp"

#include <algorithm>

#include "core/runtime/error.hpp"

namespace tessera::mesh {

io::UnstructuredPiece to_vtk_piece(const Mesh& mesh, const std::vector<Field>& fields) {
  io::UnstructuredPiece piece;
  const std::size_t n = mesh.num_points();
  piece.points.assign(3 * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (int axis = 0; axis < mesh.dimension && axis < 3; ++axis) {
      piece.points[3 * i + axis] = mesh.points[i * mesh.dimension + axis];
    }
  }
  const int per_cell = mesh.nodes_per_cell();
  const io::CellType type =
      mesh.cell_kind == CellKind::kTriangle ? io::CellType::kTriangle : io::CellType::kTetra;
  piece.connectivity.assign(mesh.cells.begin(), mesh.cells.end());
  piece.cell_offsets.reserve(mesh.num_cells() + 1);
  for (std::size_t c = 0; c <= mesh.num_cells(); ++c) piece.cell_offsets.push_back(c * per_cell);
  piece.cell_types.assign(mesh.num_cells(), type);
  if (!mesh.node_types.empty()) {
    io::NamedArray types{"node_type", 1, std::vector<double>(mesh.node_types.size())};
    for (std::size_t i = 0; i < mesh.node_types.size(); ++i) {
      types.values[i] = static_cast<double>(mesh.node_types[i]);
    }
    piece.point_data.push_back(std::move(types));
  }
  for (const Field& field : fields) {
    if (field.components < 1 ||
        field.values.size() != n * static_cast<std::size_t>(field.components)) {
      throw InputError(str("to_vtk_piece: field '", field.name, "' has ", field.values.size(),
                           " values; ", n, " points x ", field.components, " components need ",
                           n * static_cast<std::size_t>(std::max(field.components, 0))));
    }
    piece.point_data.push_back({field.name, field.components, field.values});
  }
  return piece;
}

}  // namespace tessera::mesh
