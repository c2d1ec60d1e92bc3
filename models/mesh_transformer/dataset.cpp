#include "models/mesh_transformer/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <type_traits>

#include "core/graph/csr_graph.hpp"
#include "core/io/hdf5_reader.hpp"
#include "core/mesh/channel_node_types.hpp"
#include "core/mesh/check_mesh.hpp"
#include "core/mesh/meshgraphnets_reader.hpp"
#include "core/mesh/node_graph.hpp"
#include "core/mesh/read_mesh.hpp"
#include "core/parallel/graph_part.hpp"
#include "core/parallel/partition.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"

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

// The project's files tag the cylinder OBSTACLE; a model trained on MeshGraphNets'
// convention sees it as WALL_BOUNDARY (DataOptions::obstacle_as_wall).
mesh::NodeType as_trained(mesh::NodeType type, const DataOptions& options) {
  return options.obstacle_as_wall && type == mesh::NodeType::kObstacle
             ? mesh::NodeType::kWallBoundary
             : type;
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
  for (auto& type : t.node_types) type = as_trained(type, options);
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
  return t;  // edge features: whole_or_part
}

// Edge features of a graph's own rows (as graph::edge_features: x_j - x_i, then the
// length), node g's coordinates at position(g).
template <class Position>
std::vector<double> row_edge_features(const parallel::OwnedRows& rows, int dimension,
                                      Position position) {
  const auto d = static_cast<std::size_t>(dimension);
  std::vector<double> out;
  out.reserve(rows.columns.size() * (d + 1));
  for (std::size_t l = 0; l < rows.size(); ++l) {
    const double* xi = position(rows.ids[l]);
    for (std::size_t e = rows.row_ptr[l]; e < rows.row_ptr[l + 1]; ++e) {
      const double* xj = position(rows.columns[e]);
      double norm2 = 0;
      for (std::size_t c = 0; c < d; ++c) {
        const double delta = xj[c] - xi[c];
        out.push_back(delta);
        norm2 += delta * delta;
      }
      out.push_back(std::sqrt(norm2));
    }
  }
  return out;
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

// Part options.part of trajectory k's mesh, read without holding the whole of it: the
// domain's first rank reads the mesh whole once to split it (METIS needs the whole graph;
// the read also checks it as a whole read does) and sends every rank the split; then each
// rank streams the cells a block at a time, keeping its own nodes' mesh rows and its
// piece's cells, and reads the positions and node types of the nodes they reach. The
// result equals keep_part of the whole trajectory (tested), but for the frames, which
// the caller reads. Collective over options.comm.
Trajectory read_mesh_part(const std::string& path, int k, const std::string& name,
                          const mesh::MeshgraphnetsShape& shape, const DataOptions& options) {
  const MPI_Comm comm = options.comm;
  if (runtime::comm_size(comm) != options.parts || runtime::comm_rank(comm) != options.part) {
    throw std::invalid_argument(str("read_mesh_part: part ", options.part, " of ", options.parts,
                                    " read by rank ", runtime::comm_rank(comm), " of ",
                                    runtime::comm_size(comm)));
  }
  std::vector<int> owner;
  long long sizes[2] = {0, 0};  // frames, nodes
  double dt = 0;
  std::string problem;
  if (options.part == 0) {
    try {
      const Trajectory whole =
          to_trajectory(mesh::read_meshgraphnets_h5(path, k, false), name, options, false);
      owner = owners(whole, options);
      sizes[0] = static_cast<long long>(whole.frames());
      sizes[1] = static_cast<long long>(whole.num_nodes());
      dt = whole.dt;
    } catch (const std::exception& e) {  // METIS's and the allocator's errors too
      problem = e.what();
    }
  }
  parallel::throw_if_any(comm, problem);
  MPI_Bcast(sizes, 2, MPI_LONG_LONG, 0, comm);
  MPI_Bcast(&dt, 1, MPI_DOUBLE, 0, comm);
  owner.resize(static_cast<std::size_t>(sizes[1]));
  MPI_Bcast(owner.data(), static_cast<int>(owner.size()), MPI_INT, 0, comm);

  Trajectory t;
  t.name = name;
  t.dimension = shape.dimension;
  t.dt = dt;
  t.velocity.resize(static_cast<std::size_t>(sizes[0]));  // read by the caller
  t.parts = options.parts;
  t.part = options.part;
  t.whole_nodes = owner.size();
  for (std::size_t i = 0; i < owner.size(); ++i) {
    if (owner[i] == options.part) t.frame_nodes.push_back(static_cast<long long>(i));
  }
  const auto own_row = [&](long long g) {
    return static_cast<std::size_t>(
        std::lower_bound(t.frame_nodes.begin(), t.frame_nodes.end(), g) - t.frame_nodes.begin());
  };
  // The cells, a block at a time: own nodes' neighbours, the piece's cells.
  std::vector<std::vector<long long>> rows(t.frame_nodes.size());
  std::vector<mesh::Index> piece_cells;
  std::vector<long long> piece_nodes;  // the piece cells' nodes, cell after cell
  std::vector<long long> cell;
  mesh::for_each_meshgraphnets_block(
      path, k, "cells", 1 << 16,
      [&](std::uint64_t first, std::uint64_t count, const std::vector<double>& values) {
        const std::size_t per_cell = count > 0 ? values.size() / count : 0;
        for (std::size_t c = 0; c < count; ++c) {
          cell.assign(per_cell, 0);
          for (std::size_t a = 0; a < per_cell; ++a) {
            cell[a] = std::llround(values[c * per_cell + a]);  // checked by the first rank
          }
          for (long long a : cell) {
            if (owner[static_cast<std::size_t>(a)] != options.part) continue;
            std::vector<long long>& row = rows[own_row(a)];
            for (long long b : cell) {
              if (b != a) row.push_back(b);
            }
          }
          if (owner[static_cast<std::size_t>(cell[0])] == options.part) {
            piece_cells.push_back(static_cast<mesh::Index>(first + c));
            piece_nodes.insert(piece_nodes.end(), cell.begin(), cell.end());
          }
        }
      });
  owner = {};
  std::vector<long long> reached = t.frame_nodes;  // every node this part reads
  for (std::size_t l = 0; l < rows.size(); ++l) {
    std::sort(rows[l].begin(), rows[l].end());
    rows[l].erase(std::unique(rows[l].begin(), rows[l].end()), rows[l].end());
    t.own_graph.add_row(t.frame_nodes[l], rows[l]);
    reached.insert(reached.end(), rows[l].begin(), rows[l].end());
    rows[l] = {};
  }
  reached.insert(reached.end(), piece_nodes.begin(), piece_nodes.end());
  std::sort(reached.begin(), reached.end());
  reached.erase(std::unique(reached.begin(), reached.end()), reached.end());
  const std::vector<double> positions = mesh::read_meshgraphnets_rows(path, k, "mesh_pos", reached);
  const std::vector<double> codes = mesh::read_meshgraphnets_rows(path, k, "node_type", reached);
  const auto d = static_cast<std::size_t>(t.dimension);
  const auto index = [&](long long g) {
    return static_cast<std::size_t>(std::lower_bound(reached.begin(), reached.end(), g) -
                                    reached.begin());
  };
  const auto type = [&](std::size_t at) {
    return as_trained(mesh::node_type_from_code(codes[at], path + ": node_type"), options);
  };
  for (long long g : t.frame_nodes) t.node_types.push_back(type(index(g)));
  t.edge_features = row_edge_features(t.own_graph, t.dimension,
                                      [&](long long g) { return &positions[index(g) * d]; });
  // The piece: its cells on its own points, turned round as the whole mesh's were.
  std::vector<long long> points = piece_nodes;
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  mesh::Mesh piece;
  piece.dimension = t.dimension;
  piece.cell_kind = t.dimension == 3 ? mesh::CellKind::kTetrahedron : mesh::CellKind::kTriangle;
  for (long long g : points) {
    const std::size_t at = index(g);
    piece.points.insert(piece.points.end(), positions.begin() + static_cast<std::ptrdiff_t>(at * d),
                        positions.begin() + static_cast<std::ptrdiff_t>((at + 1) * d));
    piece.node_types.push_back(type(at));
  }
  for (long long g : piece_nodes) {
    piece.cells.push_back(static_cast<mesh::Index>(
        std::lower_bound(points.begin(), points.end(), g) - points.begin()));
  }
  mesh::orient_if_all_inverted(piece);
  std::vector<mesh::Index> all(piece_cells.size());
  std::iota(all.begin(), all.end(), 0);
  t.piece = mesh::extract_cells(piece, all);
  for (mesh::Index& p : t.piece.global_points) p = static_cast<mesh::Index>(points[p]);
  t.piece.global_cells = piece_cells;
  return t;
}

// A trajectory read whole kept whole (with its edge features), or cut to this rank's part.
void whole_or_part(Trajectory& t, const DataOptions& options) {
  if (options.parts > 1) {
    keep_part(t, owners(t, options), options.parts, options.part);
  } else {
    t.edge_features = graph::edge_features(t.graph, t.points, t.dimension);
  }
}

}  // namespace

