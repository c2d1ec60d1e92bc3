#pragma once
// Internal to core/io: whether an object path exists in an open HDF5 file. H5Lexists
// fails (rather than answering false) when an intermediate group is missing, so each
// component is checked in turn.
#include <hdf5.h>

#include <string>

namespace tessera::io {

inline bool hdf5_path_exists(hid_t file, const std::string& path) {
  std::size_t pos = 0;
  while (true) {
    pos = path.find('/', pos + 1);
    const std::string prefix = path.substr(0, pos);
    if (!prefix.empty() && prefix != "/" && H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) {
      return false;
    }
    if (pos == std::string::npos) return true;
  }
}

}  // namespace tessera::io
