#include <cmath>
#include <vector>

#include "core/graph/csr_graph.hpp"
#include "core/nn/graph_attention.hpp"
#include "core/runtime/error.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/gradient_check.hpp"
#include "tests/support/host_view.hpp"

using namespace tessera;
using namespace tessera::nn;
using tessera::testing::check_gradient;
using tessera::testing::host;
using tessera::testing::random_matrix;
using tessera::testing::weighted_sum;

namespace {

// Every edge-wise path at once: the analytic backward against central differences for
// all parameters and the input, with model_dim 8 and 2 heads per graph in `graphs` (one
// graph: all heads over it; several: one head group each).
void check_attention_gradients(const std::vector<const graph::CsrGraph*>& graphs,
                               std::uint64_t seed) {
  const std::size_t nodes = graphs.front()->num_nodes(), heads = 2 * graphs.size();
  const std::size_t dim = 4 * heads;
  ParameterStore<double> store;
  GraphMultiHeadAttention<double> attention;
  attention.declare(store, "attn", dim, heads);
  store.finalize();
  attention.init(store, seed);
  Matrix<double> x = random_matrix(nodes, dim, seed + 1);
  const Matrix<double> r = random_matrix(nodes, dim, seed + 2);
  auto loss = [&] { return weighted_sum(attention.forward(store, x, graphs), r); };
  loss();
  store.zero_grad();
  const Matrix<double> dx = attention.backward(store, r);
  // Step 1e-5: round-off of L and truncation are both ~1e-10 there.
  const auto params = check_gradient(store.params(), store.grads(), loss, 1e-5, 400);
  INFO("parameters: worst entry " << params.worst_index << ", abs error " << params.max_abs_error
                                  << ", relative " << params.max_relative_error);
  CHECK(params.max_relative_error < 1e-6);
  const auto inputs = check_gradient(tensor::flat(x), tensor::flat(dx), loss, 1e-5);
  INFO("input: worst entry " << inputs.worst_index << ", abs error " << inputs.max_abs_error
                             << ", relative " << inputs.max_relative_error);
  CHECK(inputs.max_relative_error < 1e-6);
}

}  // namespace

TEST_CASE("graph attention backward matches finite differences on a triangle mesh",
          "[graph_attention]") {
  const auto mesh = graph::grid_triangle_mesh(4, 3);
  const auto graph = graph::csr_from_triangles(mesh.num_nodes(), mesh.triangles);
  check_attention_gradients({&graph}, 21);
}

TEST_CASE("graph attention backward matches finite differences on a directed graph",
          "[graph_attention]") {
  // Not symmetric, so keys and values are scattered through a transpose that differs
  // from the graph; node 2 has no neighbours and node 0 is nobody's neighbour.
  const auto graph = graph::csr_from_host({0, 3, 4, 4, 6, 9, 10}, {1, 3, 5, 4, 1, 5, 1, 2, 4, 3});
  check_attention_gradients({&graph}, 31);
}

TEST_CASE("head groups over different graphs: backward matches finite differences",
          "[graph_attention]") {
  // Three groups of 2 heads: the directed graph above, the full graph with self loops,
  // and the directed graph again (a repeated graph is its own group).
  const auto directed =
      graph::csr_from_host({0, 3, 4, 4, 6, 9, 10}, {1, 3, 5, 4, 1, 5, 1, 2, 4, 3});
  std::vector<graph::Index> row_ptr = {0}, col_idx;
  for (int i = 0; i < 6; ++i) {
    for (int j = 0; j < 6; ++j) col_idx.push_back(j);
    row_ptr.push_back(static_cast<graph::Index>(col_idx.size()));
  }
  const auto full = graph::csr_from_host(row_ptr, col_idx);
  check_attention_gradients({&directed, &full, &directed}, 41);
}

TEST_CASE("each head group attends over its own graph", "[graph_attention]") {
  // With the output projection the identity, the output is the heads' context: group g's
  // columns must equal those of a one-graph layer over group g's graph.
  const auto mesh = graph::grid_triangle_mesh(4, 3);
  const auto adjacency = graph::csr_from_triangles(mesh.num_nodes(), mesh.triangles, false);
  const auto with_self = graph::csr_from_triangles(mesh.num_nodes(), mesh.triangles, true);
  const std::size_t dim = 8, heads = 4, nodes = mesh.num_nodes();
  ParameterStore<double> store;
  GraphMultiHeadAttention<double> attention;
  attention.declare(store, "attn", dim, heads);
  store.finalize();
  attention.init(store, 13);
  Matrix<double> wo = store.param_matrix(store.find("attn.wo.weight"));
  {
    auto h_wo = host(wo);
    Kokkos::deep_copy(h_wo, 0.0);
    for (std::size_t c = 0; c < dim; ++c) h_wo(c, c) = 1.0;
    Kokkos::deep_copy(wo, h_wo);
  }
  Kokkos::deep_copy(store.param_vector(store.find("attn.wo.bias")), 0.0);
  const Matrix<double> x = random_matrix(nodes, dim, 14);
  // A copy of an output (the layer reuses its output buffer), read on the host.
  const auto copy = [](const Matrix<double>& m) {
    Matrix<double> out("copy", m.extent(0), m.extent(1));
    Kokkos::deep_copy(out, m);
    return host(out);
  };
  const auto over_a = copy(attention.forward(store, x, adjacency));
  const auto over_b = copy(attention.forward(store, x, with_self));
  const auto grouped = copy(attention.forward(store, x, {&adjacency, &with_self}));
  CHECK(attention.head_groups() == 2);
  CHECK(attention.probabilities(1).extent(0) == with_self.num_edges());
  for (std::size_t i = 0; i < nodes; ++i) {
    for (std::size_t c = 0; c < dim; ++c) {
      CHECK(grouped(i, c) == (c < dim / 2 ? over_a(i, c) : over_b(i, c)));
    }
  }
  // One group per head over the same graph is the one-graph layer, bit for bit.
  const auto repeated =
      copy(attention.forward(store, x, {&adjacency, &adjacency, &adjacency, &adjacency}));
  for (std::size_t i = 0; i < nodes; ++i) {
    for (std::size_t c = 0; c < dim; ++c) CHECK(repeated(i, c) == over_a(i, c));
  }
  CHECK_THROWS_WITH(attention.forward(store, x, {&adjacency, &adjacency, &adjacency}),
                    Catch::Matchers::Contains("3 head groups for 4 heads"));
}

