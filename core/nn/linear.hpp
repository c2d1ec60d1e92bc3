#pragma once
// Fully connected layer y = x W^T + b on a batch of rows (as torch.nn.Linear: W is
// out x in). Forward keeps a view of x for the backward pass; backward accumulates
// dW += dy^T x and db += column sums of dy, and returns dx = dy W.
//
// The layer convention of tessera::nn (every layer follows it):
//   declare(store, name, ...)   adds the layer's parameter slices to the store;
//   init(store, seed)           fills them (after store.finalize());
//   forward(store, x) -> y      y is a buffer owned by the layer, reused between calls;
//   backward(store, dy) -> dx   parameter gradients are ADDED to store.grads();
// Inputs are row-major Matrix<T> of shape (rows, features).
#include <string>

#include "core/nn/parameter_store.hpp"
#include "core/tensor/gemm.hpp"

namespace tessera::nn {

namespace detail {

// grad_bias += 1^T dy, the column sums of dy: a (1 x rows) by (rows x out) product, so
// BLAS sums the columns. `ones` is a row of ones, (re)made when the row count changes.
template <class T>
void add_column_sums(const Matrix<T>& dy, Matrix<T>& ones, const Matrix<T>& grad_bias,
                     const std::string& label) {
  if (ones.extent(1) != dy.extent(0)) {
    ones = Matrix<T>(label + ".ones", 1, dy.extent(0));
    Kokkos::deep_copy(ones, T(1));
  }
  tensor::gemm('N', 'N', T(1), ones, dy, T(1), grad_bias);
}

}  // namespace detail

template <class T>
class Linear {
 public:
  void declare(ParameterStore<T>& store, const std::string& name, std::size_t in, std::size_t out,
               bool bias = true) {
    name_ = name;
    in_ = in;
    out_ = out;
    weight_ = store.add(name + ".weight", {out, in});
    bias_ = bias ? store.add(name + ".bias", {out}) : -1;
  }

  // PyTorch's default initialisation (uniform +-1/sqrt(in)).
  void init(ParameterStore<T>& store, std::uint64_t seed) const {
    store.init_torch_linear(weight_, in_, seed);
    if (bias_ >= 0) store.init_torch_linear(bias_, in_, seed);
  }

  const Matrix<T>& forward(const ParameterStore<T>& store, const Matrix<T>& x) {
    if (x.extent(1) != in_) {
      throw std::invalid_argument(
          str(name_, ": input has ", x.extent(1), " features, expected ", in_));
    }
    input_ = x;
    tensor::ensure_shape(output_, name_ + ".output", x.extent(0), out_);
    const Matrix<T> w = store.param_matrix(weight_);
    if (bias_ >= 0) {
      const Vector<T> b = store.param_vector(bias_);
      const Matrix<T> y = output_;
      const std::size_t out = out_;
      Kokkos::parallel_for(
          "nn::linear_bias", Kokkos::RangePolicy<tensor::ExecSpace>(0, x.extent(0)),
          KOKKOS_LAMBDA(const int i) {
            for (std::size_t j = 0; j < out; ++j) y(i, j) = b(j);
          });
      tensor::gemm('N', 'T', T(1), x, w, T(1), output_);
    } else {
      tensor::gemm('N', 'T', T(1), x, w, T(0), output_);
    }
    return output_;
  }

  // dy: (rows, out). Returns dx (rows, in); skip it with need_input_grad = false (first
  // layer of a network).
  const Matrix<T>& backward(ParameterStore<T>& store, const Matrix<T>& dy,
                            bool need_input_grad = true) {
    if (dy.extent(0) != input_.extent(0) || dy.extent(1) != out_) {
      throw std::invalid_argument(str(name_, ": output gradient ", tensor::shape_text(dy),
                                      " does not match the forward output ",
                                      tensor::shape_text(output_)));
    }
    tensor::gemm('T', 'N', T(1), dy, input_, T(1), store.grad_matrix(weight_));
    if (bias_ >= 0) detail::add_column_sums(dy, ones_, store.grad_matrix(bias_), name_);
    if (need_input_grad) {
      tensor::ensure_shape(input_grad_, name_ + ".input_grad", dy.extent(0), in_);
      input_grad_into(store, dy, input_grad_, false);
    }
    return input_grad_;
  }

  // dx = dy W, or dx += dy W with accumulate, into the caller's (rows, in) buffer: for a
  // layer whose input feeds several Linear layers, whose input gradients then sum in
  // one buffer without a pass to add them (GatedMlp).
  void input_grad_into(const ParameterStore<T>& store, const Matrix<T>& dy, const Matrix<T>& dx,
                       bool accumulate) const {
    tensor::gemm('N', 'N', T(1), dy, store.param_matrix(weight_), accumulate ? T(1) : T(0), dx);
  }

  std::size_t in_features() const { return in_; }
  std::size_t out_features() const { return out_; }
  int weight_id() const { return weight_; }
  int bias_id() const { return bias_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::size_t in_ = 0, out_ = 0;
  int weight_ = -1, bias_ = -1;
  Matrix<T> input_, output_, input_grad_;
  Matrix<T> ones_;  // a row of ones for the bias gradient
};

}  // namespace tessera::nn
