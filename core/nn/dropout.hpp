#pragma once
// Inverted dropout: in training, each entry is kept with probability 1 - p and scaled by
// 1 / (1 - p), so evaluation is the identity. The keep decision for entry i of step s is
// counter_uniform(seed, stream, s * count + offset + i) >= p, where `offset` and `count`
// place this rank's rows in the global tensor: the mask is the same whatever the rank
// count. Backward recomputes the mask instead of storing it.
#include <cstdint>
#include <string>

#include "core/runtime/error.hpp"
#include "core/tensor/random.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::nn {

using tensor::Matrix;

template <class T>
class Dropout {
 public:
  Dropout() = default;
  // `stream` tells dropout layers sharing a seed apart. InputError unless 0 <= p < 1.
  Dropout(std::string name, double p, std::uint64_t seed, std::uint64_t stream = 0)
      : name_(std::move(name)), p_(p), seed_(seed), stream_(stream) {
    if (!(p >= 0.0 && p < 1.0)) {
      throw InputError(str(name_, ": dropout probability ", p, " is outside [0, 1)"));
    }
  }

  // `step` makes each training step draw a fresh mask. `offset`: global flat index of
  // x(0, 0); `count`: global entry count per step (0: x's own size, for one rank).
  const Matrix<T>& forward(const Matrix<T>& x, bool training, std::uint64_t step,
                           std::uint64_t offset = 0, std::uint64_t count = 0) {
    active_ = training && p_ > 0.0;
    first_index_ = step * (count ? count : x.size()) + offset;
    tensor::ensure_shape(output_, name_ + ".output", x.extent(0), x.extent(1));
    apply("nn::dropout_forward", x, output_);
    return output_;
  }

  const Matrix<T>& backward(const Matrix<T>& dy) {
    if (dy.extent(0) != output_.extent(0) || dy.extent(1) != output_.extent(1)) {
      throw std::invalid_argument(str(name_, ": output gradient ", tensor::shape_text(dy),
                                      " does not match the forward output ",
                                      tensor::shape_text(output_)));
    }
    tensor::ensure_shape(input_grad_, name_ + ".input_grad", dy.extent(0), dy.extent(1));
    apply("nn::dropout_backward", dy, input_grad_);
    return input_grad_;
  }

  double probability() const { return p_; }

 public:
  // Public only for nvcc, which cannot compile a device lambda inside a private or
  // protected member function; not part of the interface.
  // out = in * mask; the same mask in forward and backward.
  void apply(const char* label, const Matrix<T>& in, const Matrix<T>& out) const {
    const std::size_t cols = in.extent(1);
    const bool active = active_;
    const double p = p_;
    const T scale = static_cast<T>(1.0 / (1.0 - p_));
    const std::uint64_t seed = seed_, stream = stream_, first = first_index_;
    Kokkos::parallel_for(
        label, Kokkos::RangePolicy<tensor::ExecSpace>(0, in.extent(0)), KOKKOS_LAMBDA(const int i) {
          for (std::size_t j = 0; j < cols; ++j) {
            if (!active) {
              out(i, j) = in(i, j);
              continue;
            }
            const std::uint64_t index = first + static_cast<std::uint64_t>(i) * cols + j;
            const bool keep = tensor::counter_uniform(seed, stream, index) >= p;
            out(i, j) = keep ? in(i, j) * scale : T(0);
          }
        });
  }

 private:
  std::string name_ = "dropout";
  double p_ = 0.0;
  std::uint64_t seed_ = 0, stream_ = 0;
  bool active_ = false;
  std::uint64_t first_index_ = 0;
  Matrix<T> output_, input_grad_;
};

}  // namespace tessera::nn
