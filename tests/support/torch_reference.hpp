#pragma once
// Helpers of the tests that compare a layer or model with PyTorch on the reference values
// of analysis/reference/*.py (tests/reference/*.h5): read matrices, load weights by slice
// name, and compare tensors norm-wise in float32.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/graph/csr_graph.hpp"
#include "core/io/hdf5_reader.hpp"
#include "core/nn/parameter_store.hpp"
#include "tests/support/catch.hpp"

namespace tessera::testing {

using tensor::Matrix;

inline Matrix<float> read_matrix(const io::Hdf5Reader& file, const std::string& path) {
  std::vector<std::uint64_t> dims;
  const std::vector<double> values = file.read(path, &dims);
  REQUIRE(dims.size() == 2);
  Matrix<float> m(path, dims[0], dims[1]);
  auto host = Kokkos::create_mirror_view(m);
  for (std::size_t i = 0; i < values.size(); ++i) host.data()[i] = static_cast<float>(values[i]);
  Kokkos::deep_copy(m, host);
  return m;
}

inline std::vector<double> host_values(const Matrix<float>& m) {
  auto host = Kokkos::create_mirror_view(m);
  Kokkos::deep_copy(host, m);
  return std::vector<double>(host.data(), host.data() + m.extent(0) * m.extent(1));
}

inline double norm(const std::vector<double>& v) {
  double total = 0;
  for (double x : v) total += x * x;
  return std::sqrt(total);
}

// ||a - b|| / max(||b||, scale), with the largest entry-wise difference reported on
// failure. `scale` is for tensors that are zero up to round-off.
inline void check_close(const std::string& what, const std::vector<double>& ours,
                        const std::vector<double>& reference, double scale = 0,
                        double tolerance = 1e-5) {
  REQUIRE(ours.size() == reference.size());
  std::vector<double> difference(ours.size());
  double max_abs = 0;
  std::size_t worst = 0;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    difference[i] = ours[i] - reference[i];
    if (std::abs(difference[i]) > max_abs) {
      max_abs = std::abs(difference[i]);
      worst = i;
    }
  }
  const double relative = norm(difference) / std::max({norm(reference), scale, 1e-30});
  INFO(what << ": relative error " << relative << ", max abs difference " << max_abs << " at entry "
            << worst << " (ours " << ours[worst] << ", torch " << reference[worst] << ")");
  CHECK(relative < tolerance);
}

inline  // Sets every slice from group/params and checks that the file has no other.
    void
    load_weights(const io::Hdf5Reader& file, const std::string& group,
                 nn::ParameterStore<float>& store) {
  CHECK(file.members(group + "/params").size() == store.slices().size());
  for (std::size_t id = 0; id < store.slices().size(); ++id) {
    store.set_slice(static_cast<int>(id),
                    file.read(group + "/params/" + store.slice(static_cast<int>(id)).name));
  }
}

// Every parameter gradient of `store` against group/grads/<slice name>. A key bias
// ("...wk.bias") shifts each softmax row by a constant: its gradient is zero up to
// round-off in both codes, so it is compared on the scale of the key weight's gradient.
inline void check_parameter_gradients(const io::Hdf5Reader& file, const std::string& group,
                                      const nn::ParameterStore<float>& store) {
  const std::string key_bias = "wk.bias";
  for (std::size_t id = 0; id < store.slices().size(); ++id) {
    const std::string& name = store.slice(static_cast<int>(id)).name;
    double scale = 0;
    if (name.size() > key_bias.size() &&
        name.compare(name.size() - key_bias.size(), key_bias.size(), key_bias) == 0) {
      scale = norm(file.read(group + "/grads/" + name.substr(0, name.size() - 4) + "weight"));
    }
    check_close(group + " gradient of " + name, store.get_slice(static_cast<int>(id), true),
                file.read(group + "/grads/" + name), scale);
  }
}

// The grid_triangle_mesh(nx, ny) adjacency of the file's /graph group (with or without
// self loops), checked against the row_ptr and col_idx the script built on its own.
inline graph::CsrGraph reference_grid_graph(const io::Hdf5Reader& file, bool self_loops = true) {
  const auto nx = static_cast<std::size_t>(file.read_attribute("/graph", "nx"));
  const auto ny = static_cast<std::size_t>(file.read_attribute("/graph", "ny"));
  const auto mesh = graph::grid_triangle_mesh(nx, ny);
  const auto graph = graph::csr_from_triangles(mesh.num_nodes(), mesh.triangles, self_loops);
  // The script builds the same adjacency on its own: a check of both builders.
  const auto as_index = [](const std::vector<double>& v) {
    return std::vector<graph::Index>(v.begin(), v.end());
  };
  CHECK(graph::host_vector(graph.row_ptr) == as_index(file.read("/graph/row_ptr")));
  CHECK(graph::host_vector(graph.col_idx) == as_index(file.read("/graph/col_idx")));
  return graph;
}

}  // namespace tessera::testing
