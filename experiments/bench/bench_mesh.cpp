#include "experiments/bench/bench_mesh.hpp"

#include <algorithm>
#include <string>

#include "core/graph/csr_graph.hpp"
#include "core/optim/adam.hpp"
#include "core/runtime/error.hpp"
#include "core/tensor/random.hpp"
#include "models/mesh_transformer/mesh_graph_net.hpp"
#include "models/mesh_transformer/transformer.hpp"

namespace tessera::bench {

namespace {

namespace mt = models::mesh_transformer;

struct Case {
  std::size_t nx, ny;
  std::string model;  // "transformer" or "meshgraphnet"
  std::size_t width, depth;
};

tensor::Matrix<float> random_rows(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  tensor::Matrix<float> m("bench::mesh_rows", rows, cols);
  tensor::fill_normal(tensor::Vector<float>(m.data(), rows * cols), 0.0f, 1.0f, seed, 0);
  return m;
}

// Nominal flops of one forward + backward, as bench_mesh_torch.py counts them.
double transformer_flops(double nodes, double edges, double inputs, double d, double layers) {
  const double node_mac = inputs * d + 3 * d * d + layers * 13 * d * d + 3 * d * d + 2 * d;
  return 6 * nodes * node_mac + layers * 12 * edges * d;
}
double meshgraphnet_flops(double nodes, double edges, double inputs, double l, double blocks) {
  const double node_mac = inputs * l + 2 * l * l + blocks * 4 * l * l + 2 * l * l + 2 * l;
  const double edge_mac = 3 * l + 2 * l * l + blocks * 5 * l * l;
  return 6 * (nodes * node_mac + edges * edge_mac);
}

}  // namespace

std::vector<BenchRow> bench_mesh(const BenchOptions& options) {
  std::vector<Case> cases;
  if (options.quick) {
    cases = {{10, 8, "transformer", 16, 2}, {10, 8, "meshgraphnet", 16, 2}};
  } else {
    for (const auto& [nx, ny] :
         {std::pair<std::size_t, std::size_t>{48, 40}, {120, 117}, {240, 225}}) {
      cases.push_back({nx, ny, "transformer", 64, 5});
      if (nx * ny < 20000) {  // 54k nodes at 128 x 15 takes minutes a step
        cases.push_back({nx, ny, "transformer", 128, 15});
        cases.push_back({nx, ny, "meshgraphnet", 128, 15});
      }
    }
  }
  std::vector<BenchRow> rows;
  for (const Case& c : cases) {
    const auto grid = graph::grid_triangle_mesh(c.nx, c.ny);
    const graph::CsrGraph g = graph::csr_from_triangles(grid.num_nodes(), grid.triangles, false);
    const std::size_t nodes = g.num_nodes(), edges = g.num_edges(), inputs = 11;
    const tensor::Matrix<float> x = random_rows(nodes, inputs, 1);
    const tensor::Matrix<float> e = random_rows(edges, 3, 2);
    const tensor::Matrix<float> dy = random_rows(nodes, 2, 3);
    nn::ParameterStore<float> store;
    mt::MeshTransformer<float> transformer;
    mt::MeshGraphNet<float> meshgraphnet;
    const bool is_transformer = c.model == "transformer";
    if (is_transformer) {
      mt::TransformerOptions o;
      o.dim = c.width;
      o.layers = c.depth;
      transformer.declare(store, o);
    } else {
      mt::MeshGraphNetOptions o;
      o.latent = c.width;
      o.blocks = c.depth;
      meshgraphnet.declare(store, o);
    }
    store.finalize();
    if (is_transformer) transformer.init(store, 7);
    if (!is_transformer) meshgraphnet.init(store, 7);
    optim::AdamOptions adam_options;
    adam_options.decoupled_weight_decay = true;
    adam_options.weight_decay = 1e-4;
    optim::Adam<float> adam(store, adam_options);
    const std::vector<const graph::CsrGraph*> graphs(c.depth, &g);
    const double flops = is_transformer
                             ? transformer_flops(nodes, edges, inputs, c.width, c.depth)
                             : meshgraphnet_flops(nodes, edges, inputs, c.width, c.depth);
    // About 10 s of timing per case at most: fewer repeats for the large ones.
    const int repeats = flops > 2e11   ? std::min(options.repeats, 3)
                        : flops > 2e10 ? std::min(options.repeats, 5)
                                       : options.repeats;
    const double seconds = time_median(
        [&] {
          store.zero_grad();
          if (is_transformer) {
            transformer.forward(store, x, graphs);
            transformer.backward(store, dy);
          } else {
            meshgraphnet.forward(store, x, e, g);
            meshgraphnet.backward(store, dy);
          }
          adam.step(store);
        },
        repeats, std::min(options.warmup, repeats));
    BenchRow row;
    row.benchmark = is_transformer ? "mesh_transformer_step" : "meshgraphnet_step";
    row.shape = str("nodes=", nodes, " edges=", edges, " model=", c.width, "x", c.depth);
    row.seconds = seconds;
    row.gflops = flops / seconds * 1e-9;
    row.extra = static_cast<double>(store.size());
    row.note = "forward + backward + AdamW, float; extra = parameters";
    rows.push_back(row);
  }
  return rows;
}

}  // namespace tessera::bench
