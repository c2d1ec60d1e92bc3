#pragma once
// The per-sensor MLP baseline: one MLP shared by all sensors maps a sensor's window
// (its T z-scored readings and the time of day of the last one; with the daily input,
// then the T values of the batch's daily column) to its horizons,
//   (T + 1 [+ T]) -> hidden (ReLU) -> hidden (ReLU) -> horizons (slices mlp.0, mlp.1, mlp.2),
// so it sees neither the graph nor the other sensors: what a forecaster gains from
// them is measured against it.
#include "core/nn/mlp.hpp"
#include "models/st_forecast/batch.hpp"

namespace tessera::models::st_forecast {

template <class T>
class SensorMlp {
 public:
  void declare(nn::ParameterStore<T>& store, std::size_t input_steps, std::size_t horizons,
               std::size_t hidden, bool daily_input = false) {
    steps_ = input_steps;
    daily_ = daily_input;
    mlp_.declare(store, "mlp", {features(), hidden, hidden, horizons}, nn::ActivationKind::kRelu);
  }

  void init(nn::ParameterStore<T>& store, std::uint64_t seed) const { mlp_.init(store, seed); }

  const Matrix<T>& forward(const nn::ParameterStore<T>& store, const ForecastBatch<T>& batch) {
    check_batch("sensor MLP", batch, batch.sensors, steps_);
    check_input_columns("sensor MLP", batch, daily_);
    const std::size_t rows = batch.windows * batch.sensors, steps = steps_;
    const bool daily = daily_;
    tensor::ensure_shape(features_, "sensor_mlp.features", rows, features());
    const Matrix<T> f = features_, in = batch.inputs;
    Kokkos::parallel_for(
        "sensor_mlp::features", Kokkos::RangePolicy<tensor::ExecSpace>(0, rows),
        KOKKOS_LAMBDA(const int r) {
          for (std::size_t t = 0; t < steps; ++t) f(r, t) = in(r * steps + t, 0);
          f(r, steps) = in(r * steps + steps - 1, 1);
          if (daily) {
            for (std::size_t t = 0; t < steps; ++t) f(r, steps + 1 + t) = in(r * steps + t, 2);
          }
        });
    return mlp_.forward(store, features_);
  }

  void backward(nn::ParameterStore<T>& store, const Matrix<T>& dy) {
    mlp_.backward(store, dy, false);
  }

 private:
  std::size_t features() const { return steps_ + 1 + (daily_ ? steps_ : 0); }
  std::size_t steps_ = 0;
  bool daily_ = false;
  nn::Mlp<T> mlp_;
  Matrix<T> features_;
};

}  // namespace tessera::models::st_forecast
