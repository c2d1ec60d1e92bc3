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

namespace tessera::models::mesh_transformer {

struct Trajectory {
  std::string name;  // "train.h5 trajectory 3", for messages
  int dimension = 2;
  std::vector<double> points;       // nodes x dimension
  std::vector<std::int64_t> cells;  // triangles (3 node ids each), for VTK output
  std::vector<mesh::NodeType> node_types;
  // Frames, each frame_rows() x dimension: every node's, or on a mesh read in parts
  // the nodes in frame_nodes.
  std::vector<std::vector<double>> velocity;
  graph::HostCsr graph;               // mesh edges, both directions, no self loops
  std::vector<double> edge_features;  // edges x (dimension + 1), CSR order
  double dt = 0;
  // Read in parts (DataOptions::parts): the METIS part of every node, this rank's part,
  // and the nodes it owns (ascending), the only ones whose frames it holds. The mesh,
  // its node types, graph and edge features stay whole.
  std::vector<int> owner;
  int parts = 1, part = 0;
  std::vector<long long> frame_nodes;

  std::size_t num_nodes() const { return node_types.size(); }
  std::size_t frames() const { return velocity.size(); }
  std::size_t node_inputs() const { return static_cast<std::size_t>(dimension) + 9; }
  bool in_parts() const { return !owner.empty(); }
  std::size_t frame_rows() const { return in_parts() ? frame_nodes.size() : num_nodes(); }
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
  // this rank keeps only the frames of the nodes of part `part`, so that the frames'
  // memory per rank falls with the part count. MeshGraphNets-layout files are read one
  // frame at a time; other formats are read whole and then cut.
  int parts = 1;
  int part = 0;
};

// Every trajectory group "/0", "/1", ... of a MeshGraphNets-layout `path` (.h5, in
// numeric order), or the one trajectory of a time series in any other mesh format
// (.xdmf, .vtu, ...; velocity as "velocity" or velocity_x/velocity_y). InputError naming
// the file and trajectory: no trajectory, no node types (and no derivation asked for), no
// velocity field, fewer than two frames, a mesh that is not of triangles.
std::vector<Trajectory> read_trajectories(const std::string& path, const DataOptions& options);

// `t` (whole) cut to part `part` of `owner` (a split into `parts`): frame_nodes are the
// part's nodes (ascending) and the frames (if read) hold only theirs.
void keep_part(Trajectory& t, std::vector<int> owner, int parts, int part);

// Node features of one frame (frame_rows() rows, as the trajectory's frames hold):
// rows x (dimension + 9), the velocity then the one-hot node type (MeshGraphNets' input).
std::vector<double> node_features(const Trajectory& t, const std::vector<double>& velocity);

// 1 where the loss is taken and the model advances the state (NORMAL and OUTFLOW nodes),
// 0 where the state is a boundary condition (reset to the truth in rollouts).
std::vector<double> loss_mask(const Trajectory& t);

}  // namespace tessera::models::mesh_transformer
