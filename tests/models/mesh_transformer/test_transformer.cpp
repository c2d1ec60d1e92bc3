// The mesh transformer (with and without global attention nodes): parameter gradients of
// the whole model against central finite differences in double, and forward output and
// every parameter gradient against the plain-PyTorch model of
// analysis/reference/reference_mesh_transformer.py (float32,
// tests/reference/mesh_transformer.h5).
#include "models/mesh_transformer/transformer.hpp"

#include "core/graph/neighbourhoods.hpp"
#include "models/mesh_transformer/surrogate.hpp"
#include "tests/models/mesh_transformer/recompute_check.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/gradient_check.hpp"
#include "tests/support/torch_reference.hpp"

using namespace tessera;
using namespace tessera::models::mesh_transformer;
using tessera::testing::check_gradient;
using tessera::testing::random_matrix;
using tessera::testing::weighted_sum;

namespace {

const char* const kReference = TESSERA_SOURCE_DIR "/tests/reference/mesh_transformer.h5";

}  // namespace

namespace {

// Whole-model parameter gradients against central differences in double, on a 12-node
// mesh with a second block on another graph (2-hop with self loops), as augmentations give,
// or with `head_groups` its two heads split over the two graphs (dilated heads do that).
void check_transformer_gradients(std::size_t global_nodes, bool head_groups = false) {
  const auto mesh = graph::grid_triangle_mesh(4, 3);
  const graph::HostCsr adjacency = graph::to_host(graph::csr_from_triangles(
      mesh.num_nodes(), mesh.triangles, /*self_loops=*/false));
  const graph::CsrGraph first =
      graph::to_device(with_global_nodes(adjacency, global_nodes, false));
  const graph::CsrGraph two_hop =
      graph::to_device(with_global_nodes(graph::k_hop(adjacency, 2, true), global_nodes, true));
  using BlockGraphs = MeshTransformer<double>::BlockGraphs;
  const std::vector<BlockGraphs> graphs = {
      {&first}, head_groups ? BlockGraphs{&first, &two_hop} : BlockGraphs{&two_hop}};
  TransformerOptions o;
  o.inputs = 5;
  o.outputs = 2;
  o.dim = 8;
  o.layers = 2;
  o.heads = 2;
  o.mlp_factor = 3;
  o.global_nodes = global_nodes;
  nn::ParameterStore<double> store;
  MeshTransformer<double> model;
  model.declare(store, o);
  store.finalize();
  model.init(store, 7);
  if (global_nodes > 0) {  // tokens of order 1, not the 0.02 of the init: generic gradients
    store.init_normal(store.find("global.tokens"), 0.0, 1.0, 9);
  }
  const Matrix<double> x = random_matrix(mesh.num_nodes(), o.inputs, 11);
  const Matrix<double> r = random_matrix(mesh.num_nodes(), o.outputs, 12);
  store.zero_grad();
  model.forward(store, x, graphs);
  model.backward(store, r);
  auto loss = [&] { return weighted_sum(model.forward(store, x, graphs), r); };
  const auto check = check_gradient(store.params(), store.grads(), loss, 1e-6, 400);
  INFO("worst parameter " << check.worst_index << " of " << store.size());
  CHECK(check.max_relative_error < 1e-6);
}

}  // namespace

TEST_CASE("mesh transformer parameter gradients match finite differences", "[transformer_fd]") {
  check_transformer_gradients(0);
}

TEST_CASE("mesh transformer with global nodes: gradients match finite differences",
          "[transformer_fd]") {
  check_transformer_gradients(3);
}

TEST_CASE("mesh transformer with head groups: gradients match finite differences",
          "[transformer_fd]") {
  check_transformer_gradients(0, true);
}

