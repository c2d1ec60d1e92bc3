#pragma once
// The mesh transformer (graph-physics' EncodeTransformDecode, "Training Transformers for
// Mesh-Based Simulations", 2025): per node, features (velocity and one-hot node type,
// normalised) -> encoder -> L transformer blocks whose attention is masked by the mesh
// adjacency -> decoder -> the normalised velocity change of one time step.
//   encoder: Linear in->d, ReLU, Linear d->d, ReLU, Linear d->d, ReLU, Linear d->d, RMSNorm
//   blocks:  TransformerBlock (transformer_block.hpp), each with its own attention graph
//   decoder: Linear d->d, ReLU, Linear d->d, ReLU, Linear d->d, ReLU, Linear d->out
// Slices: encoder.{0,1,2,3}, encoder.norm, global.tokens (with global nodes), block<l>.*,
// decoder.{0,1,2,3}.
//
// Global attention nodes (options.global_nodes = G > 0): G learned tokens (G x d) appended
// after the mesh rows of the encoded state; the blocks run on N + G rows, and the
// attention graphs must have N + G rows too (with_global_nodes in surrogate.hpp links each
// token to every node, and every node to each token): information crosses the mesh in one
// block instead of one hop per block. The decoder sees the N mesh rows only. On a mesh
// split over ranks the tokens are on every rank and their queries attend to each rank's
// own nodes; forward's `split` merges those partial attentions (nn::SplitQueryRows).
//
// The block loop calls an optional hook before each block's forward and after each
// block's backward: a partitioned run fills the ghost rows there (gather) and returns
// the ghosts' gradients to their owners (scatter-add), so the model itself stays the
// same on one rank and on many.
#include <functional>
#include <string>
#include <vector>

#include "core/nn/layer_norm.hpp"
#include "core/nn/mlp.hpp"
#include "core/runtime/error.hpp"
#include "models/mesh_transformer/transformer_block.hpp"

namespace tessera::models::mesh_transformer {

struct TransformerOptions {
  std::size_t inputs = 11;  // velocity (2) + one-hot node type (9)
  std::size_t outputs = 2;  // velocity change
  std::size_t dim = 64;     // d
  std::size_t layers = 5;   // L
  std::size_t heads = 4;
  std::size_t mlp_factor = 3;    // gated MLP hidden width = mlp_factor x d
  std::size_t global_nodes = 0;  // learned tokens every node attends to (and they to all)
  // Gradient checkpointing: keep only each block's input in forward and compute the
  // block's activations again in backward (one more forward of the blocks per step, the
  // same gradients bit for bit). Peak memory: L inputs plus two blocks' activations and
  // gradient buffers instead of L blocks' (about 6x less at 15 blocks).
  bool recompute = false;
};

namespace detail {

// Rows [first, first + count) of a row-major matrix, as a (count x cols) view.
template <class T>
Matrix<T> row_block(const Matrix<T>& m, std::size_t first, std::size_t count) {
  return tensor::matrix_view(m.data() + first * m.extent(1), count, m.extent(1));
}

// to += rows [first, first + to.rows) of `from`.
template <class T>
void add_rows(const Matrix<T>& to, const Matrix<T>& from, std::size_t first) {
  const std::size_t cols = to.extent(1);
  const T* source = from.data() + first * cols;
  T* target = to.data();
  Kokkos::parallel_for(
      "mesh_transformer::add_rows", Kokkos::RangePolicy<tensor::ExecSpace>(0, to.extent(0) * cols),
      KOKKOS_LAMBDA(const std::size_t i) { target[i] += source[i]; });
}

}  // namespace detail

template <class T>
class MeshTransformer {
 public:
  // Called with (block index, the block's input rows): forward before each block; in
  // backward, after each block, with the gradient of the block's input.
  using BlockHook = std::function<void(std::size_t block, const Matrix<T>& rows)>;

