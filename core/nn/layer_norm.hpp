#pragma once
// Normalisation over the last dimension of a batch of rows:
//   LayerNorm (as torch.nn.LayerNorm): y = (x - mean) / sqrt(var + eps) * weight + bias,
//     with the biased variance; slices name.weight (ones) and name.bias (zeros);
//   RMSNorm: y = x / sqrt(mean(x^2) + eps) * weight; slice name.weight (ones).
// Forward keeps the per-row mean and 1/std, so backward does not recompute reductions.
#include <string>

#include "core/nn/parameter_store.hpp"
#include "core/tensor/math.hpp"

namespace tessera::nn {

namespace detail {
// Both norms reject inputs whose width is not the declared one, naming the layer.
template <class T>
void check_norm_input(const std::string& name, const Matrix<T>& x, std::size_t features) {
  if (x.extent(1) != features) {
    throw std::invalid_argument(str(name, ": input ", tensor::shape_text(x),
                                    " does not match the layer's [rows x ", features, "]"));
  }
}
template <class T>
void check_norm_grad(const std::string& name, const Matrix<T>& dy, const Matrix<T>& output) {
  if (dy.extent(0) != output.extent(0) || dy.extent(1) != output.extent(1)) {
    throw std::invalid_argument(str(name, ": output gradient ", tensor::shape_text(dy),
                                    " does not match the forward output ",
                                    tensor::shape_text(output)));
  }
}

// out(j) += the sum over rows i of term(i, j), each column summed in row order. On a
// host backend a work item takes a block of 16 columns down the rows together
// (contiguous loads that vectorise, where one column alone strides through memory); on
// a device, one thread per column.
template <class T, class Term>
void add_sums_over_rows(const char* label, std::size_t rows, std::size_t cols, const Vector<T>& out,
                        const Term& term) {
  constexpr std::size_t kBlock =
      Kokkos::SpaceAccessibility<tensor::ExecSpace, Kokkos::HostSpace>::accessible ? 16 : 1;
  const std::size_t blocks = (cols + kBlock - 1) / kBlock;
  Kokkos::parallel_for(
      label, Kokkos::RangePolicy<tensor::ExecSpace>(0, blocks), KOKKOS_LAMBDA(const int b) {
        const std::size_t first = b * kBlock;
        const std::size_t width = cols - first < kBlock ? cols - first : kBlock;
        T acc[kBlock] = {};
        if (width == kBlock) {
          for (std::size_t i = 0; i < rows; ++i) {
            for (std::size_t c = 0; c < kBlock; ++c) acc[c] += term(i, first + c);
          }
        } else {
          for (std::size_t i = 0; i < rows; ++i) {
            for (std::size_t c = 0; c < width; ++c) acc[c] += term(i, first + c);
          }
        }
        for (std::size_t c = 0; c < width; ++c) out(first + c) += acc[c];
      });
}

}  // namespace detail

template <class T>
class LayerNorm {
 public:
  void declare(ParameterStore<T>& store, const std::string& name, std::size_t features,
               double eps = 1e-5) {
    name_ = name;
    features_ = features;
    eps_ = eps;
    weight_ = store.add(name + ".weight", {features});
    bias_ = store.add(name + ".bias", {features});
  }

  // As PyTorch: weight 1, bias 0 (the seed is unused; kept for the layer convention).
  void init(ParameterStore<T>& store, std::uint64_t /*seed*/ = 0) const {
    store.init_constant(weight_, T(1));
    store.init_constant(bias_, T(0));
  }

  const Matrix<T>& forward(const ParameterStore<T>& store, const Matrix<T>& x) {
    detail::check_norm_input(name_, x, features_);
    input_ = x;
    const std::size_t rows = x.extent(0), cols = features_;
    tensor::ensure_shape(output_, name_ + ".output", rows, cols);
    tensor::ensure_size(mean_, name_ + ".mean", rows);
    tensor::ensure_size(rstd_, name_ + ".rstd", rows);
    const Matrix<T> y = output_;
    const Vector<T> mean = mean_, rstd = rstd_;
    const Vector<T> w = store.param_vector(weight_), b = store.param_vector(bias_);
    const T eps = static_cast<T>(eps_);
    Kokkos::parallel_for(
        "nn::layer_norm_forward", Kokkos::RangePolicy<tensor::ExecSpace>(0, rows),
        KOKKOS_LAMBDA(const int i) {
          // Two passes (mean, then squared deviations): no cancellation for rows with a
          // large mean, as torch does.
          const T mu = math::lane_sum<T>(cols, [&](std::size_t j) { return x(i, j); }) / T(cols);
          const T squares = math::lane_sum<T>(
              cols, [&](std::size_t j) { return (x(i, j) - mu) * (x(i, j) - mu); });
          const T r = T(1) / math::sqrt(squares / T(cols) + eps);
          mean(i) = mu;
          rstd(i) = r;
          for (std::size_t j = 0; j < cols; ++j) y(i, j) = (x(i, j) - mu) * r * w(j) + b(j);
        });
    return output_;
  }

