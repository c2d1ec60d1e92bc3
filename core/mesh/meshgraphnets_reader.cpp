#include "core/mesh/meshgraphnets_reader.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <utility>

#include "core/io/hdf5_reader.hpp"
#include "core/mesh/check_mesh.hpp"
#include "core/runtime/error.hpp"

namespace tessera::mesh {

namespace {

std::string shape_text(const std::vector<std::uint64_t>& dims) {
  std::string out = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) out += (i ? ", " : "") + std::to_string(dims[i]);
  return out + "]";
}

// A feature as (frames x rows x columns), whichever of the accepted shapes it has.
struct Feature {
  std::vector<double> values;
  std::uint64_t frames = 1, rows = 0, columns = 1;
};

// The shape of a feature; `num_points` (0 when not known yet) tells [T, N] from [N, c].
Feature feature_shape(const io::Hdf5Reader& file, const std::string& dataset,
                      std::uint64_t num_points) {
  Feature feature;
  const std::vector<std::uint64_t> dims = file.shape(dataset);
  if (dims.size() == 3) {
    feature.frames = dims[0];
    feature.rows = dims[1];
    feature.columns = dims[2];
  } else if (dims.size() == 2 && num_points != 0 && dims[0] != num_points &&
             dims[1] == num_points) {
    feature.frames = dims[0];
    feature.rows = dims[1];
  } else if (dims.size() == 2) {
    feature.rows = dims[0];
    feature.columns = dims[1];
  } else if (dims.size() == 1) {
    feature.rows = dims[0];
  } else {
    throw InputError(str(file.path(), ": ", dataset, " has shape ", shape_text(dims),
                         "; expected [T, N, c], [T, N], [N, c] or [N]"));
  }
  if (feature.frames == 0) {
    throw InputError(
        str(file.path(), ": ", dataset, " has shape ", shape_text(dims), ", with no frames"));
  }
  return feature;
}

Feature read_feature(const io::Hdf5Reader& file, const std::string& dataset,
                     std::uint64_t num_points) {
  Feature feature = feature_shape(file, dataset, num_points);
  feature.values = file.read(dataset);
  return feature;
}

// Frame 0 of a static feature, after checking that the other frames repeat it.
std::vector<double> static_frame(const io::Hdf5Reader& file, const std::string& dataset,
                                 const Feature& feature) {
  const std::size_t size = feature.rows * feature.columns;
  for (std::uint64_t t = 1; t < feature.frames; ++t) {
    if (!std::equal(feature.values.begin(), feature.values.begin() + size,
                    feature.values.begin() + t * size)) {
      throw InputError(str(file.path(), ": ", dataset, " differs between frame 0 and frame ", t,
                           "; meshes that change in time are not supported"));
    }
  }
  return std::vector<double>(feature.values.begin(), feature.values.begin() + size);
}

double find_dt(const io::Hdf5Reader& file, const std::string& group) {
  for (const std::string& owner : {group, std::string("/")}) {
    try {
      return file.read_attribute(owner, "dt");
    } catch (const InputError&) {
      // No dt there: try the file, then count steps.
    }
  }
  return 1.0;
}

// Rows first .. first + rows - 1 of frame `frame` of a feature of shape `feature`.
std::vector<double> read_rows(const io::Hdf5Reader& file, const std::string& dataset,
                              const Feature& feature, std::uint64_t frame, std::uint64_t first,
                              std::uint64_t rows) {
  const std::size_t rank = file.shape(dataset).size();
  if (rank == 3) return file.read_block(dataset, {frame, first, 0}, {1, rows, feature.columns});
  if (rank == 2 && feature.frames > 1) return file.read_block(dataset, {frame, first}, {1, rows});
  if (rank == 2) return file.read_block(dataset, {first, 0}, {rows, feature.columns});
  return file.read_block(dataset, {first}, {rows});
}

// Rows read at a time by the readers that pick some rows of a feature.
constexpr std::uint64_t kBlockRows = 1 << 16;

// Rows `points` (any order) of frame `frame` of a feature of shape `feature`, in the order
// given, read a block of kBlockRows rows at a time (only the blocks that hold some).
std::vector<double> pick_rows(const io::Hdf5Reader& file, const std::string& dataset,
                              const Feature& feature, std::uint64_t frame,
                              const std::vector<long long>& points, const std::string& caller) {
  std::vector<std::size_t> order(points.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return points[a] < points[b]; });
  const std::size_t width = feature.columns;
  std::vector<double> out(points.size() * width);
  std::size_t k = 0;
  while (k < order.size()) {
    const long long p = points[order[k]];
    if (p < 0 || static_cast<std::uint64_t>(p) >= feature.rows) {
      throw std::invalid_argument(str(caller, ": point ", p, " of ", feature.rows));
    }
    const std::uint64_t first = static_cast<std::uint64_t>(p) / kBlockRows * kBlockRows;
    const std::uint64_t rows = std::min(kBlockRows, feature.rows - first);
    const std::vector<double> values = read_rows(file, dataset, feature, frame, first, rows);
    for (; k < order.size() && static_cast<std::uint64_t>(points[order[k]]) < first + rows; ++k) {
      const auto r = static_cast<std::size_t>(static_cast<std::uint64_t>(points[order[k]]) - first);
      std::copy_n(values.begin() + static_cast<std::ptrdiff_t>(r * width), width,
                  out.begin() + static_cast<std::ptrdiff_t>(order[k] * width));
    }
  }
  return out;
}

