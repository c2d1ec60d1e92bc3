// Agreement with PyTorch (analysis/reference/reference_graph.py, which writes
// tests/reference/graph.h5): same graph, weights and input; forward output, input
// gradient and every parameter gradient in float32, norm-wise relative error < 1e-5.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/graph/csr_graph.hpp"
#include "core/io/hdf5_reader.hpp"
#include "core/nn/graph_attention.hpp"
#include "core/nn/graph_transformer_block.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using namespace tessera::nn;

namespace {

const char* const kReference = TESSERA_SOURCE_DIR "/tests/reference/graph.h5";

Matrix<float> read_matrix(const io::Hdf5Reader& file, const std::string& path) {
  std::vector<std::uint64_t> dims;
  const std::vector<double> values = file.read(path, &dims);
  REQUIRE(dims.size() == 2);
  Matrix<float> m(path, dims[0], dims[1]);
  auto host = Kokkos::create_mirror_view(m);
  for (std::size_t i = 0; i < values.size(); ++i) host.data()[i] = static_cast<float>(values[i]);
  Kokkos::deep_copy(m, host);
  return m;
}

std::vector<double> host_values(const Matrix<float>& m) {
  auto host = Kokkos::create_mirror_view(m);
  Kokkos::deep_copy(host, m);
  return std::vector<double>(host.data(), host.data() + m.extent(0) * m.extent(1));
}

double norm(const std::vector<double>& v) {
  double total = 0;
  for (double x : v) total += x * x;
  return std::sqrt(total);
}

// ||a - b|| / max(||b||, scale), with the largest entry-wise difference reported on
// failure. `scale` is for tensors that are zero up to round-off.
void check_close(const std::string& what, const std::vector<double>& ours,
                 const std::vector<double>& reference, double scale = 0, double tolerance = 1e-5) {
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

graph::CsrGraph reference_graph(const io::Hdf5Reader& file) {
  const auto nx = static_cast<std::size_t>(file.read_attribute("/graph", "nx"));
  const auto ny = static_cast<std::size_t>(file.read_attribute("/graph", "ny"));
  const auto mesh = graph::grid_triangle_mesh(nx, ny);
  const auto graph = graph::csr_from_triangles(mesh.num_nodes(), mesh.triangles);
  // The script builds the same adjacency on its own: a check of both builders.
  const auto as_index = [](const std::vector<double>& v) {
    return std::vector<graph::Index>(v.begin(), v.end());
  };
  CHECK(graph::host_vector(graph.row_ptr) == as_index(file.read("/graph/row_ptr")));
  CHECK(graph::host_vector(graph.col_idx) == as_index(file.read("/graph/col_idx")));
  return graph;
}

// Sets every slice from group/params and checks that the file has no other.
void load_weights(const io::Hdf5Reader& file, const std::string& group,
                  ParameterStore<float>& store) {
  CHECK(file.members(group + "/params").size() == store.slices().size());
  for (std::size_t id = 0; id < store.slices().size(); ++id) {
    store.set_slice(static_cast<int>(id),
                    file.read(group + "/params/" + store.slice(static_cast<int>(id)).name));
  }
}

template <class Layer>
void compare_with_torch(const io::Hdf5Reader& file, const std::string& group,
                        ParameterStore<float>& store, Layer& layer, const graph::CsrGraph& graph) {
  load_weights(file, group, store);
  const Matrix<float> x = read_matrix(file, group + "/x");
  const Matrix<float> dy = read_matrix(file, group + "/dy");
  check_close(group + " output", host_values(layer.forward(store, x, graph)),
              file.read(group + "/y"));
  store.zero_grad();
  check_close(group + " input gradient", host_values(layer.backward(store, dy)),
              file.read(group + "/dx"));
  for (std::size_t id = 0; id < store.slices().size(); ++id) {
    const std::string& name = store.slice(static_cast<int>(id)).name;
    // Adding a constant to every key shifts each softmax row by a constant: the key bias
    // gradient is zero, up to round-off, in both codes. It is compared on the scale of
    // the key weight gradient.
    const std::string suffix = "wk.bias";
    double scale = 0;
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      const std::string weight = name.substr(0, name.size() - 4) + "weight";
      scale = norm(file.read(group + "/grads/" + weight));
    }
    check_close(group + " gradient of " + name, store.get_slice(static_cast<int>(id), true),
                file.read(group + "/grads/" + name), scale);
  }
}

}  // namespace

TEST_CASE("graph attention agrees with PyTorch", "[torch_reference]") {
  io::Hdf5Reader file(kReference);
  const auto graph = reference_graph(file);
  ParameterStore<float> store;
  GraphMultiHeadAttention<float> attention;
  attention.declare(store, "attn",
                    static_cast<std::size_t>(file.read_attribute("/attention", "model_dim")),
                    static_cast<std::size_t>(file.read_attribute("/attention", "heads")));
  store.finalize();
  compare_with_torch(file, "/attention", store, attention, graph);
  // The probabilities too (edge order of the CSR graph).
  std::vector<double> p;
  const auto& prob = attention.probabilities();
  for (std::size_t e = 0; e < prob.extent(0); ++e) {
    for (std::size_t h = 0; h < prob.extent(1); ++h) p.push_back(prob(e, h));
  }
  check_close("attention probabilities", p, file.read("/attention/probabilities"));
}

TEST_CASE("graph transformer block agrees with PyTorch", "[torch_reference]") {
  io::Hdf5Reader file(kReference);
  const auto graph = reference_graph(file);
  ParameterStore<float> store;
  GraphTransformerBlock<float> block;
  block.declare(store, "block",
                static_cast<std::size_t>(file.read_attribute("/block", "model_dim")),
                static_cast<std::size_t>(file.read_attribute("/block", "heads")),
                static_cast<std::size_t>(file.read_attribute("/block", "mlp_hidden")));
  store.finalize();
  compare_with_torch(file, "/block", store, block, graph);
}
