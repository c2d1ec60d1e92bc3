#include "models/mesh_transformer/dataset.hpp"

#include <algorithm>
#include <filesystem>
#include <type_traits>

#include "core/graph/csr_graph.hpp"
#include "core/io/hdf5_reader.hpp"
#include "core/mesh/channel_node_types.hpp"
#include "core/mesh/meshgraphnets_reader.hpp"
#include "core/mesh/node_graph.hpp"
#include "core/mesh/read_mesh.hpp"
#include "core/parallel/partition.hpp"
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

// `with_velocity` false: the frames are left empty, to be read in parts (m has no fields).
Trajectory to_trajectory(mesh::Mesh m, const std::string& name, const DataOptions& options,
                         bool with_velocity = true) {
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
  if (with_velocity) {
    for (std::size_t k = 0; k < frames; ++k) t.velocity.push_back(velocity_of(m, k, name));
  }
  if (frames < 2) {
    throw InputError(
        str(name, ": ", frames, " velocity frame(s): a sample needs a frame and its successor"));
  }
  t.velocity.resize(frames);  // read in parts: filled by the caller
  if (m.steps.size() > 1) t.dt = m.steps[1].time - m.steps[0].time;
  t.graph = mesh::node_graph(m, name);
  t.edge_features = graph::edge_features(t.graph, t.points, t.dimension);
  return t;
}

// The METIS split of a mesh over options.parts ranks: a function of the mesh graph alone,
// so every rank of a domain group computes the same one (and MeshPart uses it).
std::vector<int> owners(const Trajectory& t, const DataOptions& options) {
  if (static_cast<std::size_t>(options.parts) > t.num_nodes()) {
    throw InputError(str(t.name, ": ", t.num_nodes(), " nodes cannot be split over ", options.parts,
                         " ranks (train.domain_ranks)"));
  }
  return parallel::partition_metis(t.graph, options.parts).owner;
}

}  // namespace

std::vector<Trajectory> read_trajectories(const std::string& path, const DataOptions& options) {
  const std::string extension = std::filesystem::path(path).extension().string();
  if (extension != ".h5" && extension != ".hdf5") {
    Trajectory t = to_trajectory(mesh::read_mesh(path), path, options);
    if (options.parts > 1) keep_part(t, owners(t, options), options.parts, options.part);
    return {std::move(t)};
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
    const std::string name = str(path, " trajectory ", k);
    const bool series = io::Hdf5Reader(path).has(str("/", k, "/velocity"));
    if (options.parts <= 1 || !series) {
      out.push_back(to_trajectory(mesh::read_meshgraphnets_h5(path, k), name, options));
      if (options.parts > 1)
        keep_part(out.back(), owners(out.back(), options), options.parts, options.part);
      continue;
    }
    // In parts: the mesh without its fields, its split, then this part's frames.
    Trajectory t = to_trajectory(mesh::read_meshgraphnets_h5(path, k, false), name, options, false);
    const std::size_t frames = t.velocity.size();
    keep_part(t, owners(t, options), options.parts, options.part);
    t.velocity = mesh::read_meshgraphnets_frames(path, k, "velocity", t.frame_nodes, frames);
    const std::size_t width = t.frame_nodes.size() * static_cast<std::size_t>(t.dimension);
    if (t.velocity.front().size() != width) {
      throw InputError(str(name, ": velocity has ",
                           t.velocity.front().size() / t.frame_nodes.size(),
                           " components, expected ", t.dimension));
    }
    out.push_back(std::move(t));
  }
  return out;
}

mesh::Submesh mesh_piece(const Trajectory& t, const std::vector<int>& owner, int part) {
  mesh::Mesh whole;
  whole.dimension = t.dimension;
  whole.cell_kind = t.dimension == 3 ? mesh::CellKind::kTetrahedron : mesh::CellKind::kTriangle;
  whole.points = t.points;
  whole.cells.assign(t.cells.begin(), t.cells.end());
  whole.node_types = t.node_types;
  std::vector<mesh::Index> cells;
  const auto per_cell = static_cast<std::size_t>(whole.nodes_per_cell());
  for (std::size_t c = 0; c < whole.num_cells(); ++c) {
    if (owner.empty() || owner[static_cast<std::size_t>(whole.cells[c * per_cell])] == part) {
      cells.push_back(static_cast<mesh::Index>(c));
    }
  }
  return mesh::extract_cells(whole, cells);
}

