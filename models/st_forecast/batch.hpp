#pragma once
// A batch of forecast windows as the models take it, rows ordered (window, sensor, step):
// row (w * sensors + n) * steps + t holds sensor n at input step t of window w.
//   inputs    (rows, 2): the z-scored reading and the time of day in [0, 1)
//   slot      time-of-day slot, weekday (0 = Monday), position in the window (0..steps-1)
//   target    (windows * sensors, horizons), in data units (0: missing, masked)
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "core/runtime/error.hpp"
#include "core/tensor/host_copy.hpp"
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

template <class T>
ForecastBatch<T> make_batch(const SensorSeries& s, const ZScore& z,
                            const std::vector<std::size_t>& starts, std::size_t input_steps,
                            std::size_t output_steps) {
  ForecastBatch<T> b;
  b.windows = starts.size();
  b.sensors = s.sensors;
  b.steps = input_steps;
  b.horizons = output_steps;
  const std::size_t rows = b.windows * b.sensors * b.steps;
  std::vector<double> inputs(rows * 2);
  Kokkos::View<int*, Kokkos::HostSpace> slot("slot", rows), weekday("weekday", rows),
      position("position", rows);
  b.target.resize(b.windows * b.sensors * output_steps);
  std::size_t r = 0, k = 0;
  for (std::size_t start : starts) {
    for (std::size_t n = 0; n < s.sensors; ++n) {
      for (std::size_t t = 0; t < input_steps; ++t, ++r) {
        const std::size_t step = start + t;
        inputs[2 * r] = z.forward(s.at(step, n));
        inputs[2 * r + 1] =
            static_cast<double>(s.slot(step)) / static_cast<double>(s.steps_per_day);
        slot(r) = static_cast<int>(s.slot(step));
        weekday(r) = s.weekday(step);
        position(r) = static_cast<int>(t);
      }
      for (std::size_t h = 0; h < output_steps; ++h) {
        b.target[k++] = s.at(start + input_steps + h, n);
      }
    }
  }
  b.inputs = tensor::from_host<T>(inputs, rows, 2, "st_forecast::inputs");
  b.slot = device_ids(slot, "st_forecast::slot");
  b.weekday = device_ids(weekday, "st_forecast::weekday");
  b.position = device_ids(position, "st_forecast::position");
  return b;
}

}  // namespace tessera::models::st_forecast
