#include "core/mesh/channel_config.hpp"

#include "core/io/data_root.hpp"
#include "core/mesh/read_mesh.hpp"
#include "core/runtime/error.hpp"

namespace tessera::mesh {

using config::at_least;
using config::greater_than;

void add_channel_mesh_keys(config::Schema& s) {
  s.add_string("mesh.source", std::string("channel"), {"channel", "file"},
               "channel: the DFG channel meshed by Gmsh; file: mesh.file");
  s.add_string("mesh.file", std::string("mesh/cylinder_vtu/cylinder_0.vtu"), {},
               "file: .vtu, .pvtu, .xdmf or MeshGraphNets .h5; absolute, relative to the "
               "working directory, or relative to the data root");
  s.add_int("mesh.trajectory", 0, at_least(0), "file: trajectory of a MeshGraphNets .h5 file");
  s.add_real("mesh.length", 2.2, greater_than(0), "channel length");
  s.add_real("mesh.height", 0.41, greater_than(0), "channel height H");
  s.add_real("mesh.cylinder_x", 0.2, greater_than(0), "cylinder centre x");
  s.add_real("mesh.cylinder_y", 0.2, greater_than(0), "cylinder centre y");
  s.add_real("mesh.cylinder_radius", 0.05, greater_than(0), "cylinder radius (D = 2 r)");
  s.add_real("mesh.size", 0.02, greater_than(0),
             "target triangle size away from the cylinder (nodes ~ 1.15 / size^2)");
  s.add_real("mesh.cylinder_size", 0.005, greater_than(0), "target triangle size on the cylinder");
  s.add_real("mesh.refinement_distance", 0.15, greater_than(0),
             "distance over which the size grows from the cylinder's to the far size");
  s.add_renamed("mesh.mesh_size", "mesh.size");
  s.add_renamed("mesh.cylinder_mesh_size", "mesh.cylinder_size");
}

ChannelMeshConfig channel_mesh_from_config(const config::Config& c) {
  ChannelMeshConfig m;
  m.from_file = c.get_string("mesh.source") == "file";
  m.file = c.get_string("mesh.file");
  m.data_root = c.get_string("run.data_root");
  m.trajectory = static_cast<int>(c.get_int("mesh.trajectory"));
  m.channel.length = c.get_real("mesh.length");
  m.channel.height = c.get_real("mesh.height");
  m.channel.cylinder_x = c.get_real("mesh.cylinder_x");
  m.channel.cylinder_y = c.get_real("mesh.cylinder_y");
  m.channel.cylinder_radius = c.get_real("mesh.cylinder_radius");
  m.channel.mesh_size = c.get_real("mesh.size");
  m.channel.cylinder_mesh_size = c.get_real("mesh.cylinder_size");
  m.channel.refinement_distance = c.get_real("mesh.refinement_distance");
  return m;
}

std::string resolve_mesh_file(const ChannelMeshConfig& m) {
  return io::resolve_input_file(m.data_root, m.file, "mesh.file");
}

Mesh load_channel_mesh(const ChannelMeshConfig& m) {
  if (m.from_file) return read_mesh(resolve_mesh_file(m), m.trajectory);
  try {
    return generate_channel_mesh(m.channel);
  } catch (const InputError& e) {
    throw InputError(str("[mesh] ", e.what()));
  }
}

}  // namespace tessera::mesh
