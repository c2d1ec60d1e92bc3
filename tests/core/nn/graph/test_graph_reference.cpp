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
#include "tests/support/torch_reference.hpp"

using namespace tessera;
using namespace tessera::nn;
using namespace tessera::testing;

namespace {

const char* const kReference = TESSERA_SOURCE_DIR "/tests/reference/graph.h5";

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
  check_parameter_gradients(file, group, store);
}

}  // namespace

TEST_CASE("graph attention agrees with PyTorch", "[torch_reference]") {
  io::Hdf5Reader file(kReference);
  const auto graph = reference_grid_graph(file);
  ParameterStore<float> store;
  GraphMultiHeadAttention<float> attention;
  attention.declare(store, "attn",
                    static_cast<std::size_t>(file.read_attribute("/attention", "model_dim")),
                    static_cast<std::size_t>(file.read_attribute("/attention", "heads")));
  store.finalize();
  compare_with_torch(file, "/attention", store, attention, graph);
  // The probabilities too (edge order of the CSR graph, row-major (edge, head)).
  const std::vector<double> p = host_values(attention.probabilities());
  check_close("attention probabilities", p, file.read("/attention/probabilities"));
}

TEST_CASE("graph transformer block agrees with PyTorch", "[torch_reference]") {
  io::Hdf5Reader file(kReference);
  const auto graph = reference_grid_graph(file);
  ParameterStore<float> store;
  GraphTransformerBlock<float> block;
  block.declare(store, "block",
                static_cast<std::size_t>(file.read_attribute("/block", "model_dim")),
                static_cast<std::size_t>(file.read_attribute("/block", "heads")),
                static_cast<std::size_t>(file.read_attribute("/block", "mlp_hidden")));
  store.finalize();
  compare_with_torch(file, "/block", store, block, graph);
}
