// MeshGraphNet: parameter gradients against central finite differences in double, and
// output and every parameter gradient against the plain-PyTorch model of
// analysis/reference/reference_mesh_transformer.py (float32).
#include "models/mesh_transformer/mesh_graph_net.hpp"

#include "core/graph/neighbourhoods.hpp"
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

TEST_CASE("MeshGraphNet parameter gradients match finite differences", "[meshgraphnet_fd]") {
  const auto mesh = graph::grid_triangle_mesh(4, 3);
  const graph::CsrGraph g = graph::csr_from_triangles(mesh.num_nodes(), mesh.triangles, false);
  MeshGraphNetOptions o;
  o.node_inputs = 5;
  o.edge_inputs = 3;
  o.outputs = 2;
  o.latent = 6;
  o.blocks = 2;
  nn::ParameterStore<double> store;
  MeshGraphNet<double> model;
  model.declare(store, o);
  store.finalize();
  model.init(store, 5);
  const Matrix<double> nodes = random_matrix(mesh.num_nodes(), o.node_inputs, 21);
  const Matrix<double> edges = random_matrix(g.num_edges(), o.edge_inputs, 22);
  const Matrix<double> r = random_matrix(mesh.num_nodes(), o.outputs, 23);
  store.zero_grad();
  model.forward(store, nodes, edges, g);
  model.backward(store, r);
  auto loss = [&] { return weighted_sum(model.forward(store, nodes, edges, g), r); };
  const auto check = check_gradient(store.params(), store.grads(), loss, 1e-6, 400);
  INFO("worst parameter " << check.worst_index << " of " << store.size());
  CHECK(check.max_relative_error < 1e-6);
}

TEST_CASE("MeshGraphNet with recomputed blocks gives the same output and gradients bit for bit",
          "[meshgraphnet_fd]") {
  const auto mesh = graph::grid_triangle_mesh(5, 4);
  const graph::CsrGraph g = graph::csr_from_triangles(mesh.num_nodes(), mesh.triangles, false);
  testing::check_recompute_bitwise([&](bool recompute) {
    MeshGraphNetOptions o;
    o.node_inputs = 5;
    o.latent = 6;
    o.blocks = 3;
    o.recompute = recompute;
    nn::ParameterStore<double> store;
    MeshGraphNet<double> model;
    model.declare(store, o);
    store.finalize();
    model.init(store, 5);
    return testing::two_steps(
        store, o.blocks,
        [&](std::uint64_t k, const testing::BlockHook& hook) -> const Matrix<double>& {
          return model.forward(store, random_matrix(mesh.num_nodes(), o.node_inputs, 21 + k),
                               random_matrix(g.num_edges(), o.edge_inputs, 31 + k), g, hook);
        },
        [&](std::uint64_t k, const testing::BlockHook& hook) {
          model.backward(store, random_matrix(mesh.num_nodes(), o.outputs, 41 + k), hook);
        });
  });
}

TEST_CASE("MeshGraphNet at latent 128 x 15 has DeepMind's 2,332,930 parameters",
          "[meshgraphnet_fd]") {
  nn::ParameterStore<float> store;
  MeshGraphNet<float> model;
  model.declare(store, MeshGraphNetOptions{});
  store.finalize();
  CHECK(store.size() == 2332930);
}

TEST_CASE("MeshGraphNet refuses inputs that do not match its graph", "[meshgraphnet_fd]") {
  const auto mesh = graph::grid_triangle_mesh(3, 3);
  const graph::CsrGraph g = graph::csr_from_triangles(mesh.num_nodes(), mesh.triangles, false);
  MeshGraphNetOptions o;
  o.node_inputs = 2;
  o.latent = 4;
  o.blocks = 1;
  nn::ParameterStore<float> store;
  MeshGraphNet<float> model;
  model.declare(store, o);
  store.finalize();
  CHECK_THROWS_WITH(model.forward(store, Matrix<float>("n", mesh.num_nodes(), 2),
                                  Matrix<float>("e", g.num_edges() + 1, 3), g),
                    Catch::Matchers::Contains("edge rows"));
}

TEST_CASE("MeshGraphNet agrees with PyTorch", "[torch_reference]") {
  io::Hdf5Reader file(kReference);
  const graph::CsrGraph graph = testing::reference_grid_graph(file, /*self_loops=*/false);
  const auto attribute = [&](const char* name) {
    return static_cast<std::size_t>(file.read_attribute("/meshgraphnet", name));
  };
  MeshGraphNetOptions o;
  o.node_inputs = attribute("node_inputs");
  o.edge_inputs = attribute("edge_inputs");
  o.outputs = attribute("outputs");
  o.latent = attribute("latent");
  o.blocks = attribute("blocks");
  nn::ParameterStore<float> store;
  MeshGraphNet<float> model;
  model.declare(store, o);
  store.finalize();
  testing::load_weights(file, "/meshgraphnet", store);
  const Matrix<float> nodes = testing::read_matrix(file, "/meshgraphnet/nodes");
  const Matrix<float> edges = testing::read_matrix(file, "/meshgraphnet/edges");
  testing::check_close("output", testing::host_values(model.forward(store, nodes, edges, graph)),
                       file.read("/meshgraphnet/y"));
  store.zero_grad();
  model.backward(store, testing::read_matrix(file, "/meshgraphnet/dy"));
  testing::check_parameter_gradients(file, "/meshgraphnet", store);
}
