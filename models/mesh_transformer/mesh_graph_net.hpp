#pragma once
// MeshGraphNet (Pfaff et al., ICLR 2021; DeepMind's meshgraphnets code), the baseline the
// mesh transformer is measured against. Encode-process-decode over the mesh graph:
//   encoder: node MLP(inputs) and edge MLP(edge features: sender - receiver position and
//            its length), each Linear in->d, ReLU, Linear d->d, ReLU, Linear d->d, LayerNorm
//   blocks:  m_k = LN(MLP_e([v_s, v_r, e_k]))      edge update from sender, receiver, edge
//            v_r <- v_r + LN(MLP_v([v_r, sum over edges k into r of m_k]))
//            e_k <- e_k + m_k                        residuals on both, as DeepMind's code
//   decoder: Linear d->d, ReLU, Linear d->d, ReLU, Linear d->outputs (no norm)
// Edges are stored in CSR row order (row r: the edges received by r), so aggregation is a
// row sum and sender gradients go through the transposed graph (message_passing.hpp).
// The edge MLP's first Linear is factorised into per-node projections (EdgeMlp): the
// same model, about a third fewer flops per block, no (edges x 3d) concatenation.
// Slices: encoder.node, encoder.node_norm, encoder.edge, encoder.edge_norm,
// block<l>.edge_mlp, block<l>.edge_norm, block<l>.node_mlp, block<l>.node_norm, decoder.
#include <functional>
#include <string>
#include <vector>

#include "core/nn/layer_norm.hpp"
#include "core/nn/mlp.hpp"
#include "core/nn/residual.hpp"
#include "models/mesh_transformer/message_passing.hpp"

namespace tessera::models::mesh_transformer {

struct MeshGraphNetOptions {
  std::size_t node_inputs = 11;  // velocity (2) + one-hot node type (9)
  std::size_t edge_inputs = 3;   // relative position (2) + its length
  std::size_t outputs = 2;
  std::size_t latent = 128;
  std::size_t blocks = 15;
  // Gradient checkpointing, as the transformer's: keep each block's node and edge input,
  // compute the block again in backward (the same gradients bit for bit).
  bool recompute = false;
};

namespace detail {

// MLP with two hidden layers of `latent` and a LayerNorm on its output.
template <class T>
struct NormedMlp {
  nn::Mlp<T> mlp;
  nn::LayerNorm<T> norm;
  void declare(nn::ParameterStore<T>& store, const std::string& name, const std::string& norm_name,
               std::size_t in, std::size_t latent) {
    mlp.declare(store, name, {in, latent, latent, latent}, nn::ActivationKind::kRelu);
    norm.declare(store, norm_name, latent);
  }
  void init(nn::ParameterStore<T>& store, std::uint64_t seed) const {
    mlp.init(store, seed);
    norm.init(store);
  }
  const Matrix<T>& forward(const nn::ParameterStore<T>& store, const Matrix<T>& x) {
    return norm.forward(store, mlp.forward(store, x));
  }
  const Matrix<T>& backward(nn::ParameterStore<T>& store, const Matrix<T>& dy,
                            bool need_input_grad = true) {
    return mlp.backward(store, norm.backward(store, dy), need_input_grad);
  }
};

}  // namespace detail

template <class T>
class MeshGraphNetBlock {
 public:
  void declare(nn::ParameterStore<T>& store, const std::string& name, std::size_t latent) {
    name_ = name;
    latent_ = latent;
    edge_.declare(store, name + ".edge_mlp", name + ".edge_norm", latent);
    node_.declare(store, name + ".node_mlp", name + ".node_norm", 2 * latent, latent);
  }
  void init(nn::ParameterStore<T>& store, std::uint64_t seed) const {
    edge_.init(store, seed);
    node_.init(store, seed);
  }

  // v: (nodes, d), e: (edges, d) -> updated node and edge latents (owned here).
  void forward(const nn::ParameterStore<T>& store, const Matrix<T>& v, const Matrix<T>& e,
               const graph::CsrGraph& graph) {
    graph_ = graph;
    const Matrix<T>& m = edge_.forward(store, v, e, graph);
    sum_received(m, graph, aggregate_, name_ + ".aggregate");
    concat_columns(v, aggregate_, node_input_, name_ + ".node_input");
    tensor::ensure_shape(nodes_out_, name_ + ".nodes_out", v.extent(0), latent_);
    tensor::ensure_shape(edges_out_, name_ + ".edges_out", e.extent(0), latent_);
    nn::add(v, node_.forward(store, node_input_), nodes_out_, name_);
    nn::add(e, m, edges_out_, name_);
  }
  const Matrix<T>& nodes() const { return nodes_out_; }
  const Matrix<T>& edges() const { return edges_out_; }

