#pragma once
// Pre-norm transformer block with dense self-attention (as in GPT-2 / ViT):
//   h = x + MHA(LN1(x));   y = h + MLP(LN2(h))
// with MLP = Linear(model_dim -> mlp_hidden), GELU, Linear(mlp_hidden -> model_dim).
// Sub-layers are name.ln1, name.attn, name.ln2, name.mlp (MLP layers name.mlp.0 and
// name.mlp.1). Rows are (batch * len, model_dim), batch-major, as for attention.
//
// Graph mode (declare's `graph_attention`): the attention is over each row's neighbours
// in a CSR graph on the rows (GraphMultiHeadAttention: memory and time in the edges, not
// len^2), with the same parameters as the dense mode, so on a complete graph with self
// loops it is the dense block (GraphTransformerBlock is the graph-only block of the
// graph benchmarks and their PyTorch reference, with slice name.attention).
//
// Memory mode (options.memory_patterns = M > 0): the MLP is replaced by a HopfieldLayer
// (hopfield_lookup.hpp, slice name.memory): each row retrieves from M learned stored
// patterns instead of passing a feed-forward network.
#include <string>

#include "core/graph/csr_graph.hpp"
#include "core/nn/attention.hpp"
#include "core/nn/graph_attention.hpp"
#include "core/nn/hopfield_lookup.hpp"
#include "core/nn/layer_norm.hpp"
#include "core/nn/mlp.hpp"
#include "core/nn/residual.hpp"

namespace tessera::nn {

struct TransformerBlockOptions {
  ActivationKind activation = ActivationKind::kGeluErf;  // of the MLP
  double eps = 1e-5;                                     // of the LayerNorms
  bool graph_attention = false;                          // graph mode (above)
  std::size_t memory_patterns = 0;  // > 0: memory mode (above), M stored patterns
};

template <class T>
class TransformerBlock {
 public:
  void declare(ParameterStore<T>& store, const std::string& name, std::size_t model_dim,
               std::size_t heads, std::size_t mlp_hidden,
               ActivationKind activation = ActivationKind::kGeluErf, double eps = 1e-5) {
    TransformerBlockOptions o;
    o.activation = activation;
    o.eps = eps;
    declare(store, name, model_dim, heads, mlp_hidden, o);
  }

  // mlp_hidden is not used in memory mode.
  void declare(ParameterStore<T>& store, const std::string& name, std::size_t model_dim,
               std::size_t heads, std::size_t mlp_hidden, const TransformerBlockOptions& o) {
    name_ = name;
    model_dim_ = model_dim;
    graph_mode_ = o.graph_attention;
    memory_mode_ = o.memory_patterns > 0;
    ln1_.declare(store, name + ".ln1", model_dim, o.eps);
    if (graph_mode_) {
      graph_attention_.declare(store, name + ".attn", model_dim, heads);
    } else {
      attention_.declare(store, name + ".attn", model_dim, heads);
    }
    ln2_.declare(store, name + ".ln2", model_dim, o.eps);
    if (memory_mode_) {
      HopfieldOptions memory;  // one head, beta = 1 / sqrt(model_dim), as hopfield-layers
      memory.state_size = model_dim;
      memory_.declare(store, name + ".memory", memory, o.memory_patterns);
    } else {
      mlp_.declare(store, name + ".mlp", {model_dim, mlp_hidden, model_dim}, o.activation);
    }
  }

  void init(ParameterStore<T>& store, std::uint64_t seed) const {
    ln1_.init(store, seed);
    if (graph_mode_) {
      graph_attention_.init(store, seed);
    } else {
      attention_.init(store, seed);
    }
    ln2_.init(store, seed);
    if (memory_mode_) {
      memory_.init(store, seed);
    } else {
      mlp_.init(store, seed);
    }
  }

  // mask: empty or (len x len), added to the attention scores (-inf forbids).
  const Matrix<T>& forward(const ParameterStore<T>& store, const Matrix<T>& x, std::size_t batch,
                           std::size_t len, const Matrix<T>& mask = Matrix<T>()) {
    if (graph_mode_) {
      throw std::invalid_argument(str(name_, ": declared with graph attention: pass the graph"));
    }
    if (x.extent(0) != batch * len || x.extent(1) != model_dim_) {
      throw std::invalid_argument(str(name_, ": input ", tensor::shape_text(x),
                                      " does not match [batch * len x model_dim] = [", batch, " * ",
                                      len, " x ", model_dim_, "]"));
    }
    return prenorm_forward(
        x,
        [&](const Matrix<T>& in) -> const Matrix<T>& {
          return attention_.forward_self(store, ln1_.forward(store, in), batch, len, mask);
        },
        [&](const Matrix<T>& h) -> const Matrix<T>& { return feed_forward(store, h); },
        hidden_, output_, name_);
  }

  // Graph mode: row i attends to its neighbours in `graph` (one row per input row; alive
  // and unchanged until backward).
  const Matrix<T>& forward(const ParameterStore<T>& store, const Matrix<T>& x,
                           const graph::CsrGraph& graph) {
    if (!graph_mode_) {
      throw std::invalid_argument(str(name_, ": declared with dense attention: pass batch and len"));
    }
    return prenorm_forward(
        x,
        [&](const Matrix<T>& in) -> const Matrix<T>& {
          return graph_attention_.forward(store, ln1_.forward(store, in), graph);
        },
        [&](const Matrix<T>& h) -> const Matrix<T>& { return feed_forward(store, h); },
        hidden_, output_, name_);
  }

  const Matrix<T>& backward(ParameterStore<T>& store, const Matrix<T>& dy) {
    return prenorm_backward(
        dy, output_,
        [&](const Matrix<T>& g) -> const Matrix<T>& {
          return ln1_.backward(store, graph_mode_ ? graph_attention_.backward(store, g)
                                                  : attention_.backward_self(store, g));
        },
        [&](const Matrix<T>& g) -> const Matrix<T>& {
          return ln2_.backward(store, memory_mode_ ? memory_.backward(store, g)
                                                   : mlp_.backward(store, g));
        },
        hidden_grad_, input_grad_, name_);
  }

  const std::string& name() const { return name_; }
  const MultiHeadAttention<T>& attention() const { return attention_; }
  // Dense mode: the attention's keys sharded over processes (MultiHeadAttention).
  void set_key_shard(KeyShard<T> shard) { attention_.set_key_shard(std::move(shard)); }
  // The last forward's input of the MLP or memory: LN2 of the attention half's output.
  const Matrix<T>& feed_forward_input() const { return feed_forward_input_; }
  // Memory mode: the slice of the M stored patterns (M x model_dim); -1 otherwise.
  int memory_patterns_slice() const { return memory_mode_ ? memory_.lookup_id() : -1; }

 private:
  const Matrix<T>& feed_forward(const ParameterStore<T>& store, const Matrix<T>& h) {
    feed_forward_input_ = ln2_.forward(store, h);
    return memory_mode_ ? memory_.forward(store, feed_forward_input_)
                        : mlp_.forward(store, feed_forward_input_);
  }

  std::string name_;
  std::size_t model_dim_ = 0;
  bool graph_mode_ = false, memory_mode_ = false;
  LayerNorm<T> ln1_, ln2_;
  MultiHeadAttention<T> attention_;        // dense mode
  GraphMultiHeadAttention<T> graph_attention_;  // graph mode
  Mlp<T> mlp_;                 // or, in memory mode,
  HopfieldLayer<T> memory_;
  Matrix<T> feed_forward_input_;  // a view of LN2's output
  Matrix<T> hidden_, output_, hidden_grad_, input_grad_;
};

}  // namespace tessera::nn
