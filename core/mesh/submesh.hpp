#pragma once
// Part of a mesh as a mesh of its own, with the map back to the whole: what one rank
// holds after a partition, and what it writes (through to_vtk_piece) as its VTK piece.
#include <vector>

#include "core/mesh/mesh.hpp"

namespace tessera::mesh {

struct Submesh {
  Mesh mesh;
  std::vector<Index> global_points;  // local point i is point global_points[i] of the whole
  std::vector<Index> global_cells;   // local cell c is cell global_cells[c] of the whole
};

// The given cells (in the given order) and the points they use, renumbered in increasing
// global id; node types and every step's fields restricted to those points. Boundary
// facets are recomputed: facets on the whole mesh's boundary keep their tags, facets on
// the cut between parts are kUntagged. InputError for a cell id out of range or repeated.
Submesh extract_cells(const Mesh& mesh, const std::vector<Index>& cells);

}  // namespace tessera::mesh
