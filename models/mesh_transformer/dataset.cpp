#include "models/mesh_transformer/dataset.hpp"

#include <algorithm>
#include <filesystem>

#include "core/graph/csr_graph.hpp"
#include "core/io/hdf5_reader.hpp"
#include "core/mesh/channel_node_types.hpp"
#include "core/mesh/meshgraphnets_reader.hpp"
#include "core/mesh/node_graph.hpp"
#include "core/mesh/read_mesh.hpp"
#include "core/runtime/error.hpp"

namespace tessera::models::mesh_transformer {

namespace {

bool is_number(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The velocity of step k: a field "velocity" with one component per dimension, or one
// field per component (velocity_x, velocity_y[, velocity_z]) as the CylinderFlow files have.
std::vector<double> velocity_of(const mesh::Mesh& m, std::size_t k, const std::string& name) {
  if (const mesh::Field* v = m.steps.at(k).find("velocity")) {
    if (v->components != m.dimension) {
      throw InputError(
          str(name, ": velocity has ", v->components, " components, expected ", m.dimension));
    }
    return v->values;
  }
  const char* axes[] = {"velocity_x", "velocity_y", "velocity_z"};
  const std::size_t n = m.num_points(), d = static_cast<std::size_t>(m.dimension);
  std::vector<double> out(n * d);
  for (std::size_t c = 0; c < d; ++c) {
    const mesh::Field& f = m.field(k, axes[c]);  // InputError listing the fields there are
    for (std::size_t i = 0; i < n; ++i) out[i * d + c] = f.values[i];
  }
  return out;
}

Trajectory to_trajectory(mesh::Mesh m, const std::string& name, const DataOptions& options) {
  // The channel geometry that node types are derived from is 2-D (CylinderFlow's); 3-D
  // files must carry their node types.
  if (m.node_types.empty() && options.derive_node_types && m.dimension == 2) {
    mesh::ChannelGeometry geometry;
    if (options.obstacle_as_wall) {  // MeshGraphNets' convention
      geometry.obstacle_type = mesh::NodeType::kWallBoundary;
      geometry.corners = mesh::CornerRule::kInflowOutflow;
    }
    mesh::derive_node_types(m, geometry);
  }
  if (m.node_types.empty()) {
    throw InputError(str(name, ": the mesh has no node types (dataset node_type) and ",
                         m.dimension == 2 ? "data.derive_node_types is false"
                                          : "they are derived for 2-D channels only",
                         "; the models need them to know which nodes are boundary conditions"));
  }
  Trajectory t;
  t.name = name;
  t.dimension = m.dimension;
  t.points = m.points;
  t.cells.assign(m.cells.begin(), m.cells.end());
  t.node_types = std::move(m.node_types);
  if (options.obstacle_as_wall) {
    for (auto& type : t.node_types) {
      if (type == mesh::NodeType::kObstacle) type = mesh::NodeType::kWallBoundary;
    }
  }
  std::size_t frames = m.steps.size();
  if (options.max_frames > 0) frames = std::min(frames, options.max_frames);
  for (std::size_t k = 0; k < frames; ++k) t.velocity.push_back(velocity_of(m, k, name));
  if (t.velocity.size() < 2) {
    throw InputError(str(name, ": ", t.velocity.size(),
                         " velocity frame(s): a sample needs a frame and its successor"));
  }
  if (m.steps.size() > 1) t.dt = m.steps[1].time - m.steps[0].time;
  t.graph = mesh::node_graph(m, name);
  t.edge_features = graph::edge_features(t.graph, t.points, t.dimension);
  return t;
}

}  // namespace

std::vector<Trajectory> read_trajectories(const std::string& path, const DataOptions& options) {
  const std::string extension = std::filesystem::path(path).extension().string();
  if (extension != ".h5" && extension != ".hdf5") {
    return {to_trajectory(mesh::read_mesh(path), path, options)};
  }
  std::vector<int> indices;
  {
    io::Hdf5Reader file(path);
    for (const std::string& member : file.members("/")) {
      if (is_number(member)) indices.push_back(std::stoi(member));
    }
  }
  std::sort(indices.begin(), indices.end());
  if (indices.empty()) {
    throw InputError(str(path,
                         ": no trajectory group (/0, /1, ...): expected a MeshGraphNets "
                         "layout file as written by a flow data-set run"));
  }
  if (options.max_trajectories > 0 && indices.size() > options.max_trajectories) {
    indices.resize(options.max_trajectories);
  }
  std::vector<Trajectory> out;
  for (int k : indices) {
    out.push_back(
        to_trajectory(mesh::read_meshgraphnets_h5(path, k), str(path, " trajectory ", k), options));
  }
  return out;
}

std::vector<double> node_features(const Trajectory& t, const std::vector<double>& velocity) {
  const std::size_t n = t.num_nodes(), d = static_cast<std::size_t>(t.dimension);
  const std::size_t width = t.node_inputs();
  std::vector<double> out(n * width, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t c = 0; c < d; ++c) out[i * width + c] = velocity[i * d + c];
    out[i * width + d + static_cast<std::size_t>(t.node_types[i])] = 1.0;
  }
  return out;
}

std::vector<double> loss_mask(const Trajectory& t) {
  std::vector<double> mask(t.num_nodes());
  for (std::size_t i = 0; i < mask.size(); ++i) {
    mask[i] =
        t.node_types[i] == mesh::NodeType::kNormal || t.node_types[i] == mesh::NodeType::kOutflow
            ? 1.0
            : 0.0;
  }
  return mask;
}

}  // namespace tessera::models::mesh_transformer
