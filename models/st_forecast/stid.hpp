#pragma once
// STID, the spatial-temporal identity baseline (Shao et al., CIKM 2022), as BasicTS 1.1.0's
// basicts.models.STID has it (the peer in analysis/peers/basicts runs that code):
//   e = series(the sensor's T z-scored readings)                       Linear T -> dim
//       (with daily_input: the readings and the day-before forecasts of the
//       horizons side by side, Linear 2T -> dim; not in BasicTS)
//   h = [e | node[n] | tod[slot of the last input step] | dow[its weekday]]   width H
//   h = h + fc2(ReLU(fc1(h)))   `layers` times (fc1, fc2: H -> H; no dropout, as 1.1.0)
//   y = head(h)                                                        Linear H -> horizons
// per (window, sensor) row: no attention and no graph; what a sensor's identity and the
// time of day buy alone, which attention-based forecasters have to beat. dow only with
// weekday_embedding (as the STTN: a weekday the training part never shows would leave
// its row random). Parameter names: series, node, tod, dow, encoder<l>.{0,1}, head; the
// tables start Xavier-uniform and the Linear layers as PyTorch's, as BasicTS.
#include <string>
#include <vector>

#include "core/nn/embedding.hpp"
#include "core/nn/mlp.hpp"
#include "core/nn/residual.hpp"
#include "core/tensor/column_blocks.hpp"
#include "models/st_forecast/batch.hpp"

namespace tessera::models::st_forecast {

struct StidOptions {
  std::size_t sensors = 0, input_steps = 12, horizons = 12, steps_per_day = 288;
  std::size_t dim = 32;    // width of the series embedding and of each table
  std::size_t layers = 3;  // residual MLP layers
  bool weekday_embedding = true;
  bool daily_input = false;  // the batches' third column (batch.hpp)
};

template <class T>
class Stid {
 public:
  void declare(nn::ParameterStore<T>& store, const StidOptions& o) {
    options_ = o;
    series_.declare(store, "series", series_width(), o.dim);
    node_.declare(store, "node", o.sensors, o.dim);
    tod_.declare(store, "tod", o.steps_per_day, o.dim);
    if (o.weekday_embedding) dow_.declare(store, "dow", 7, o.dim);
    const std::size_t h = hidden();
    encoder_.assign(o.layers, nn::Mlp<T>());
    for (std::size_t l = 0; l < o.layers; ++l) {
      encoder_[l].declare(store, "encoder" + std::to_string(l), {h, h, h},
                          nn::ActivationKind::kRelu);
    }
    head_.declare(store, "head", h, o.horizons);
    hidden_.assign(o.layers + 1, Matrix<T>());
    d_hidden_.assign(o.layers + 1, Matrix<T>());
    d_blocks_.assign(4, Matrix<T>());
  }

  void init(nn::ParameterStore<T>& store, std::uint64_t seed) const {
    series_.init(store, seed);
    const std::size_t d = options_.dim;
    // torch.nn.init.xavier_uniform_ of a (count, dim) table: fan_in dim, fan_out count.
    store.init_xavier_uniform(node_.weight_id(), d, options_.sensors, seed);
    store.init_xavier_uniform(tod_.weight_id(), d, options_.steps_per_day, seed);
    if (options_.weekday_embedding) store.init_xavier_uniform(dow_.weight_id(), d, 7, seed);
    for (const nn::Mlp<T>& layer : encoder_) layer.init(store, seed);
    head_.init(store, seed);
  }

  // z-scored forecasts (windows * sensors, horizons).
  const Matrix<T>& forward(const nn::ParameterStore<T>& store, const ForecastBatch<T>& batch) {
    const StidOptions& o = options_;
    check_batch("stid", batch, o.sensors, o.input_steps);
    check_input_columns("stid", batch, o.daily_input);
    make_inputs(batch);
    const std::size_t rows = batch.windows * o.sensors, d = o.dim;
    tensor::ensure_shape(hidden_.front(), "stid.embedded", rows, hidden());
    const Matrix<T>& h0 = hidden_.front();
    tensor::copy_columns(series_.forward(store, series_input_), 0, h0, 0, d, "stid.series");
    tensor::copy_columns(node_.forward(store, node_ids_), 0, h0, d, d, "stid.node");
    tensor::copy_columns(tod_.forward(store, tod_ids_), 0, h0, 2 * d, d, "stid.tod");
    if (o.weekday_embedding) {
      tensor::copy_columns(dow_.forward(store, dow_ids_), 0, h0, 3 * d, d, "stid.dow");
    }
    for (std::size_t l = 0; l < o.layers; ++l) {
      tensor::ensure_shape(hidden_[l + 1], "stid.hidden", rows, hidden());
      nn::add(hidden_[l], encoder_[l].forward(store, hidden_[l]), hidden_[l + 1], "stid.residual");
    }
    return head_.forward(store, hidden_.back());
  }

