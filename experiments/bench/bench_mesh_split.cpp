#include "experiments/bench/bench_mesh_split.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "core/mesh/channel_generator.hpp"
#include "core/mesh/node_graph.hpp"
#include "core/optim/adam.hpp"
#include "core/parallel/gradient_allreduce.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/runtime.hpp"
#include "core/runtime/timers.hpp"
#include "core/tensor/host_copy.hpp"
#include "core/tensor/random.hpp"
#include "models/mesh_transformer/domain.hpp"
#include "models/mesh_transformer/surrogate.hpp"

namespace tessera::bench {
namespace {

namespace mt = models::mesh_transformer;

struct Case {
  mt::ModelKind kind;
  std::size_t width, depth;
  int hops;
  bool recompute = false;  // gradient checkpointing (model.recompute)
  std::size_t global_nodes = 0;  // the transformer's global attention nodes
};

struct Level {
  double size, cylinder_size;  // Gmsh sizes: about 14k, 55k, 230k nodes
  std::vector<Case> cases;
};


// Values keyed by (global row, column): the same on any number of ranks.
std::vector<double> keyed_rows(std::size_t rows, std::size_t cols, std::uint64_t stream) {
  std::vector<double> v(rows * cols);
  for (std::size_t k = 0; k < v.size(); ++k) v[k] = tensor::counter_normal(11, stream, k);
  return v;
}

BenchRow time_split_step(MPI_Comm comm, const graph::HostCsr& mesh_graph,
                         const std::vector<double>& points, const Case& c,
                         const BenchOptions& options, double mesh_seconds) {
  const int ranks = runtime::comm_size(comm);
  const std::size_t n = mesh_graph.num_nodes(), inputs = 11;
  mt::Surrogate<float>::Options o;
  o.kind = c.kind;
  o.transformer.dim = o.meshgraphnet.latent = c.width;
  o.transformer.layers = o.meshgraphnet.blocks = c.depth;
  o.attention.hops = c.hops;
  o.transformer.recompute = o.meshgraphnet.recompute = c.recompute;
  o.transformer.global_nodes = c.global_nodes;
  const bool transformer = c.kind == mt::ModelKind::kTransformer;
  mt::AttentionGraphs graphs;
  if (transformer) graphs = mt::attention_graphs(mesh_graph, o.attention, c.depth, 0, 0, 4);

  std::unique_ptr<mt::MeshPart> part;
  if (ranks > 1) part = mt::split_mesh(comm, mesh_graph, graphs.graphs);
  mt::MeshSample<float> s;
  std::vector<std::size_t> edge_rows;
  s.mesh = mt::device_graph(part.get(), mesh_graph, &edge_rows);
  for (const auto& g : graphs.graphs) {
    s.attention.push_back(
        mt::device_attention_graph(part.get(), g, c.global_nodes, o.attention.self_loops));
  }
  s.block_graph = graphs.block_graph;
  runtime::Timers timers;
  if (part && c.global_nodes > 0) {
    // The tokens' softmax merge and output-gradient sum, timed apart ("mesh.tokens").
    s.global_rows = mt::split_global_rows<float>(*part, c.global_nodes);
    s.global_rows.merge = [&timers, merge = s.global_rows.merge](const tensor::Matrix<float>& lse,
                                                                 const tensor::Matrix<float>& out) {
      runtime::Timers::Scope scope(&timers, "mesh.tokens");
      merge(lse, out);
    };
    s.global_rows.sum = [&timers, sum = s.global_rows.sum](const tensor::Matrix<float>& d) {
      runtime::Timers::Scope scope(&timers, "mesh.tokens");
      sum(d);
    };
  }
  std::vector<double> edges = graph::edge_features(mesh_graph, points, 2);
  if (part) edges = mt::MeshPart::pick_rows(edges, 3, edge_rows);
  s.edges = tensor::from_host<float>(edges, edges.size() / 3, 3, "bench::mesh_split_edges");
  std::vector<double> x = keyed_rows(n, inputs, 1), dy = keyed_rows(n, 2, 2);
  if (part) {
    x = part->local_rows(x, inputs);
    dy = part->local_rows(dy, 2);
    std::fill(dy.begin() + static_cast<std::ptrdiff_t>(part->owned() * 2), dy.end(), 0.0);
  }
  const std::size_t rows = x.size() / inputs;
  s.nodes = tensor::from_host<float>(x, rows, inputs, "bench::mesh_split_nodes");
  const tensor::Matrix<float> grad = tensor::from_host<float>(dy, rows, 2, "bench::mesh_split_dy");
  s.halo = part ? &part->halo() : nullptr;

  nn::ParameterStore<float> store;
  mt::Surrogate<float> model;
  model.declare(store, o);
  store.finalize();
  model.init(store, 7);
  model.set_timers(&timers, /*separate_wait=*/true);
  optim::AdamOptions adam_options;
  adam_options.decoupled_weight_decay = true;
  adam_options.weight_decay = 1e-4;
  optim::Adam<float> adam(store, adam_options);
  parallel::GradientAllreduce<float> allreduce(comm);
  reset_peak_memory();
  const int repeats = std::min(options.repeats, options.quick || n > 100000 ? 2 : 3);
  const int warmup = std::min(options.warmup, 1);
  const double seconds = time_median(
      [&] {
        MPI_Barrier(comm);  // steps start together: the exchange waits for no straggler
        store.zero_grad();
        model.forward(store, s);
        model.backward(store, grad);
        allreduce.sum(store);
        adam.step(store);
      },
      repeats, warmup);
  const double steps = repeats + warmup;
  const double halo = part ? timers.total_seconds("mesh.halo") / steps : 0.0;
  const double wait = part ? timers.total_seconds("mesh.halo_wait") / steps : 0.0;
  const double tokens = part ? timers.total_seconds("mesh.tokens") / steps : 0.0;
  const double ghosts = part ? static_cast<double>(part->local() - part->owned()) : 0.0;
  const double bytes =
      part ? 2.0 * static_cast<double>(c.depth) * static_cast<double>(part->halo().rows_sent()) *
                 static_cast<double>(c.width) * sizeof(float)
           : 0.0;  // per step: a gather and a scatter-add of d floats per row, per block

  BenchRow row;
  row.benchmark = "mesh_split_step";
  row.shape = str("nodes=", n, " model=", mt::model_kind_name(c.kind), " ", c.width, "x", c.depth,
                  transformer ? str(" hops=", c.hops) : std::string(),
                  c.global_nodes > 0 ? str(" global=", c.global_nodes) : std::string(),
                  c.recompute ? " recompute" : "", " ranks=", ranks);
  row.seconds = max_over_ranks(comm, seconds);
  row.extra = max_over_ranks(comm, halo) / row.seconds;
  row.note = "forward + backward + gradient sum + AdamW, float; extra = halo share of the step";
  row.more = {{"ranks", ranks},
              {"nodes", static_cast<double>(n)},
              {"halo_seconds", max_over_ranks(comm, halo)},
              {"wait_seconds", max_over_ranks(comm, wait)},
              {"wait_share", max_over_ranks(comm, wait) / row.seconds},
              {"token_merge_seconds", max_over_ranks(comm, tokens)},
              {"token_merge_share", max_over_ranks(comm, tokens) / row.seconds},
              {"halo_share", row.extra},
              {"ghosts_per_owned", sum_over_ranks(comm, ghosts) / static_cast<double>(n)},
              {"bytes_per_step", sum_over_ranks(comm, bytes)},
              {"mesh_seconds", mesh_seconds},
              {"peak_bytes_per_rank", max_over_ranks(comm, peak_memory_bytes())},
              {"peak_bytes_all_ranks", sum_over_ranks(comm, peak_memory_bytes())}};
  runtime::log::info(str("bench mesh_split: ", row.shape, ": ", row.seconds, " s/step, halo ",
                         100 * row.extra, " %, wait for the slowest rank ",
                         100 * max_over_ranks(comm, wait) / row.seconds, " %, peak ",
                         row.more.back().second / static_cast<double>(1 << 30), " GiB (all ranks)"));
  return row;
}

// Each level's channel mesh, then each case on it.
std::vector<BenchRow> run_levels(MPI_Comm comm, const std::vector<Level>& levels,
                                 const BenchOptions& options) {
  std::vector<BenchRow> rows;
  for (const Level& level : levels) {
    const auto start = std::chrono::steady_clock::now();
    mesh::ChannelSpec spec;
    spec.mesh_size = level.size;
    spec.cylinder_mesh_size = level.cylinder_size;
    const mesh::Mesh m = mesh::generate_channel_mesh(spec);
    const graph::HostCsr g = mesh::node_graph(m, "bench channel mesh");
    const double mesh_seconds = max_over_ranks(
        comm, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    for (const Case& c : level.cases) {
      rows.push_back(time_split_step(comm, g, m.points, c, options, mesh_seconds));
    }
  }
  if (runtime::comm_rank(comm) != 0) rows.clear();
  return rows;
}

}  // namespace

std::vector<BenchRow> bench_mesh_split(MPI_Comm comm, const BenchOptions& options) {
  using mt::ModelKind;
  // Activations are kept per block for the backward pass: about 0.4 MB per node for the
  // transformer at (128, 15), so the 55k mesh holds (128, 15) with K = 1 only on this
  // 23 GB machine, and the 230k mesh a (64, 3) transformer.
  std::vector<Level> levels = {{0.01, 0.0025,
                                {{ModelKind::kTransformer, 128, 15, 1},
                                 {ModelKind::kTransformer, 128, 15, 2},
                                 {ModelKind::kMeshGraphNet, 128, 15, 1}}},
                               {0.005, 0.00125,
                                {{ModelKind::kTransformer, 128, 15, 1},
                                 {ModelKind::kTransformer, 128, 5, 2},
                                 {ModelKind::kMeshGraphNet, 128, 5, 1}}},
                               {0.0025, 0.000625, {{ModelKind::kTransformer, 64, 3, 1}}}};
  if (options.quick) {
    levels = {{0.08, 0.02,
               {{ModelKind::kTransformer, 16, 2, 2}, {ModelKind::kMeshGraphNet, 16, 2, 1}}}};
  }
  return run_levels(comm, levels, options);
}

std::vector<BenchRow> bench_mesh_split_large(MPI_Comm comm, const BenchOptions& options) {
  using mt::ModelKind;
  // The (128, 15) models where keeping every block's activations does not fit: blocks
  // recomputed in backward, beside the 55k transformer kept and recomputed.
  std::vector<Level> levels = {{0.005, 0.00125,
                                {{ModelKind::kTransformer, 128, 15, 1, false},
                                 {ModelKind::kTransformer, 128, 15, 1, true},
                                 {ModelKind::kTransformer, 128, 15, 2, true},
                                 {ModelKind::kMeshGraphNet, 128, 15, 1, true}}},
                               {0.0025, 0.000625, {{ModelKind::kTransformer, 128, 15, 1, true}}}};
  if (options.quick) {
    levels = {{0.08, 0.02,
               {{ModelKind::kTransformer, 16, 3, 1, true}, {ModelKind::kMeshGraphNet, 16, 3, 1, true}}}};
  }
  return run_levels(comm, levels, options);
}

std::vector<BenchRow> bench_mesh_split_weak(MPI_Comm comm, const BenchOptions& options) {
  using mt::ModelKind;
  // About 13,600 nodes per rank: Gmsh's node count grows as 1 / size^2.
  const double scale = 1.0 / std::sqrt(static_cast<double>(runtime::comm_size(comm)));
  std::vector<Level> levels = {{0.01 * scale, 0.0025 * scale,
                                {{ModelKind::kTransformer, 128, 15, 1},
                                 {ModelKind::kMeshGraphNet, 128, 15, 1, true}}}};
  if (options.quick) {
    levels = {{0.08 * scale, 0.02 * scale, {{ModelKind::kTransformer, 8, 2, 1}}}};
  }
  return run_levels(comm, levels, options);
}

std::vector<BenchRow> bench_mesh_split_global(MPI_Comm comm, const BenchOptions& options) {
  using mt::ModelKind;
  // Global attention nodes on a split mesh: the (128, 15) transformer with and without 4
  // tokens on the 14k mesh (blocks kept) and the 55k mesh (blocks recomputed).
  std::vector<Level> levels = {{0.01, 0.0025,
                                {{ModelKind::kTransformer, 128, 15, 1, false, 0},
                                 {ModelKind::kTransformer, 128, 15, 1, false, 4}}},
                               {0.005, 0.00125,
                                {{ModelKind::kTransformer, 128, 15, 1, true, 0},
                                 {ModelKind::kTransformer, 128, 15, 1, true, 4}}}};
  if (options.quick) {
    levels = {{0.08, 0.02,
               {{ModelKind::kTransformer, 16, 2, 1, false, 0},
                {ModelKind::kTransformer, 16, 2, 1, false, 2}}}};
  }
  return run_levels(comm, levels, options);
}

std::vector<BenchRow> bench_mesh_split_million(MPI_Comm comm, const BenchOptions& options) {
  using mt::ModelKind;
  std::vector<Level> levels = {{0.0011, 0.000275, {{ModelKind::kTransformer, 32, 5, 1, true}}}};
  if (options.quick) levels = {{0.08, 0.02, {{ModelKind::kTransformer, 8, 2, 1, true}}}};
  return run_levels(comm, levels, options);
}

}  // namespace tessera::bench