TEST_CASE("global nodes link every node both ways; graphs of the wrong size are refused",
          "[transformer_fd]") {
  const auto mesh = graph::grid_triangle_mesh(3, 3);
  const graph::HostCsr a =
      graph::to_host(graph::csr_from_triangles(mesh.num_nodes(), mesh.triangles, false));
  const graph::HostCsr g = with_global_nodes(a, 2, false);
  const std::size_t n = a.num_nodes();
  REQUIRE(g.num_nodes() == n + 2);
  CHECK(g.num_edges() == a.num_edges() + 2 * n * 2 + 2);  // + node-token both ways + token pair
  for (std::size_t i = 0; i < n; ++i) {  // mesh neighbours first, then the two tokens
    const std::vector<graph::Index> row(g.col_idx.begin() + g.row_ptr[i],
                                        g.col_idx.begin() + g.row_ptr[i + 1]);
    std::vector<graph::Index> expected(a.col_idx.begin() + a.row_ptr[i],
                                       a.col_idx.begin() + a.row_ptr[i + 1]);
    expected.push_back(static_cast<graph::Index>(n));
    expected.push_back(static_cast<graph::Index>(n + 1));
    CHECK(row == expected);
  }
  CHECK(g.row_ptr[n + 1] - g.row_ptr[n] == static_cast<graph::Index>(n + 1));  // all but itself
  CHECK(with_global_nodes(a, 2, true).row_ptr.back() == g.row_ptr.back() + 2);
  CHECK(with_global_nodes(a, 0, false).col_idx == a.col_idx);

  TransformerOptions o;
  o.inputs = 3;
  o.dim = 4;
  o.layers = 1;
  o.heads = 1;
  o.global_nodes = 2;
  nn::ParameterStore<double> store;
  MeshTransformer<double> model;
  model.declare(store, o);
  store.finalize();
  model.init(store, 1);
  const graph::CsrGraph without = graph::to_device(a);
  CHECK_THROWS_WITH(model.forward(store, random_matrix(n, 3, 1), {&without}),
                    Catch::Matchers::Contains("9 rows for 9 nodes + 2 global nodes"));
}

TEST_CASE("block hooks see every block's input and input gradient", "[transformer_fd]") {
  const auto mesh = graph::grid_triangle_mesh(3, 3);
  const graph::CsrGraph a = graph::csr_from_triangles(mesh.num_nodes(), mesh.triangles, false);
  TransformerOptions o;
  o.inputs = 3;
  o.dim = 4;
  o.layers = 3;
  o.heads = 1;
  nn::ParameterStore<double> store;
  MeshTransformer<double> model;
  model.declare(store, o);
  store.finalize();
  model.init(store, 1);
  std::vector<std::size_t> forward_calls, backward_calls;
  const Matrix<double> x = random_matrix(mesh.num_nodes(), o.inputs, 3);
  model.forward(store, x, {&a, &a, &a}, [&](std::size_t l, const Matrix<double>& rows) {
    CHECK(rows.extent(0) == mesh.num_nodes());
    CHECK(rows.extent(1) == o.dim);
    forward_calls.push_back(l);
  });
  model.backward(store, random_matrix(mesh.num_nodes(), o.outputs, 4),
                 [&](std::size_t l, const Matrix<double>&) { backward_calls.push_back(l); });
  CHECK(forward_calls == std::vector<std::size_t>{0, 1, 2});
  CHECK(backward_calls == std::vector<std::size_t>{2, 1, 0});
  CHECK_THROWS_WITH(model.forward(store, x, {&a}), Catch::Matchers::Contains("3 blocks"));
}

