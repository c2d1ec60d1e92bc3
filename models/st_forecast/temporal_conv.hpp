#pragma once
// STGCN's temporal convolution (Yu et al. 2018) on rows ordered (series, step): for each
// series g and output step t < steps - kt + 1, the kt input steps t .. t + kt - 1 side
// by side go through one Linear (name.linear, kt * in -> 2 * out for GLU, out for ReLU):
//   GLU:   y = (P + r) * sigmoid(Q),  [P | Q] = Linear(window)
//   ReLU:  y = relu(P + r),           P = Linear(window)
// with the residual r the input at the window's last step, padded with zero channels to
// `out` (STGCN's "align"; in <= out is required, as its configurations have).
#include <string>

#include "core/nn/linear.hpp"
#include "core/tensor/math.hpp"

namespace tessera::models::st_forecast {

using tensor::Matrix;

enum class TemporalActivation { kGlu, kRelu };

template <class T>
class TemporalConv {
 public:
  void declare(nn::ParameterStore<T>& store, const std::string& name, std::size_t in,
               std::size_t out, std::size_t kt, TemporalActivation activation) {
    if (in > out) {
      throw std::invalid_argument(str(name, ": ", in, " input channels exceed ", out,
                                      " output channels (the residual pads, never projects)"));
    }
    name_ = name;
    in_ = in;
    out_ = out;
    kt_ = kt;
    activation_ = activation;
    linear_.declare(store, name + ".linear", kt * in,
                    activation == TemporalActivation::kGlu ? 2 * out : out);
  }

  void init(nn::ParameterStore<T>& store, std::uint64_t seed) const { linear_.init(store, seed); }

  // x: (series * steps, in). Returns (series * (steps - kt + 1), out).
  const Matrix<T>& forward(const nn::ParameterStore<T>& store, const Matrix<T>& x,
                           std::size_t series, std::size_t steps) {
    if (x.extent(0) != series * steps || x.extent(1) != in_ || steps < kt_) {
      throw std::invalid_argument(str(name_, ": input ", tensor::shape_text(x), " is not [", series,
                                      " * ", steps, " x ", in_, "] with at least ", kt_, " steps"));
    }
    series_ = series;
    steps_ = steps;
    const std::size_t out_steps = steps - kt_ + 1, rows = series * out_steps;
    const std::size_t in = in_, kt = kt_;
    tensor::ensure_shape(windows_, name_ + ".windows", rows, kt * in);
    const Matrix<T> w = windows_;
    Kokkos::parallel_for(
        "st_forecast::temporal_windows", Kokkos::RangePolicy<tensor::ExecSpace>(0, rows),
        KOKKOS_LAMBDA(const int r) {
          const std::size_t g = static_cast<std::size_t>(r) / out_steps;
          const std::size_t t = static_cast<std::size_t>(r) % out_steps;
          for (std::size_t j = 0; j < kt; ++j) {
            for (std::size_t c = 0; c < in; ++c) w(r, j * in + c) = x(g * steps + t + j, c);
          }
        });
    const Matrix<T>& z = linear_.forward(store, windows_);
    z_ = z;
    tensor::ensure_shape(output_, name_ + ".output", rows, out_);
    const Matrix<T> y = output_;
    const std::size_t out = out_;
    const bool glu = activation_ == TemporalActivation::kGlu;
    Kokkos::parallel_for(
        "st_forecast::temporal_activation", Kokkos::RangePolicy<tensor::ExecSpace>(0, rows),
        KOKKOS_LAMBDA(const int r) {
          for (std::size_t c = 0; c < out; ++c) {
            // The residual: the last step of the window, zero past the input channels.
            const T residual = c < in ? w(r, (kt - 1) * in + c) : T(0);
            const T p = z(r, c) + residual;
            if (glu) {
              y(r, c) = p / (T(1) + math::exp(-z(r, out + c)));
            } else {
              y(r, c) = p > T(0) ? p : T(0);
            }
          }
        });
    return output_;
  }

  // dy: (series * (steps - kt + 1), out). Returns dx (series * steps, in).
  const Matrix<T>& backward(nn::ParameterStore<T>& store, const Matrix<T>& dy) {
    const std::size_t out_steps = steps_ - kt_ + 1, rows = series_ * out_steps;
    if (dy.extent(0) != rows || dy.extent(1) != out_) {
      throw std::invalid_argument(str(name_, ": output gradient ", tensor::shape_text(dy),
                                      " does not match the forward output ",
                                      tensor::shape_text(output_)));
    }
    const std::size_t in = in_, kt = kt_, out = out_, steps = steps_;
    const bool glu = activation_ == TemporalActivation::kGlu;
    tensor::ensure_shape(d_z_, name_ + ".d_z", rows, z_.extent(1));
    tensor::ensure_shape(d_residual_, name_ + ".d_residual", rows, in);
    const Matrix<T> z = z_, dz = d_z_, dres = d_residual_, w = windows_;
    Kokkos::parallel_for(
        "st_forecast::temporal_activation_backward",
        Kokkos::RangePolicy<tensor::ExecSpace>(0, rows), KOKKOS_LAMBDA(const int r) {
          for (std::size_t c = 0; c < out; ++c) {
            const T residual = c < in ? w(r, (kt - 1) * in + c) : T(0);
            const T p = z(r, c) + residual;
            T dp;
            if (glu) {
              const T s = T(1) / (T(1) + math::exp(-z(r, out + c)));
              dp = dy(r, c) * s;
              dz(r, out + c) = dy(r, c) * p * s * (T(1) - s);
            } else {
              dp = p > T(0) ? dy(r, c) : T(0);
            }
            dz(r, c) = dp;
            if (c < in) dres(r, c) = dp;
          }
        });
    const Matrix<T>& d_windows = linear_.backward(store, d_z_);
    tensor::ensure_shape(input_grad_, name_ + ".input_grad", series_ * steps, in);
    const Matrix<T> dx = input_grad_;
    // Each input step gathers from the windows that contain it (no atomics).
    Kokkos::parallel_for(
        "st_forecast::temporal_input_grad",
        Kokkos::RangePolicy<tensor::ExecSpace>(0, series_ * steps), KOKKOS_LAMBDA(const int r) {
          const std::size_t g = static_cast<std::size_t>(r) / steps;
          const std::size_t s = static_cast<std::size_t>(r) % steps;
          for (std::size_t c = 0; c < in; ++c) dx(r, c) = 0;
          for (std::size_t j = 0; j < kt; ++j) {
            if (s < j || s - j >= out_steps) continue;
            const std::size_t window = g * out_steps + (s - j);
            for (std::size_t c = 0; c < in; ++c) {
              dx(r, c) += d_windows(window, j * in + c);
              if (j == kt - 1) dx(r, c) += dres(window, c);
            }
          }
        });
    return input_grad_;
  }

  std::size_t out_steps(std::size_t steps) const { return steps - kt_ + 1; }

 private:
  std::string name_;
  std::size_t in_ = 0, out_ = 0, kt_ = 3, series_ = 0, steps_ = 0;
  TemporalActivation activation_ = TemporalActivation::kGlu;
  nn::Linear<T> linear_;
  Matrix<T> windows_, z_, output_, d_z_, d_residual_, input_grad_;
};

}  // namespace tessera::models::st_forecast
