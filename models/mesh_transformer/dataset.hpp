#pragma once
// Flow trajectories for the mesh models, read from MeshGraphNets-layout HDF5 files (the
// project's own from `flow` data-set runs, or converted MeshGraphNets / graph-physics
// files): per trajectory the mesh, its node types, the graph of mesh edges, the edge
// features and the velocity frames. One sample is (trajectory, frame t): the input is
// the velocity at t with the one-hot node type, the target the change to t + 1.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/graph/neighbourhoods.hpp"
#include "core/mesh/node_type.hpp"
#include "core/mesh/submesh.hpp"
#include "core/parallel/owned_rows.hpp"

namespace tessera::models::mesh_transformer {

// A trajectory is held whole, or in parts (DataOptions::parts): then this rank holds its
// part only, and no array of the whole mesh.
struct Trajectory {
  std::string name;  // "train.h5 trajectory 3", for messages
  int dimension = 2;
  // Whole only (empty in parts): the mesh.
  std::vector<double> points;       // nodes x dimension
  std::vector<std::int64_t> cells;  // triangles (3 node ids each), for VTK output
  graph::HostCsr graph;             // mesh edges, both directions, no self loops
  // Per frame row (every node, or in parts this rank's own nodes, frame_nodes).
  std::vector<mesh::NodeType> node_types;
  std::vector<std::vector<double>> velocity;  // frames, each frame_rows() x dimension
  // edges x (dimension + 1): of graph's edges in CSR order, or in parts of own_graph's.
  std::vector<double> edge_features;
  double dt = 0;
  // In parts: this rank's part `part` of a METIS split into `parts` of the whole mesh's
  // whole_nodes nodes. It holds its own nodes (frame_nodes, ascending: their frames, node
  // types and edge features), their mesh rows (own_graph, global ids) and the piece of
  // the mesh it writes (the cells whose first node it owns, with their points).
  int parts = 1, part = 0;
  std::size_t whole_nodes = 0;
  std::vector<long long> frame_nodes;
  parallel::OwnedRows own_graph;
  mesh::Submesh piece;

  bool in_parts() const { return parts > 1; }
  std::size_t num_nodes() const { return in_parts() ? whole_nodes : node_types.size(); }
  std::size_t frames() const { return velocity.size(); }
  std::size_t node_inputs() const { return static_cast<std::size_t>(dimension) + 9; }
  std::size_t frame_rows() const { return node_types.size(); }
  // The node of row r of a frame.
  std::size_t frame_node(std::size_t r) const {
    return in_parts() ? static_cast<std::size_t>(frame_nodes[r]) : r;
  }
};

struct DataOptions {
  std::size_t max_trajectories = 0;  // 0: every trajectory of the file
  std::size_t max_frames = 0;        // 0: every frame
  // The project's files tag the cylinder OBSTACLE, MeshGraphNets' WALL_BOUNDARY; a model
  // trained on one convention must see its inputs in it.
  bool obstacle_as_wall = false;
  // A mesh file without node types (the CylinderFlow VTU/XDMF files) gets them from the
  // channel geometry (core/mesh/channel_node_types.hpp), in the convention above.
  bool derive_node_types = true;
  // Each mesh split by METIS into `parts` (a domain group's ranks, train.domain_ranks):
  // this rank keeps only part `part` (Trajectory), so that memory per rank falls with the
  // part count. MeshGraphNets-layout files' frames are read one at a time, their meshes
  // as `comm` below says; other formats are read whole and then cut.
  int parts = 1;
  int part = 0;
  // The ranks of the parts (rank r reads part r), or MPI_COMM_NULL. Given, a MeshGraphNets-
  // layout file with node types is read in parts without the whole mesh on any rank but
  // the first, for a moment (to split it); else every rank reads it whole and cuts.
  MPI_Comm comm = MPI_COMM_NULL;
};

// Every trajectory group "/0", "/1", ... of a MeshGraphNets-layout `path` (.h5, in
// numeric order), or the one trajectory of a time series in any other mesh format
// (.xdmf, .vtu, ...; velocity as "velocity" or velocity_x/velocity_y). InputError naming
// the file and trajectory: no trajectory, no node types (and no derivation asked for), no
// velocity field, fewer than two frames, a mesh that is not of triangles.
std::vector<Trajectory> read_trajectories(const std::string& path, const DataOptions& options);

// `t` (whole) cut to part `part` of `owner` (a split into `parts`): see Trajectory. The
// frames, if read, keep only the own nodes' rows; the own rows' edge features are
// computed from t's points.
void keep_part(Trajectory& t, std::vector<int> owner, int parts, int part);

// The cells of a whole trajectory's mesh whose first node `owner` gives to `part` (every
// cell when `owner` is empty), as a mesh of their own with their points and node types.
mesh::Submesh mesh_piece(const Trajectory& t, const std::vector<int>& owner, int part);

// Bytes of the mesh a trajectory holds (points, cells, graph, node types, edge features,
// own rows and piece; not the frames): what reading in parts divides.
double mesh_bytes(const Trajectory& t);

// Node features of one frame (frame_rows() rows, as the trajectory's frames hold):
// rows x (dimension + 9), the velocity then the one-hot node type (MeshGraphNets' input).
std::vector<double> node_features(const Trajectory& t, const std::vector<double>& velocity);

// Per frame row: 1 where the loss is taken and the model advances the state (NORMAL and OUTFLOW
// nodes), 0 where the state is a boundary condition (reset to the truth in rollouts).
std::vector<double> loss_mask(const Trajectory& t);

}  // namespace tessera::models::mesh_transformer
