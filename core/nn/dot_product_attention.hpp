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
//
// Keys sharded over processes (set_key_shard, KeyShard): the queries, keys and values
// come whole on every process, which scores its block of each batch's keys only, so the
// scores and probabilities, the memory that grows as query_len x key_len, fall with the
// process count. Each process's softmax over its keys is merged into the softmax over
// all keys by log-sum-exp (KeyShard::merge, as the sharded Hopfield memory does); in
// backward the score gradients use the merged context for the softmax's row mean
// (<dO, O>), and the query, key and value gradients are summed over the processes, so
// every process ends with the whole, exact result.
#include <functional>
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

// (batch * len, heads * d) rows -> (batch * heads, count, d): rows first .. first +
// count - 1 of each batch's len.
template <class T>
void split_heads_range(const Matrix<T>& in, const Tensor3<T>& out, std::size_t len,
                       std::size_t first, std::size_t count, std::size_t heads, std::size_t d) {
  const std::size_t batch = len > 0 ? in.extent(0) / len : 0;
  Kokkos::parallel_for(
      "nn::attention_split_heads_range", Kokkos::RangePolicy<tensor::ExecSpace>(0, batch * count),
      KOKKOS_LAMBDA(const int r) {
        const std::size_t b = r / count, t = r % count;
        for (std::size_t h = 0; h < heads; ++h) {
          for (std::size_t k = 0; k < d; ++k)
            out(b * heads + h, t, k) = in(b * len + first + t, h * d + k);
        }
      });
}

// The inverse: (batch * heads, count, d) into rows first .. first + count - 1 of each
// batch's len; the other rows are zeroed.
template <class T>
void merge_heads_range(const Tensor3<T>& in, const Matrix<T>& out, std::size_t len,
                       std::size_t first, std::size_t count, std::size_t heads, std::size_t d) {
  if (count < len) Kokkos::deep_copy(out, T(0));
  const std::size_t batch = len > 0 ? out.extent(0) / len : 0;
  Kokkos::parallel_for(
      "nn::attention_merge_heads_range", Kokkos::RangePolicy<tensor::ExecSpace>(0, batch * count),
      KOKKOS_LAMBDA(const int r) {
        const std::size_t b = r / count, t = r % count;
        for (std::size_t h = 0; h < heads; ++h) {
          for (std::size_t k = 0; k < d; ++k)
            out(b * len + first + t, h * d + k) = in(b * heads + h, t, k);
        }
      });
}

// (batch * len, heads * d) rows -> (batch * heads, len, d), and back.
template <class T>
void split_heads(const Matrix<T>& in, const Tensor3<T>& out, std::size_t len, std::size_t heads,
                 std::size_t d) {
  split_heads_range(in, out, len, 0, len, heads, d);
}
template <class T>
void merge_heads(const Tensor3<T>& in, const Matrix<T>& out, std::size_t len, std::size_t heads,
                 std::size_t d) {
  merge_heads_range(in, out, len, 0, len, heads, d);
}
}  // namespace detail