TEST_CASE("graph attention weights are a softmax over each neighbourhood", "[graph_attention]") {
  const auto mesh = graph::grid_triangle_mesh(4, 3);
  const auto graph = graph::csr_from_triangles(mesh.num_nodes(), mesh.triangles);
  ParameterStore<float> store;
  GraphMultiHeadAttention<float> attention;
  attention.declare(store, "attn", 8, 4);
  store.finalize();
  attention.init(store, 3);
  // Large inputs: unshifted exponentials would overflow in float.
  Matrix<float> x("x", 12, 8);
  Kokkos::deep_copy(x, 200.0f);
  Kokkos::deep_copy(Kokkos::subview(x, 3, 1), -300.0f);
  const Matrix<float> y = attention.forward(store, x, graph);
  const auto p = host(attention.probabilities());
  REQUIRE(p.extent(0) == graph.num_edges());
  REQUIRE(p.extent(1) == 4);
  const auto row_ptr = graph::host_vector(graph.row_ptr);
  for (int i = 0; i < 12; ++i) {
    for (int h = 0; h < 4; ++h) {
      double total = 0;
      for (int e = row_ptr[i]; e < row_ptr[i + 1]; ++e) {
        CHECK(std::isfinite(p(e, h)));
        total += p(e, h);
      }
      CHECK(total == Approx(1.0).epsilon(1e-5));
    }
  }
  const auto hy = host(y);
  for (int i = 0; i < 12; ++i) {
    for (int c = 0; c < 8; ++c) CHECK(std::isfinite(hy(i, c)));
  }
}

TEST_CASE("a node without neighbours gets only the output bias", "[graph_attention]") {
  const auto graph = graph::csr_from_host({0, 1, 1}, {0});
  ParameterStore<double> store;
  GraphMultiHeadAttention<double> attention;
  attention.declare(store, "attn", 4, 2);
  store.finalize();
  attention.init(store, 5);
  const Matrix<double> x = random_matrix(2, 4, 6);
  const Matrix<double> y = attention.forward(store, x, graph);
  const auto bias = store.get_slice(store.find("attn.wo.bias"));
  const auto hy = host(y);
  for (int c = 0; c < 4; ++c) CHECK(hy(1, c) == Approx(bias[c]));
}

TEST_CASE("skipping the input gradient leaves the parameter gradients unchanged",
          "[graph_attention]") {
  const auto mesh = graph::grid_triangle_mesh(3, 3);
  const auto graph = graph::csr_from_triangles(mesh.num_nodes(), mesh.triangles);
  ParameterStore<double> store;
  GraphMultiHeadAttention<double> attention;
  attention.declare(store, "attn", 4, 2);
  store.finalize();
  attention.init(store, 8);
  const Matrix<double> x = random_matrix(9, 4, 9);
  const Matrix<double> r = random_matrix(9, 4, 10);
  attention.forward(store, x, graph);
  store.zero_grad();
  CHECK(attention.backward(store, r).extent(0) == 9);
  const auto with_input = store.get_slice(store.find("attn.wq.weight"), true);
  store.zero_grad();
  CHECK(attention.backward(store, r, false).extent(0) == 0);
  CHECK(store.get_slice(store.find("attn.wq.weight"), true) == with_input);
}

TEST_CASE("graph attention refuses inputs that do not fit", "[graph_attention]") {
  ParameterStore<float> store;
  GraphMultiHeadAttention<float> attention;
  CHECK_THROWS_WITH(attention.declare(store, "attn", 10, 4),
                    Catch::Matchers::Contains("multiple of heads = 4"));
  attention.declare(store, "attn", 8, 2);
  store.finalize();
  attention.init(store, 1);
  CHECK(store.find("attn.wq.weight") >= 0);
  CHECK(store.find("attn.wo.bias") >= 0);
  const auto mesh = graph::grid_triangle_mesh(4, 3);
  const auto graph = graph::csr_from_triangles(mesh.num_nodes(), mesh.triangles);
  CHECK_THROWS_WITH(
      attention.forward(store, Matrix<float>("x", 12, 6), graph),
      Catch::Matchers::Contains("6 features") && Catch::Matchers::Contains("model_dim = 8"));
  CHECK_THROWS_WITH(attention.forward(store, Matrix<float>("x", 10, 8), graph),
                    Catch::Matchers::Contains("12 nodes") && Catch::Matchers::Contains("10 rows"));
  attention.forward(store, Matrix<float>("x", 12, 8), graph);
  CHECK_THROWS_WITH(attention.backward(store, Matrix<float>("dy", 11, 8)),
                    Catch::Matchers::Contains("[11 x 8]"));
}
