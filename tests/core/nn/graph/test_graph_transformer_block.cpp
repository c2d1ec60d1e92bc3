#include "core/graph/csr_graph.hpp"
#include "core/nn/graph_transformer_block.hpp"
#include "core/runtime/error.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/gradient_check.hpp"

using namespace tessera;
using namespace tessera::nn;
using tessera::testing::check_gradient;
using tessera::testing::random_matrix;
using tessera::testing::weighted_sum;

TEST_CASE("graph transformer block backward matches finite differences", "[graph_block]") {
  const auto mesh = graph::grid_triangle_mesh(4, 3);
  const auto graph = graph::csr_from_triangles(mesh.num_nodes(), mesh.triangles);
  ParameterStore<double> store;
  GraphTransformerBlock<double> block;
  block.declare(store, "block", 8, 2, 16);
  store.finalize();
  block.init(store, 41);
  // Norm weights away from 1 and 0, so that their gradients are generic.
  for (const char* norm : {"block.ln1", "block.ln2"}) {
    const int w = store.find(std::string(norm) + ".weight");
    const int b = store.find(std::string(norm) + ".bias");
    store.init_uniform(w, 0.5, 1.5, 42);
    store.init_uniform(b, -0.5, 0.5, 43);
  }
  Matrix<double> x = random_matrix(12, 8, 44);
  const Matrix<double> r = random_matrix(12, 8, 45);
  auto loss = [&] { return weighted_sum(block.forward(store, x, graph), r); };
  loss();
  store.zero_grad();
  const Matrix<double> dx = block.backward(store, r);
  // Step 2e-5, not 1e-6: the residual path makes L large, so at 1e-6 the round-off of L
  // (~1e-16 L / h) dominates; at 2e-5 it balances the O(h^2) truncation of the GELU.
  const auto params = check_gradient(store.params(), store.grads(), loss, 2e-5, store.size());
  INFO("parameters: worst entry " << params.worst_index << ", abs error " << params.max_abs_error
                                  << ", relative " << params.max_relative_error);
  CHECK(params.max_relative_error < 1e-6);
  const auto inputs = check_gradient(tensor::flat(x), tensor::flat(dx), loss, 2e-5);
  INFO("input: worst entry " << inputs.worst_index << ", abs error " << inputs.max_abs_error
                             << ", relative " << inputs.max_relative_error);
  CHECK(inputs.max_relative_error < 1e-6);
}

TEST_CASE("graph transformer block names its slices and refuses bad inputs", "[graph_block]") {
  ParameterStore<float> store;
  GraphTransformerBlock<float> block;
  block.declare(store, "b0", 8, 4, 32);
  store.finalize();
  block.init(store, 1);
  for (const char* name :
       {"b0.ln1.weight", "b0.ln1.bias", "b0.attention.wq.weight", "b0.attention.wk.bias",
        "b0.attention.wv.weight", "b0.attention.wo.weight", "b0.ln2.bias", "b0.mlp.0.weight",
        "b0.mlp.1.bias"}) {
    INFO(name);
    CHECK(store.find(name) >= 0);
  }
  CHECK(store.slice(store.find("b0.mlp.0.weight")).shape == std::vector<std::size_t>{32, 8});
  const auto mesh = graph::grid_triangle_mesh(3, 3);
  const auto graph = graph::csr_from_triangles(mesh.num_nodes(), mesh.triangles);
  CHECK_THROWS_WITH(block.forward(store, Matrix<float>("x", 9, 5), graph),
                    Catch::Matchers::Contains("b0") && Catch::Matchers::Contains("5 features"));
  CHECK_THROWS_WITH(block.forward(store, Matrix<float>("x", 8, 8), graph),
                    Catch::Matchers::Contains("9 nodes") && Catch::Matchers::Contains("8 rows"));
  const Matrix<float> y = block.forward(store, Matrix<float>("x", 9, 8), graph);
  CHECK(y.extent(0) == 9);
  CHECK_THROWS_WITH(block.backward(store, Matrix<float>("dy", 9, 7)),
                    Catch::Matchers::Contains("[9 x 7]"));
  ParameterStore<float> other;
  GraphTransformerBlock<float> bad;
  CHECK_THROWS_AS(bad.declare(other, "b", 8, 3, 16), InputError);
}