std::string require_trajectory(const io::Hdf5Reader& file, int trajectory) {
  const std::string group = "/" + std::to_string(trajectory);
  if (!file.has(group)) {
    std::string there;
    for (const std::string& name : file.members("/")) there += (there.empty() ? "" : ", ") + name;
    throw InputError(str(file.path(), ": no trajectory group ", group,
                         " (groups there: ", there.empty() ? "none" : there, ")"));
  }
  for (const char* required : {"cells", "mesh_pos"}) {
    if (!file.has(group + "/" + required)) {
      throw InputError(str(file.path(), ": trajectory ", group, " has no dataset '", required,
                           "' (a MeshGraphNets trajectory needs cells and mesh_pos)"));
    }
  }
  return group;
}

// The dataset of a static feature of a trajectory and its shape. InputError when missing.
std::pair<std::string, Feature> static_feature(const io::Hdf5Reader& file, int trajectory,
                                               const std::string& feature) {
  const std::string group = require_trajectory(file, trajectory);
  const std::string dataset = group + "/" + feature;
  if (!file.has(dataset)) throw InputError(str(file.path(), ": no dataset ", dataset));
  const std::uint64_t num_points = feature_shape(file, group + "/mesh_pos", 0).rows;
  return {dataset, feature_shape(file, dataset, feature == "cells" ? 0 : num_points)};
}

}  // namespace

Mesh read_meshgraphnets_h5(const std::string& path, int trajectory, bool read_fields) {
  if (!std::filesystem::is_regular_file(path)) throw InputError(str(path, ": no such file"));
  const io::Hdf5Reader file(path);
  const std::string group = require_trajectory(file, trajectory);

  Mesh mesh;
  mesh.dimension = 2;
  mesh.cell_kind = CellKind::kTriangle;
  const Feature positions = read_feature(file, group + "/mesh_pos", 0);
  if (positions.columns == 3) {
    mesh.dimension = 3;
    mesh.cell_kind = CellKind::kTetrahedron;
  } else if (positions.columns != 2) {
    throw InputError(str(path, ": ", group, "/mesh_pos has ", positions.columns,
                         " coordinates per point; expected 2 (or 3 for tetrahedra)"));
  }
  mesh.points = static_frame(file, group + "/mesh_pos", positions);
  const std::uint64_t num_points = positions.rows;

  const Feature cells = read_feature(file, group + "/cells", 0);
  if (cells.columns != static_cast<std::uint64_t>(mesh.nodes_per_cell())) {
    throw InputError(str(path, ": ", group, "/cells has ", cells.columns, " points per cell; ",
                         mesh.dimension, "-D mesh_pos needs ", to_string(mesh.cell_kind), "s (",
                         mesh.nodes_per_cell(), ")"));
  }
  for (double id : static_frame(file, group + "/cells", cells)) {
    mesh.cells.push_back(point_index(id, str(path, ": ", group, "/cells")));
  }

  const std::string node_type_path = group + "/node_type";
  if (file.has(node_type_path)) {
    const Feature types = read_feature(file, node_type_path, num_points);
    if (types.rows != num_points || types.columns != 1) {
      throw InputError(str(path, ": ", node_type_path, " has ", types.rows, " x ", types.columns,
                           " values per frame; expected one per point (", num_points, ")"));
    }
    for (double code : static_frame(file, node_type_path, types)) {
      mesh.node_types.push_back(node_type_from_code(code, path + ": " + node_type_path));
    }
  }

  // Every other dataset is a field; T > 1 frames make it a time series.
  std::vector<Field> dynamic_fields, static_fields;
  std::uint64_t steps = 0;
  std::string steps_from;
  for (const std::string& name : file.members(group)) {
    if (name == "cells" || name == "mesh_pos" || name == "node_type") continue;
    const std::string dataset = group + "/" + name;
    const Feature feature = read_fields ? read_feature(file, dataset, num_points)
                                        : feature_shape(file, dataset, num_points);
    if (feature.rows != num_points) {
      throw InputError(str(path, ": ", dataset, " has ", feature.rows, " points per frame, but ",
                           group, "/mesh_pos has ", num_points));
    }
    Field field;
    field.name = name;
    field.components = static_cast<int>(feature.columns);
    if (feature.frames == 1) {
      field.values = feature.values;
      if (read_fields) static_fields.push_back(std::move(field));
      continue;
    }
    if (steps != 0 && feature.frames != steps) {
      throw InputError(str(path, ": ", dataset, " has ", feature.frames, " steps but ", steps_from,
                           " has ", steps));
    }
    steps = feature.frames;
    steps_from = dataset;
    field.values = feature.values;
    if (read_fields) dynamic_fields.push_back(std::move(field));  // else: the shapes only
  }

  const double dt = find_dt(file, group);
  const std::size_t per_step = num_points;
  mesh.steps.resize(std::max<std::uint64_t>(steps, 1));
  for (std::size_t s = 0; s < mesh.steps.size(); ++s) {
    FieldStep& step = mesh.steps[s];
    step.time = static_cast<double>(s) * dt;
    for (const Field& source : dynamic_fields) {
      const std::size_t size = per_step * source.components;
      step.fields.push_back({source.name, source.components,
                             std::vector<double>(source.values.begin() + s * size,
                                                 source.values.begin() + (s + 1) * size)});
    }
    for (const Field& source : static_fields) step.fields.push_back(source);
  }
  finish_mesh(mesh, path);
  return mesh;
}

