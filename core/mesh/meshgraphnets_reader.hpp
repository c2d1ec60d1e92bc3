#pragma once
// Reading MeshGraphNets-style HDF5 files (the layout of graph-physics' and other
// conversions of DeepMind's TFRecords): one group per trajectory "/<k>", one dataset per
// feature named as in the data set's meta.json:
//   cells      [1, C, 3] or [C, 3]     triangles (int32 in cylinder_flow)
//   mesh_pos   [1, N, 2] or [N, 2]     point coordinates
//   node_type  [1, N, 1], [N, 1], [N]  MeshGraphNets node types (optional)
//   any other  [T, N, c] or [T, N]     a field over T steps (velocity, pressure, ...)
//              [1, N, c], [N, c], [N]  a static field, given in every step
// Static features may also have a leading dimension T > 1, as when every frame was
// stored; the frames must then agree, since the mesh may not change in time. Step k is at
// time k x dt, dt from an attribute "dt" on the trajectory group or the file (else 1).
#include <string>

#include "core/mesh/mesh.hpp"

namespace tessera::mesh {

// InputError naming the file and the dataset at fault: no trajectory group (listing the
// ones there are), a missing cells or mesh_pos, a shape that is none of the above, fields
// whose point count is not the mesh's or whose step counts differ, a frame that differs
// from frame 0, or a mesh that fails check_mesh.
Mesh read_meshgraphnets_h5(const std::string& path, int trajectory = 0);

}  // namespace tessera::mesh
