#include "core/mesh/read_mesh.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "core/mesh/meshgraphnets_reader.hpp"
#include "core/mesh/vtu_reader.hpp"
#include "core/mesh/xdmf_reader.hpp"
#include "core/runtime/error.hpp"

namespace tessera::mesh {

Mesh read_mesh(const std::string& path, int trajectory) {
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (extension == ".vtu") return read_vtu(path);
  if (extension == ".pvtu") return read_pvtu(path);
  if (extension == ".xdmf" || extension == ".xmf") return read_xdmf(path);
  if (extension == ".h5" || extension == ".hdf5") return read_meshgraphnets_h5(path, trajectory);
  throw InputError(str(path, ": unknown mesh format '", extension,
                       "'; supported are .vtu, .pvtu, .xdmf/.xmf (XDMF3 + HDF5) and .h5/.hdf5 ",
                       "(MeshGraphNets layout)"));
}

}  // namespace tessera::mesh
