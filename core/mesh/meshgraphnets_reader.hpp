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
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/mesh/mesh.hpp"

namespace tessera::mesh {

// InputError naming the file and the dataset at fault: no trajectory group (listing the
// ones there are), a missing cells or mesh_pos, a shape that is none of the above, fields
// whose point count is not the mesh's or whose step counts differ, a frame that differs
// from frame 0, or a mesh that fails check_mesh. `read_fields` false: the mesh, its node
// types and its steps (their count and times, from the fields' shapes), without reading
// any field's values (read them in parts with read_meshgraphnets_frames).
Mesh read_meshgraphnets_h5(const std::string& path, int trajectory = 0, bool read_fields = true);

// Frames 0 .. frames - 1 of `field` of a trajectory, each holding only `points` (point
// ids, in the order given; `components` values each), read a block of 65,536 rows of one
// frame at a time (the blocks that hold some of the points): the memory held is the
// points' share of the series plus one block. A mesh split over
// ranks reads its own nodes' frames so. InputError naming the file and dataset when it
// is missing or has fewer frames or other points than the trajectory's mesh_pos.
std::vector<std::vector<double>> read_meshgraphnets_frames(const std::string& path, int trajectory,
                                                           const std::string& field,
                                                           const std::vector<long long>& points,
                                                           std::size_t frames);

// A trajectory's mesh without its values: the dimension (2, or 3 for tetrahedra), the
// point and cell counts, and whether node types are stored. InputError as
// read_meshgraphnets_h5 for a missing group or dataset or a shape it does not accept.
struct MeshgraphnetsShape {
  int dimension = 2;
  std::uint64_t points = 0, cells = 0;
  bool node_types = false;
};
MeshgraphnetsShape read_meshgraphnets_shape(const std::string& path, int trajectory);

// Frame 0 of a static feature of a trajectory (cells, mesh_pos, node_type), `block` rows
// at a time: visit(first row, rows, values: rows x its columns), so that a reader holds
// one block of it (a rank reading its part of a mesh that is too big to hold whole).
void for_each_meshgraphnets_block(
    const std::string& path, int trajectory, const std::string& feature, std::uint64_t block,
    const std::function<void(std::uint64_t, std::uint64_t, const std::vector<double>&)>& visit);

// Rows `points` (any order) of frame 0 of a static feature, in the order given, read as
// read_meshgraphnets_frames reads.
std::vector<double> read_meshgraphnets_rows(const std::string& path, int trajectory,
                                            const std::string& feature,
                                            const std::vector<long long>& points);

}  // namespace tessera::mesh
