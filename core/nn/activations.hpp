#pragma once
// Element-wise activations with forward and backward: ReLU, GELU (tanh and erf forms,
// as torch.nn.GELU(approximate='tanh'|'none')), tanh, SiLU, sine. Forward keeps a view
// of its input; backward returns dx = dy * f'(x).
#include <cmath>
#include <string>
#include <type_traits>

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

// Value and derivative together, for one kind known at compile time: the layer's kernels
// are instantiated per kind, so the element loop has no branch on the kind, and the
// forward pass keeps f'(x) so that the backward pass is one multiplication.
template <ActivationKind Kind, class T>
KOKKOS_INLINE_FUNCTION void activation_with_derivative(T x, T& value, T& derivative) {
  if constexpr (Kind == ActivationKind::kGeluErf && std::is_same_v<T, float>) {
    // Float: erf from Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7, below float
    // resolution of 1 + erf) sharing its exponential with the Gaussian density, so one
    // vectorisable exp per element instead of libm's erf and exp.
    constexpr float kInvSqrt2 = 0.70710678f, kInvSqrt2Pi = 0.39894228f;
    const float z = math::abs(x) * kInvSqrt2;
    const float g = math::fast_exp(-0.5f * x * x);  // exp(-z^2)
    const float t = 1.0f / (1.0f + 0.3275911f * z);
    const float poly =
        t * (0.254829592f +
             t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    const float erf_x = math::copysign(1.0f - poly * g, x);
    value = 0.5f * x * (1.0f + erf_x);
    derivative = 0.5f * (1.0f + erf_x) + x * kInvSqrt2Pi * g;
  } else if constexpr (Kind == ActivationKind::kRelu) {
    value = x > T(0) ? x : T(0);
    derivative = x > T(0) ? T(1) : T(0);
  } else if constexpr (Kind == ActivationKind::kGeluTanh) {
    constexpr T kSqrt2OverPi = T(0.7978845608028654);
    const T t = math::fast_tanh(kSqrt2OverPi * (x + T(0.044715) * x * x * x));
    value = T(0.5) * x * (T(1) + t);
    derivative = T(0.5) * (T(1) + t) +
                 T(0.5) * x * (T(1) - t * t) * kSqrt2OverPi * (T(1) + T(3) * T(0.044715) * x * x);
  } else if constexpr (Kind == ActivationKind::kTanh) {
    const T t = math::fast_tanh(x);
    value = t;
    derivative = T(1) - t * t;
  } else if constexpr (Kind == ActivationKind::kSilu) {
    const T s = T(1) / (T(1) + math::fast_exp(-x));
    value = x * s;
    derivative = s * (T(1) + x * (T(1) - s));
  } else if constexpr (Kind == ActivationKind::kIdentity) {
    value = x;
    derivative = T(1);
  } else {
    value = activation_value(Kind, x);
    derivative = activation_derivative(Kind, x);
  }
}

namespace detail {

// True where this build has ISA clones of the float runs below (host_clones.hpp).
bool activation_runs_cloned();

// activation_with_derivative<kind> on count floats: y = f(x), derivative = f'(x). Built
// once per x86-64 vector width (activations.cpp): the float transcendental kinds (GELU,
// tanh, SiLU) cost several times less at AVX-512's width than at the baseline's, and the
// results are bitwise the generic loop's.
void activation_forward_run(ActivationKind kind, std::size_t count, const float* x, float* y,
                            float* derivative);

// The generic loop, for every type and backend (and the clones' body).
template <ActivationKind Kind, class T>
KOKKOS_INLINE_FUNCTION void activation_run(std::size_t count, const T* KOKKOS_RESTRICT x,
                                           T* KOKKOS_RESTRICT y, T* KOKKOS_RESTRICT derivative) {
  for (std::size_t k = 0; k < count; ++k)
    activation_with_derivative<Kind>(x[k], y[k], derivative[k]);
}

// The same for a kind known at run time: one loop per kind, none with a branch inside.
template <class T>
KOKKOS_FORCEINLINE_FUNCTION void activation_run(ActivationKind kind, std::size_t count, const T* x,
                                                T* y, T* derivative) {
  switch (kind) {
    case ActivationKind::kRelu:
      return activation_run<ActivationKind::kRelu>(count, x, y, derivative);
    case ActivationKind::kGeluTanh:
      return activation_run<ActivationKind::kGeluTanh>(count, x, y, derivative);
    case ActivationKind::kGeluErf:
      return activation_run<ActivationKind::kGeluErf>(count, x, y, derivative);
    case ActivationKind::kTanh:
      return activation_run<ActivationKind::kTanh>(count, x, y, derivative);
    case ActivationKind::kSilu:
      return activation_run<ActivationKind::kSilu>(count, x, y, derivative);
    case ActivationKind::kSine:
      return activation_run<ActivationKind::kSine>(count, x, y, derivative);
    case ActivationKind::kIdentity:
      return activation_run<ActivationKind::kIdentity>(count, x, y, derivative);
  }
}

}  // namespace detail

template <class T>
class Activation {
 public:
  Activation() = default;
  Activation(ActivationKind kind, std::string name) : kind_(kind), name_(std::move(name)) {}

  const Matrix<T>& forward(const Matrix<T>& x) {
    tensor::ensure_shape(output_, name_ + ".output", x.extent(0), x.extent(1));
    tensor::ensure_shape(derivative_, name_ + ".derivative", x.extent(0), x.extent(1));
    switch (kind_) {
      case ActivationKind::kRelu:
        forward_kernel<ActivationKind::kRelu>(x);
        break;
      case ActivationKind::kGeluTanh:
        forward_kernel<ActivationKind::kGeluTanh>(x);
        break;
      case ActivationKind::kGeluErf:
        forward_kernel<ActivationKind::kGeluErf>(x);
        break;
      case ActivationKind::kTanh:
        forward_kernel<ActivationKind::kTanh>(x);
        break;
      case ActivationKind::kSilu:
        forward_kernel<ActivationKind::kSilu>(x);
        break;
      case ActivationKind::kSine:
        forward_kernel<ActivationKind::kSine>(x);
        break;
      case ActivationKind::kIdentity:
        forward_kernel<ActivationKind::kIdentity>(x);
        break;
    }
    return output_;
  }

  const Matrix<T>& backward(const Matrix<T>& dy) {
    if (dy.extent(0) != derivative_.extent(0) || dy.extent(1) != derivative_.extent(1)) {
      throw std::invalid_argument(name_ + ": output gradient " + tensor::shape_text(dy) +
                                  " differs from the forward output " +
                                  tensor::shape_text(derivative_));
    }
    tensor::ensure_shape(input_grad_, name_ + ".input_grad", dy.extent(0), dy.extent(1));
    const T* d = derivative_.data();
    const T* g = dy.data();
    T* dx = input_grad_.data();
    const std::size_t n = dy.size();
    const std::size_t chunks = (n + kChunk - 1) / kChunk;
    Kokkos::parallel_for(
        "nn::activation_backward", Kokkos::RangePolicy<tensor::ExecSpace>(0, chunks),
        KOKKOS_LAMBDA(const int c) {
          const std::size_t begin = c * kChunk;
          const std::size_t count = begin + kChunk < n ? kChunk : n - begin;
          const T* __restrict slope = d + begin;
          const T* __restrict grad = g + begin;
          T* __restrict result = dx + begin;
          for (std::size_t k = 0; k < count; ++k) result[k] = grad[k] * slope[k];
        });
    return input_grad_;
  }

  ActivationKind kind() const { return kind_; }
  // f'(x) of the last forward pass, for layers that fold the backward product into their
  // own kernel (GatedMlp).
  const Matrix<T>& derivative() const { return derivative_; }

 private:
  // Chunks of kChunk entries per work item, each a plain loop over restrict pointers:
  // the compiler vectorises it (through the lambda alone it cannot rule out aliasing).
  static constexpr std::size_t kChunk = 512;

 public:
  // Public only for nvcc, which cannot compile a device lambda inside a private or
  // protected member function; not part of the interface.
  template <ActivationKind Kind>
  void forward_kernel(const Matrix<T>& x) {
    const T* in = x.data();
    T* out = output_.data();
    T* d = derivative_.data();
    const std::size_t n = x.size();
    const std::size_t chunks = (n + kChunk - 1) / kChunk;
    if constexpr (std::is_same_v<T, float> &&
                  Kokkos::SpaceAccessibility<tensor::ExecSpace, Kokkos::HostSpace>::accessible) {
      // Float on a host backend: the ISA clones (same bits, wider vectors).
      Kokkos::parallel_for(
          "nn::activation_forward",
          Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, chunks), [=](const int c) {
            const std::size_t begin = c * kChunk;
            const std::size_t count = begin + kChunk < n ? kChunk : n - begin;
            detail::activation_forward_run(Kind, count, in + begin, out + begin, d + begin);
          });
      return;
    }
    Kokkos::parallel_for(
        "nn::activation_forward", Kokkos::RangePolicy<tensor::ExecSpace>(0, chunks),
        KOKKOS_LAMBDA(const int c) {
          const std::size_t begin = c * kChunk;
          const std::size_t count = begin + kChunk < n ? kChunk : n - begin;
          detail::activation_run<Kind>(count, in + begin, out + begin, d + begin);
        });
  }

 private:
  ActivationKind kind_ = ActivationKind::kIdentity;
  std::string name_ = "activation";
  Matrix<T> output_, derivative_, input_grad_;
};

}  // namespace tessera::nn
