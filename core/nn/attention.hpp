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

namespace detail {
template <class T>
void ensure_shape3(Tensor3<T>& t, const std::string& label, std::size_t n0, std::size_t n1,
                   std::size_t n2) {
  if (t.extent(0) != n0 || t.extent(1) != n1 || t.extent(2) != n2 || t.data() == nullptr) {
    t = Tensor3<T>(label, n0, n1, n2);
  }
}

// (batch * len, heads * d) rows -> (batch * heads, len, d).
template <class T>
void split_heads(const Matrix<T>& in, const Tensor3<T>& out, std::size_t len, std::size_t heads,
                 std::size_t d) {
  Kokkos::parallel_for(
      "nn::attention_split_heads", Kokkos::RangePolicy<tensor::ExecSpace>(0, in.extent(0)),
      KOKKOS_LAMBDA(const int r) {
        const std::size_t b = r / len, t = r % len;
        for (std::size_t h = 0; h < heads; ++h) {
          for (std::size_t k = 0; k < d; ++k) out(b * heads + h, t, k) = in(r, h * d + k);
        }
      });
}

// (batch * heads, len, d) -> (batch * len, heads * d) rows.
template <class T>
void merge_heads(const Tensor3<T>& in, const Matrix<T>& out, std::size_t len, std::size_t heads,
                 std::size_t d) {
  Kokkos::parallel_for(
      "nn::attention_merge_heads", Kokkos::RangePolicy<tensor::ExecSpace>(0, out.extent(0)),
      KOKKOS_LAMBDA(const int r) {
        const std::size_t b = r / len, t = r % len;
        for (std::size_t h = 0; h < heads; ++h) {
          for (std::size_t k = 0; k < d; ++k) out(r, h * d + k) = in(b * heads + h, t, k);
        }
      });
}
}  // namespace detail

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
    const bool has_mask = mask.data() != nullptr && mask.size() > 0;
    if (has_mask && (mask.extent(0) != query_len || mask.extent(1) != key_len)) {
      throw std::invalid_argument(str(name_, ": mask ", tensor::shape_text(mask),
                                      " does not match [query_len x key_len] = [", query_len, " x ",
                                      key_len, "]"));
    }
    batch_ = batch;
    query_len_ = query_len;
    key_len_ = key_len;
    const std::size_t bh = batch * heads_, d = head_dim_;
    detail::ensure_shape3(q_heads_, name_ + ".q_heads", bh, query_len, d);
    detail::ensure_shape3(k_heads_, name_ + ".k_heads", bh, key_len, d);
    detail::ensure_shape3(v_heads_, name_ + ".v_heads", bh, key_len, d);
    detail::ensure_shape3(probs_, name_ + ".probabilities", bh, query_len, key_len);
    detail::ensure_shape3(context_heads_, name_ + ".context_heads", bh, query_len, d);
    tensor::ensure_shape(context_, name_ + ".context", batch * query_len, model_dim_);

    detail::split_heads(wq_.forward(store, query_rows), q_heads_, query_len, heads_, d);
    detail::split_heads(wk_.forward(store, key_value_rows), k_heads_, key_len, heads_, d);
    detail::split_heads(wv_.forward(store, key_value_rows), v_heads_, key_len, heads_, d);

    tensor::batched_gemm('N', 'T', scale(), q_heads_, k_heads_, T(0), probs_);
    T* const p = probs_.data();
    const Matrix<T> m = mask;
    Kokkos::parallel_for(
        "nn::attention_softmax", Kokkos::RangePolicy<tensor::ExecSpace>(0, bh * query_len),
        KOKKOS_LAMBDA(const int r) {
          T* row = p + static_cast<std::size_t>(r) * key_len;
          if (has_mask) {
            const std::size_t t = r % query_len;
            for (std::size_t j = 0; j < key_len; ++j) row[j] += m(t, j);
          }
          softmax_row(row, row, key_len);
        });
    tensor::batched_gemm('N', 'N', T(1), probs_, v_heads_, T(0), context_heads_);
    detail::merge_heads(context_heads_, context_, query_len, heads_, d);
    return wo_.forward(store, context_);
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
    const std::size_t bh = batch_ * heads_, d = head_dim_;
    detail::ensure_shape3(d_context_heads_, name_ + ".d_context_heads", bh, query_len_, d);
    detail::ensure_shape3(d_scores_, name_ + ".d_scores", bh, query_len_, key_len_);
    detail::ensure_shape3(d_q_heads_, name_ + ".d_q_heads", bh, query_len_, d);
    detail::ensure_shape3(d_k_heads_, name_ + ".d_k_heads", bh, key_len_, d);
    detail::ensure_shape3(d_v_heads_, name_ + ".d_v_heads", bh, key_len_, d);
    tensor::ensure_shape(d_q_, name_ + ".d_q", batch_ * query_len_, model_dim_);
    tensor::ensure_shape(d_k_, name_ + ".d_k", batch_ * key_len_, model_dim_);
    tensor::ensure_shape(d_v_, name_ + ".d_v", batch_ * key_len_, model_dim_);
    tensor::ensure_shape(key_value_grad_, name_ + ".key_value_grad", batch_ * key_len_, model_dim_);

    detail::split_heads(wo_.backward(store, dy), d_context_heads_, query_len_, heads_, d);
    // dP = dO V^T, dV = P^T dO, then dS = softmax backward of dP (in place).
    tensor::batched_gemm('N', 'T', T(1), d_context_heads_, v_heads_, T(0), d_scores_);
    tensor::batched_gemm('T', 'N', T(1), probs_, d_context_heads_, T(0), d_v_heads_);
    const T* const p = probs_.data();
    T* const ds = d_scores_.data();
    const std::size_t key_len = key_len_;
    Kokkos::parallel_for(
        "nn::attention_softmax_backward",
        Kokkos::RangePolicy<tensor::ExecSpace>(0, bh * query_len_), KOKKOS_LAMBDA(const int r) {
          const std::size_t offset = static_cast<std::size_t>(r) * key_len;
          softmax_row_backward(p + offset, ds + offset, ds + offset, key_len);
        });
    // S = scale Q K^T: dQ = scale dS K, dK = scale dS^T Q.
    tensor::batched_gemm('N', 'N', scale(), d_scores_, k_heads_, T(0), d_q_heads_);
    tensor::batched_gemm('T', 'N', scale(), d_scores_, q_heads_, T(0), d_k_heads_);
    detail::merge_heads(d_q_heads_, d_q_, query_len_, heads_, d);
    detail::merge_heads(d_k_heads_, d_k_, key_len_, heads_, d);
    detail::merge_heads(d_v_heads_, d_v_, key_len_, heads_, d);

    AttentionInputGrads<T> grads;
    grads.query = wq_.backward(store, d_q_);
    add(wk_.backward(store, d_k_), wv_.backward(store, d_v_), key_value_grad_, name_);
    grads.key_value = key_value_grad_;
    return grads;
  }

  // Backward of forward_self: the sum of both input gradients.
  const Matrix<T>& backward_self(ParameterStore<T>& store, const Matrix<T>& dy) {
    const AttentionInputGrads<T> grads = backward(store, dy);
    add_in_place(grads.key_value, grads.query, name_);
    return key_value_grad_;
  }

  // Attention weights of the last forward, (batch * heads, query_len, key_len).
  const Tensor3<T>& probabilities() const { return probs_; }
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
  Tensor3<T> q_heads_, k_heads_, v_heads_, probs_, context_heads_;
  Tensor3<T> d_context_heads_, d_scores_, d_q_heads_, d_k_heads_, d_v_heads_;
  Matrix<T> context_, d_q_, d_k_, d_v_, key_value_grad_;
};

}  // namespace tessera::nn
