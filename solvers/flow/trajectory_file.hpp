#pragma once
// Trajectory data sets for the mesh transformer, in the MeshGraphNets HDF5 layout that
// core/mesh's read_meshgraphnets_h5 reads: one file per split, one group "/<k>" per
// trajectory with
//   cells      [1, C, 3] int32    triangles of the vertex mesh
//   mesh_pos   [1, N, 2] float32  vertex coordinates
//   node_type  [1, N, 1] int32    MeshGraphNets node types (NORMAL, INFLOW, ...)
//   velocity   [T, N, 2] float32  frame k at time k * dt
//   pressure   [T, N, 1] float32
// (a tetrahedral mesh: cells [1, C, 4], mesh_pos [1, N, 3], velocity [T, N, 3]; the flow
// solver writes 2-D files, the mesh models' tests 3-D ones)
// and attributes on the group: dt, and the case parameters (inflow speed, cylinder
// position and radius, viscosity, Reynolds number). The file carries "format" and "dt".
// Written by one rank (the fields are gathered first) under <path>.partial, renamed by
// close(), like the results file. A data-set run that resumes from a checkpoint continues
// from the copy made at that checkpoint (copy_to).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/mesh/mesh.hpp"

namespace tessera::solvers::flow {

class TrajectoryFile {
 public:
  // Creates <path>.partial; with `resume_from` (a copy_to() copy), <path>.partial starts
  // as that copy and further trajectories are added to it.
  explicit TrajectoryFile(std::string path, const std::string& resume_from = "");
  ~TrajectoryFile();
  TrajectoryFile(const TrajectoryFile&) = delete;
  TrajectoryFile& operator=(const TrajectoryFile&) = delete;

  // `velocity` and `pressure` hold T frames of N x dimension and N values each (a
  // triangle mesh in 2-D or a tetrahedral mesh in 3-D).
  void write_trajectory(int index, const mesh::Mesh& mesh,
                        const std::vector<std::vector<double>>& velocity,
                        const std::vector<std::vector<double>>& pressure, double dt,
                        const std::map<std::string, double>& attributes);
  // Copies the file as written so far to `destination` (closed and reopened around the
  // copy, so that the copy is a complete HDF5 file): a checkpoint of a data-set run.
  void copy_to(const std::string& destination);
  void close();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::int64_t file_ = -1;
  double dt_ = 0;
};

}  // namespace tessera::solvers::flow