  // dy: (windows * sensors, horizons). Adds every parameter gradient to the store.
  void backward(nn::ParameterStore<T>& store, const Matrix<T>& dy) {
    const StidOptions& o = options_;
    const std::size_t d = o.dim;
    const Matrix<T>* g = &head_.backward(store, dy);
    for (std::size_t l = o.layers; l-- > 0;) {
      // The residual: the layer's input gets dy through the MLP and unchanged.
      tensor::ensure_shape(d_hidden_[l], "stid.d_hidden", g->extent(0), g->extent(1));
      nn::add(*g, encoder_[l].backward(store, *g), d_hidden_[l], "stid.d_residual");
      g = &d_hidden_[l];
    }
    series_.backward(store, tensor::column_block(*g, 0, d, d_blocks_[0], "stid.d_series"), false);
    node_.backward(store, tensor::column_block(*g, d, d, d_blocks_[1], "stid.d_node"));
    tod_.backward(store, tensor::column_block(*g, 2 * d, d, d_blocks_[2], "stid.d_tod"));
    if (o.weekday_embedding) {
      dow_.backward(store, tensor::column_block(*g, 3 * d, d, d_blocks_[3], "stid.d_dow"));
    }
  }

  const StidOptions& options() const { return options_; }
  std::size_t hidden() const { return options_.dim * (options_.weekday_embedding ? 4 : 3); }
  // The series Linear's inputs: T readings, and T day-before values with the daily input.
  std::size_t series_width() const {
    return options_.input_steps * (options_.daily_input ? 2 : 1);
  }

 public:
  // Public only for nvcc, which cannot compile a device lambda inside a private or
  // protected member function; not part of the interface.
  // Per (window, sensor) row r: its T readings (then its day-before values), its
  // sensor, and the time-of-day slot and weekday of its last input step (BasicTS indexes
  // the tables with the last step's).
  void make_inputs(const ForecastBatch<T>& batch) {
    const std::size_t rows = batch.windows * options_.sensors, steps = options_.input_steps;
    const std::size_t sensors = options_.sensors;
    const bool daily = options_.daily_input;
    tensor::ensure_shape(series_input_, "stid.readings", rows, series_width());
    if (node_ids_.extent(0) != rows) {
      node_ids_ = tensor::Vector<int>("stid.node_ids", rows);
      tod_ids_ = tensor::Vector<int>("stid.tod_ids", rows);
      dow_ids_ = tensor::Vector<int>("stid.dow_ids", rows);
    }
    const Matrix<T> readings = series_input_, in = batch.inputs;
    const tensor::Vector<int> node = node_ids_, tod = tod_ids_, dow = dow_ids_;
    const tensor::Vector<int> slot = batch.slot, weekday = batch.weekday;
    Kokkos::parallel_for(
        "stid::inputs", Kokkos::RangePolicy<tensor::ExecSpace>(0, rows),
        KOKKOS_LAMBDA(const int r) {
          const std::size_t first = static_cast<std::size_t>(r) * steps;
          for (std::size_t t = 0; t < steps; ++t) readings(r, t) = in(first + t, 0);
          if (daily) {
            for (std::size_t t = 0; t < steps; ++t) readings(r, steps + t) = in(first + t, 2);
          }
          node(r) = static_cast<int>(static_cast<std::size_t>(r) % sensors);
          tod(r) = slot(first + steps - 1);
          dow(r) = weekday(first + steps - 1);
        });
  }

 private:
  StidOptions options_;
  nn::Linear<T> series_, head_;
  nn::Embedding<T> node_, tod_, dow_;
  std::vector<nn::Mlp<T>> encoder_;
  Matrix<T> series_input_;
  tensor::Vector<int> node_ids_, tod_ids_, dow_ids_;
  std::vector<Matrix<T>> hidden_, d_hidden_, d_blocks_;  // sized by declare
};

}  // namespace tessera::models::st_forecast
