#pragma once
// One interface over the two mesh models, so that training, rollouts and benchmarks are
// written once: the mesh transformer (attention graphs per block) or MeshGraphNet (mesh
// graph and edge features). A MeshSample holds what one mesh gives the model on the
// device; node features change every step, the rest is made once per trajectory.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "core/graph/neighbourhoods.hpp"
#include "core/parallel/halo_plan.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/timers.hpp"
#include "core/tensor/random.hpp"
#include "models/mesh_transformer/domain.hpp"
#include "models/mesh_transformer/mesh_graph_net.hpp"
#include "models/mesh_transformer/transformer.hpp"

namespace tessera::models::mesh_transformer {

enum class ModelKind { kTransformer, kMeshGraphNet };

inline ModelKind model_kind_from_name(const std::string& name) {
  if (name == "transformer") return ModelKind::kTransformer;
  if (name == "meshgraphnet") return ModelKind::kMeshGraphNet;
  throw InputError(str("model kind '", name, "': expected \"transformer\" or \"meshgraphnet\""));
}
inline const char* model_kind_name(ModelKind kind) {
  return kind == ModelKind::kTransformer ? "transformer" : "meshgraphnet";
}

// The transformer's attention graphs from the mesh edges, one per block:
//   base     the K-hop union (K = hops; 1: the mesh edges), with or without self loops,
//            plus `random_edges` x (mesh edges) random node pairs (both directions), drawn
//            from a counter RNG keyed by (seed, trajectory), so every rank builds the same;
//   dilated  the last `dilated_layers` blocks attend to the nodes at hop distances d and
//            2d (d = dilation) instead: a wider receptive field at the same cost; with
//            `dilated_heads` = h (0 < h < heads) only their last h heads do, the others
//            keep the base graph (the paper dilates half the heads of its last layers):
//            head groups of gcd(h, heads) heads each;
//   global   G global nodes (the transformer's learned tokens, rows N .. N + G - 1 of
//            every graph): each mesh node also attends to every token, each token to every
//            node and to the other tokens.
struct AttentionGraphOptions {
  int hops = 1;
  bool self_loops = false;
  int dilation = 2;
  std::size_t dilated_layers = 0;
  std::size_t dilated_heads = 0;  // 0: every head of a dilated block
  double random_edges = 0;        // fraction of the mesh edge count
  std::uint64_t seed = 1;
};

// The distinct graphs and, per block and head group, which of them it uses.
struct AttentionGraphs {
  std::vector<graph::HostCsr> graphs;
  std::vector<std::vector<std::size_t>> block_graph;  // [block][head group]
};

// The counter RNG stream of the random attention edges of trajectory k: kRandomEdgeStream + k.
constexpr std::uint64_t kRandomEdgeStream = 0x9a3f00;

// The random node pairs (a != b) added to a graph of n nodes and `edges` directed edges:
// fraction x edges / 2 draws of a counter RNG keyed by (seed, stream), the same on every
// rank whatever it holds of the graph. `pair(a, b)` for each.
template <class Pair>
void random_pairs(std::size_t n, std::size_t edges, double fraction, std::uint64_t seed,
                  std::uint64_t stream, const Pair& pair) {
  const auto extra =
      static_cast<std::size_t>(std::llround(fraction * static_cast<double>(edges) / 2));
  if (n < 2) return;
  for (std::size_t k = 0; k < extra; ++k) {
    const auto a = static_cast<long long>(tensor::counter_uniform(seed, stream, 2 * k) * n);
    const auto b = static_cast<long long>(tensor::counter_uniform(seed, stream, 2 * k + 1) * n);
    if (a != b) pair(a, b);
  }
}

inline graph::HostCsr with_random_edges(const graph::HostCsr& g, double fraction,
                                        std::uint64_t seed, std::uint64_t stream) {
  const std::size_t n = g.num_nodes();
  if (std::llround(fraction * static_cast<double>(g.num_edges()) / 2) == 0 || n < 2) return g;
  std::vector<std::vector<graph::Index>> rows(n);
  for (std::size_t i = 0; i < n; ++i) {
    rows[i].assign(g.col_idx.begin() + g.row_ptr[i], g.col_idx.begin() + g.row_ptr[i + 1]);
  }
  random_pairs(n, g.num_edges(), fraction, seed, stream, [&](long long a, long long b) {
    rows[a].push_back(static_cast<graph::Index>(b));
    rows[b].push_back(static_cast<graph::Index>(a));
  });
  graph::HostCsr out;
  out.row_ptr.push_back(0);
  for (auto& row : rows) {
    std::sort(row.begin(), row.end());
    row.erase(std::unique(row.begin(), row.end()), row.end());
    out.col_idx.insert(out.col_idx.end(), row.begin(), row.end());
    out.row_ptr.push_back(static_cast<graph::Index>(out.col_idx.size()));
  }
  return out;
}

// g with `global_nodes` rows appended (see above); a token attends to itself only where
// the graph has self loops. On a split mesh only the first `linked` rows (a rank's own
// nodes) are linked to the tokens and read by them, and the tokens read each other only
// where `token_keys` (the domain's first rank: each key counted once over the ranks).
inline graph::HostCsr with_global_nodes(const graph::HostCsr& g, std::size_t global_nodes,
                                        bool self_loops, std::size_t linked = SIZE_MAX,
                                        bool token_keys = true) {
  if (global_nodes == 0) return g;
  const std::size_t n = g.num_nodes(), rows = n + global_nodes;
  linked = std::min(linked, n);
  graph::HostCsr out;
  out.row_ptr.reserve(rows + 1);
  out.col_idx.reserve(g.col_idx.size() + 2 * linked * global_nodes + global_nodes * global_nodes);
  out.row_ptr.push_back(0);
  for (std::size_t i = 0; i < n; ++i) {  // sorted: mesh neighbours (< n), then the tokens
    out.col_idx.insert(out.col_idx.end(), g.col_idx.begin() + g.row_ptr[i],
                       g.col_idx.begin() + g.row_ptr[i + 1]);
    for (std::size_t t = n; i < linked && t < rows; ++t) {
      out.col_idx.push_back(static_cast<graph::Index>(t));
    }
    out.row_ptr.push_back(static_cast<graph::Index>(out.col_idx.size()));
  }
  for (std::size_t t = n; t < rows; ++t) {
    for (std::size_t j = 0; j < linked; ++j) out.col_idx.push_back(static_cast<graph::Index>(j));
    for (std::size_t j = n; token_keys && j < rows; ++j) {
      if (j != t || self_loops) out.col_idx.push_back(static_cast<graph::Index>(j));
    }
    out.row_ptr.push_back(static_cast<graph::Index>(out.col_idx.size()));
  }
  return out;
}

inline void check_attention_options(const AttentionGraphOptions& o, std::size_t blocks,
                                    std::size_t heads) {
  if (o.hops < 1) throw InputError(str("model.hops = ", o.hops, ": expected at least 1"));
  if (o.dilated_layers > blocks) {
    throw InputError(
        str("model.dilated_layers = ", o.dilated_layers, " but the model has ", blocks, " blocks"));
  }
  if (o.dilated_heads > heads) {
    throw InputError(
        str("model.dilated_heads = ", o.dilated_heads, " but the model has ", heads, " heads"));
  }
}

// Per block and head group, the graph it reads: 0 the base graph, 1 the dilated one.
inline std::vector<std::vector<std::size_t>> block_graphs(const AttentionGraphOptions& o,
                                                          std::size_t blocks, std::size_t heads) {
  std::vector<std::vector<std::size_t>> out(blocks, {0});
  if (o.dilated_layers == 0) return out;
  std::vector<std::size_t> groups = {1};  // every head dilated
  if (o.dilated_heads > 0 && o.dilated_heads < heads) {
    const std::size_t size = std::gcd(o.dilated_heads, heads);
    groups.assign(heads / size, 0);
    for (std::size_t g = (heads - o.dilated_heads) / size; g < heads / size; ++g) groups[g] = 1;
  }
  for (std::size_t b = blocks - o.dilated_layers; b < blocks; ++b) out[b] = groups;
  return out;
}

// `heads`: the transformer's heads (needed for dilated_heads).
inline AttentionGraphs attention_graphs(const graph::HostCsr& mesh_edges,
                                        const AttentionGraphOptions& o, std::size_t blocks,
                                        std::uint64_t trajectory, std::size_t global_nodes = 0,
                                        std::size_t heads = 1) {
  check_attention_options(o, blocks, heads);
  AttentionGraphs out;
  graph::HostCsr base =
      o.hops == 1 && !o.self_loops ? mesh_edges : graph::k_hop(mesh_edges, o.hops, o.self_loops);
  out.graphs.push_back(with_global_nodes(
      with_random_edges(base, o.random_edges, o.seed, kRandomEdgeStream + trajectory), global_nodes,
      o.self_loops));
  if (o.dilated_layers > 0) {
    out.graphs.push_back(with_global_nodes(graph::dilated(mesh_edges, o.dilation, 2, o.self_loops),
                                           global_nodes, o.self_loops));
  }
  out.block_graph = block_graphs(o, blocks, heads);
  return out;
}

template <class T>
struct MeshSample {
  graph::CsrGraph mesh;                    // mesh edges (MeshGraphNet's edges, CSR order)
  std::vector<graph::CsrGraph> attention;  // the transformer's distinct attention graphs
  std::vector<std::vector<std::size_t>> block_graph;  // which of them each block's head
                                                      // groups use
  Matrix<T> edges;                                    // normalised edge features (MeshGraphNet)
  Matrix<T> nodes;  // normalised node features of the current frame
  // A mesh split over ranks (domain.hpp): the rows are this rank's owned nodes then its
  // ghosts, and the model exchanges the ghosts' rows before every block. Null: the
  // whole mesh is here.
  const parallel::HaloPlan* halo = nullptr;
  // With global attention nodes on a split mesh: their rows (after the local mesh rows),
  // whose attention is merged over the ranks (split_global_rows). Empty otherwise.
  nn::SplitQueryRows<T> global_rows;
};

template <class T>
class Surrogate {
 public:
  struct Options {
    ModelKind kind = ModelKind::kTransformer;
    TransformerOptions transformer;
    MeshGraphNetOptions meshgraphnet;
    AttentionGraphOptions attention;
  };