std::vector<std::vector<double>> read_meshgraphnets_frames(const std::string& path, int trajectory,
                                                           const std::string& field,
                                                           const std::vector<long long>& points,
                                                           std::size_t frames) {
  const io::Hdf5Reader file(path);
  const std::string dataset = "/" + std::to_string(trajectory) + "/" + field;
  if (!file.has(dataset)) throw InputError(str(path, ": no dataset ", dataset));
  const std::uint64_t num_points =
      feature_shape(file, "/" + std::to_string(trajectory) + "/mesh_pos", 0).rows;
  const Feature shape = feature_shape(file, dataset, num_points);
  if (shape.rows != num_points || shape.frames < frames) {
    throw InputError(str(path, ": ", dataset, " has ", shape.frames, " frames of ", shape.rows,
                         " points; expected at least ", frames, " of ", num_points));
  }
  std::vector<std::vector<double>> out;
  for (std::size_t f = 0; f < frames; ++f) {
    // A series frame by frame; a static field ([N, c]) is the same in every frame.
    out.push_back(pick_rows(file, dataset, shape, shape.frames > 1 ? f : 0, points,
                            "read_meshgraphnets_frames"));
  }
  return out;
}

MeshgraphnetsShape read_meshgraphnets_shape(const std::string& path, int trajectory) {
  if (!std::filesystem::is_regular_file(path)) throw InputError(str(path, ": no such file"));
  const io::Hdf5Reader file(path);
  const std::string group = require_trajectory(file, trajectory);
  MeshgraphnetsShape out;
  const Feature positions = feature_shape(file, group + "/mesh_pos", 0);
  if (positions.columns != 2 && positions.columns != 3) {
    throw InputError(str(path, ": ", group, "/mesh_pos has ", positions.columns,
                         " coordinates per point; expected 2 (or 3 for tetrahedra)"));
  }
  out.dimension = static_cast<int>(positions.columns);
  out.points = positions.rows;
  out.cells = feature_shape(file, group + "/cells", 0).rows;
  out.node_types = file.has(group + "/node_type");
  return out;
}

void for_each_meshgraphnets_block(
    const std::string& path, int trajectory, const std::string& feature, std::uint64_t block,
    const std::function<void(std::uint64_t, std::uint64_t, const std::vector<double>&)>& visit) {
  const io::Hdf5Reader file(path);
  const auto [dataset, shape] = static_feature(file, trajectory, feature);
  block = std::max<std::uint64_t>(block, 1);
  for (std::uint64_t first = 0; first < shape.rows; first += block) {
    const std::uint64_t rows = std::min(block, shape.rows - first);
    visit(first, rows, read_rows(file, dataset, shape, 0, first, rows));
  }
}

std::vector<double> read_meshgraphnets_rows(const std::string& path, int trajectory,
                                            const std::string& feature,
                                            const std::vector<long long>& points) {
  const io::Hdf5Reader file(path);
  const auto [dataset, shape] = static_feature(file, trajectory, feature);
  return pick_rows(file, dataset, shape, 0, points, "read_meshgraphnets_rows");
}

}  // namespace tessera::mesh
