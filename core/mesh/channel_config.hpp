#pragma once
// The [mesh] keys of every experiment that runs on the DFG channel or on a mesh file
// (flow, mesh_partition, the mesh models), declared once and read by one reader.
// mesh.size and mesh.cylinder_size were spelled mesh.mesh_size and
// mesh.cylinder_mesh_size in mesh_partition files: those spellings still work, with a
// deprecation warning.
#include <string>

#include "core/config/config.hpp"
#include "core/mesh/channel_generator.hpp"
#include "core/mesh/mesh.hpp"

namespace tessera::mesh {

// mesh.source ("channel" or "file"), mesh.file, mesh.trajectory, mesh.length,
// mesh.height, mesh.cylinder_x, mesh.cylinder_y, mesh.cylinder_radius, mesh.size,
// mesh.cylinder_size, mesh.refinement_distance.
void add_channel_mesh_keys(config::Schema& schema);

struct ChannelMeshConfig {
  bool from_file = false;  // mesh.source = "file"
  std::string file;        // as written: absolute, relative to the working directory, or
                           // relative to the data root
  std::string data_root;   // run.data_root
  int trajectory = 0;      // of a MeshGraphNets .h5 file
  ChannelSpec channel;     // mesh.source = "channel"
};
ChannelMeshConfig channel_mesh_from_config(const config::Config& c);

// The mesh file's path: as written when it exists there (absolute, or relative to the
// working directory), otherwise under the data root. InputError when neither exists.
std::string resolve_mesh_file(const ChannelMeshConfig& config);

// The generated channel (Gmsh) or the file's mesh. InputErrors name the mesh key.
Mesh load_channel_mesh(const ChannelMeshConfig& config);

}  // namespace tessera::mesh
