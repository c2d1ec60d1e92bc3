#pragma once
// Dense multi-head attention (as in "Attention Is All You Need"), the building block of
// the temporal and spatial transformers and of the Hopfield layers:
//   Q = x_q Wq^T + bq,  K = x_kv Wk^T + bk,  V = x_kv Wv^T + bv     (Linear name.wq/wk/wv)
//   per batch b and head h: P = softmax(Q_bh K_bh^T / sqrt(d_head) + mask),  O_bh = P V_bh
//   y = concat_h(O_bh) Wo^T + bo                                    (Linear name.wo)
// Inputs are row-major (batch * len, model_dim) matrices, rows ordered batch-major
// (row = b * len + t). Heads are rearranged into (batch * heads, len, d_head) tensors so
// that every product is one batched gemm (BLAS). The additive mask (query_len x
// key_len, -inf to forbid) is shared by all batches and heads; a fully masked row gives
// a zero output row.
#include <cmath>
#include <string>

#include "core/nn/dot_product_attention.hpp"
#include "core/nn/linear.hpp"
#include "core/nn/residual.hpp"
#include "core/nn/softmax.hpp"
#include "core/tensor/gemm.hpp"

namespace tessera::nn {

using tensor::Tensor3;

// The input gradients of attention: self-attention callers add the two.
template <class T>
struct AttentionInputGrads {
  Matrix<T> query;      // (batch * query_len, model_dim)
  Matrix<T> key_value;  // (batch * key_len, model_dim)
};

template <class T>
class MultiHeadAttention {
 public:
  // InputError when heads does not divide model_dim (a configuration mistake).
  void declare(ParameterStore<T>& store, const std::string& name, std::size_t model_dim,
               std::size_t heads) {
    if (heads == 0 || model_dim % heads != 0) {
      throw InputError(str(name, ": model_dim ", model_dim, " is not divisible by heads ", heads,
                           " (each head gets model_dim / heads features)"));
    }
    name_ = name;
    model_dim_ = model_dim;
    heads_ = heads;
    head_dim_ = model_dim / heads;
    wq_.declare(store, name + ".wq", model_dim, model_dim);
    wk_.declare(store, name + ".wk", model_dim, model_dim);
    wv_.declare(store, name + ".wv", model_dim, model_dim);
    wo_.declare(store, name + ".wo", model_dim, model_dim);
    core_ = DotProductAttention<T>(name);
  }

  void init(ParameterStore<T>& store, std::uint64_t seed) const {
    wq_.init(store, seed);
    wk_.init(store, seed);
    wv_.init(store, seed);
    wo_.init(store, seed);
  }

  // Returns (batch * query_len, model_dim). `mask`: empty, or (query_len x key_len)
  // added to the scaled scores.
  const Matrix<T>& forward(const ParameterStore<T>& store, const Matrix<T>& query_rows,
                           const Matrix<T>& key_value_rows, std::size_t batch,
                           std::size_t query_len, std::size_t key_len,
                           const Matrix<T>& mask = Matrix<T>()) {
    check_rows("query input", query_rows, batch, query_len);
    check_rows("key/value input", key_value_rows, batch, key_len);
    if (key_len == 0) throw std::invalid_argument(str(name_, ": key_len is 0"));
    batch_ = batch;
    query_len_ = query_len;
    key_len_ = key_len;
    // The projections first (each Linear owns its output), then the heads' core.
    const Matrix<T>& q = wq_.forward(store, query_rows);
    const Matrix<T>& k = wk_.forward(store, key_value_rows);
    const Matrix<T>& v = wv_.forward(store, key_value_rows);
    return wo_.forward(
        store, core_.forward(q, k, v, {batch, query_len, key_len, heads_, head_dim_, head_dim_},
                             scale(), mask));
  }

  // Self-attention (queries, keys and values from the same rows).
  const Matrix<T>& forward_self(const ParameterStore<T>& store, const Matrix<T>& x,
                                std::size_t batch, std::size_t len,
                                const Matrix<T>& mask = Matrix<T>()) {
    return forward(store, x, x, batch, len, len, mask);
  }

  // dy: (batch * query_len, model_dim). Adds all parameter gradients to the store and
  // returns the gradients w.r.t. both inputs (buffers owned by the layer).
  AttentionInputGrads<T> backward(ParameterStore<T>& store, const Matrix<T>& dy) {
    if (dy.extent(0) != batch_ * query_len_ || dy.extent(1) != model_dim_) {
      throw std::invalid_argument(str(name_, ": output gradient ", tensor::shape_text(dy),
                                      " does not match the forward output [", batch_ * query_len_,
                                      " x ", model_dim_, "]"));
    }
    tensor::ensure_shape(key_value_grad_, name_ + ".key_value_grad", batch_ * key_len_, model_dim_);
    core_.backward(wo_.backward(store, dy));
    AttentionInputGrads<T> grads;
    grads.query = wq_.backward(store, core_.d_q());
    add(wk_.backward(store, core_.d_k()), wv_.backward(store, core_.d_v()), key_value_grad_, name_);
    grads.key_value = key_value_grad_;
    return grads;
  }

  // Backward of forward_self: the sum of both input gradients.
  const Matrix<T>& backward_self(ParameterStore<T>& store, const Matrix<T>& dy) {
    const AttentionInputGrads<T> grads = backward(store, dy);
    add_in_place(grads.key_value, grads.query, name_);
    return key_value_grad_;
  }

  // Attention weights of the last forward, (batch * heads, query_len, key_len), or
  // (..., this process's keys) with a key shard.
  const Tensor3<T>& probabilities() const { return core_.probabilities(); }
  // Keys sharded over processes (dot_product_attention.hpp): the projections run whole
  // on every process, the scores only for its keys; the results are whole and exact.
  void set_key_shard(KeyShard<T> shard) { core_.set_key_shard(std::move(shard)); }
  const std::string& name() const { return name_; }
  std::size_t model_dim() const { return model_dim_; }
  std::size_t heads() const { return heads_; }
  std::size_t head_dim() const { return head_dim_; }
  const Linear<T>& wq() const { return wq_; }
  const Linear<T>& wk() const { return wk_; }
  const Linear<T>& wv() const { return wv_; }
  const Linear<T>& wo() const { return wo_; }

 private:
  T scale() const { return static_cast<T>(1.0 / std::sqrt(static_cast<double>(head_dim_))); }

  void check_rows(const char* what, const Matrix<T>& rows, std::size_t batch,
                  std::size_t len) const {
    if (rows.extent(0) != batch * len || rows.extent(1) != model_dim_) {
      throw std::invalid_argument(str(name_, ": ", what, " ", tensor::shape_text(rows),
                                      " does not match [batch * len x model_dim] = [", batch, " * ",
                                      len, " x ", model_dim_, "]"));
    }
  }

  std::string name_;
  std::size_t model_dim_ = 0, heads_ = 0, head_dim_ = 0;
  std::size_t batch_ = 0, query_len_ = 0, key_len_ = 0;
  Linear<T> wq_, wk_, wv_, wo_;
  DotProductAttention<T> core_;
  Matrix<T> key_value_grad_;
};

}  // namespace tessera::nn
