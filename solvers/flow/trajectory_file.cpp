#include "solvers/flow/trajectory_file.hpp"

#include <hdf5.h>

#include <cstdio>
#include <filesystem>

#include "core/runtime/error.hpp"

namespace tessera::solvers::flow {
namespace {

void write_dataset(hid_t group, const std::string& name, hid_t file_type, hid_t memory_type,
                   const std::vector<hsize_t>& dims, const void* data) {
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t set =
      H5Dcreate2(group, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (set < 0) throw std::runtime_error(str("trajectory file: cannot create dataset ", name));
  H5Dwrite(set, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
  H5Dclose(set);
  H5Sclose(space);
}

void write_attribute(hid_t object, const std::string& name, double value) {
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attr =
      H5Acreate2(object, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attr, H5T_NATIVE_DOUBLE, &value);
  H5Aclose(attr);
  H5Sclose(space);
}

void write_string_attribute(hid_t object, const std::string& name, const std::string& value) {
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, value.size() + 1);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attr = H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attr, type, value.c_str());
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
}

}  // namespace

TrajectoryFile::TrajectoryFile(std::string path, const std::string& resume_from)
    : path_(std::move(path)) {
  const std::string partial = path_ + ".partial";
  if (!resume_from.empty()) {
    std::error_code error;
    std::filesystem::copy_file(resume_from, partial,
                               std::filesystem::copy_options::overwrite_existing, error);
    if (error) {
      throw InputError(str("cannot copy the checkpoint's data set file ", resume_from, " to ",
                           partial, ": ", error.message()));
    }
    file_ = H5Fopen(partial.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    if (file_ < 0) throw InputError(str(partial, ": cannot open the data set file to continue it"));
    // The file-level dt is written with the first trajectory; a continued file has it.
    if (H5Aexists(file_, "dt") > 0) {
      const hid_t attr = H5Aopen(file_, "dt", H5P_DEFAULT);
      H5Aread(attr, H5T_NATIVE_DOUBLE, &dt_);
      H5Aclose(attr);
    }
    return;
  }
  file_ = H5Fcreate(partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file_ < 0) {
    throw InputError(str("cannot create the data set file ", partial,
                         ": check that the folder exists and is writable"));
  }
  write_string_attribute(
      file_, "format",
      "MeshGraphNets-style trajectories (tessera solvers/flow): /<k>/{cells [1,C,3], "
      "mesh_pos [1,N,2], node_type [1,N,1], velocity [T,N,2], pressure [T,N,1]}; in 3-D "
      "cells [1,C,4], mesh_pos [1,N,3], velocity [T,N,3]");
}

TrajectoryFile::~TrajectoryFile() {
  if (file_ >= 0) H5Fclose(file_);  // left as .partial: the run did not finish
}

void TrajectoryFile::write_trajectory(int index, const mesh::Mesh& mesh,
                                      const std::vector<std::vector<double>>& velocity,
                                      const std::vector<std::vector<double>>& pressure, double dt,
                                      const std::map<std::string, double>& attributes) {
  const std::string name = "/" + std::to_string(index);
  const hid_t group = H5Gcreate2(file_, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t n = mesh.num_points(), c = mesh.num_cells(), t = velocity.size();
  const auto d = static_cast<hsize_t>(mesh.dimension);
  const auto per_cell = static_cast<hsize_t>(mesh.nodes_per_cell());
  std::vector<int> cells(mesh.cells.begin(), mesh.cells.end());
  write_dataset(group, "cells", H5T_STD_I32LE, H5T_NATIVE_INT, {1, c, per_cell}, cells.data());
  std::vector<float> pos(mesh.points.begin(), mesh.points.end());
  write_dataset(group, "mesh_pos", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {1, n, d}, pos.data());
  std::vector<int> types(n);
  for (std::size_t i = 0; i < n; ++i) types[i] = static_cast<int>(mesh.node_types[i]);
  write_dataset(group, "node_type", H5T_STD_I32LE, H5T_NATIVE_INT, {1, n, 1}, types.data());
  std::vector<float> v, p;
  v.reserve(t * n * d);
  p.reserve(t * n);
  for (std::size_t k = 0; k < t; ++k) {
    v.insert(v.end(), velocity[k].begin(), velocity[k].end());
    p.insert(p.end(), pressure[k].begin(), pressure[k].end());
  }
  write_dataset(group, "velocity", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {t, n, d}, v.data());
  write_dataset(group, "pressure", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {t, n, 1}, p.data());
  write_attribute(group, "dt", dt);
  for (const auto& [key, value] : attributes) write_attribute(group, key, value);
  H5Gclose(group);
  if (dt_ == 0) {
    dt_ = dt;
    write_attribute(file_, "dt", dt);
  }
}

void TrajectoryFile::copy_to(const std::string& destination) {
  const std::string partial = path_ + ".partial";
  H5Fclose(file_);
  file_ = -1;
  std::error_code error;
  std::filesystem::copy_file(partial, destination,
                             std::filesystem::copy_options::overwrite_existing, error);
  file_ = H5Fopen(partial.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  if (error) {
    throw std::runtime_error(
        str("cannot copy the data set file ", partial, " to ", destination, ": ", error.message()));
  }
  if (file_ < 0) throw std::runtime_error(str(partial, ": cannot reopen the data set file"));
}

void TrajectoryFile::close() {
  if (file_ < 0) return;
  H5Fclose(file_);
  file_ = -1;
  std::filesystem::rename(path_ + ".partial", path_);
}

}  // namespace tessera::solvers::flow
