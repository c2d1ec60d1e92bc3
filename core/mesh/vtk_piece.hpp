#pragma once
// A mesh as a piece for io::VtkSeries, so meshes (whole, or one rank's part of a
// partition) open in ParaView with their node types and fields. read_vtu reads such a
// piece back into an equal mesh.
#include <vector>

#include "core/io/vtk_series.hpp"
#include "core/mesh/mesh.hpp"

namespace tessera::mesh {

// Points padded to 3-D, the cells, a point array "node_type" when the mesh has node
// types, and `fields` as point arrays (pass mesh.steps[k].fields to write step k).
// InputError naming the field whose size is not num_points x components.
io::UnstructuredPiece to_vtk_piece(const Mesh& mesh, const std::vector<Field>& fields = {});

}  // namespace tessera::mesh