TEST_CASE("recomputed blocks give the same output and gradients bit for bit",
          "[transformer_fd]") {
  // Global nodes and head groups over two graphs; two steps, so the second forward runs
  // on blocks whose buffers the first backward freed.
  const auto mesh = graph::grid_triangle_mesh(5, 4);
  const graph::HostCsr adjacency =
      graph::to_host(graph::csr_from_triangles(mesh.num_nodes(), mesh.triangles, false));
  const graph::CsrGraph first = graph::to_device(with_global_nodes(adjacency, 2, false));
  const graph::CsrGraph two_hop =
      graph::to_device(with_global_nodes(graph::k_hop(adjacency, 2, false), 2, false));
  using BlockGraphs = MeshTransformer<double>::BlockGraphs;
  const std::vector<BlockGraphs> graphs = {{&first}, {&first, &two_hop}, {&two_hop}, {&first}};
  testing::check_recompute_bitwise([&](bool recompute) {
    TransformerOptions o;
    o.inputs = 5;
    o.dim = 8;
    o.layers = 4;
    o.heads = 2;
    o.global_nodes = 2;
    o.recompute = recompute;
    nn::ParameterStore<double> store;
    MeshTransformer<double> model;
    model.declare(store, o);
    store.finalize();
    model.init(store, 5);
    return testing::two_steps(
        store, o.layers,
        [&](std::uint64_t k, const testing::BlockHook& hook) -> const Matrix<double>& {
          return model.forward(store, random_matrix(mesh.num_nodes(), o.inputs, 20 + k), graphs,
                               hook);
        },
        [&](std::uint64_t k, const testing::BlockHook& hook) {
          model.backward(store, random_matrix(mesh.num_nodes(), 2, 30 + k), hook);
        });
  });
}

TEST_CASE("mesh transformer shapes are checked", "[transformer_fd]") {
  nn::ParameterStore<float> store;
  MeshTransformer<float> model;
  TransformerOptions o;
  o.dim = 30;
  o.heads = 4;
  CHECK_THROWS_WITH(model.declare(store, o), Catch::Matchers::Contains("model.heads = 4"));
}

namespace {

// The model stored in `group` of the reference file (its shape from the group's
// attributes), with `global_nodes` tokens, run on `graph` in every block: output and every parameter gradient
// against PyTorch's.
void compare_transformer_with_torch(const io::Hdf5Reader& file, const std::string& group,
                                    const graph::CsrGraph& graph, std::size_t global_nodes = 0) {
  const auto attribute = [&](const char* name) {
    return static_cast<std::size_t>(file.read_attribute(group, name));
  };
  TransformerOptions o;
  o.inputs = attribute("inputs");
  o.outputs = attribute("outputs");
  o.dim = attribute("dim");
  o.layers = attribute("layers");
  o.heads = attribute("heads");
  o.mlp_factor = attribute("mlp_factor");
  o.global_nodes = global_nodes;
  nn::ParameterStore<float> store;
  MeshTransformer<float> model;
  model.declare(store, o);
  store.finalize();
  testing::load_weights(file, group, store);
  const std::vector<const graph::CsrGraph*> graphs(o.layers, &graph);
  const Matrix<float> x = testing::read_matrix(file, group + "/x");
  testing::check_close("output", testing::host_values(model.forward(store, x, graphs)),
                       file.read(group + "/y"));
  store.zero_grad();
  model.backward(store, testing::read_matrix(file, group + "/dy"));
  testing::check_parameter_gradients(file, group, store);
}

}  // namespace

TEST_CASE("mesh transformer agrees with PyTorch", "[torch_reference]") {
  io::Hdf5Reader file(kReference);
  compare_transformer_with_torch(file, "/transformer",
                                 testing::reference_grid_graph(file, /*self_loops=*/false));
}

TEST_CASE("mesh transformer with global nodes agrees with PyTorch", "[torch_reference]") {
  io::Hdf5Reader file(kReference);
  const graph::CsrGraph mesh_graph = testing::reference_grid_graph(file, /*self_loops=*/false);
  const auto global_nodes =
      static_cast<std::size_t>(file.read_attribute("/transformer_global", "global_nodes"));
  // The script builds the token rows on its own: a check of with_global_nodes too.
  const graph::HostCsr with_tokens =
      with_global_nodes(graph::to_host(mesh_graph), global_nodes, /*self_loops=*/false);
  const auto as_index = [](const std::vector<double>& v) {
    return std::vector<graph::Index>(v.begin(), v.end());
  };
  CHECK(with_tokens.row_ptr == as_index(file.read("/transformer_global/row_ptr")));
  CHECK(with_tokens.col_idx == as_index(file.read("/transformer_global/col_idx")));
  compare_transformer_with_torch(file, "/transformer_global", graph::to_device(with_tokens),
                                 global_nodes);
}
