#pragma once
// The mesh transformer (graph-physics' EncodeTransformDecode, "Training Transformers for
// Mesh-Based Simulations", 2025): per node, features (velocity and one-hot node type,
// normalised) -> encoder -> L transformer blocks whose attention is masked by the mesh
// adjacency -> decoder -> the normalised velocity change of one time step.
//   encoder: Linear in->d, ReLU, Linear d->d, ReLU, Linear d->d, ReLU, Linear d->d, RMSNorm
//   blocks:  TransformerBlock (transformer_block.hpp), each with its own attention graph
//   decoder: Linear d->d, ReLU, Linear d->d, ReLU, Linear d->d, ReLU, Linear d->out
// Slices: encoder.{0,1,2,3}, encoder.norm, block<l>.*, decoder.{0,1,2,3}.
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
  std::size_t mlp_factor = 3;  // gated MLP hidden width = mlp_factor x d
};

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
    blocks_.assign(o.layers, TransformerBlock<T>());
    for (std::size_t l = 0; l < o.layers; ++l) {
      blocks_[l].declare(store, "block" + std::to_string(l), d, o.heads, o.mlp_factor);
    }
    decoder_.declare(store, "decoder", {d, d, d, d, o.outputs}, nn::ActivationKind::kRelu);
  }

  void init(nn::ParameterStore<T>& store, std::uint64_t seed) const {
    encoder_.init(store, seed);
    encoder_norm_.init(store);
    for (const auto& block : blocks_) block.init(store, seed);
    decoder_.init(store, seed);
  }

  // x: (nodes, inputs); graphs: one attention graph per block (the same pointer may
  // repeat), alive and unchanged until backward. Returns (nodes, outputs).
  const Matrix<T>& forward(const nn::ParameterStore<T>& store, const Matrix<T>& x,
                           const std::vector<const graph::CsrGraph*>& graphs,
                           const BlockHook& before_block = {}) {
    if (graphs.size() != blocks_.size()) {
      throw std::invalid_argument(str("mesh transformer: ", graphs.size(), " attention graphs for ",
                                      blocks_.size(), " blocks (one per block expected)"));
    }
    const Matrix<T>* h = &encoder_norm_.forward(store, encoder_.forward(store, x));
    for (std::size_t l = 0; l < blocks_.size(); ++l) {
      if (before_block) before_block(l, *h);
      h = &blocks_[l].forward(store, *h, *graphs[l]);
    }
    return decoder_.forward(store, *h);
  }

  // dy: (nodes, outputs). Adds every parameter gradient to store.grads(). The input
  // gradient is not formed (the features are data).
  void backward(nn::ParameterStore<T>& store, const Matrix<T>& dy,
                const BlockHook& after_block = {}) {
    const Matrix<T>* g = &decoder_.backward(store, dy);
    for (std::size_t l = blocks_.size(); l-- > 0;) {
      g = &blocks_[l].backward(store, *g);
      if (after_block) after_block(l, *g);
    }
    encoder_.backward(store, encoder_norm_.backward(store, *g), false);
  }

  const TransformerOptions& options() const { return options_; }

 private:
  TransformerOptions options_;
  nn::Mlp<T> encoder_;
  nn::RMSNorm<T> encoder_norm_;
  std::vector<TransformerBlock<T>> blocks_;
  nn::Mlp<T> decoder_;
};

}  // namespace tessera::models::mesh_transformer
