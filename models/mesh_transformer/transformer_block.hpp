#pragma once
// One block of the mesh transformer (graph-physics' EncodeTransformDecode processor):
//   x = x + GraphMHA(RMSNorm1(x), A)
//   x = x + W3(GELU(W1 h) * W2 h),   h = RMSNorm2(x),   W1, W2: d -> 3d, W3: 3d -> d
// pre-norm, so an identity path runs from input to output. Attention is softmax over each
// node's neighbours in A (a CSR graph, one row per node), or one graph per group of heads. Slices: name.norm1,
// name.attention.{wq,wk,wv,wo}, name.norm2, name.mlp.{w1,w2,w3}.
#include <string>
#include <vector>

#include "core/graph/csr_graph.hpp"
#include "core/nn/gated_mlp.hpp"
#include "core/nn/graph_attention.hpp"
#include "core/nn/layer_norm.hpp"
#include "core/nn/residual.hpp"

namespace tessera::models::mesh_transformer {

using tensor::Matrix;

template <class T>
class TransformerBlock {
 public:
  void declare(nn::ParameterStore<T>& store, const std::string& name, std::size_t dim,
               std::size_t heads, std::size_t mlp_factor) {
    name_ = name;
    dim_ = dim;
    norm1_.declare(store, name + ".norm1", dim);
    attention_.declare(store, name + ".attention", dim, heads);
    norm2_.declare(store, name + ".norm2", dim);
    mlp_.declare(store, name + ".mlp", dim, mlp_factor * dim, dim, nn::ActivationKind::kGeluErf);
  }

  // Norm weights 1; projections as PyTorch's nn.Linear default.
  void init(nn::ParameterStore<T>& store, std::uint64_t seed) const {
    norm1_.init(store);
    attention_.init(store, seed);
    norm2_.init(store);
    mlp_.init(store, seed);
  }

  // x: (nodes, dim); graphs: one per head group (one graph: every head attends over
  // it), alive and unchanged until backward. `split`: the attention's rows whose keys
  // are spread over ranks (nn::SplitQueryRows), or null.
  const Matrix<T>& forward(const nn::ParameterStore<T>& store, const Matrix<T>& x,
                           const std::vector<const graph::CsrGraph*>& graphs,
                           const nn::SplitQueryRows<T>* split = nullptr) {
    return nn::prenorm_forward(
        x,
        [&](const Matrix<T>& in) -> const Matrix<T>& {
          return attention_.forward(store, norm1_.forward(store, in), graphs, split);
        },
        [&](const Matrix<T>& h) -> const Matrix<T>& {
          return mlp_.forward(store, norm2_.forward(store, h));
        },
        hidden_, output_, name_);
  }

  // Adds every parameter gradient to store.grads(); returns dL/dx.
  const Matrix<T>& backward(nn::ParameterStore<T>& store, const Matrix<T>& dy) {
    return nn::prenorm_backward(
        dy, output_,
        [&](const Matrix<T>& g) -> const Matrix<T>& {
          return norm1_.backward(store, attention_.backward(store, g));
        },
        [&](const Matrix<T>& g) -> const Matrix<T>& {
          return norm2_.backward(store, mlp_.backward(store, g));
        },
        hidden_grad_, input_grad_, name_);
  }

  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::size_t dim_ = 0;
  nn::RMSNorm<T> norm1_, norm2_;
  nn::GraphMultiHeadAttention<T> attention_;
  nn::GatedMlp<T> mlp_;
  Matrix<T> hidden_, output_, hidden_grad_, input_grad_;
};

}  // namespace tessera::models::mesh_transformer