// This process's block of keys in sharded attention (see the top of the file).
template <class T>
struct KeyShard {
  std::size_t first = 0, count = 0;  // of each batch's key_len
  // Collective: lse (rows x 1: each row's log-sum-exp over this process's keys, -inf
  // where it has none) and context (rows x v_dim, the outputs over them) become the
  // merged ones, the same on every process.
  std::function<void(const Matrix<T>& lse, const Matrix<T>& context)> merge;
  // Collective: a matrix summed over the processes, in place.
  std::function<void(const Matrix<T>&)> sum;
  bool active() const { return static_cast<bool>(merge); }
};

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
    if (shard_.active()) return forward_shard(q, k, v, mask);
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
    if (shard_.active()) return backward_shard(d_context);
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

  // Keys sharded over processes from the next forward on (an empty KeyShard: all keys
  // here). The shard must lie within every forward's key_len.
  void set_key_shard(KeyShard<T> shard) { shard_ = std::move(shard); }
  const KeyShard<T>& key_shard() const { return shard_; }

  // Public only for nvcc, which cannot compile a device lambda inside a private or
  // protected member function; not part of the interface (forward and backward call them
  // when the keys are sharded).
  const Matrix<T>& forward_shard(const Matrix<T>& q, const Matrix<T>& k, const Matrix<T>& v,
                                 const Matrix<T>& mask) {
    const Shape& s = shape_;
    const std::size_t first = shard_.first, count = shard_.count;
    if (first + count > s.key_len) {
      throw std::invalid_argument(
          str(name_, ": key shard ", first, " + ", count, " beyond key_len ", s.key_len));
    }
    const bool has_mask = mask.data() != nullptr && mask.size() > 0;
    const std::size_t bh = s.batch * s.heads;
    detail::ensure_shape3(q_heads_, name_ + ".q_heads", bh, s.query_len, s.qk_dim);
    detail::ensure_shape3(k_heads_, name_ + ".k_heads", bh, count, s.qk_dim);
    detail::ensure_shape3(v_heads_, name_ + ".v_heads", bh, count, s.v_dim);
    detail::ensure_shape3(probs_, name_ + ".probabilities", bh, s.query_len, count);
    detail::ensure_shape3(context_heads_, name_ + ".context_heads", bh, s.query_len, s.v_dim);
    tensor::ensure_shape(context_, name_ + ".context", s.batch * s.query_len, s.heads * s.v_dim);
    tensor::ensure_shape(lse_, name_ + ".lse", bh * s.query_len, 1);
    tensor::ensure_shape(local_lse_, name_ + ".local_lse", bh * s.query_len, 1);

    detail::split_heads(q, q_heads_, s.query_len, s.heads, s.qk_dim);
    detail::split_heads_range(k, k_heads_, s.key_len, first, count, s.heads, s.qk_dim);
    detail::split_heads_range(v, v_heads_, s.key_len, first, count, s.heads, s.v_dim);
    const Matrix<T> lse = lse_;
    if (count > 0) {
      tensor::batched_gemm('N', 'T', scale_, q_heads_, k_heads_, T(0), probs_);
    }
    T* const p = probs_.data();
    const Matrix<T> m = mask;
    const std::size_t query_len = s.query_len;
    Kokkos::parallel_for(
        "nn::attention_shard_softmax", Kokkos::RangePolicy<tensor::ExecSpace>(0, bh * query_len),
        KOKKOS_LAMBDA(const int r) {
          T* row = p + static_cast<std::size_t>(r) * count;
          if (has_mask) {
            const std::size_t t = r % query_len;
            for (std::size_t j = 0; j < count; ++j) row[j] += m(t, first + j);
          }
          const T none = -Kokkos::Experimental::infinity<T>::value;
          const T top = count > 0 ? row_max4(row, count) : none;
          if (top == none) {  // none of this row's keys here (or all masked)
            for (std::size_t j = 0; j < count; ++j) row[j] = T(0);
            lse(r, 0) = none;
            return;
          }
          T total = 0;
          for (std::size_t j = 0; j < count; ++j) {
            row[j] = math::fast_exp(row[j] - top);
            total += row[j];
          }
          for (std::size_t j = 0; j < count; ++j) row[j] /= total;
          lse(r, 0) = top + math::log(total);
        });
    if (count > 0) {
      tensor::batched_gemm('N', 'N', T(1), probs_, v_heads_, T(0), context_heads_);
    } else {
      Kokkos::deep_copy(context_heads_, T(0));
    }
    Kokkos::deep_copy(local_lse_, lse_);
    shard_.merge(lse_, tensor::matrix_view(context_heads_.data(), bh * s.query_len, s.v_dim));
    // The kept probabilities become those of the softmax over all keys.
    const Matrix<T> local = local_lse_;
    Kokkos::parallel_for(
        "nn::attention_shard_rescale", Kokkos::RangePolicy<tensor::ExecSpace>(0, bh * query_len),
        KOKKOS_LAMBDA(const int r) {
          if (local(r, 0) == -Kokkos::Experimental::infinity<T>::value) return;
          const T factor = math::exp(local(r, 0) - lse(r, 0));
          T* row = p + static_cast<std::size_t>(r) * count;
          for (std::size_t j = 0; j < count; ++j) row[j] *= factor;
        });
    detail::merge_heads(context_heads_, context_, s.query_len, s.heads, s.v_dim);
    return context_;
  }

  void backward_shard(const Matrix<T>& d_context) {
    const Shape& s = shape_;
    const std::size_t first = shard_.first, count = shard_.count;
    const std::size_t bh = s.batch * s.heads;
    detail::ensure_shape3(d_context_heads_, name_ + ".d_context_heads", bh, s.query_len, s.v_dim);
    detail::ensure_shape3(d_scores_, name_ + ".d_scores", bh, s.query_len, count);
    detail::ensure_shape3(d_q_heads_, name_ + ".d_q_heads", bh, s.query_len, s.qk_dim);
    detail::ensure_shape3(d_k_heads_, name_ + ".d_k_heads", bh, count, s.qk_dim);
    detail::ensure_shape3(d_v_heads_, name_ + ".d_v_heads", bh, count, s.v_dim);
    tensor::ensure_shape(d_q_, name_ + ".d_q", s.batch * s.query_len, s.heads * s.qk_dim);
    tensor::ensure_shape(d_k_, name_ + ".d_k", s.batch * s.key_len, s.heads * s.qk_dim);
    tensor::ensure_shape(d_v_, name_ + ".d_v", s.batch * s.key_len, s.heads * s.v_dim);

    detail::split_heads(d_context, d_context_heads_, s.query_len, s.heads, s.v_dim);
    if (count > 0) {
      tensor::batched_gemm('N', 'T', T(1), d_context_heads_, v_heads_, T(0), d_scores_);
      tensor::batched_gemm('T', 'N', T(1), probs_, d_context_heads_, T(0), d_v_heads_);
      // dS = P (dP - <dO, O>): the row mean of the softmax over all keys, from the merged
      // context O (this process holds only some of the terms of <dP, P>).
      const T* const p = probs_.data();
      T* const ds = d_scores_.data();
      const Tensor3<T> o = context_heads_, d_o = d_context_heads_;
      const std::size_t query_len = s.query_len, v_dim = s.v_dim;
      Kokkos::parallel_for(
          "nn::attention_shard_softmax_backward",
          Kokkos::RangePolicy<tensor::ExecSpace>(0, bh * query_len), KOKKOS_LAMBDA(const int r) {
            const std::size_t b = r / query_len, t = r % query_len;
            const T inner = row_dot4(&d_o(b, t, 0), &o(b, t, 0), v_dim);
            const std::size_t offset = static_cast<std::size_t>(r) * count;
            for (std::size_t j = 0; j < count; ++j)
              ds[offset + j] = p[offset + j] * (ds[offset + j] - inner);
          });
      tensor::batched_gemm('N', 'N', scale_, d_scores_, k_heads_, T(0), d_q_heads_);
      tensor::batched_gemm('T', 'N', scale_, d_scores_, q_heads_, T(0), d_k_heads_);
    } else {
      Kokkos::deep_copy(d_q_heads_, T(0));
    }
    detail::merge_heads(d_q_heads_, d_q_, s.query_len, s.heads, s.qk_dim);
    detail::merge_heads_range(d_k_heads_, d_k_, s.key_len, first, count, s.heads, s.qk_dim);
    detail::merge_heads_range(d_v_heads_, d_v_, s.key_len, first, count, s.heads, s.v_dim);
    shard_.sum(d_q_);
    shard_.sum(d_k_);
    shard_.sum(d_v_);
  }

 private:
  std::string name_;
  Shape shape_;
  T scale_ = T(1);
  Tensor3<T> q_heads_, k_heads_, v_heads_, probs_, context_heads_;
  Tensor3<T> d_context_heads_, d_scores_, d_q_heads_, d_k_heads_, d_v_heads_;
  Matrix<T> context_, d_q_, d_k_, d_v_;
  KeyShard<T> shard_;
  Matrix<T> lse_, local_lse_;  // sharded: the merged and this process's log-sum-exp
};

}  // namespace tessera::nn
