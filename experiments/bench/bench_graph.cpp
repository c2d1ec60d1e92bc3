#include "experiments/bench/bench_graph.hpp"

#include <string>
#include <utility>

#include "core/graph/csr_graph.hpp"
#include "core/nn/graph_attention.hpp"
#include "core/nn/graph_transformer_block.hpp"
#include "core/runtime/error.hpp"
#include "core/tensor/random.hpp"

namespace tessera::bench {

namespace {

constexpr std::size_t kModelDim = 64, kHeads = 4;

// Flops of one forward + backward, counted the same way on the PyTorch side: every
// gemm 2mnk (forward y = xW^T; backward dW and dx), every edge-wise dot or axpy 2 d.
double attention_flops(double nodes, double edges, double d) {
  const double projections = 4 * 3 * 2 * nodes * d * d;
  const double edge_work = (2 + 2 + 2 + 2 + 4) * edges * d;  // s, o | dp, dq, dk + dv
  return projections + edge_work;
}
double block_flops(double nodes, double edges, double d, double hidden) {
  return attention_flops(nodes, edges, d) + 2 * 3 * 2 * nodes * d * hidden;
}

BenchRow make_row(std::string benchmark, std::string shape, double seconds, double flops,
                  double edges, std::string note) {
  BenchRow row;
  row.benchmark = std::move(benchmark);
  row.shape = std::move(shape);
  row.seconds = seconds;
  row.gflops = flops / seconds * 1e-9;
  row.extra = edges;
  row.note = std::move(note);
  return row;
}

tensor::Matrix<float> random_features(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  tensor::Matrix<float> m("bench::features", rows, cols);
  tensor::fill_normal(tensor::Vector<float>(m.data(), rows * cols), 0.0f, 1.0f, seed, 0);
  return m;
}

}  // namespace

std::vector<BenchRow> bench_graph(const BenchOptions& options) {
  const std::size_t nx = options.quick ? 10 : 50, ny = options.quick ? 8 : 40;
  const auto mesh = graph::grid_triangle_mesh(nx, ny);
  const graph::CsrGraph graph = graph::csr_from_triangles(mesh.num_nodes(), mesh.triangles);
  const std::size_t nodes = graph.num_nodes();
  const double edges = static_cast<double>(graph.num_edges());
  const std::string shape =
      str("nodes=", nodes, " edges=", graph.num_edges(), " hidden=", kModelDim, " heads=", kHeads);
  const tensor::Matrix<float> x = random_features(nodes, kModelDim, 1);
  const tensor::Matrix<float> dy = random_features(nodes, kModelDim, 2);
  std::vector<BenchRow> rows;

  // MLP hidden 4 x model_dim (the usual transformer ratio) and 1 x (MeshGraphNet-style
  // MLPs as wide as the latent).
  for (const std::size_t mlp_hidden : {4 * kModelDim, kModelDim}) {
    nn::ParameterStore<float> store;
    nn::GraphTransformerBlock<float> block;
    block.declare(store, "block", kModelDim, kHeads, mlp_hidden);
    store.finalize();
    block.init(store, 7);
    const double seconds = time_median(
        [&] {
          store.zero_grad();
          block.forward(store, x, graph);
          block.backward(store, dy);
        },
        options.repeats, options.warmup);
    const double flops = block_flops(static_cast<double>(nodes), edges, kModelDim, mlp_hidden);
    rows.push_back(make_row("graph_block_fwd_bwd", str(shape, " mlp_hidden=", mlp_hidden), seconds,
                            flops, edges,
                            "pre-norm block: LN, graph MHA, LN, MLP(GELU); extra = edges"));
  }
  {
    nn::ParameterStore<float> store;
    nn::GraphMultiHeadAttention<float> attention;
    attention.declare(store, "attn", kModelDim, kHeads);
    store.finalize();
    attention.init(store, 7);
    const double seconds = time_median(
        [&] {
          store.zero_grad();
          attention.forward(store, x, graph);
          attention.backward(store, dy);
        },
        options.repeats, options.warmup);
    const double flops = attention_flops(static_cast<double>(nodes), edges, kModelDim);
    rows.push_back(make_row("graph_attention_fwd_bwd", shape, seconds, flops, edges,
                            "Q/K/V/O projections + CSR edge softmax; extra = edges"));
  }
  return rows;
}

}  // namespace tessera::bench