  void declare(nn::ParameterStore<T>& store, const TransformerOptions& o) {
    if (o.dim == 0 || o.heads == 0 || o.dim % o.heads != 0) {
      throw InputError(str("mesh transformer: model.dim = ", o.dim,
                           " must be a positive multiple of model.heads = ", o.heads));
    }
    if (o.layers == 0) throw InputError("mesh transformer: model.layers must be at least 1");
    options_ = o;
    const std::size_t d = o.dim;
    encoder_.declare(store, "encoder", {o.inputs, d, d, d, d}, nn::ActivationKind::kRelu);
    encoder_norm_.declare(store, "encoder.norm", d);
    tokens_ = o.global_nodes > 0 ? store.add("global.tokens", {o.global_nodes, d}) : -1;
    blocks_.assign(o.layers, TransformerBlock<T>());
    for (std::size_t l = 0; l < o.layers; ++l) {
      blocks_[l].declare(store, "block" + std::to_string(l), d, o.heads, o.mlp_factor);
    }
    fresh_blocks_ = blocks_;  // no buffers yet: assigning one frees a block's memory
    saved_inputs_.assign(o.layers, Matrix<T>());
    decoder_.declare(store, "decoder", {d, d, d, d, o.outputs}, nn::ActivationKind::kRelu);
  }

  void init(nn::ParameterStore<T>& store, std::uint64_t seed) const {
    encoder_.init(store, seed);
    encoder_norm_.init(store);
    // As ViT's class token and BigBird's global tokens: small normal values.
    if (tokens_ >= 0) store.init_normal(tokens_, T(0), T(0.02), seed);
    for (const auto& block : blocks_) block.init(store, seed);
    decoder_.init(store, seed);
  }

  // The attention graphs of one block: one per head group (a single graph: all heads).
  using BlockGraphs = std::vector<const graph::CsrGraph*>;

  // x: (nodes, inputs); graphs: one attention graph per block (the same pointer may
  // repeat), of nodes + global_nodes rows, alive and unchanged until backward. Returns
  // (nodes, outputs).
  const Matrix<T>& forward(const nn::ParameterStore<T>& store, const Matrix<T>& x,
                           const std::vector<const graph::CsrGraph*>& graphs,
                           const BlockHook& before_block = {}) {
    per_block_.resize(graphs.size());  // kept between calls: no allocation per step
    for (std::size_t l = 0; l < graphs.size(); ++l) per_block_[l].assign(1, graphs[l]);
    return forward(store, x, per_block_, before_block);
  }

  // The same with graphs per head group: graphs[l][g] is head group g's graph in block l.
  // `split` (optional, alive until backward): the token rows' attention spread over
  // ranks (rows nodes .. nodes + global_nodes - 1).
  const Matrix<T>& forward(const nn::ParameterStore<T>& store, const Matrix<T>& x,
                           const std::vector<BlockGraphs>& graphs,
                           const BlockHook& before_block = {},
                           const nn::SplitQueryRows<T>* split = nullptr) {
    if (graphs.size() != blocks_.size()) {
      throw std::invalid_argument(str("mesh transformer: ", graphs.size(), " attention graphs for ",
                                      blocks_.size(), " blocks (one per block expected)"));
    }
    const std::size_t nodes = x.extent(0), rows = nodes + options_.global_nodes;
    for (std::size_t l = 0; l < graphs.size(); ++l) {
      for (const graph::CsrGraph* g : graphs[l]) {
        if (g->num_nodes() != rows) {
          throw std::invalid_argument(str("mesh transformer: block ", l, "'s attention graph has ",
                                          g->num_nodes(), " rows for ", nodes, " nodes + ",
                                          options_.global_nodes, " global nodes"));
        }
      }
    }
    const Matrix<T>* h = &encoder_norm_.forward(store, encoder_.forward(store, x));
    if (tokens_ >= 0) {
      tensor::ensure_shape(with_tokens_, "mesh_transformer::with_tokens", rows, options_.dim);
      Kokkos::deep_copy(detail::row_block(with_tokens_, 0, nodes), *h);
      Kokkos::deep_copy(detail::row_block(with_tokens_, nodes, options_.global_nodes),
                        store.param_matrix(tokens_));
      h = &with_tokens_;
    }
    if (options_.recompute) graphs_used_ = graphs;
    split_ = split;
    for (std::size_t l = 0; l < blocks_.size(); ++l) {
      if (before_block) before_block(l, *h);
      if (!options_.recompute) {
        h = &blocks_[l].forward(store, *h, graphs[l], split);
        continue;
      }
      // Keep the block's input (ghost rows filled), pass its output on in the next
      // block's input buffer, and free the block's activations.
      // Block 0's input is the encoder's output, which stays until the next forward: held
      // as a view, not copied. The later inputs are the copies made below.
      Matrix<T>& input = saved_inputs_[l];
      if (h != &input) input = *h;
      const Matrix<T>& out = blocks_[l].forward(store, input, graphs[l], split);
      if (l + 1 == blocks_.size()) {
        h = &out;  // the last block's activations are used at once by backward
        break;
      }
      Matrix<T>& next = saved_inputs_[l + 1];
      tensor::ensure_shape(next, "mesh_transformer::block_input", out.extent(0), out.extent(1));
      Kokkos::deep_copy(next, out);
      blocks_[l] = fresh_blocks_[l];
      h = &next;
    }
    if (tokens_ < 0) return decoder_.forward(store, *h);
    // The decoder reads the mesh rows (the first `nodes`: a view, no copy).
    return decoder_.forward(store, detail::row_block(*h, 0, nodes));
  }