std::vector<Trajectory> read_trajectories(const std::string& path, const DataOptions& options) {
  const std::string extension = std::filesystem::path(path).extension().string();
  if (extension != ".h5" && extension != ".hdf5") {
    Trajectory t = to_trajectory(mesh::read_mesh(path), path, options);
    whole_or_part(t, options);
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
      whole_or_part(out.back(), options);
      continue;
    }
    // In parts: this part of the mesh (streamed, or cut from the whole mesh where node types
    // must be derived from the whole geometry or no communicator is given), then its frames.
    Trajectory t;
    const mesh::MeshgraphnetsShape shape = mesh::read_meshgraphnets_shape(path, k);
    if (options.comm != MPI_COMM_NULL && shape.node_types) {
      t = read_mesh_part(path, k, name, shape, options);
    } else {
      t = to_trajectory(mesh::read_meshgraphnets_h5(path, k, false), name, options, false);
      keep_part(t, owners(t, options), options.parts, options.part);
    }
    const std::size_t frames = t.velocity.size();
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
    throw std::invalid_argument(str("keep_part: part ", part, " of ", parts, " of ", t.name,
                                    " (in parts already: ", t.in_parts(), ") with owners of ",
                                    owner.size(), " nodes for its ", t.num_nodes()));
  }
  for (std::size_t i = 0; i < owner.size(); ++i) {
    if (owner[i] == part) t.frame_nodes.push_back(static_cast<long long>(i));
  }
  const auto d = static_cast<std::size_t>(t.dimension);
  for (std::vector<double>& frame : t.velocity) {
    if (!frame.empty())
      frame = parallel::GraphPart::pick_rows(frame, d, t.frame_nodes);  // empty: still to be read
  }
  t.piece = mesh_piece(t, owner, part);
  t.own_graph = parallel::own_rows(t.graph, owner, part);
  t.edge_features =
      row_edge_features(t.own_graph, t.dimension, [&](long long g) { return &t.points[g * d]; });
  t.whole_nodes = t.node_types.size();
  t.node_types = parallel::GraphPart::pick_rows(t.node_types, 1, t.frame_nodes);
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
         bytes(m.points) + bytes(m.cells) + bytes(m.node_types) + bytes(m.boundary_facets) +
         bytes(m.boundary_tags) + bytes(t.piece.global_points) + bytes(t.piece.global_cells);
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
