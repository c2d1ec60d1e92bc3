#pragma once
// A batch of forecast windows as the models take it, rows ordered (window, sensor, step):
// row (w * sensors + n) * steps + t holds sensor n at input step t of window w.
//   inputs    (rows, 2): the z-scored reading and the time of day in [0, 1); with the
//             daily input (model.daily_input) a third column: in the row of input step
//             t, the z-scored day-before forecast of horizon t (day_before_value of the
//             target step start + steps + t, by the previous day or the last similar
//             day), 0 for t >= horizons. The models that take it see at each horizon what
//             that baseline would say (a daily-periodic input, as ASTGCN's daily segment).
//   slot      time-of-day slot, weekday (0 = Monday), position in the window (0..steps-1)
//   target    (windows * sensors, horizons), in data units (0: missing, masked)
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "core/runtime/error.hpp"
#include "core/tensor/host_copy.hpp"
#include "models/st_forecast/baselines.hpp"
#include "models/st_forecast/series.hpp"

namespace tessera::models::st_forecast {

using tensor::Matrix;

template <class T>
struct ForecastBatch {
  std::size_t windows = 0, sensors = 0, steps = 0, horizons = 0;
  tensor::Matrix<T> inputs;
  tensor::Vector<int> slot, weekday, position;
  std::vector<double> target;  // host: the loss and the metrics read it there
};

// std::invalid_argument naming the model when a batch does not fit it (a caller's bug).
template <class T>
void check_batch(const char* model, const ForecastBatch<T>& b, std::size_t sensors,
                 std::size_t steps) {
  if (b.sensors != sensors || b.steps != steps) {
    throw std::invalid_argument(str(model, ": a batch of ", b.sensors, " sensors x ", b.steps,
                                    " steps for a model of ", sensors, " x ", steps));
  }
}

// Integer ids on the device, and back.
inline tensor::Vector<int> device_ids(const Kokkos::View<int*, Kokkos::HostSpace>& host,
                                      const char* label) {
  tensor::Vector<int> view(std::string(label), host.extent(0));
  Kokkos::deep_copy(view, host);
  return view;
}
inline Kokkos::View<int*, Kokkos::HostSpace> host_ids(const tensor::Vector<int>& ids) {
  Kokkos::View<int*, Kokkos::HostSpace> host("ids", ids.extent(0));
  Kokkos::deep_copy(host, ids);
  return host;
}

// The number of input columns: 2, or 3 with the daily input.
inline std::size_t input_columns(bool daily_input) { return daily_input ? 3 : 2; }

// std::invalid_argument naming the model when the batch's columns differ from what the
// model was declared with (model.daily_input on one side only: a caller's bug).
template <class T>
void check_input_columns(const char* model, const ForecastBatch<T>& b, bool daily_input) {
  if (b.inputs.extent(1) != input_columns(daily_input)) {
    throw std::invalid_argument(str(model, ": a batch of ", b.inputs.extent(1),
                                    " input columns for a model ",
                                    daily_input ? "with" : "without", " the daily input"));
  }
}

// `daily`: the training part's historical average, for the daily column by `rule` (null:
// two columns). The daily column needs output_steps <= input_steps.
template <class T>
ForecastBatch<T> make_batch(const SensorSeries& s, const ZScore& z,
                            const std::vector<std::size_t>& starts, std::size_t input_steps,
                            std::size_t output_steps, const HistoricalAverage* daily = nullptr,
                            DayRule rule = DayRule::kPreviousDay) {
  if (daily && output_steps > input_steps) {
    throw std::invalid_argument(str("make_batch: the daily column needs no more horizons (",
                                    output_steps, ") than input steps (", input_steps, ")"));
  }
  ForecastBatch<T> b;
  b.windows = starts.size();
  b.sensors = s.sensors;
  b.steps = input_steps;
  b.horizons = output_steps;
  const std::size_t rows = b.windows * b.sensors * b.steps;
  const std::size_t columns = input_columns(daily != nullptr);
  std::vector<double> inputs(rows * columns, 0.0);
  Kokkos::View<int*, Kokkos::HostSpace> slot("slot", rows), weekday("weekday", rows),
      position("position", rows);
  b.target.resize(b.windows * b.sensors * output_steps);
  std::size_t r = 0, k = 0;
  for (std::size_t start : starts) {
    for (std::size_t n = 0; n < s.sensors; ++n) {
      for (std::size_t t = 0; t < input_steps; ++t, ++r) {
        const std::size_t step = start + t;
        inputs[columns * r] = z.forward(s.at(step, n));
        inputs[columns * r + 1] =
            static_cast<double>(s.slot(step)) / static_cast<double>(s.steps_per_day);
        if (daily && t < output_steps) {
          inputs[columns * r + 2] =
              z.forward(day_before_value(*daily, s, start + input_steps + t, n, rule));
        }
        slot(r) = static_cast<int>(s.slot(step));
        weekday(r) = s.weekday(step);
        position(r) = static_cast<int>(t);
      }
      for (std::size_t h = 0; h < output_steps; ++h) {
        b.target[k++] = s.at(start + input_steps + h, n);
      }
    }
  }
  b.inputs = tensor::from_host<T>(inputs, rows, columns, "st_forecast::inputs");
  b.slot = device_ids(slot, "st_forecast::slot");
  b.weekday = device_ids(weekday, "st_forecast::weekday");
  b.position = device_ids(position, "st_forecast::position");
  return b;
}

}  // namespace tessera::models::st_forecast
