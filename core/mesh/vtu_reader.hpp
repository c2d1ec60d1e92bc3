#pragma once
// Reading VTK XML unstructured grids (.vtu), as written by meshio, ParaView and our own
// io::VtkSeries, through VTK's reader (every encoding and compressor it knows).
#include <string>

#include "core/mesh/mesh.hpp"

namespace tessera::mesh {

// A triangle mesh (points with z = 0 everywhere become 2-D) or a tetrahedral one; one
// step, at the file's TimeValue field-data entry or 0, holding every numeric point array
// as a field, except a point array "node_type" of integers 0..8, which becomes the
// node types (io::VtkSeries pieces from to_vtk_piece write them so). Cell arrays are
// not read. Clockwise files are turned round and the mesh checked (finish_mesh).
// InputError naming the file when it is missing or not a VTU file, holds other cell
// types (or a mix), triangles off the plane z = 0, or fails check_mesh.
Mesh read_vtu(const std::string& path);

// The same for a parallel file (.pvtu) and its pieces, merged into one mesh: the points
// that pieces repeat on their cuts (same coordinates) become one; fields are taken from
// the first piece holding a point.
Mesh read_pvtu(const std::string& path);

}  // namespace tessera::mesh
