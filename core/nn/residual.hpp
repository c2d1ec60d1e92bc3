#pragma once
// Residual connections: y = a + b, whose backward hands dy unchanged to both branches,
// and add_in_place (y += x), for summing the gradients of a value used twice (the query
// and key/value inputs of self-attention, a skip connection's two paths).
#include <string>

#include "core/runtime/error.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::nn {

using tensor::Matrix;

namespace detail {
template <class T>
void check_same_shape(const std::string& what, const Matrix<T>& a, const Matrix<T>& b) {
  if (a.extent(0) != b.extent(0) || a.extent(1) != b.extent(1)) {
    throw std::invalid_argument(
        str(what, ": shapes ", tensor::shape_text(a), " and ", tensor::shape_text(b), " differ"));
  }
}
}  // namespace detail

// y += x (same shapes).
template <class T>
void add_in_place(const Matrix<T>& y, const Matrix<T>& x, const std::string& context = "add") {
  detail::check_same_shape(context, y, x);
  const std::size_t cols = y.extent(1);
  Kokkos::parallel_for(
      "nn::add_in_place", Kokkos::RangePolicy<tensor::ExecSpace>(0, y.extent(0)),
      KOKKOS_LAMBDA(const int i) {
        for (std::size_t j = 0; j < cols; ++j) y(i, j) += x(i, j);
      });
}

// out = a + b (out may be a or b).
template <class T>
void add(const Matrix<T>& a, const Matrix<T>& b, const Matrix<T>& out,
         const std::string& context = "add") {
  detail::check_same_shape(context, a, b);
  detail::check_same_shape(context, a, out);
  const std::size_t cols = a.extent(1);
  Kokkos::parallel_for(
      "nn::add", Kokkos::RangePolicy<tensor::ExecSpace>(0, a.extent(0)),
      KOKKOS_LAMBDA(const int i) {
        for (std::size_t j = 0; j < cols; ++j) out(i, j) = a(i, j) + b(i, j);
      });
}

template <class T>
class Residual {
 public:
  Residual() = default;
  explicit Residual(std::string name) : name_(std::move(name)) {}

  const Matrix<T>& forward(const Matrix<T>& a, const Matrix<T>& b) {
    tensor::ensure_shape(output_, name_ + ".output", a.extent(0), a.extent(1));
    add(a, b, output_, name_);
    return output_;
  }

  // The gradient of both inputs is dy itself (no copy is made).
  const Matrix<T>& backward(const Matrix<T>& dy) const {
    detail::check_same_shape(name_ + " (output gradient vs forward output)", dy, output_);
    return dy;
  }

 private:
  std::string name_ = "residual";
  Matrix<T> output_;
};

// The two residual branches of a pre-norm transformer block, shared by the dense, graph
// and mesh blocks:
//   h = x + branch1(x),   y = h + branch2(h)     (branch = norm then attention or MLP)
// forward: `branch1(x)` and `branch2(h)` return their outputs; fills hidden and output.
template <class T, class Branch1, class Branch2>
const Matrix<T>& prenorm_forward(const Matrix<T>& x, Branch1&& branch1, Branch2&& branch2,
                                 Matrix<T>& hidden, Matrix<T>& output, const std::string& name) {
  tensor::ensure_shape(hidden, name + ".hidden", x.extent(0), x.extent(1));
  tensor::ensure_shape(output, name + ".output", x.extent(0), x.extent(1));
  add(x, branch1(x), hidden, name);
  add(hidden, branch2(hidden), output, name);
  return output;
}

// backward: both paths carry the gradient, dh = dy + branch2'(dy), dx = dh + branch1'(dh);
// `branch(g)` returns the gradient of the branch input (through its norm). `output` is
// the forward output, for the shape check.
template <class T, class Branch1, class Branch2>
const Matrix<T>& prenorm_backward(const Matrix<T>& dy, const Matrix<T>& output,
                                  Branch1&& branch1_backward, Branch2&& branch2_backward,
                                  Matrix<T>& hidden_grad, Matrix<T>& input_grad,
                                  const std::string& name) {
  if (dy.extent(0) != output.extent(0) || dy.extent(1) != output.extent(1)) {
    throw std::invalid_argument(str(name, ": output gradient ", tensor::shape_text(dy),
                                    " does not match the forward output ",
                                    tensor::shape_text(output)));
  }
  tensor::ensure_shape(hidden_grad, name + ".hidden_grad", dy.extent(0), dy.extent(1));
  tensor::ensure_shape(input_grad, name + ".input_grad", dy.extent(0), dy.extent(1));
  add(dy, branch2_backward(dy), hidden_grad, name);
  add(hidden_grad, branch1_backward(hidden_grad), input_grad, name);
  return input_grad;
}

}  // namespace tessera::nn
