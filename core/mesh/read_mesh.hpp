#pragma once
// One entry point for a mesh file named in a configuration: the reader is chosen by the
// file's extension, so experiments can take any of the supported formats.
#include <string>

#include "core/mesh/mesh.hpp"

namespace tessera::mesh {

// .vtu -> read_vtu, .pvtu -> read_pvtu, .xdmf/.xmf -> read_xdmf, .h5/.hdf5 -> read_meshgraphnets_h5 (of
// `trajectory`). InputError listing these for any other extension.
Mesh read_mesh(const std::string& path, int trajectory = 0);

}  // namespace tessera::mesh
