#pragma once
// One pre-norm transformer block whose attention is restricted to graph neighbourhoods
// (the mesh-transformer layer):
//   h = x + GraphMHA(LN1(x), graph)
//   y = h + MLP(LN2(h)),   MLP = Linear(d, hidden) -> GELU -> Linear(hidden, d)
// Pre-norm keeps an identity path from input to output, so deep stacks train without
// warm-up tricks. Slices: name.ln1, name.attention.{wq,wk,wv,wo}, name.ln2,
// name.mlp.{0,1} (.weight/.bias each).
#include <string>

#include "core/graph/csr_graph.hpp"
#include "core/nn/activations.hpp"
#include "core/nn/graph_attention.hpp"
#include "core/nn/layer_norm.hpp"
#include "core/nn/mlp.hpp"
#include "core/nn/residual.hpp"

namespace tessera::nn {

template <class T>
class GraphTransformerBlock {
 public:
  // GELU in its exact (erf) form by default, as torch.nn.GELU().
  void declare(ParameterStore<T>& store, const std::string& name, std::size_t model_dim,
               std::size_t heads, std::size_t mlp_hidden,
               ActivationKind activation = ActivationKind::kGeluErf) {
    if (mlp_hidden == 0) throw InputError(str(name, ": mlp_hidden must be positive"));
    name_ = name;
    dim_ = model_dim;
    ln1_.declare(store, name + ".ln1", model_dim);
    attention_.declare(store, name + ".attention", model_dim, heads);
    ln2_.declare(store, name + ".ln2", model_dim);
    mlp_.declare(store, name + ".mlp", {model_dim, mlp_hidden, model_dim}, activation);
  }

  // Norms at weight 1, bias 0; projections as PyTorch's nn.Linear.
  void init(ParameterStore<T>& store, std::uint64_t seed) const {
    ln1_.init(store, seed);
    attention_.init(store, seed);
    ln2_.init(store, seed);
    mlp_.init(store, seed);
  }

  // x: (num_nodes, model_dim), one row per graph node; x and the graph must stay
  // unchanged until backward.
  const Matrix<T>& forward(const ParameterStore<T>& store, const Matrix<T>& x,
                           const graph::CsrGraph& graph) {
    if (x.extent(1) != dim_) {
      throw std::invalid_argument(
          str(name_, ": input has ", x.extent(1), " features, expected model_dim = ", dim_));
    }
    return prenorm_forward(
        x,
        [&](const Matrix<T>& in) -> const Matrix<T>& {
          return attention_.forward(store, ln1_.forward(store, in), graph);
        },
        [&](const Matrix<T>& h) -> const Matrix<T>& {
          return mlp_.forward(store, ln2_.forward(store, h));
        },
        hidden_, output_, name_);
  }

  // Adds every parameter gradient to store.grads(); returns dL/dx.
  const Matrix<T>& backward(ParameterStore<T>& store, const Matrix<T>& dy) {
    return prenorm_backward(
        dy, output_,
        [&](const Matrix<T>& g) -> const Matrix<T>& {
          return ln1_.backward(store, attention_.backward(store, g));
        },
        [&](const Matrix<T>& g) -> const Matrix<T>& {
          return ln2_.backward(store, mlp_.backward(store, g));
        },
        d_hidden_, input_grad_, name_);
  }

  const std::string& name() const { return name_; }
  std::size_t model_dim() const { return dim_; }
  const GraphMultiHeadAttention<T>& attention() const { return attention_; }
  const LayerNorm<T>& norm1() const { return ln1_; }
  const LayerNorm<T>& norm2() const { return ln2_; }
  const Mlp<T>& mlp() const { return mlp_; }

 private:
  std::string name_;
  std::size_t dim_ = 0;
  LayerNorm<T> ln1_, ln2_;
  GraphMultiHeadAttention<T> attention_;
  Mlp<T> mlp_;
  Matrix<T> hidden_, output_, d_hidden_, input_grad_;
};

}  // namespace tessera::nn
