#pragma once
// The st_forecast experiment's driver: read the sensor series and graph, make the
// windows and split, score the baselines (persistence, historical average, previous
// day) on the test windows, train each configured model (STTN, per-sensor MLP) from
// scratch with early stopping on the validation windows, score it on the same test
// windows, and write the per-epoch curves, the per-horizon test metrics of everything
// side by side, timings and the parameters.
#include <string>
#include <vector>

#include "core/io/run_context.hpp"
#include "models/st_forecast/config.hpp"

namespace tessera::models::st_forecast {

struct ForecastResult {
  std::string name;
  bool learned = false;
  std::size_t parameters = 0;
  HorizonMetrics test;
  TrainResult training;
};

struct StForecastSummary {
  std::size_t sensors = 0, steps = 0, graph_edges = 0;
  std::size_t train_windows = 0, validation_windows = 0, test_windows = 0;
  double minutes_per_step = 5;
  std::vector<double> report_horizons;
  std::vector<ForecastResult> results;  // baselines first, then the models
};

StForecastSummary run_st_forecast(const StForecastConfig& config, const io::RunContext& context);

}  // namespace tessera::models::st_forecast