  // dv, de: gradients of the outputs -> gradients of the inputs (owned here).
  void backward(nn::ParameterStore<T>& store, const Matrix<T>& dv, const Matrix<T>& de) {
    const std::size_t d = latent_, nodes = dv.extent(0);
    const Matrix<T>& d_input = node_.backward(store, dv);  // (nodes, 2d): [dv | d_aggregate]
    tensor::ensure_shape(dm_, name_ + ".dm", de.extent(0), d);
    Kokkos::deep_copy(dm_, de);
    tensor::ensure_shape(d_aggregate_, name_ + ".d_aggregate", nodes, d);
    {
      const Matrix<T> da = d_aggregate_, di = d_input;
      Kokkos::parallel_for(
          "mesh_transformer::mgn_aggregate_grad", Kokkos::RangePolicy<tensor::ExecSpace>(0, nodes),
          KOKKOS_LAMBDA(const int i) {
            for (std::size_t j = 0; j < d; ++j) da(i, j) = di(i, d + j);
          });
    }
    add_received_grad(d_aggregate_, graph_, dm_);
    edge_.backward(store, dm_);
    tensor::ensure_shape(node_grad_, name_ + ".node_grad", nodes, d);
    tensor::ensure_shape(edge_grad_, name_ + ".edge_grad", de.extent(0), d);
    const Matrix<T> g = node_grad_, dg = edge_.node_grad(), di = d_input;
    Kokkos::parallel_for(
        "mesh_transformer::mgn_node_grad", Kokkos::RangePolicy<tensor::ExecSpace>(0, nodes),
        KOKKOS_LAMBDA(const int i) {
          for (std::size_t j = 0; j < d; ++j) g(i, j) = dv(i, j) + di(i, j) + dg(i, j);
        });
    nn::add(de, edge_.edge_grad(), edge_grad_, name_);
  }
  const Matrix<T>& node_grad() const { return node_grad_; }
  const Matrix<T>& edge_grad() const { return edge_grad_; }

 private:
  std::string name_;
  std::size_t latent_ = 0;
  graph::CsrGraph graph_;
  EdgeMlp<T> edge_;  // first layer factorised (message_passing.hpp)
  detail::NormedMlp<T> node_;
  Matrix<T> aggregate_, node_input_, nodes_out_, edges_out_;
  Matrix<T> dm_, d_aggregate_, node_grad_, edge_grad_;
};

template <class T>
class MeshGraphNet {
 public:
  // As MeshTransformer's: called with (block, the node latents a block reads) before each
  // block's forward, and with their gradient after its backward (a partitioned mesh's
  // halo exchange; edge latents live with their receiver and need none).
  using BlockHook = std::function<void(std::size_t block, const Matrix<T>& nodes)>;

  void declare(nn::ParameterStore<T>& store, const MeshGraphNetOptions& o) {
    if (o.latent == 0 || o.blocks == 0) {
      throw InputError(str("MeshGraphNet: model.latent = ", o.latent,
                           " and model.blocks = ", o.blocks, " must be at least 1"));
    }
    options_ = o;
    node_encoder_.declare(store, "encoder.node", "encoder.node_norm", o.node_inputs, o.latent);
    edge_encoder_.declare(store, "encoder.edge", "encoder.edge_norm", o.edge_inputs, o.latent);
    blocks_.assign(o.blocks, MeshGraphNetBlock<T>());
    for (std::size_t l = 0; l < o.blocks; ++l) {
      blocks_[l].declare(store, "block" + std::to_string(l), o.latent);
    }
    fresh_blocks_ = blocks_;  // no buffers yet: assigning one frees a block's memory
    saved_nodes_.assign(o.blocks, Matrix<T>());
    saved_edges_.assign(o.blocks, Matrix<T>());
    decoder_.declare(store, "decoder", {o.latent, o.latent, o.latent, o.outputs},
                     nn::ActivationKind::kRelu);
  }
  void init(nn::ParameterStore<T>& store, std::uint64_t seed) const {
    node_encoder_.init(store, seed);
    edge_encoder_.init(store, seed);
    for (const auto& block : blocks_) block.init(store, seed);
    decoder_.init(store, seed);
  }

