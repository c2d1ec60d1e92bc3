#pragma once
// The heads' core of multi-head attention, shared by nn::MultiHeadAttention and the
// Hopfield layer (models/hopfield): given the projected queries, keys and values as rows
// (batch * len, heads * d), it splits the heads into (batch * heads, len, d) tensors so
// that every product is one batched gemm, and computes per batch b and head h
//   P = softmax(scale Q_bh K_bh^T + mask),   O_bh = P V_bh
// then merges the heads back into rows. Backward takes the gradient of the merged
// context and returns those of the three projected inputs. Queries and keys have qk_dim
// features per head, values v_dim. The additive mask (query_len x key_len, -inf to
// forbid) is shared by all batches and heads; a fully masked row gives a zero row.
#include <stdexcept>
#include <string>

#include "core/runtime/error.hpp"

#include "core/nn/softmax.hpp"
#include "core/tensor/gemm.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::nn {

using tensor::Matrix;
using tensor::Tensor3;

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
class DotProductAttention {
 public:
  explicit DotProductAttention(std::string name = "attention") : name_(std::move(name)) {}

  struct Shape {
    std::size_t batch = 0, query_len = 0, key_len = 0, heads = 0, qk_dim = 0, v_dim = 0;
  };

  // Returns the merged context (batch * query_len, heads * v_dim), owned here.
  const Matrix<T>& forward(const Matrix<T>& q, const Matrix<T>& k, const Matrix<T>& v,
                           const Shape& s, T scale, const Matrix<T>& mask = Matrix<T>()) {
    const bool has_mask = mask.data() != nullptr && mask.size() > 0;
    if (has_mask && (mask.extent(0) != s.query_len || mask.extent(1) != s.key_len)) {
      throw std::invalid_argument(str(name_, ": mask ", tensor::shape_text(mask),
                                      " does not match [query_len x key_len] = [", s.query_len,
                                      " x ", s.key_len, "]"));
    }
    shape_ = s;
    scale_ = scale;
    const std::size_t bh = s.batch * s.heads;
    detail::ensure_shape3(q_heads_, name_ + ".q_heads", bh, s.query_len, s.qk_dim);
    detail::ensure_shape3(k_heads_, name_ + ".k_heads", bh, s.key_len, s.qk_dim);
    detail::ensure_shape3(v_heads_, name_ + ".v_heads", bh, s.key_len, s.v_dim);
    detail::ensure_shape3(probs_, name_ + ".probabilities", bh, s.query_len, s.key_len);
    detail::ensure_shape3(context_heads_, name_ + ".context_heads", bh, s.query_len, s.v_dim);
    tensor::ensure_shape(context_, name_ + ".context", s.batch * s.query_len, s.heads * s.v_dim);

    detail::split_heads(q, q_heads_, s.query_len, s.heads, s.qk_dim);
    detail::split_heads(k, k_heads_, s.key_len, s.heads, s.qk_dim);
    detail::split_heads(v, v_heads_, s.key_len, s.heads, s.v_dim);
    tensor::batched_gemm('N', 'T', scale, q_heads_, k_heads_, T(0), probs_);
    T* const p = probs_.data();
    const Matrix<T> m = mask;
    const std::size_t query_len = s.query_len, key_len = s.key_len;
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
    detail::merge_heads(context_heads_, context_, s.query_len, s.heads, s.v_dim);
    return context_;
  }

  // d_context: (batch * query_len, heads * v_dim). Fills d_q(), d_k(), d_v().
  void backward(const Matrix<T>& d_context) {
    const Shape& s = shape_;
    const std::size_t bh = s.batch * s.heads;
    detail::ensure_shape3(d_context_heads_, name_ + ".d_context_heads", bh, s.query_len, s.v_dim);
    detail::ensure_shape3(d_scores_, name_ + ".d_scores", bh, s.query_len, s.key_len);
    detail::ensure_shape3(d_q_heads_, name_ + ".d_q_heads", bh, s.query_len, s.qk_dim);
    detail::ensure_shape3(d_k_heads_, name_ + ".d_k_heads", bh, s.key_len, s.qk_dim);
    detail::ensure_shape3(d_v_heads_, name_ + ".d_v_heads", bh, s.key_len, s.v_dim);
    tensor::ensure_shape(d_q_, name_ + ".d_q", s.batch * s.query_len, s.heads * s.qk_dim);
    tensor::ensure_shape(d_k_, name_ + ".d_k", s.batch * s.key_len, s.heads * s.qk_dim);
    tensor::ensure_shape(d_v_, name_ + ".d_v", s.batch * s.key_len, s.heads * s.v_dim);

    detail::split_heads(d_context, d_context_heads_, s.query_len, s.heads, s.v_dim);
    // dP = dO V^T, dV = P^T dO, then dS = softmax backward of dP (in place).
    tensor::batched_gemm('N', 'T', T(1), d_context_heads_, v_heads_, T(0), d_scores_);
    tensor::batched_gemm('T', 'N', T(1), probs_, d_context_heads_, T(0), d_v_heads_);
    const T* const p = probs_.data();
    T* const ds = d_scores_.data();
    const std::size_t key_len = s.key_len;
    Kokkos::parallel_for(
        "nn::attention_softmax_backward",
        Kokkos::RangePolicy<tensor::ExecSpace>(0, bh * s.query_len), KOKKOS_LAMBDA(const int r) {
          const std::size_t offset = static_cast<std::size_t>(r) * key_len;
          softmax_row_backward(p + offset, ds + offset, ds + offset, key_len);
        });
    // S = scale Q K^T: dQ = scale dS K, dK = scale dS^T Q.
    tensor::batched_gemm('N', 'N', scale_, d_scores_, k_heads_, T(0), d_q_heads_);
    tensor::batched_gemm('T', 'N', scale_, d_scores_, q_heads_, T(0), d_k_heads_);
    detail::merge_heads(d_q_heads_, d_q_, s.query_len, s.heads, s.qk_dim);
    detail::merge_heads(d_k_heads_, d_k_, s.key_len, s.heads, s.qk_dim);
    detail::merge_heads(d_v_heads_, d_v_, s.key_len, s.heads, s.v_dim);
  }

  const Matrix<T>& d_q() const { return d_q_; }
  const Matrix<T>& d_k() const { return d_k_; }
  const Matrix<T>& d_v() const { return d_v_; }
  // Attention weights of the last forward, (batch * heads, query_len, key_len).
  const Tensor3<T>& probabilities() const { return probs_; }
  const Shape& shape() const { return shape_; }

 private:
  std::string name_;
  Shape shape_;
  T scale_ = T(1);
  Tensor3<T> q_heads_, k_heads_, v_heads_, probs_, context_heads_;
  Tensor3<T> d_context_heads_, d_scores_, d_q_heads_, d_k_heads_, d_v_heads_;
  Matrix<T> context_, d_q_, d_k_, d_v_;
};

}  // namespace tessera::nn
