#pragma once
// A plain STGCN (Yu et al. 2018, Chebyshev form), the classic graph baseline of the
// forecasting benchmarks. Input: the z-scored readings only (one channel). Each of the
// `blocks` ST-Conv blocks (channels 64, 16, 64 as the paper's):
//   temporal conv (kt = 3, GLU) -> Chebyshev convolution (K = 3) + ReLU over the sensors
//   at each step -> temporal conv (kt = 3, ReLU) -> LayerNorm over the channels,
// so every block shortens the window by 2 (kt - 1) steps; the head maps each sensor's
// remaining steps side by side to the horizons (Linear - ReLU - Linear), all at once.
// Names: block<l>.{t1, cheb, t2, norm}, head (analysis/reference/reference_st_forecast.py
// has the PyTorch twin). Differences from the paper: LayerNorm over the channels of each
// (sensor, step) instead of over sensors and channels, and an MLP head instead of the
// output temporal convolution, so that it forecasts all horizons like the other models.
#include <string>
#include <vector>

#include "core/graph/sparse_matrix.hpp"
#include "core/nn/activations.hpp"
#include "core/nn/chebyshev_conv.hpp"
#include "core/nn/layer_norm.hpp"
#include "core/nn/mlp.hpp"
#include "core/tensor/transpose_rows.hpp"
#include "models/st_forecast/batch.hpp"
#include "models/st_forecast/temporal_conv.hpp"

namespace tessera::models::st_forecast {

struct StgcnOptions {
  std::size_t sensors = 0, input_steps = 12, horizons = 12;
  std::size_t blocks = 2, kt = 3, cheb_order = 3;
  std::size_t channels = 64, spatial_channels = 16, head_hidden = 256;
};

template <class T>
class Stgcn {
 public:
  void declare(nn::ParameterStore<T>& store, const StgcnOptions& o) {
    if (o.input_steps <= o.blocks * 2 * (o.kt - 1)) {
      throw InputError(str("stgcn: ", o.blocks, " blocks with temporal kernels of ", o.kt,
                           " need more than ", o.blocks * 2 * (o.kt - 1), " input steps, got ",
                           o.input_steps));
    }
    options_ = o;
    blocks_.assign(o.blocks, Block());
    for (std::size_t l = 0; l < o.blocks; ++l) {
      const std::string name = "block" + std::to_string(l);
      Block& b = blocks_[l];
      b.t1.declare(store, name + ".t1", l == 0 ? 1 : o.channels, o.channels, o.kt,
                   TemporalActivation::kGlu);
      b.cheb.declare(store, name + ".cheb", o.channels, o.spatial_channels, o.cheb_order);
      b.relu = nn::Activation<T>(nn::ActivationKind::kRelu, name + ".relu");
      b.t2.declare(store, name + ".t2", o.spatial_channels, o.channels, o.kt,
                   TemporalActivation::kRelu);
      b.norm.declare(store, name + ".norm", o.channels);
    }
    head_.declare(store, "head", {out_steps() * o.channels, o.head_hidden, o.horizons},
                  nn::ActivationKind::kRelu);
  }

  void init(nn::ParameterStore<T>& store, std::uint64_t seed) const {
    for (const Block& b : blocks_) {
      b.t1.init(store, seed);
      b.cheb.init(store, seed);
      b.t2.init(store, seed);
      b.norm.init(store, seed);
    }
    head_.init(store, seed);
  }

  void set_graph(const graph::SparseMatrix<T>& laplacian) { laplacian_ = laplacian; }

  const Matrix<T>& forward(const nn::ParameterStore<T>& store, const ForecastBatch<T>& batch) {
    const StgcnOptions& o = options_;
    check_batch("stgcn", batch, o.sensors, o.input_steps);
    windows_ = batch.windows;
    const std::size_t series = windows_ * o.sensors;
    tensor::ensure_shape(readings_, "stgcn.readings", batch.inputs.extent(0), 1);
    const Matrix<T> r = readings_, in = batch.inputs;
    Kokkos::parallel_for(
        "stgcn::readings", Kokkos::RangePolicy<tensor::ExecSpace>(0, in.extent(0)),
        KOKKOS_LAMBDA(const int i) { r(i, 0) = in(i, 0); });
    const Matrix<T>* x = &readings_;
    std::size_t steps = o.input_steps;
    for (Block& b : blocks_) {
      const Matrix<T>& a = b.t1.forward(store, *x, series, steps);
      b.steps = steps - o.kt + 1;
      tensor::transpose_rows(a, windows_, o.sensors, b.steps, b.spatial_in, "stgcn.spatial_in");
      const Matrix<T>& s = b.relu.forward(b.cheb.forward(store, b.spatial_in, laplacian_));
      tensor::transpose_rows(s, windows_, b.steps, o.sensors, b.spatial_out, "stgcn.spatial_out");
      const Matrix<T>& c = b.t2.forward(store, b.spatial_out, series, b.steps);
      steps = b.steps - o.kt + 1;
      x = &b.norm.forward(store, c);
    }
    const Matrix<T> features = tensor::matrix_view(x->data(), series, steps * o.channels);
    return head_.forward(store, features);
  }

  void backward(nn::ParameterStore<T>& store, const Matrix<T>& dy) {
    const StgcnOptions& o = options_;
    const std::size_t series = windows_ * o.sensors;
    const Matrix<T>& d_features = head_.backward(store, dy);
    Matrix<T> dx = tensor::matrix_view(d_features.data(), series * out_steps(), o.channels);
    for (std::size_t l = blocks_.size(); l-- > 0;) {
      Block& b = blocks_[l];
      const Matrix<T>& d_c = b.t2.backward(store, b.norm.backward(store, dx));
      tensor::transpose_rows(d_c, windows_, o.sensors, b.steps, b.d_spatial, "stgcn.d_spatial");
      const Matrix<T>& d_a = b.cheb.backward(store, b.relu.backward(b.d_spatial));
      tensor::transpose_rows(d_a, windows_, b.steps, o.sensors, b.d_a, "stgcn.d_a");
      dx = b.t1.backward(store, b.d_a);
    }
  }

 private:
  struct Block {
    TemporalConv<T> t1, t2;
    nn::ChebyshevConv<T> cheb;
    nn::Activation<T> relu;
    nn::LayerNorm<T> norm;
    std::size_t steps = 0;  // after t1
    Matrix<T> spatial_in, spatial_out, d_spatial, d_a;
  };

  std::size_t out_steps() const {
    return options_.input_steps - options_.blocks * 2 * (options_.kt - 1);
  }

  StgcnOptions options_;
  std::vector<Block> blocks_;
  nn::Mlp<T> head_;
  graph::SparseMatrix<T> laplacian_;
  std::size_t windows_ = 0;
  Matrix<T> readings_;
};

}  // namespace tessera::models::st_forecast
