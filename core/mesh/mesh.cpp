#include "core/mesh/mesh.hpp"

#include <algorithm>
#include <array>
#include <limits>

#include "core/runtime/error.hpp"

namespace tessera::mesh {

std::string to_string(CellKind kind) {
  return kind == CellKind::kTriangle ? "triangle" : "tetrahedron";
}

std::string to_string(BoundaryTag tag) {
  switch (tag) {
    case BoundaryTag::kUntagged:
      return "untagged";
    case BoundaryTag::kInflow:
      return "inflow";
    case BoundaryTag::kOutflow:
      return "outflow";
    case BoundaryTag::kWall:
      return "wall";
    case BoundaryTag::kObstacle:
      return "obstacle";
  }
  return "unknown";
}

const Field* FieldStep::find(const std::string& name) const {
  for (const Field& field : fields) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

const Field& Mesh::field(std::size_t step, const std::string& name) const {
  if (step >= steps.size()) {
    throw InputError(str("mesh: no step ", step, " (the mesh has ", steps.size(), " steps)"));
  }
  if (const Field* found = steps[step].find(name)) return *found;
  std::string names;
  for (const Field& field : steps[step].fields) names += (names.empty() ? "" : ", ") + field.name;
  throw InputError(str("mesh: no field '", name, "' at step ", step,
                       " (fields there: ", names.empty() ? "none" : names, ")"));
}

namespace {

// Local facets of a positively oriented cell, listed so that each facet keeps the
// cell's orientation (2-D: cell on the left; 3-D: normal pointing out of the cell).
constexpr int kTriangleFacets[3][3] = {{1, 2, -1}, {2, 0, -1}, {0, 1, -1}};
constexpr int kTetrahedronFacets[4][3] = {{1, 2, 3}, {0, 3, 2}, {0, 1, 3}, {0, 2, 1}};

// One facet seen from one cell, bucketed by its smallest point: the other points
// (sorted) identify it within the bucket; `code` = cell * facets_per_cell + local facet.
template <int kOthers>
struct FacetRecord {
  std::array<Index, kOthers> others;
  Index code;
};

template <int kFacetSize>
void collect_boundary(Mesh& mesh, const std::string& source_name) {
  constexpr int kOthers = kFacetSize - 1;
  const int per_cell = mesh.nodes_per_cell();
  const std::size_t num_cells = mesh.num_cells();
  const std::size_t num_points = mesh.num_points();
  const auto local_point = [&](int facet, int k) {
    return kFacetSize == 2 ? kTriangleFacets[facet][k] : kTetrahedronFacets[facet][k];
  };
  const auto facet_points = [&](Index code) {
    std::array<Index, kFacetSize> ids{};
    const Index cell = code / per_cell;
    const int facet = static_cast<int>(code % per_cell);
    for (int k = 0; k < kFacetSize; ++k) {
      ids[k] = mesh.cells[cell * per_cell + local_point(facet, k)];
    }
    return ids;
  };

  // Counting sort by smallest point: O(facets) and far less memory than a hash map.
  std::vector<Index> offsets(num_points + 1, 0);
  for (std::size_t c = 0; c < num_cells; ++c) {
    for (int f = 0; f < per_cell; ++f) {
      auto ids = facet_points(static_cast<Index>(c * per_cell + f));
      ++offsets[*std::min_element(ids.begin(), ids.end()) + 1];
    }
  }
  for (std::size_t p = 0; p < num_points; ++p) offsets[p + 1] += offsets[p];
  std::vector<FacetRecord<kOthers>> records(static_cast<std::size_t>(offsets.back()));
  std::vector<Index> fill(offsets.begin(), offsets.end() - 1);
  for (std::size_t c = 0; c < num_cells; ++c) {
    for (int f = 0; f < per_cell; ++f) {
      const Index code = static_cast<Index>(c * per_cell + f);
      auto ids = facet_points(code);
      std::sort(ids.begin(), ids.end());
      FacetRecord<kOthers> record{};
      std::copy(ids.begin() + 1, ids.end(), record.others.begin());
      record.code = code;
      records[fill[ids[0]]++] = record;
    }
  }

  mesh.boundary_facets.clear();
  for (std::size_t p = 0; p < num_points; ++p) {
    auto first = records.begin() + offsets[p];
    auto last = records.begin() + offsets[p + 1];
    std::sort(first, last, [](const auto& a, const auto& b) {
      return a.others != b.others ? a.others < b.others : a.code < b.code;
    });
    for (auto it = first; it != last;) {
      auto end = it;
      while (end != last && end->others == it->others) ++end;
      if (end - it == 1) {
        for (Index id : facet_points(it->code)) mesh.boundary_facets.push_back(id);
      } else if (end - it > 2) {
        throw InputError(str(source_name, ": ", kFacetSize == 2 ? "an edge" : "a face",
                             " of point ", p, " is shared by ", end - it, " cells (cells ",
                             it->code / per_cell, " and ", (it + 2)->code / per_cell,
                             " among them); a mesh where more than two cells meet at a ",
                             "facet has no well-defined boundary"));
      }
      it = end;
    }
  }
  mesh.boundary_tags.assign(mesh.num_boundary_facets(), BoundaryTag::kUntagged);
}

}  // namespace

void compute_boundary_facets(Mesh& mesh, const std::string& source_name) {
  if (mesh.cell_kind == CellKind::kTriangle) {
    collect_boundary<2>(mesh, source_name);
  } else {
    collect_boundary<3>(mesh, source_name);
  }
}

std::vector<Index> boundary_points(const Mesh& mesh) {
  std::vector<Index> ids(mesh.boundary_facets);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::vector<double> bounding_box(const Mesh& mesh) {
  std::vector<double> box;
  for (int axis = 0; axis < mesh.dimension; ++axis) {
    box.push_back(std::numeric_limits<double>::infinity());
    box.push_back(-std::numeric_limits<double>::infinity());
  }
  const std::size_t n = mesh.num_points();
  for (std::size_t i = 0; i < n; ++i) {
    for (int axis = 0; axis < mesh.dimension; ++axis) {
      const double x = mesh.points[i * mesh.dimension + axis];
      box[2 * axis] = std::min(box[2 * axis], x);
      box[2 * axis + 1] = std::max(box[2 * axis + 1], x);
    }
  }
  return box;
}

}  // namespace tessera::mesh
