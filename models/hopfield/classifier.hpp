#pragma once
// Classifiers of the learning experiment: HopfieldPooling over the rows of an image
// (each row of pixels, with a one-hot row position appended, is one instance of a set;
// one learned query pools the set) followed by a Linear head, and an MLP baseline with
// about as many parameters; both trained with softmax cross-entropy.
#include <cmath>
#include <string>
#include <vector>

#include "core/nn/linear.hpp"
#include "core/nn/losses.hpp"
#include "core/nn/mlp.hpp"
#include "models/hopfield/hopfield_pooling.hpp"

namespace tessera::models::hopfield {

// Image (rows x cols pixels) -> a set of `rows` instances of cols + rows features.
template <class T>
class PoolingClassifier {
 public:
  void declare(nn::ParameterStore<T>& store, std::size_t image_rows, std::size_t image_cols,
               std::size_t heads, std::size_t hidden, std::size_t classes) {
    rows_ = image_rows;
    cols_ = image_cols;
    HopfieldOptions o;
    o.state_size = image_cols + image_rows;
    o.heads = heads;
    o.hidden_size = hidden / heads;
    o.output_size = hidden;
    pooling_.declare(store, "pool", o, 1);
    head_.declare(store, "head", hidden, classes);
  }
  void init(nn::ParameterStore<T>& store, std::uint64_t seed) const {
    pooling_.init(store, seed);
    head_.init(store, seed + 1);
  }
  // pixels: (batch x rows*cols) -> logits (batch x classes).
  const Matrix<T>& forward(const nn::ParameterStore<T>& store, const Matrix<T>& pixels) {
    const std::size_t batch = pixels.extent(0), rows = rows_, cols = cols_;
    const std::size_t width = rows + cols;
    tensor::ensure_shape(sets_, "hopfield::classifier_sets", batch * rows, width);
    const Matrix<T> s = sets_;
    Kokkos::parallel_for(
        "hopfield::image_rows_to_set", Kokkos::RangePolicy<tensor::ExecSpace>(0, batch * rows),
        KOKKOS_LAMBDA(const int r) {
          const std::size_t b = r / rows, row = r % rows;
          for (std::size_t c = 0; c < cols; ++c) s(r, c) = pixels(b, row * cols + c);
          for (std::size_t k = 0; k < rows; ++k) s(r, cols + k) = k == row ? T(1) : T(0);
        });
    return head_.forward(store, pooling_.forward(store, sets_, batch, rows));
  }
  void backward(nn::ParameterStore<T>& store, const Matrix<T>& dlogits) {
    pooling_.backward(store, head_.backward(store, dlogits));
  }

 private:
  std::size_t rows_ = 0, cols_ = 0;
  HopfieldPooling<T> pooling_;
  nn::Linear<T> head_;
  Matrix<T> sets_;
};

template <class T>
class MlpClassifier {
 public:
  void declare(nn::ParameterStore<T>& store, std::size_t inputs, std::size_t hidden,
               std::size_t classes) {
    mlp_.declare(store, "mlp", {inputs, hidden, classes}, nn::ActivationKind::kRelu);
  }
  void init(nn::ParameterStore<T>& store, std::uint64_t seed) const { mlp_.init(store, seed); }
  const Matrix<T>& forward(const nn::ParameterStore<T>& store, const Matrix<T>& pixels) {
    return mlp_.forward(store, pixels);
  }
  void backward(nn::ParameterStore<T>& store, const Matrix<T>& dlogits) {
    mlp_.backward(store, dlogits, false);
  }

 private:
  nn::Mlp<T> mlp_;
};

}  // namespace tessera::models::hopfield