  void declare(nn::ParameterStore<T>& store, const Options& o) {
    options_ = o;
    if (o.kind == ModelKind::kTransformer) {
      transformer_.declare(store, o.transformer);
    } else {
      meshgraphnet_.declare(store, o.meshgraphnet);
    }
  }
  void init(nn::ParameterStore<T>& store, std::uint64_t seed) const {
    if (options_.kind == ModelKind::kTransformer) {
      transformer_.init(store, seed);
    } else {
      meshgraphnet_.init(store, seed);
    }
  }

  // Time spent in halo exchanges goes to `timers` ("mesh.halo"), when given. With
  // `separate_wait`, a barrier over the mesh's ranks before each exchange is timed apart
  // ("mesh.halo_wait"): the wait for the slowest rank (load imbalance) then stays out of
  // "mesh.halo", which keeps the transfer (benchmarks; a barrier per block costs little
  // at a few ranks, since every exchange waits for its neighbours anyway).
  void set_timers(runtime::Timers* timers, bool separate_wait = false) {
    timers_ = timers;
    separate_wait_ = separate_wait;
  }

  // (nodes, outputs): the normalised velocity change.
  const Matrix<T>& forward(const nn::ParameterStore<T>& store, const MeshSample<T>& s) {
    halo_ = s.halo;
    typename MeshTransformer<T>::BlockHook gather;
    if (halo_) {
      // The tokens' rows (after the mesh rows, if any) come from the domain's first rank.
      gather = [this](std::size_t, const Matrix<T>& rows) {
        wait_for_ranks();
        runtime::Timers::Scope scope(timers_, "mesh.halo");
        const std::size_t local = halo_->local_count();
        if (rows.extent(0) == local) return halo_->gather(rows);
        halo_->gather(detail::row_block(rows, 0, local));
        broadcast_rows(detail::row_block(rows, local, rows.extent(0) - local), halo_->comm());
      };
    }
    if (options_.kind == ModelKind::kMeshGraphNet) {
      return meshgraphnet_.forward(store, s.nodes, s.edges, s.mesh, gather);
    }
    graphs_.resize(s.block_graph.size());  // kept between calls: no allocation per step
    for (std::size_t b = 0; b < s.block_graph.size(); ++b) {
      graphs_[b].clear();
      for (std::size_t g : s.block_graph[b]) graphs_[b].push_back(&s.attention.at(g));
    }
    return transformer_.forward(store, s.nodes, graphs_, gather,
                                s.global_rows.count > 0 ? &s.global_rows : nullptr);
  }
  // The ghosts' gradients go back to their owners after every block (the sample of the
  // last forward decides). Returns the node features' gradient (nodes, inputs) when
  // need_input_grad is set (else not formed: the returned matrix is not to be read).
  const Matrix<T>& backward(nn::ParameterStore<T>& store, const Matrix<T>& dy,
                            bool need_input_grad = false) {
    typename MeshTransformer<T>::BlockHook scatter_add;
    if (halo_) {
      scatter_add = [this](std::size_t, const Matrix<T>& rows) {
        wait_for_ranks();
        runtime::Timers::Scope scope(timers_, "mesh.halo");
        const std::size_t local = halo_->local_count();
        if (rows.extent(0) == local) return halo_->scatter_add(rows);
        halo_->scatter_add(detail::row_block(rows, 0, local));
        reduce_rows_to_first(detail::row_block(rows, local, rows.extent(0) - local), halo_->comm());
      };
    }
    if (options_.kind == ModelKind::kMeshGraphNet) {
      return meshgraphnet_.backward(store, dy, scatter_add, need_input_grad);
    }
    return transformer_.backward(store, dy, scatter_add, need_input_grad);
  }

  const Options& options() const { return options_; }

 private:
  Options options_;
  MeshTransformer<T> transformer_;
  MeshGraphNet<T> meshgraphnet_;
  std::vector<typename MeshTransformer<T>::BlockGraphs> graphs_;
  const parallel::HaloPlan* halo_ = nullptr;
  runtime::Timers* timers_ = nullptr;
  bool separate_wait_ = false;

  void wait_for_ranks() const {
    if (!separate_wait_ || !timers_) return;
    Kokkos::fence();  // this rank's kernels are done: what follows is waiting
    runtime::Timers::Scope scope(timers_, "mesh.halo_wait");
    MPI_Barrier(halo_->comm());
  }
};

}  // namespace tessera::models::mesh_transformer