void keep_part(Trajectory& t, std::vector<int> owner, int parts, int part) {
  if (t.in_parts() || owner.size() != t.num_nodes() || part < 0 || part >= parts || parts < 2) {
    throw std::invalid_argument(str("keep_part: ", t.name, " is already in parts or the owners (",
                                    owner.size(), ") are not its nodes' (", t.num_nodes(), ")"));
  }
  for (std::size_t i = 0; i < owner.size(); ++i) {
    if (owner[i] == part) t.frame_nodes.push_back(static_cast<long long>(i));
  }
  // Picks the own nodes' rows of a per-node array.
  const auto own = [&](const auto& rows, std::size_t width) {
    std::remove_const_t<std::remove_reference_t<decltype(rows)>> kept(t.frame_nodes.size() * width);
    for (std::size_t r = 0; r < t.frame_nodes.size(); ++r) {
      std::copy_n(rows.begin() + static_cast<std::ptrdiff_t>(t.frame_nodes[r]) *
                                     static_cast<std::ptrdiff_t>(width),
                  width, kept.begin() + static_cast<std::ptrdiff_t>(r * width));
    }
    return kept;
  };
  const auto d = static_cast<std::size_t>(t.dimension);
  for (std::vector<double>& frame : t.velocity) {
    if (!frame.empty()) frame = own(frame, d);  // empty: frames still to be read
  }
  t.piece = mesh_piece(t, owner, part);
  t.own_graph = parallel::own_rows(t.graph, owner, part);
  const std::size_t width = d + 1;
  std::vector<double> edges;
  edges.reserve(t.own_graph.columns.size() * width);
  for (long long i : t.frame_nodes) {
    edges.insert(
        edges.end(),
        t.edge_features.begin() + static_cast<std::ptrdiff_t>(t.graph.row_ptr[i] * width),
        t.edge_features.begin() + static_cast<std::ptrdiff_t>(t.graph.row_ptr[i + 1] * width));
  }
  t.edge_features = std::move(edges);
  t.whole_nodes = t.node_types.size();
  t.node_types = own(t.node_types, 1);
  t.points = {};
  t.cells = {};
  t.graph = {};
  t.parts = parts;
  t.part = part;
}

double mesh_bytes(const Trajectory& t) {
  const auto bytes = [](const auto& v) {
    return static_cast<double>(v.size() * sizeof(typename std::decay_t<decltype(v)>::value_type));
  };
  const mesh::Mesh& m = t.piece.mesh;
  return bytes(t.points) + bytes(t.cells) + bytes(t.graph.row_ptr) + bytes(t.graph.col_idx) +
         bytes(t.node_types) + bytes(t.edge_features) + bytes(t.frame_nodes) +
         bytes(t.own_graph.ids) + bytes(t.own_graph.row_ptr) + bytes(t.own_graph.columns) +
         bytes(m.points) + bytes(m.cells) + bytes(m.node_types) + bytes(t.piece.global_points) +
         bytes(t.piece.global_cells);
}

std::vector<double> node_features(const Trajectory& t, const std::vector<double>& velocity) {
  const std::size_t n = t.frame_rows(), d = static_cast<std::size_t>(t.dimension);
  const std::size_t width = t.node_inputs();
  std::vector<double> out(n * width, 0.0);
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t c = 0; c < d; ++c) out[r * width + c] = velocity[r * d + c];
    out[r * width + d + static_cast<std::size_t>(t.node_types[r])] = 1.0;
  }
  return out;
}

std::vector<double> loss_mask(const Trajectory& t) {
  std::vector<double> mask(t.frame_rows());
  for (std::size_t i = 0; i < mask.size(); ++i) {
    mask[i] =
        t.node_types[i] == mesh::NodeType::kNormal || t.node_types[i] == mesh::NodeType::kOutflow
            ? 1.0
            : 0.0;
  }
  return mask;
}

}  // namespace tessera::models::mesh_transformer
