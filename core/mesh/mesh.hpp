#pragma once
// An unstructured simplex mesh on the host: points, cells, MeshGraphNets node types,
// the boundary facets with the part of the boundary each lies on, and point fields over
// time steps. It stays on the host because everything that makes or consumes a whole
// mesh (generator, readers, checks, partitioner, writers) runs there; solvers and models
// copy what they need into Views. 2-D triangles today; the types also carry 3-D
// tetrahedra, so that a 3-D reader or generator needs no new containers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/mesh/node_type.hpp"

namespace tessera::mesh {

// 64-bit like the files we read (XDMF int64, Gmsh's size_t tags) and VTK's vtkIdType;
// graph code narrows to its own 32-bit index when it builds CSR arrays.
using Index = std::int64_t;

enum class CellKind : std::uint8_t { kTriangle, kTetrahedron };

inline int nodes_per_cell(CellKind kind) {
  return kind == CellKind::kTriangle ? 3 : 4;
}
// The dimension of space the cells fill: their points have this many coordinates.
inline int cell_dimension(CellKind kind) {
  return kind == CellKind::kTriangle ? 2 : 3;
}
std::string to_string(CellKind kind);

// The part of the boundary a facet lies on. It is geometry, not a boundary condition:
// node types say what a model does there (the cylinder is OBSTACLE or WALL_BOUNDARY
// depending on the convention asked for, its facets are kObstacle either way).
enum class BoundaryTag : std::uint8_t {
  kUntagged = 0,
  kInflow = 1,
  kOutflow = 2,
  kWall = 3,
  kObstacle = 4,
};
std::string to_string(BoundaryTag tag);

// A point field: num_points x components values, row-major.
struct Field {
  std::string name;
  int components = 1;
  std::vector<double> values;
};

// The fields of one time step (a file without time has one step at time 0).
struct FieldStep {
  double time = 0.0;
  std::vector<Field> fields;

  // nullptr when there is no field of that name.
  const Field* find(const std::string& name) const;
};

struct Mesh {
  int dimension = 2;
  CellKind cell_kind = CellKind::kTriangle;
  std::vector<double> points;        // num_points x dimension
  std::vector<Index> cells;          // num_cells x nodes_per_cell, positively oriented
  std::vector<NodeType> node_types;  // num_points, or empty when not known yet
  // Facets (edges in 2-D, triangles in 3-D) of exactly one cell, oriented like that cell:
  // in 2-D the cell lies to the left of edge (a, b), so the outward normal is (dy, -dx).
  std::vector<Index> boundary_facets;      // num_boundary_facets x dimension
  std::vector<BoundaryTag> boundary_tags;  // one per boundary facet
  std::vector<FieldStep> steps;

  std::size_t num_points() const { return dimension > 0 ? points.size() / dimension : 0; }
  int nodes_per_cell() const { return mesh::nodes_per_cell(cell_kind); }
  std::size_t num_cells() const { return cells.size() / nodes_per_cell(); }
  std::size_t num_boundary_facets() const {
    return dimension > 0 ? boundary_facets.size() / dimension : 0;
  }
  double coordinate(Index point, int axis) const {
    return points[static_cast<std::size_t>(point) * dimension + axis];
  }
  // The field `name` at `step`; InputError naming the step, the field and the fields
  // there are when it is missing.
  const Field& field(std::size_t step, const std::string& name) const;
};

// Fills boundary_facets from the cells (facets that belong to exactly one cell, in a
// deterministic order: sorted by their smallest point id, then the others) and sets
// every tag to kUntagged. Cell indices must be valid (check_mesh first). InputError when a facet is
// shared by more than two cells (a non-manifold mesh has no well-defined boundary).
void compute_boundary_facets(Mesh& mesh, const std::string& source_name);

// Sorted ids of the points on boundary facets.
std::vector<Index> boundary_points(const Mesh& mesh);

// The smallest box holding all points: {min_0, max_0, min_1, max_1, ...}.
std::vector<double> bounding_box(const Mesh& mesh);

}  // namespace tessera::mesh
