#pragma once
// Chebyshev graph convolution (Defferrard et al. 2016; STGCN's ChebConv):
//   T_0 = x,  T_1 = L x,  T_k = 2 L T_{k-1} - T_{k-2},   y = [T_0 | ... | T_{K-1}] W^T + b
// with L the scaled Laplacian 2 L_sym / lambda_max - I of an undirected graph (symmetric:
// the backward pass uses L for L^T). One Linear (name.linear, K*in -> out) holds the K
// weight matrices side by side, so the layer is one gemm after K - 1 sparse products.
// Rows are `groups` blocks of num_nodes rows (one block per graph signal).
#include <string>

#include "core/graph/sparse_matrix.hpp"
#include "core/nn/linear.hpp"

namespace tessera::nn {

template <class T>
class ChebyshevConv {
 public:
  void declare(ParameterStore<T>& store, const std::string& name, std::size_t in, std::size_t out,
               std::size_t order) {
    if (order < 1) throw std::invalid_argument(str(name, ": Chebyshev order must be at least 1"));
    name_ = name;
    in_ = in;
    order_ = order;
    linear_.declare(store, name + ".linear", order * in, out);
  }

  void init(ParameterStore<T>& store, std::uint64_t seed) const { linear_.init(store, seed); }

  // x: (groups * num_nodes, in). The operator is kept (by handle) for the backward pass.
  const Matrix<T>& forward(const ParameterStore<T>& store, const Matrix<T>& x,
                           const graph::SparseMatrix<T>& laplacian) {
    const std::size_t n = laplacian.num_rows();
    if (x.extent(1) != in_ || n == 0 || x.extent(0) % n != 0) {
      throw std::invalid_argument(
          str(name_, ": input ", tensor::shape_text(x), " is not [groups * ", n, " x ", in_, "]"));
    }
    laplacian_ = laplacian;
    groups_ = x.extent(0) / n;
    tensor::ensure_shape(terms_, name_ + ".terms", x.extent(0), order_ * in_);
    Kokkos::deep_copy(Kokkos::subview(terms_, Kokkos::ALL, std::make_pair(std::size_t{0}, in_)), x);
    for (std::size_t k = 1; k < order_; ++k) {
      // T_1 = L T_0;  T_k = 2 L T_{k-1} - T_{k-2}.
      const T alpha = k == 1 ? T(1) : T(2);
      const T beta = k == 1 ? T(0) : T(-1);
      graph::sparse_block_product<T>(laplacian_, groups_, {terms_, (k - 1) * in_}, alpha,
                                     {terms_, k >= 2 ? (k - 2) * in_ : 0}, beta, {terms_, k * in_},
                                     in_);
    }
    return linear_.forward(store, terms_);
  }

  const Matrix<T>& backward(ParameterStore<T>& store, const Matrix<T>& dy) {
    // d_terms holds the gradients of every T_k; walk the recurrence backwards:
    //   dT_{k-1} += 2 L dT_k,  dT_{k-2} -= dT_k  (k >= 2);  dT_0 += L dT_1.
    const Matrix<T>& d_terms = linear_.backward(store, dy);
    for (std::size_t k = order_ - 1; k >= 1; --k) {
      const T alpha = k == 1 ? T(1) : T(2);
      graph::sparse_block_product<T>(laplacian_, groups_, {d_terms, k * in_}, alpha,
                                     {d_terms, (k - 1) * in_}, T(1), {d_terms, (k - 1) * in_}, in_);
      if (k >= 2) subtract_block(d_terms, k * in_, (k - 2) * in_);
    }
    tensor::ensure_shape(input_grad_, name_ + ".input_grad", dy.extent(0), in_);
    Kokkos::deep_copy(input_grad_,
                      Kokkos::subview(d_terms, Kokkos::ALL, std::make_pair(std::size_t{0}, in_)));
    return input_grad_;
  }

  const std::string& name() const { return name_; }
  const Linear<T>& linear() const { return linear_; }
  std::size_t order() const { return order_; }

 public:
  // Public only for nvcc, which cannot compile a device lambda inside a private or
  // protected member function; not part of the interface.
  // m[:, to + c] -= m[:, from + c] for c < in.
  void subtract_block(const Matrix<T>& m, std::size_t from, std::size_t to) const {
    const std::size_t in = in_;
    Kokkos::parallel_for(
        "nn::chebyshev_subtract", Kokkos::RangePolicy<tensor::ExecSpace>(0, m.extent(0)),
        KOKKOS_LAMBDA(const int r) {
          for (std::size_t c = 0; c < in; ++c) m(r, to + c) -= m(r, from + c);
        });
  }

 private:
  std::string name_;
  std::size_t in_ = 0, order_ = 1, groups_ = 0;
  Linear<T> linear_;
  graph::SparseMatrix<T> laplacian_;
  Matrix<T> terms_, input_grad_;
};

}  // namespace tessera::nn
