#pragma once
// Regression losses with their gradient w.r.t. the prediction:
//   mse_loss:         mean over all entries of (x - y)^2;
//   masked_mse_loss:  sum(m (x - y)^2) / sum(m);
//   masked_mae_loss:  sum(m |x - y|) / sum(m), gradient m sign(x - y) / sum(m), 0 at x = y;
// m is a 0/1 mask or a weight per entry (missing sensor readings, boundary points).
// Classification: softmax_cross_entropy against integer labels.
// Each returns the loss (accumulated in double) and fills `grad`, allocating it when its
// shape differs. `denominator` replaces the local count or mask sum when > 0: pass the
// global one in a data-parallel run, so that the ranks' losses and gradients sum to the
// global mean. A mask that sums to 0 gives loss 0 and a zero gradient, not NaN.
#include <cmath>
#include <string>
#include <vector>

#include "core/runtime/error.hpp"
#include "core/tensor/math.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::nn {

using tensor::Matrix;

namespace detail {
template <class T>
void check_loss_shapes(const char* loss, const Matrix<T>& prediction, const Matrix<T>& other,
                       const char* other_name) {
  if (prediction.extent(0) != other.extent(0) || prediction.extent(1) != other.extent(1)) {
    throw std::invalid_argument(str(loss, ": prediction ", tensor::shape_text(prediction), " and ",
                                    other_name, " ", tensor::shape_text(other), " differ"));
  }
}

template <class T>
double mask_sum(const Matrix<T>& mask) {
  const std::size_t cols = mask.extent(1);
  double total = 0;
  Kokkos::parallel_reduce(
      "nn::loss_mask_sum", Kokkos::RangePolicy<tensor::ExecSpace>(0, mask.extent(0)),
      KOKKOS_LAMBDA(const int i, double& acc) {
        for (std::size_t j = 0; j < cols; ++j) acc += static_cast<double>(mask(i, j));
      },
      total);
  return total;
}
}  // namespace detail

template <class T>
double mse_loss(const Matrix<T>& prediction, const Matrix<T>& target, Matrix<T>& grad,
                double denominator = 0) {
  detail::check_loss_shapes("mse_loss", prediction, target, "target");
  tensor::ensure_shape(grad, "nn::mse_loss.grad", prediction.extent(0), prediction.extent(1));
  const double count = denominator > 0 ? denominator : static_cast<double>(prediction.size());
  if (count == 0) return 0.0;
  const Matrix<T> g = grad;
  const T factor = static_cast<T>(2.0 / count);
  const std::size_t cols = prediction.extent(1);
  double total = 0;
  Kokkos::parallel_reduce(
      "nn::mse_loss", Kokkos::RangePolicy<tensor::ExecSpace>(0, prediction.extent(0)),
      KOKKOS_LAMBDA(const int i, double& acc) {
        for (std::size_t j = 0; j < cols; ++j) {
          const T diff = prediction(i, j) - target(i, j);
          acc += static_cast<double>(diff) * static_cast<double>(diff);
          g(i, j) = factor * diff;
        }
      },
      total);
  return total / count;
}

template <class T>
double masked_mse_loss(const Matrix<T>& prediction, const Matrix<T>& target, const Matrix<T>& mask,
                       Matrix<T>& grad, double denominator = 0) {
  detail::check_loss_shapes("masked_mse_loss", prediction, target, "target");
  detail::check_loss_shapes("masked_mse_loss", prediction, mask, "mask");
  tensor::ensure_shape(grad, "nn::masked_mse_loss.grad", prediction.extent(0),
                       prediction.extent(1));
  const double count = denominator > 0 ? denominator : detail::mask_sum(mask);
  const T factor = count > 0 ? static_cast<T>(2.0 / count) : T(0);
  const Matrix<T> g = grad;
  const std::size_t cols = prediction.extent(1);
  double total = 0;
  Kokkos::parallel_reduce(
      "nn::masked_mse_loss", Kokkos::RangePolicy<tensor::ExecSpace>(0, prediction.extent(0)),
      KOKKOS_LAMBDA(const int i, double& acc) {
        for (std::size_t j = 0; j < cols; ++j) {
          const T diff = prediction(i, j) - target(i, j);
          acc += static_cast<double>(mask(i, j)) * static_cast<double>(diff) *
                 static_cast<double>(diff);
          g(i, j) = factor * mask(i, j) * diff;
        }
      },
      total);
  return count > 0 ? total / count : 0.0;
}

