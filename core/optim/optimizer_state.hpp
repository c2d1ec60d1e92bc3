#pragma once
// Checkpoint helpers shared by the optimisers: their state buffers, step count and
// learning rate go to a results-file group and come back with checks that the
// checkpoint belongs to the same optimiser and parameter count.
#include <cstdint>
#include <string>
#include <vector>

#include "core/io/hdf5_reader.hpp"
#include "core/io/results_file.hpp"
#include "core/runtime/error.hpp"
#include "core/tensor/host_copy.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::optim {

using tensor::Vector;

namespace detail {

// One 1-D dataset per state buffer. Collective over the file's communicator.
template <class T>
void write_buffer(io::ResultsFile& file, const std::string& path, const Vector<T>& v) {
  file.write_root_array(path, {static_cast<std::uint64_t>(v.extent(0))}, tensor::to_host(v));
}

// InputError naming the file and dataset when the buffer is missing or sized for
// another model.
template <class T>
void read_buffer(const io::Hdf5Reader& file, const std::string& path, const Vector<T>& v) {
  if (!file.has(path)) {
    throw InputError(str(file.path(), ": optimiser state '", path,
                         "' is missing (checkpoint written by another optimiser?)"));
  }
  const std::vector<double> values = file.read(path);
  if (values.size() != v.extent(0)) {
    throw InputError(str(file.path(), ": optimiser state '", path, "' has ", values.size(),
                         " entries, this model has ", v.extent(0),
                         " parameters (checkpoint from a different model)"));
  }
  auto host = Kokkos::create_mirror_view(v);
  for (std::size_t i = 0; i < values.size(); ++i) host(i) = static_cast<T>(values[i]);
  Kokkos::deep_copy(v, host);
}

// `step` and `lr` as one-entry datasets, the optimiser's name as an attribute of the
// group (so that loading Adam state into SGD is an error that says so).
inline void write_header(io::ResultsFile& file, const std::string& group, const std::string& kind,
                         long long step, double lr) {
  file.write_root_array(group + "/step", {1}, {static_cast<double>(step)});
  file.write_root_array(group + "/lr", {1}, {lr});
  file.set_attribute(group, "optimizer", kind);
}

struct Header {
  long long step = 0;
  double lr = 0;
};

inline Header read_header(const io::Hdf5Reader& file, const std::string& group,
                          const std::string& kind) {
  if (!file.has(group + "/step")) {
    throw InputError(str(file.path(), ": no optimiser state in ", group));
  }
  const std::string stored = file.read_string_attribute(group, "optimizer");
  if (stored != kind) {
    throw InputError(str(file.path(), ": ", group, " holds the state of optimiser '", stored,
                         "', this run uses '", kind, "'"));
  }
  Header header;
  header.step = static_cast<long long>(file.read(group + "/step").at(0));
  header.lr = file.read(group + "/lr").at(0);
  return header;
}

template <class T>
void check_store(const nn::ParameterStore<T>& store, std::size_t size, const char* who) {
  if (store.size() != size) {
    throw std::logic_error(str(who, ": parameter store has ", store.size(),
                               " entries, the optimiser was made for ", size));
  }
}

}  // namespace detail

}  // namespace tessera::optim
