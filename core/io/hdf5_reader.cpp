#include "core/io/hdf5_reader.hpp"

#include <hdf5.h>

#include <algorithm>

#include "core/io/hdf5_path.hpp"
#include "core/runtime/error.hpp"

namespace tessera::io {

Hdf5Reader::Hdf5Reader(const std::string& path) : path_(path) {
  H5Eset_auto(H5E_DEFAULT, nullptr, nullptr);
  file_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file_ < 0) throw InputError(str(path, ": cannot open as an HDF5 file"));
}

Hdf5Reader::~Hdf5Reader() {
  if (file_ >= 0) H5Fclose(file_);
}

bool Hdf5Reader::has(const std::string& object_path) const {
  return hdf5_path_exists(file_, object_path);
}

std::vector<std::uint64_t> Hdf5Reader::shape(const std::string& dataset_path) const {
  if (!has(dataset_path)) throw InputError(str(path_, ": no dataset ", dataset_path));
  hid_t dataset = H5Dopen2(file_, dataset_path.c_str(), H5P_DEFAULT);
  if (dataset < 0) throw InputError(str(path_, ": ", dataset_path, " is not a dataset"));
  hid_t space = H5Dget_space(dataset);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(std::max(rank, 0));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  H5Sclose(space);
  H5Dclose(dataset);
  return std::vector<std::uint64_t>(dims.begin(), dims.end());
}

std::vector<double> Hdf5Reader::read(const std::string& dataset_path,
                                     std::vector<std::uint64_t>* dims) const {
  const std::vector<std::uint64_t> extent = shape(dataset_path);
  std::uint64_t total = 1;
  for (auto d : extent) total *= d;
  std::vector<double> values(total);
  hid_t dataset = H5Dopen2(file_, dataset_path.c_str(), H5P_DEFAULT);
  const herr_t status = total == 0 ? 0
                                   : H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
                                             H5P_DEFAULT, values.data());
  H5Dclose(dataset);
  if (status < 0) {
    throw InputError(str(path_, ": ", dataset_path, " cannot be read as numbers"));
  }
  if (dims != nullptr) *dims = extent;
  return values;
}

std::vector<double> Hdf5Reader::read_leading(const std::string& dataset_path, std::uint64_t first,
                                             std::uint64_t count) const {
  const std::vector<std::uint64_t> extent = shape(dataset_path);
  if (extent.empty() || first + count > extent[0]) {
    throw InputError(str(path_, ": ", dataset_path, " has ", extent.empty() ? 0 : extent[0],
                         " entries along its first dimension; entries ", first, " .. ",
                         first + count, " (exclusive) were asked for"));
  }
  std::vector<std::uint64_t> start(extent.size(), 0), block = extent;
  start[0] = first;
  block[0] = count;
  return read_block(dataset_path, start, block);
}

std::vector<double> Hdf5Reader::read_block(const std::string& dataset_path,
                                           const std::vector<std::uint64_t>& start,
                                           const std::vector<std::uint64_t>& count) const {
  const std::vector<std::uint64_t> extent = shape(dataset_path);
  bool inside = start.size() == extent.size() && count.size() == extent.size();
  for (std::size_t d = 0; inside && d < extent.size(); ++d) {
    inside = start[d] + count[d] <= extent[d];
  }
  if (!inside) {
    std::string asked, has;
    for (std::size_t d = 0; d < start.size() && d < count.size(); ++d) {
      asked += str(d ? ", " : "", start[d], " .. ", start[d] + count[d]);
    }
    for (std::size_t d = 0; d < extent.size(); ++d) has += str(d ? " x " : "", extent[d]);
    throw InputError(str(path_, ": ", dataset_path, " (", has.empty() ? "a scalar" : has,
                         ") does not hold the block [", asked, ") asked for"));
  }
  const std::vector<hsize_t> offset(start.begin(), start.end()), block(count.begin(), count.end());
  std::uint64_t total = 1;
  for (hsize_t b : block) total *= b;
  std::vector<double> values(total);
  if (total == 0) return values;
  hid_t dataset = H5Dopen2(file_, dataset_path.c_str(), H5P_DEFAULT);
  hid_t file_space = H5Dget_space(dataset);
  H5Sselect_hyperslab(file_space, H5S_SELECT_SET, offset.data(), nullptr, block.data(), nullptr);
  hid_t memory_space = H5Screate_simple(static_cast<int>(block.size()), block.data(), nullptr);
  const herr_t status =
      H5Dread(dataset, H5T_NATIVE_DOUBLE, memory_space, file_space, H5P_DEFAULT, values.data());
  H5Sclose(memory_space);
  H5Sclose(file_space);
  H5Dclose(dataset);
  if (status < 0) {
    throw InputError(str(path_, ": ", dataset_path, " cannot be read as numbers"));
  }
  return values;
}

namespace {
herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}
}  // namespace

std::vector<std::string> Hdf5Reader::members(const std::string& group_path) const {
  std::vector<std::string> names;
  if (!has(group_path)) throw InputError(str(path_, ": no group ", group_path));
  H5Literate_by_name(file_, group_path.c_str(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_name,
                     &names, H5P_DEFAULT);
  std::sort(names.begin(), names.end());
  return names;
}

double Hdf5Reader::read_attribute(const std::string& object_path, const std::string& name) const {
  hid_t attribute =
      H5Aopen_by_name(file_, object_path.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  if (attribute < 0) {
    throw InputError(str(path_, ": no attribute '", name, "' on ", object_path));
  }
  double value = 0;
  const herr_t status = H5Aread(attribute, H5T_NATIVE_DOUBLE, &value);
  H5Aclose(attribute);
  if (status < 0) throw InputError(str(path_, ": attribute '", name, "' is not a number"));
  return value;
}

std::string Hdf5Reader::read_string_attribute(const std::string& object_path,
                                              const std::string& name) const {
  hid_t attribute =
      H5Aopen_by_name(file_, object_path.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  if (attribute < 0) {
    throw InputError(str(path_, ": no attribute '", name, "' on ", object_path));
  }
  hid_t type = H5Aget_type(attribute);
  std::string value;
  if (H5Tis_variable_str(type) > 0) {
    char* text = nullptr;
    hid_t memory = H5Tcopy(H5T_C_S1);
    H5Tset_size(memory, H5T_VARIABLE);
    // h5py writes UTF-8: reading into an ASCII memory type fails without a word.
    H5Tset_cset(memory, H5Tget_cset(type));
    H5Aread(attribute, memory, &text);
    if (text != nullptr) value = text;
    H5free_memory(text);
    H5Tclose(memory);
  } else {
    value.assign(H5Tget_size(type), '\0');
    H5Aread(attribute, type, value.data());
    value.resize(value.find('\0') == std::string::npos ? value.size() : value.find('\0'));
  }
  H5Tclose(type);
  H5Aclose(attribute);
  return value;
}

}  // namespace tessera::io
