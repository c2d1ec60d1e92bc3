#pragma once
// Gated fusion of two feature streams of the same shape (STTN's fusion of spatial
// attention and graph convolution):
//   g = sigmoid(a Wa^T + b Wb^T + bias),   y = g * a + (1 - g) * b
// name.a (Linear with the bias) and name.b (Linear without bias). Backward returns the
// gradients of both inputs.
#include <string>

#include "core/nn/linear.hpp"
#include "core/nn/residual.hpp"
#include "core/tensor/math.hpp"

namespace tessera::nn {

template <class T>
struct FusionInputGrads {
  Matrix<T> a, b;
};

template <class T>
class GatedFusion {
 public:
  void declare(ParameterStore<T>& store, const std::string& name, std::size_t features) {
    name_ = name;
    features_ = features;
    gate_a_.declare(store, name + ".a", features, features, true);
    gate_b_.declare(store, name + ".b", features, features, false);
  }

  void init(ParameterStore<T>& store, std::uint64_t seed) const {
    gate_a_.init(store, seed);
    gate_b_.init(store, seed);
  }

  const Matrix<T>& forward(const ParameterStore<T>& store, const Matrix<T>& a, const Matrix<T>& b) {
    if (a.extent(0) != b.extent(0) || a.extent(1) != features_ || b.extent(1) != features_) {
      throw std::invalid_argument(str(name_, ": inputs ", tensor::shape_text(a), " and ",
                                      tensor::shape_text(b), " are not both [rows x ", features_,
                                      "]"));
    }
    a_ = a;
    b_ = b;
    const std::size_t rows = a.extent(0), cols = features_;
    tensor::ensure_shape(gate_, name_ + ".gate", rows, cols);
    tensor::ensure_shape(output_, name_ + ".output", rows, cols);
    const Matrix<T>& za = gate_a_.forward(store, a);
    const Matrix<T>& zb = gate_b_.forward(store, b);
    const Matrix<T> g = gate_, y = output_;
    Kokkos::parallel_for(
        "nn::gated_fusion_forward", Kokkos::RangePolicy<tensor::ExecSpace>(0, rows),
        KOKKOS_LAMBDA(const int i) {
          for (std::size_t j = 0; j < cols; ++j) {
            const T gij = T(1) / (T(1) + math::exp(-(za(i, j) + zb(i, j))));
            g(i, j) = gij;
            y(i, j) = gij * a(i, j) + (T(1) - gij) * b(i, j);
          }
        });
    return output_;
  }

  FusionInputGrads<T> backward(ParameterStore<T>& store, const Matrix<T>& dy) {
    if (dy.extent(0) != output_.extent(0) || dy.extent(1) != features_) {
      throw std::invalid_argument(str(name_, ": output gradient ", tensor::shape_text(dy),
                                      " does not match the forward output ",
                                      tensor::shape_text(output_)));
    }
    const std::size_t rows = dy.extent(0), cols = features_;
    tensor::ensure_shape(d_pre_, name_ + ".d_pre", rows, cols);
    tensor::ensure_shape(grad_a_, name_ + ".grad_a", rows, cols);
    tensor::ensure_shape(grad_b_, name_ + ".grad_b", rows, cols);
    const Matrix<T> g = gate_, a = a_, b = b_, pre = d_pre_, ga = grad_a_, gb = grad_b_;
    Kokkos::parallel_for(
        "nn::gated_fusion_backward", Kokkos::RangePolicy<tensor::ExecSpace>(0, rows),
        KOKKOS_LAMBDA(const int i) {
          for (std::size_t j = 0; j < cols; ++j) {
            const T gij = g(i, j);
            pre(i, j) = dy(i, j) * (a(i, j) - b(i, j)) * gij * (T(1) - gij);
            ga(i, j) = gij * dy(i, j);
            gb(i, j) = (T(1) - gij) * dy(i, j);
          }
        });
    add_in_place(grad_a_, gate_a_.backward(store, d_pre_), name_);
    add_in_place(grad_b_, gate_b_.backward(store, d_pre_), name_);
    return {grad_a_, grad_b_};
  }

  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::size_t features_ = 0;
  Linear<T> gate_a_, gate_b_;
  Matrix<T> a_, b_, gate_, output_, d_pre_, grad_a_, grad_b_;
};

}  // namespace tessera::nn