template <class T>
double masked_mae_loss(const Matrix<T>& prediction, const Matrix<T>& target, const Matrix<T>& mask,
                       Matrix<T>& grad, double denominator = 0) {
  detail::check_loss_shapes("masked_mae_loss", prediction, target, "target");
  detail::check_loss_shapes("masked_mae_loss", prediction, mask, "mask");
  tensor::ensure_shape(grad, "nn::masked_mae_loss.grad", prediction.extent(0),
                       prediction.extent(1));
  const double count = denominator > 0 ? denominator : detail::mask_sum(mask);
  const T factor = count > 0 ? static_cast<T>(1.0 / count) : T(0);
  const Matrix<T> g = grad;
  const std::size_t cols = prediction.extent(1);
  double total = 0;
  Kokkos::parallel_reduce(
      "nn::masked_mae_loss", Kokkos::RangePolicy<tensor::ExecSpace>(0, prediction.extent(0)),
      KOKKOS_LAMBDA(const int i, double& acc) {
        for (std::size_t j = 0; j < cols; ++j) {
          const T diff = prediction(i, j) - target(i, j);
          acc += static_cast<double>(mask(i, j)) * static_cast<double>(math::abs(diff));
          const T sign = diff > T(0) ? T(1) : (diff < T(0) ? T(-1) : T(0));
          g(i, j) = factor * mask(i, j) * sign;
        }
      },
      total);
  return count > 0 ? total / count : 0.0;
}

// Mean cross-entropy of softmax(logits) against integer labels; fills grad (same shape
// as logits, divided by the batch) and counts correct argmax predictions.
template <class T>
double softmax_cross_entropy(const Matrix<T>& logits, const std::vector<int>& labels,
                             Matrix<T>& grad, std::size_t* correct) {
  const std::size_t rows = logits.extent(0), classes = logits.extent(1);
  if (labels.size() != rows) {
    throw std::invalid_argument(
        str("softmax_cross_entropy: ", labels.size(), " labels for ", rows, " rows"));
  }
  tensor::ensure_shape(grad, "nn::softmax_cross_entropy.grad", rows, classes);
  // The labels where the kernel runs: the vector itself on host backends (no copy).
  const auto y = Kokkos::create_mirror_view_and_copy(
      tensor::MemSpace(), Kokkos::View<const int*, Kokkos::HostSpace>(labels.data(), rows));
  const Matrix<T> z = logits, g = grad;
  // One row per work item, in double: its loss and its gradient (p - onehot(y)) / rows.
  // The correct predictions are a second reduction, so that the loss is a plain sum (on
  // Serial, the sum of the host loop this kernel replaced, bit for bit).
  double loss = 0;
  Kokkos::parallel_reduce(
      "nn::softmax_cross_entropy", Kokkos::RangePolicy<tensor::ExecSpace>(0, rows),
      KOKKOS_LAMBDA(const int i, double& sum) {
        double m = z(i, 0);
        for (std::size_t c = 1; c < classes; ++c) m = math::max(m, static_cast<double>(z(i, c)));
        double s = 0;
        for (std::size_t c = 0; c < classes; ++c) s += math::exp(z(i, c) - m);
        const int label = y(i);
        sum += -(z(i, label) - m - math::log(s));
        for (std::size_t c = 0; c < classes; ++c) {
          const double p = math::exp(z(i, c) - m) / s;
          g(i, c) = static_cast<T>((p - (static_cast<int>(c) == label ? 1.0 : 0.0)) / rows);
        }
      },
      loss);
  if (correct != nullptr) {
    long long right = 0;
    Kokkos::parallel_reduce(
        "nn::softmax_cross_entropy_correct", Kokkos::RangePolicy<tensor::ExecSpace>(0, rows),
        KOKKOS_LAMBDA(const int i, long long& count) {
          std::size_t arg = 0;  // the first largest logit, as the host loop took it
          for (std::size_t c = 1; c < classes; ++c) arg = z(i, c) > z(i, arg) ? c : arg;
          count += arg == static_cast<std::size_t>(y(i)) ? 1 : 0;
        },
        right);
    *correct = static_cast<std::size_t>(right);
  }
  return loss / static_cast<double>(rows);
}

}  // namespace tessera::nn
