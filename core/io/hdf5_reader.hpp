#pragma once
// Serial reading of HDF5 datasets (results files, checkpoints, reference values made by
// the PyTorch scripts in analysis/reference/). Any rank may call it on its own.
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::io {

class Hdf5Reader {
 public:
  // InputError naming the file when it cannot be opened as HDF5.
  explicit Hdf5Reader(const std::string& path);
  ~Hdf5Reader();
  Hdf5Reader(const Hdf5Reader&) = delete;
  Hdf5Reader& operator=(const Hdf5Reader&) = delete;

  bool has(const std::string& object_path) const;
  // Any numeric dataset, converted to double; `dims` receives its shape. InputError
  // naming the file and dataset when it is missing.
  std::vector<double> read(const std::string& dataset_path,
                           std::vector<std::uint64_t>* dims = nullptr) const;
  // Entries first .. first + count - 1 of the leading dimension (the frames of a [T, ...]
  // series), so that a reader holds one slice at a time. InputError when the dataset
  // has fewer entries or is a scalar.
  std::vector<double> read_leading(const std::string& dataset_path, std::uint64_t first,
                                   std::uint64_t count) const;
  // The block start[d] .. start[d] + count[d] - 1 along every dimension d (row-major).
  // InputError when the block is not inside the dataset.
  std::vector<double> read_block(const std::string& dataset_path,
                                 const std::vector<std::uint64_t>& start,
                                 const std::vector<std::uint64_t>& count) const;
  std::vector<std::uint64_t> shape(const std::string& dataset_path) const;
  // Names of the members of a group, sorted.
  std::vector<std::string> members(const std::string& group_path) const;
  double read_attribute(const std::string& object_path, const std::string& name) const;
  std::string read_string_attribute(const std::string& object_path, const std::string& name) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::int64_t file_ = -1;
};

}  // namespace tessera::io