  // nodes: (num_nodes, node_inputs); edges: (num_edges, edge_inputs) in the graph's CSR
  // order. The graph stays alive and unchanged until backward. Returns (nodes, outputs).
  const Matrix<T>& forward(const nn::ParameterStore<T>& store, const Matrix<T>& nodes,
                           const Matrix<T>& edges, const graph::CsrGraph& graph,
                           const BlockHook& before_block = {}) {
    if (graph.num_nodes() != nodes.extent(0) || graph.num_edges() != edges.extent(0)) {
      throw std::invalid_argument(str("MeshGraphNet: graph of ", graph.num_nodes(), " nodes and ",
                                      graph.num_edges(), " edges for ", nodes.extent(0),
                                      " node rows and ", edges.extent(0), " edge rows"));
    }
    const Matrix<T>* v = &node_encoder_.forward(store, nodes);
    const Matrix<T>* e = &edge_encoder_.forward(store, edges);
    graph_ = graph;
    for (std::size_t l = 0; l < blocks_.size(); ++l) {
      MeshGraphNetBlock<T>& block = blocks_[l];
      if (before_block) before_block(l, *v);
      if (options_.recompute && l == 0) {
        // The encoders' outputs stay until the next forward: held as views, not copied.
        // The later blocks' inputs are the copies made below.
        saved_nodes_[0] = *v;
        saved_edges_[0] = *e;
      }
      block.forward(store, *v, *e, graph);
      v = &block.nodes();
      e = &block.edges();
      if (options_.recompute && l + 1 < blocks_.size()) {
        keep(saved_nodes_[l + 1], *v);
        keep(saved_edges_[l + 1], *e);
        v = &saved_nodes_[l + 1];
        e = &saved_edges_[l + 1];
        block = fresh_blocks_[l];
      }
    }
    return decoder_.forward(store, *v);
  }

  // dy: (nodes, outputs). Adds every parameter gradient to store.grads(). Returns the
  // gradient of the node features when need_input_grad is set (else it is not formed and
  // the returned matrix is not to be read); the edge features are geometry: their
  // gradient is never formed.
  const Matrix<T>& backward(nn::ParameterStore<T>& store, const Matrix<T>& dy,
                            const BlockHook& after_block = {}, bool need_input_grad = false) {
    const Matrix<T>* dv = &decoder_.backward(store, dy);
    // The last block's edge latents feed nothing: their gradient is zero.
    tensor::ensure_shape(zero_edges_, "mgn.zero_edge_grad", blocks_.back().edges().extent(0),
                         options_.latent);
    Kokkos::deep_copy(zero_edges_, T(0));
    const Matrix<T>* de = &zero_edges_;
    const std::size_t last = blocks_.size() - 1;
    for (std::size_t l = blocks_.size(); l-- > 0;) {
      if (options_.recompute && l < last) {  // its activations again, from its inputs
        blocks_[l].forward(store, saved_nodes_[l], saved_edges_[l], graph_);
      }
      blocks_[l].backward(store, *dv, *de);
      dv = &blocks_[l].node_grad();
      de = &blocks_[l].edge_grad();
      if (after_block) after_block(l, *dv);
      // Block l + 1's input gradients have been used: free its buffers.
      if (options_.recompute && l < last) blocks_[l + 1] = fresh_blocks_[l + 1];
    }
    const Matrix<T>& input_grad = node_encoder_.backward(store, *dv, need_input_grad);
    edge_encoder_.backward(store, *de, false);
    if (options_.recompute) blocks_[0] = fresh_blocks_[0];
    return input_grad;
  }

  const MeshGraphNetOptions& options() const { return options_; }

 private:
  MeshGraphNetOptions options_;
  detail::NormedMlp<T> node_encoder_, edge_encoder_;
  std::vector<MeshGraphNetBlock<T>> blocks_;
  nn::Mlp<T> decoder_;
  Matrix<T> zero_edges_;
  // recompute: the blocks as declared, each block's inputs, the last forward's graph
  std::vector<MeshGraphNetBlock<T>> fresh_blocks_;
  std::vector<Matrix<T>> saved_nodes_, saved_edges_;
  graph::CsrGraph graph_;

  static void keep(Matrix<T>& saved, const Matrix<T>& values) {
    tensor::ensure_shape(saved, "mgn.block_input", values.extent(0), values.extent(1));
    Kokkos::deep_copy(saved, values);
  }
};

}  // namespace tessera::models::mesh_transformer
