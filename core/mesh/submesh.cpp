#include "core/mesh/submesh.hpp"

#include <algorithm>
#include <array>
#include <map>

#include "core/runtime/error.hpp"

namespace tessera::mesh {

namespace {

std::array<Index, 3> facet_key(const Index* ids, int size, const std::vector<Index>* to_global) {
  std::array<Index, 3> key = {-1, -1, -1};
  for (int k = 0; k < size; ++k) key[k] = to_global ? (*to_global)[ids[k]] : ids[k];
  // Insertion sort: at most three entries (std::sort here trips GCC 12's -Warray-bounds).
  for (int i = 1; i < size; ++i) {
    for (int j = i; j > 0 && key[j - 1] > key[j]; --j) std::swap(key[j - 1], key[j]);
  }
  return key;
}

}  // namespace

Submesh extract_cells(const Mesh& mesh, const std::vector<Index>& cells) {
  const int per_cell = mesh.nodes_per_cell();
  const auto num_cells = static_cast<Index>(mesh.num_cells());
  Submesh part;
  std::vector<char> taken(mesh.num_cells(), 0);
  std::vector<Index> local(mesh.num_points(), -1);
  for (Index cell : cells) {
    if (cell < 0 || cell >= num_cells) {
      throw InputError(str("extract_cells: cell ", cell, " is outside 0..", num_cells - 1));
    }
    if (taken[cell]++) throw InputError(str("extract_cells: cell ", cell, " is given twice"));
    for (int k = 0; k < per_cell; ++k) local[mesh.cells[cell * per_cell + k]] = 0;
  }
  for (std::size_t p = 0; p < local.size(); ++p) {
    if (local[p] < 0) continue;
    local[p] = static_cast<Index>(part.global_points.size());
    part.global_points.push_back(static_cast<Index>(p));
  }

  Mesh& sub = part.mesh;
  sub.dimension = mesh.dimension;
  sub.cell_kind = mesh.cell_kind;
  for (Index p : part.global_points) {
    for (int axis = 0; axis < mesh.dimension; ++axis)
      sub.points.push_back(mesh.coordinate(p, axis));
    if (!mesh.node_types.empty()) sub.node_types.push_back(mesh.node_types[p]);
  }
  part.global_cells = cells;
  sub.cells.reserve(cells.size() * per_cell);
  for (Index cell : cells) {
    for (int k = 0; k < per_cell; ++k) sub.cells.push_back(local[mesh.cells[cell * per_cell + k]]);
  }
  for (const FieldStep& step : mesh.steps) {
    FieldStep out{step.time, {}};
    for (const Field& field : step.fields) {
      Field restricted{field.name, field.components, {}};
      restricted.values.reserve(part.global_points.size() * field.components);
      for (Index p : part.global_points) {
        const auto first = field.values.begin() + p * field.components;
        restricted.values.insert(restricted.values.end(), first, first + field.components);
      }
      out.fields.push_back(std::move(restricted));
    }
    sub.steps.push_back(std::move(out));
  }

  compute_boundary_facets(sub, "extract_cells");
  std::map<std::array<Index, 3>, BoundaryTag> whole_tags;
  for (std::size_t f = 0; f < mesh.num_boundary_facets(); ++f) {
    whole_tags[facet_key(&mesh.boundary_facets[f * mesh.dimension], mesh.dimension, nullptr)] =
        mesh.boundary_tags[f];
  }
  for (std::size_t f = 0; f < sub.num_boundary_facets(); ++f) {
    const auto found = whole_tags.find(
        facet_key(&sub.boundary_facets[f * sub.dimension], sub.dimension, &part.global_points));
    if (found != whole_tags.end()) sub.boundary_tags[f] = found->second;
  }
  return part;
}

}  // namespace tessera::mesh
