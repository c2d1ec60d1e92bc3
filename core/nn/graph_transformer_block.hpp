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
    const Matrix<T>& attended = attention_.forward(store, ln1_.forward(store, x), graph);
    tensor::ensure_shape(hidden_, name_ + ".hidden", x.extent(0), dim_);
    add(x, attended, hidden_, name_);
    const Matrix<T>& mixed = mlp_.forward(store, ln2_.forward(store, hidden_));
    tensor::ensure_shape(output_, name_ + ".output", x.extent(0), dim_);
    add(hidden_, mixed, output_, name_);
    return output_;
  }

  // Adds every parameter gradient to store.grads(); returns dL/dx.
  const Matrix<T>& backward(ParameterStore<T>& store, const Matrix<T>& dy) {
    if (dy.extent(0) != output_.extent(0) || dy.extent(1) != dim_) {
      throw std::invalid_argument(str(name_, ": output gradient ", tensor::shape_text(dy),
                                      " does not match the forward output ",
                                      tensor::shape_text(output_)));
    }
    // The residual hands dy to both paths: dh = dy + LN2'(MLP'(dy)).
    const Matrix<T>& d_norm2 = ln2_.backward(store, mlp_.backward(store, dy));
    tensor::ensure_shape(d_hidden_, name_ + ".hidden_grad", dy.extent(0), dim_);
    add(dy, d_norm2, d_hidden_, name_);
    const Matrix<T>& d_norm1 = ln1_.backward(store, attention_.backward(store, d_hidden_));
    tensor::ensure_shape(input_grad_, name_ + ".input_grad", dy.extent(0), dim_);
    add(d_hidden_, d_norm1, input_grad_, name_);
    return input_grad_;
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