  // dy: (nodes, outputs). Adds every parameter gradient to store.grads(). Returns the
  // gradient of the node features (nodes, inputs) when need_input_grad is set (training
  // through unrolled steps, where the features are the model's own state); otherwise it
  // is not formed (the features are data) and the returned matrix is not to be read.
  const Matrix<T>& backward(nn::ParameterStore<T>& store, const Matrix<T>& dy,
                            const BlockHook& after_block = {}, bool need_input_grad = false) {
    const Matrix<T>* g = &decoder_.backward(store, dy);
    const std::size_t nodes = dy.extent(0);
    if (tokens_ >= 0) {  // the tokens' rows get no gradient from the decoder
      tensor::ensure_shape(with_tokens_grad_, "mesh_transformer::with_tokens_grad",
                           nodes + options_.global_nodes, options_.dim);
      Kokkos::deep_copy(detail::row_block(with_tokens_grad_, 0, nodes), *g);
      Kokkos::deep_copy(detail::row_block(with_tokens_grad_, nodes, options_.global_nodes), T(0));
      g = &with_tokens_grad_;
    }
    const std::size_t last = blocks_.size() - 1;
    for (std::size_t l = blocks_.size(); l-- > 0;) {
      if (options_.recompute && l < last) {  // its activations again, from its input
        blocks_[l].forward(store, saved_inputs_[l], graphs_used_[l], split_);
      }
      g = &blocks_[l].backward(store, *g);
      if (after_block) after_block(l, *g);
      // Block l + 1's input gradient has been used: free its buffers.
      if (options_.recompute && l < last) blocks_[l + 1] = fresh_blocks_[l + 1];
    }
    if (tokens_ >= 0) {
      detail::add_rows(store.grad_matrix(tokens_), *g, nodes);
      g = &(mesh_rows_grad_ = detail::row_block(*g, 0, nodes));
    }
    const Matrix<T>& input_grad =
        encoder_.backward(store, encoder_norm_.backward(store, *g), need_input_grad);
    if (options_.recompute) {
      mesh_rows_grad_ = Matrix<T>();  // a view of block 0's buffer
      blocks_[0] = fresh_blocks_[0];
    }
    return input_grad;
  }

  const TransformerOptions& options() const { return options_; }

 private:
  TransformerOptions options_;
  nn::Mlp<T> encoder_;
  nn::RMSNorm<T> encoder_norm_;
  int tokens_ = -1;                     // slice of global.tokens, or -1
  std::vector<BlockGraphs> per_block_;  // the one-graph-per-block call's graphs
  Matrix<T> with_tokens_, with_tokens_grad_, mesh_rows_grad_;
  std::vector<TransformerBlock<T>> blocks_;
  std::vector<TransformerBlock<T>> fresh_blocks_;  // as declared (recompute)
  std::vector<Matrix<T>> saved_inputs_;            // each block's input (recompute)
  std::vector<BlockGraphs> graphs_used_;           // the last forward's graphs (recompute)
  const nn::SplitQueryRows<T>* split_ = nullptr;   // the last forward's (recompute)
  nn::Mlp<T> decoder_;
};

}  // namespace tessera::models::mesh_transformer
