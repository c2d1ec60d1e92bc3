#pragma once
// Element-wise activations with forward and backward: ReLU, GELU (tanh and erf forms,
// as torch.nn.GELU(approximate='tanh'|'none')), tanh, SiLU, sine. Forward keeps a view
// of its input; backward returns dx = dy * f'(x).
#include <string>

#include "core/tensor/math.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::nn {

using tensor::Matrix;

enum class ActivationKind { kRelu, kGeluTanh, kGeluErf, kTanh, kSilu, kSine, kIdentity };

// "relu", "gelu_tanh", "gelu", "tanh", "silu", "sine", "identity"; InputError otherwise.
ActivationKind activation_from_name(const std::string& name);
std::string activation_name(ActivationKind kind);

template <class T>
KOKKOS_INLINE_FUNCTION T activation_value(ActivationKind kind, T x) {
  constexpr T kSqrt2OverPi = T(0.7978845608028654);
  constexpr T kInvSqrt2 = T(0.7071067811865476);
  switch (kind) {
    case ActivationKind::kRelu:
      return x > T(0) ? x : T(0);
    case ActivationKind::kGeluTanh:
      return T(0.5) * x * (T(1) + math::tanh(kSqrt2OverPi * (x + T(0.044715) * x * x * x)));
    case ActivationKind::kGeluErf:
      return T(0.5) * x * (T(1) + math::erf(x * kInvSqrt2));
    case ActivationKind::kTanh:
      return math::tanh(x);
    case ActivationKind::kSilu:
      return x / (T(1) + math::exp(-x));
    case ActivationKind::kSine:
      return math::sin(x);
    case ActivationKind::kIdentity:
      return x;
  }
  return x;
}

template <class T>
KOKKOS_INLINE_FUNCTION T activation_derivative(ActivationKind kind, T x) {
  constexpr T kSqrt2OverPi = T(0.7978845608028654);
  constexpr T kInvSqrt2 = T(0.7071067811865476);
  constexpr T kInvSqrt2Pi = T(0.3989422804014327);
  switch (kind) {
    case ActivationKind::kRelu:
      return x > T(0) ? T(1) : T(0);
    case ActivationKind::kGeluTanh: {
      const T inner = kSqrt2OverPi * (x + T(0.044715) * x * x * x);
      const T t = math::tanh(inner);
      const T d_inner = kSqrt2OverPi * (T(1) + T(3) * T(0.044715) * x * x);
      return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * d_inner;
    }
    case ActivationKind::kGeluErf:
      return T(0.5) * (T(1) + math::erf(x * kInvSqrt2)) +
             x * kInvSqrt2Pi * math::exp(-T(0.5) * x * x);
    case ActivationKind::kTanh: {
      const T t = math::tanh(x);
      return T(1) - t * t;
    }
    case ActivationKind::kSilu: {
      const T s = T(1) / (T(1) + math::exp(-x));
      return s * (T(1) + x * (T(1) - s));
    }
    case ActivationKind::kSine:
      return math::cos(x);
    case ActivationKind::kIdentity:
      return T(1);
  }
  return T(1);
}

template <class T>
class Activation {
 public:
  Activation() = default;
  Activation(ActivationKind kind, std::string name) : kind_(kind), name_(std::move(name)) {}

  const Matrix<T>& forward(const Matrix<T>& x) {
    input_ = x;
    tensor::ensure_shape(output_, name_ + ".output", x.extent(0), x.extent(1));
    const Matrix<T> y = output_;
    const ActivationKind kind = kind_;
    const std::size_t cols = x.extent(1);
    Kokkos::parallel_for(
        "nn::activation_forward", Kokkos::RangePolicy<tensor::ExecSpace>(0, x.extent(0)),
        KOKKOS_LAMBDA(const int i) {
          for (std::size_t j = 0; j < cols; ++j) y(i, j) = activation_value(kind, x(i, j));
        });
    return output_;
  }

  const Matrix<T>& backward(const Matrix<T>& dy) {
    if (dy.extent(0) != input_.extent(0) || dy.extent(1) != input_.extent(1)) {
      throw std::invalid_argument(name_ + ": output gradient shape differs from the forward");
    }
    tensor::ensure_shape(input_grad_, name_ + ".input_grad", dy.extent(0), dy.extent(1));
    const Matrix<T> dx = input_grad_;
    const Matrix<T> x = input_;
    const ActivationKind kind = kind_;
    const std::size_t cols = dy.extent(1);
    Kokkos::parallel_for(
        "nn::activation_backward", Kokkos::RangePolicy<tensor::ExecSpace>(0, dy.extent(0)),
        KOKKOS_LAMBDA(const int i) {
          for (std::size_t j = 0; j < cols; ++j) {
            dx(i, j) = dy(i, j) * activation_derivative(kind, x(i, j));
          }
        });
    return input_grad_;
  }

  ActivationKind kind() const { return kind_; }

 private:
  ActivationKind kind_ = ActivationKind::kIdentity;
  std::string name_ = "activation";
  Matrix<T> input_, output_, input_grad_;
};

}  // namespace tessera::nn
