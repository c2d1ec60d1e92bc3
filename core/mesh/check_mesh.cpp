#include "core/mesh/check_mesh.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <unordered_map>

#include "core/runtime/error.hpp"

namespace tessera::mesh {

namespace {

std::string describe_cell(const Mesh& mesh, std::size_t cell) {
  std::ostringstream out;
  out << "cell " << cell << " (points ";
  const int per_cell = mesh.nodes_per_cell();
  for (int k = 0; k < per_cell; ++k) {
    out << (k ? ", " : "") << mesh.cells[cell * per_cell + k];
  }
  out << ")";
  return out.str();
}

std::string describe_point(const Mesh& mesh, std::size_t point) {
  std::ostringstream out;
  out.precision(9);
  out << "point " << point << " at (";
  for (int axis = 0; axis < mesh.dimension; ++axis) {
    out << (axis ? ", " : "") << mesh.points[point * mesh.dimension + axis];
  }
  out << ")";
  return out.str();
}

bool cell_in_range(const Mesh& mesh, std::size_t cell) {
  const int per_cell = mesh.nodes_per_cell();
  const auto n = static_cast<Index>(mesh.num_points());
  for (int k = 0; k < per_cell; ++k) {
    const Index id = mesh.cells[cell * per_cell + k];
    if (id < 0 || id >= n) return false;
  }
  return true;
}

void check_sizes(const Mesh& mesh, const std::string& source) {
  if (mesh.dimension != cell_dimension(mesh.cell_kind)) {
    throw InputError(str(source, ": ", to_string(mesh.cell_kind), " cells need ",
                         cell_dimension(mesh.cell_kind), "-D points, the mesh has ", mesh.dimension,
                         "-D points"));
  }
  if (mesh.points.size() % mesh.dimension != 0) {
    throw InputError(str(source, ": ", mesh.points.size(), " point coordinates are not a whole ",
                         "number of ", mesh.dimension, "-D points"));
  }
  if (mesh.cells.size() % mesh.nodes_per_cell() != 0) {
    throw InputError(str(source, ": ", mesh.cells.size(), " cell indices are not a whole number ",
                         "of ", to_string(mesh.cell_kind), "s (", mesh.nodes_per_cell(),
                         " points each)"));
  }
  if (mesh.num_cells() == 0) throw InputError(str(source, ": the mesh has no cells"));
  const std::size_t n = mesh.num_points();
  for (std::size_t i = 0; i < mesh.points.size(); ++i) {
    if (!std::isfinite(mesh.points[i])) {
      throw InputError(
          str(source, ": point ", i / mesh.dimension, " has a coordinate ", mesh.points[i]));
    }
  }
  if (!mesh.node_types.empty() && mesh.node_types.size() != n) {
    throw InputError(str(source, ": ", mesh.node_types.size(), " node types for ", n, " points"));
  }
  if (mesh.boundary_facets.size() % mesh.dimension != 0 ||
      mesh.boundary_tags.size() != mesh.num_boundary_facets()) {
    throw InputError(str(source, ": ", mesh.boundary_tags.size(), " boundary tags for ",
                         mesh.boundary_facets.size(), " boundary facet indices (", mesh.dimension,
                         " per facet)"));
  }
  for (std::size_t s = 0; s < mesh.steps.size(); ++s) {
    for (const Field& field : mesh.steps[s].fields) {
      if (field.components < 1 ||
          field.values.size() != n * static_cast<std::size_t>(field.components)) {
        throw InputError(str(source, ": field '", field.name, "' at step ", s, " (time ",
                             mesh.steps[s].time, ") has ", field.values.size(), " values; ", n,
                             " points x ", field.components, " components need ",
                             n * static_cast<std::size_t>(std::max(field.components, 0))));
      }
      for (std::size_t i = 0; i < field.values.size(); ++i) {
        if (!std::isfinite(field.values[i])) {
          throw InputError(str(source, ": field '", field.name, "' at step ", s, " (time ",
                               mesh.steps[s].time, ") is ", field.values[i], " at point ",
                               i / field.components, "; fields must be finite"));
        }
      }
    }
  }
}

void check_indices(const Mesh& mesh, const std::string& source) {
  const auto n = static_cast<Index>(mesh.num_points());
  const int per_cell = mesh.nodes_per_cell();
  std::size_t bad = 0;
  std::size_t first = 0;
  for (std::size_t c = 0; c < mesh.num_cells(); ++c) {
    if (!cell_in_range(mesh, c) && bad++ == 0) first = c;
  }
  if (bad > 0) {
    throw InputError(str(source, ": ", describe_cell(mesh, first), " refers to a point outside ",
                         "0..", n - 1, " (", bad, " such cells); are the indices 1-based?"));
  }
  for (std::size_t f = 0; f < mesh.boundary_facets.size(); ++f) {
    const Index id = mesh.boundary_facets[f];
    if (id < 0 || id >= n) {
      throw InputError(str(source, ": boundary facet ", f / mesh.dimension, " refers to point ", id,
                           ", outside 0..", n - 1));
    }
  }
  for (std::size_t c = 0; c < mesh.num_cells(); ++c) {
    std::array<Index, 4> ids{};
    std::copy_n(mesh.cells.begin() + c * per_cell, per_cell, ids.begin());
    std::sort(ids.begin(), ids.begin() + per_cell);
    if (std::adjacent_find(ids.begin(), ids.begin() + per_cell) != ids.begin() + per_cell) {
      throw InputError(str(source, ": ", describe_cell(mesh, c), " uses a point twice"));
    }
  }
}

void check_unused(const Mesh& mesh, const std::string& source) {
  std::vector<char> used(mesh.num_points(), 0);
  for (Index id : mesh.cells) used[id] = 1;
  const auto unused = static_cast<std::size_t>(std::count(used.begin(), used.end(), 0));
  if (unused > 0) {
    const std::size_t first = std::find(used.begin(), used.end(), 0) - used.begin();
    throw InputError(str(source, ": ", describe_point(mesh, first), " is used by no cell (", unused,
                         " unused points); remove them before reading the mesh"));
  }
}

double mesh_scale(const Mesh& mesh) {
  const std::vector<double> box = bounding_box(mesh);
  double sum = 0;
  for (int axis = 0; axis < mesh.dimension; ++axis) {
    const double extent = box[2 * axis + 1] - box[2 * axis];
    sum += extent * extent;
  }
  return std::sqrt(sum);
}

struct CellKeyHash {
  std::size_t operator()(const std::array<std::int64_t, 3>& key) const {
    std::uint64_t h = 1469598103934665603ull;
    for (std::int64_t k : key) h = (h ^ static_cast<std::uint64_t>(k)) * 1099511628211ull;
    return static_cast<std::size_t>(h);
  }
};

void check_duplicates(const Mesh& mesh, const std::string& source, double tolerance) {
  const std::size_t n = mesh.num_points();
  const int dim = mesh.dimension;
  if (n < 2) return;
  if (tolerance <= 0) {
    throw InputError(str(source, ": all ", n, " points coincide"));
  }
  // A grid of cells as wide as the tolerance: a point's duplicates can only lie in its
  // own cell or the ones next to it.
  const std::vector<double> box = bounding_box(mesh);
  std::unordered_map<std::array<std::int64_t, 3>, Index, CellKeyHash> grid;
  grid.reserve(n);
  const auto key_of = [&](std::size_t p) {
    std::array<std::int64_t, 3> key{};
    for (int axis = 0; axis < dim; ++axis) {
      key[axis] = static_cast<std::int64_t>(
          std::floor((mesh.points[p * dim + axis] - box[2 * axis]) / tolerance));
    }
    return key;
  };
  int neighbours = 1;
  for (int axis = 0; axis < dim; ++axis) neighbours *= 3;
  for (std::size_t p = 0; p < n; ++p) {
    const auto key = key_of(p);
    for (int k = 0; k < neighbours; ++k) {
      auto probe = key;
      for (int axis = 0, rest = k; axis < dim; ++axis, rest /= 3) probe[axis] += rest % 3 - 1;
      const auto found = grid.find(probe);
      if (found == grid.end()) continue;
      const auto q = static_cast<std::size_t>(found->second);
      bool same = true;
      for (int axis = 0; axis < dim; ++axis) {
        same = same &&
               std::abs(mesh.points[p * dim + axis] - mesh.points[q * dim + axis]) <= tolerance;
      }
      if (same) {
        throw InputError(str(source, ": ", describe_point(mesh, p), " duplicates ",
                             describe_point(mesh, q), " (closer than ", tolerance,
                             " in every coordinate); merge duplicate points before use"));
      }
    }
    grid.emplace(key, static_cast<Index>(p));
  }
}

void check_measures(const Mesh& mesh, const std::string& source, double scale,
                    double relative_degenerate) {
  const char* measure = mesh.dimension == 2 ? "area" : "volume";
  const double threshold = relative_degenerate * std::pow(scale, mesh.dimension);
  std::size_t inverted = 0;
  std::size_t first_inverted = 0;
  double first_value = 0;
  for (std::size_t c = 0; c < mesh.num_cells(); ++c) {
    const double value = signed_measure(mesh, c);
    if (std::abs(value) <= threshold) {
      throw InputError(str(source, ": ", describe_cell(mesh, c), " is degenerate: its ", measure,
                           " ", value, " is below ", relative_degenerate, " x (mesh size)^",
                           mesh.dimension, " = ", threshold));
    }
    if (value < 0 && inverted++ == 0) {
      first_inverted = c;
      first_value = value;
    }
  }
  if (inverted > 0) {
    throw InputError(str(source, ": ", describe_cell(mesh, first_inverted),
                         " is inverted: ", "signed ", measure, " ", first_value,
                         mesh.dimension == 2 ? " (clockwise)" : " (left-handed)", "; ", inverted,
                         " of ", mesh.num_cells(), " cells are. A tangled mesh ",
                         "must be remeshed; if the file just does not order its cells, ",
                         "call mesh::orient before checking"));
  }
}

}  // namespace

double signed_measure(const Mesh& mesh, std::size_t cell) {
  const int dim = mesh.dimension;
  const int per_cell = mesh.nodes_per_cell();
  const Index* ids = mesh.cells.data() + cell * per_cell;
  const double* p0 = mesh.points.data() + ids[0] * dim;
  if (mesh.cell_kind == CellKind::kTriangle) {
    const double* p1 = mesh.points.data() + ids[1] * dim;
    const double* p2 = mesh.points.data() + ids[2] * dim;
    return 0.5 * ((p1[0] - p0[0]) * (p2[1] - p0[1]) - (p1[1] - p0[1]) * (p2[0] - p0[0]));
  }
  double e[3][3];
  for (int k = 0; k < 3; ++k) {
    const double* pk = mesh.points.data() + ids[k + 1] * dim;
    for (int axis = 0; axis < 3; ++axis) e[k][axis] = pk[axis] - p0[axis];
  }
  const double det = e[0][0] * (e[1][1] * e[2][2] - e[1][2] * e[2][1]) -
                     e[0][1] * (e[1][0] * e[2][2] - e[1][2] * e[2][0]) +
                     e[0][2] * (e[1][0] * e[2][1] - e[1][1] * e[2][0]);
  return det / 6.0;
}

std::size_t count_inverted(const Mesh& mesh) {
  if (mesh.dimension != cell_dimension(mesh.cell_kind)) return 0;
  std::size_t inverted = 0;
  for (std::size_t c = 0; c < mesh.num_cells(); ++c) {
    if (cell_in_range(mesh, c) && signed_measure(mesh, c) < 0) ++inverted;
  }
  return inverted;
}

std::size_t orient(Mesh& mesh) {
  const int per_cell = mesh.nodes_per_cell();
  std::size_t turned = 0;
  for (std::size_t c = 0; c < mesh.num_cells(); ++c) {
    if (cell_in_range(mesh, c) && signed_measure(mesh, c) < 0) {
      // Swapping the last two points reverses the orientation and keeps the first.
      std::swap(mesh.cells[c * per_cell + per_cell - 2], mesh.cells[c * per_cell + per_cell - 1]);
      ++turned;
    }
  }
  return turned;
}

bool orient_if_all_inverted(Mesh& mesh) {
  if (mesh.num_cells() == 0 || count_inverted(mesh) != mesh.num_cells()) return false;
  orient(mesh);
  return true;
}

void finish_mesh(Mesh& mesh, const std::string& source_name) {
  orient_if_all_inverted(mesh);
  check_mesh(mesh, source_name);
  compute_boundary_facets(mesh, source_name);
}

Index point_index(double value, const std::string& source_name) {
  constexpr double kLargestExact = 9007199254740992.0;  // 2^53
  if (!(value >= 0 && value < kLargestExact) || value != std::floor(value)) {
    throw InputError(
        str(source_name, ": ", value, " is not a point index (a whole number from 0)"));
  }
  return static_cast<Index>(value);
}

void check_mesh(const Mesh& mesh, const std::string& source_name,
                const CheckTolerances& tolerances) {
  if (mesh.dimension < 1) throw InputError(str(source_name, ": the mesh has no dimension"));
  check_sizes(mesh, source_name);
  check_indices(mesh, source_name);
  check_unused(mesh, source_name);
  const double scale = mesh_scale(mesh);
  check_duplicates(mesh, source_name, tolerances.duplicate * scale);
  check_measures(mesh, source_name, scale, tolerances.degenerate);
}

}  // namespace tessera::mesh