  // dx = rstd (g - mean(g) - xhat mean(g xhat)) with g = dy weight, xhat the normalised x;
  // dweight += sum over rows of dy xhat, dbias += sum over rows of dy.
  const Matrix<T>& backward(ParameterStore<T>& store, const Matrix<T>& dy) {
    detail::check_norm_grad(name_, dy, output_);
    const std::size_t rows = dy.extent(0), cols = features_;
    tensor::ensure_shape(input_grad_, name_ + ".input_grad", rows, cols);
    const Matrix<T> x = input_, dx = input_grad_;
    const Vector<T> mean = mean_, rstd = rstd_;
    const Vector<T> w = store.param_vector(weight_);
    const Vector<T> dw = store.grad_vector(weight_), db = store.grad_vector(bias_);
    Kokkos::parallel_for(
        "nn::layer_norm_backward", Kokkos::RangePolicy<tensor::ExecSpace>(0, rows),
        KOKKOS_LAMBDA(const int i) {
          const T mu = mean(i), r = rstd(i);
          const T g_mean =
              math::lane_sum<T>(cols, [&](std::size_t j) { return dy(i, j) * w(j); }) / T(cols);
          const T g_xhat_mean =
              math::lane_sum<T>(
                  cols, [&](std::size_t j) { return dy(i, j) * w(j) * (x(i, j) - mu) * r; }) /
              T(cols);
          for (std::size_t j = 0; j < cols; ++j) {
            const T xhat = (x(i, j) - mu) * r;
            dx(i, j) = r * (dy(i, j) * w(j) - g_mean - xhat * g_xhat_mean);
          }
        });
    detail::add_sums_over_rows<T>(
        "nn::layer_norm_weight_grad", rows, cols, dw, KOKKOS_LAMBDA(std::size_t i, std::size_t j) {
          return dy(i, j) * (x(i, j) - mean(i)) * rstd(i);
        });
    detail::add_sums_over_rows<T>(
        "nn::layer_norm_bias_grad", rows, cols, db,
        KOKKOS_LAMBDA(std::size_t i, std::size_t j) { return dy(i, j); });
    return input_grad_;
  }

  const std::string& name() const { return name_; }
  std::size_t features() const { return features_; }
  int weight_id() const { return weight_; }
  int bias_id() const { return bias_; }

 private:
  std::string name_;
  std::size_t features_ = 0;
  double eps_ = 1e-5;
  int weight_ = -1, bias_ = -1;
  Matrix<T> input_, output_, input_grad_;
  Vector<T> mean_, rstd_;
};

template <class T>
class RMSNorm {
 public:
  void declare(ParameterStore<T>& store, const std::string& name, std::size_t features,
               double eps = 1e-6) {
    name_ = name;
    features_ = features;
    eps_ = eps;
    weight_ = store.add(name + ".weight", {features});
  }

  void init(ParameterStore<T>& store, std::uint64_t /*seed*/ = 0) const {
    store.init_constant(weight_, T(1));
  }

  const Matrix<T>& forward(const ParameterStore<T>& store, const Matrix<T>& x) {
    detail::check_norm_input(name_, x, features_);
    input_ = x;
    const std::size_t rows = x.extent(0), cols = features_;
    tensor::ensure_shape(output_, name_ + ".output", rows, cols);
    tensor::ensure_size(rstd_, name_ + ".rstd", rows);
    const Matrix<T> y = output_;
    const Vector<T> rstd = rstd_;
    const Vector<T> w = store.param_vector(weight_);
    const T eps = static_cast<T>(eps_);
    Kokkos::parallel_for(
        "nn::rms_norm_forward", Kokkos::RangePolicy<tensor::ExecSpace>(0, rows),
        KOKKOS_LAMBDA(const int i) {
          const T squares =
              math::lane_sum<T>(cols, [&](std::size_t j) { return x(i, j) * x(i, j); });
          const T r = T(1) / math::sqrt(squares / T(cols) + eps);
          rstd(i) = r;
          for (std::size_t j = 0; j < cols; ++j) y(i, j) = x(i, j) * r * w(j);
        });
    return output_;
  }

  // dx = rstd (g - xhat mean(g xhat)) with g = dy weight, xhat = x rstd;
  // dweight += sum over rows of dy xhat.
  const Matrix<T>& backward(ParameterStore<T>& store, const Matrix<T>& dy) {
    detail::check_norm_grad(name_, dy, output_);
    const std::size_t rows = dy.extent(0), cols = features_;
    tensor::ensure_shape(input_grad_, name_ + ".input_grad", rows, cols);
    const Matrix<T> x = input_, dx = input_grad_;
    const Vector<T> rstd = rstd_;
    const Vector<T> w = store.param_vector(weight_);
    const Vector<T> dw = store.grad_vector(weight_);
    Kokkos::parallel_for(
        "nn::rms_norm_backward", Kokkos::RangePolicy<tensor::ExecSpace>(0, rows),
        KOKKOS_LAMBDA(const int i) {
          const T r = rstd(i);
          const T g_xhat_mean =
              math::lane_sum<T>(cols,
                                [&](std::size_t j) { return dy(i, j) * w(j) * x(i, j) * r; }) /
              T(cols);
          for (std::size_t j = 0; j < cols; ++j) {
            dx(i, j) = r * (dy(i, j) * w(j) - x(i, j) * r * g_xhat_mean);
          }
        });
    detail::add_sums_over_rows<T>(
        "nn::rms_norm_weight_grad", rows, cols, dw,
        KOKKOS_LAMBDA(std::size_t i, std::size_t j) { return dy(i, j) * x(i, j) * rstd(i); });
    return input_grad_;
  }

  const std::string& name() const { return name_; }
  std::size_t features() const { return features_; }
  int weight_id() const { return weight_; }

 private:
  std::string name_;
  std::size_t features_ = 0;
  double eps_ = 1e-6;
  int weight_ = -1;
  Matrix<T> input_, output_, input_grad_;
  Vector<T> rstd_;
};

}  // namespace tessera::nn
