#pragma once
// A small sensor series and chain graph for the forecasting tests: readings that follow
// a daily wave shifted per sensor, with a few missing (0) readings.
#include <cmath>
#include <utility>
#include <vector>

#include "core/graph/sparse_matrix.hpp"
#include "core/tensor/host_copy.hpp"
#include "models/st_forecast/sensor_graph.hpp"
#include "models/st_forecast/series.hpp"

namespace tessera::testing {

inline models::st_forecast::SensorSeries synthetic_series(std::size_t steps, std::size_t sensors,
                                                          std::size_t steps_per_day = 24) {
  models::st_forecast::SensorSeries s;
  s.path = "synthetic";
  s.steps = steps;
  s.sensors = sensors;
  s.steps_per_day = steps_per_day;
  s.first_slot = 3;
  s.first_weekday = 2;
  s.values.resize(steps * sensors);
  for (std::size_t t = 0; t < steps; ++t) {
    for (std::size_t n = 0; n < sensors; ++n) {
      const double phase =
          2 * M_PI * static_cast<double>(t + 2 * n) / static_cast<double>(steps_per_day);
      s.values[t * sensors + n] = 50 + 10 * std::sin(phase) + 0.5 * static_cast<double>(n) +
                                  0.3 * std::cos(1.7 * static_cast<double>(t * (n + 1)));
    }
  }
  s.values[5 * sensors + 1] = 0;  // missing readings
  s.values[17 * sensors + 0] = 0;
  return s;
}

// rows x cols sensors linked along rows and columns, link (a, b) weighted weight(a, b).
template <class Weight>
models::st_forecast::SensorGraph grid_sensor_graph(std::size_t rows, std::size_t cols,
                                                   Weight weight) {
  std::vector<models::st_forecast::SensorLink> links;
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const std::size_t a = r * cols + c;
      if (c + 1 < cols) links.push_back({a, a + 1, weight(a, a + 1)});
      if (r + 1 < rows) links.push_back({a, a + cols, weight(a, a + cols)});
    }
  }
  return models::st_forecast::sensor_graph_from_links(rows * cols, std::move(links));
}

template <class T>
graph::SparseMatrix<T> device_laplacian(const models::st_forecast::SensorGraph& g) {
  const auto l = models::st_forecast::scaled_laplacian(g);
  return graph::sparse_from_host<T>(l.row_ptr, l.col_idx, l.values);
}

// The scaled Laplacian as a dense row-major matrix (for comparisons).
inline std::vector<double> dense_laplacian(const models::st_forecast::ScaledLaplacian& l,
                                           std::size_t n) {
  std::vector<double> dense(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (auto k = l.row_ptr[i]; k < l.row_ptr[i + 1]; ++k) {
      dense[i * n + static_cast<std::size_t>(l.col_idx[static_cast<std::size_t>(k)])] =
          l.values[static_cast<std::size_t>(k)];
    }
  }
  return dense;
}

}  // namespace tessera::testing
