#pragma once
// Validation of a mesh before anything computes on it. A bad file otherwise shows up
// far away (a NaN in a solver, a partitioner crash, a model that never learns); here it
// is an InputError naming the file, the first offending cell or point, and how many
// there are. Also the one repair we make silently: a file whose cells all turn the
// wrong way round.
#include <cstddef>
#include <string>

#include "core/mesh/mesh.hpp"

namespace tessera::mesh {

// Tolerances relative to the mesh scale D (the diagonal of its bounding box), so that
// the same check holds for a channel in metres and a wing in millimetres.
struct CheckTolerances {
  // Two points closer than this x D in every coordinate are the same point.
  double duplicate = 1e-10;
  // A cell whose |area| (|volume|) is below this x D^2 (D^3) is degenerate.
  double degenerate = 1e-12;
};

// InputError, prefixed by `source_name` (a file name, "generated channel"), for:
// array sizes that disagree (points, cells, node types, boundary tags, fields with the
// wrong number of values), cell or facet indices out of range, a cell that repeats a
// point, points used by no cell, duplicate points (O(n) hash grid), degenerate cells and
// inverted cells (negative signed area or volume). It checks in that order and reports
// the first problem found.
void check_mesh(const Mesh& mesh, const std::string& source_name,
                const CheckTolerances& tolerances = {});

// A point index stored as a number (XDMF and HDF5 files convert to double): InputError,
// prefixed by `source_name`, unless it is a whole number in [0, 2^53); whether it names a
// point of the mesh is check_mesh's to say.
Index point_index(double value, const std::string& source_name);

// Signed area of a triangle (positive when counter-clockwise) or signed volume of a
// tetrahedron (positive when (p1-p0, p2-p0, p3-p0) is right-handed). Indices must be valid.
double signed_measure(const Mesh& mesh, std::size_t cell);

// Cells with negative signed measure, skipping cells with out-of-range indices (which
// check_mesh reports).
std::size_t count_inverted(const Mesh& mesh);

// Swaps two points of every cell with negative signed measure, so that all cells are
// counter-clockwise (2-D) or right-handed (3-D); returns how many it turned. Boundary
// facets are not touched: recompute them afterwards.
std::size_t orient(Mesh& mesh);

// What readers do: a file whose cells are all clockwise is a convention (some writers
// use it) and is turned round; a file with some cells each way is left for check_mesh
// to report, since mixed orientation is more often a folded (tangled) mesh than a
// convention. Returns whether it turned the cells.
bool orient_if_all_inverted(Mesh& mesh);

// What every reader (and any code that assembles a mesh by hand) does last:
// orient_if_all_inverted, check_mesh, then compute_boundary_facets.
void finish_mesh(Mesh& mesh, const std::string& source_name);

}  // namespace tessera::mesh
