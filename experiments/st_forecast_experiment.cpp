// The st_forecast experiment: traffic forecasting on a sensor graph with the STTN and
// the per-sensor MLP beside persistence, historical average and the previous day
// (models/st_forecast owns the keys, the configuration and the driver).
#include <algorithm>
#include <iomanip>
#include <sstream>

#include "core/runtime/log.hpp"
#include "experiments/experiment.hpp"
#include "models/st_forecast/run.hpp"

namespace tessera::experiments {

namespace sf = models::st_forecast;

namespace {

void log_summary(const sf::StForecastSummary& s) {
  std::ostringstream header;
  header << "test MAE / RMSE / MAPE at";
  for (double h : s.report_horizons) header << " " << h * s.minutes_per_step << " min |";
  header << " mean over all horizons";
  runtime::log::info(header.str());
  double best_baseline = 0;
  std::string best_name;
  for (const sf::ForecastResult& r : s.results) {
    std::ostringstream line;
    line << std::fixed << std::setprecision(3) << "  " << std::left << std::setw(19) << r.name;
    for (double h : s.report_horizons) {
      const auto k = static_cast<std::size_t>(h) - 1;
      line << " " << r.test.mae[k] << " / " << r.test.rmse[k] << " / " << std::setprecision(2)
           << r.test.mape[k] << "% |" << std::setprecision(3);
    }
    line << " " << r.test.mae_mean << " / " << r.test.rmse_mean << " / " << std::setprecision(2)
         << r.test.mape_mean << "%";
    if (r.learned) {
      line << "  (" << r.parameters << " parameters, best epoch " << r.training.best_epoch << " of "
           << r.training.epochs << ", " << std::setprecision(3) << r.training.seconds_per_step
           << " s/step)";
    }
    runtime::log::info(line.str());
    const double last = r.test.mae.back();
    if (!r.learned && (best_name.empty() || last < best_baseline)) {
      best_baseline = last;
      best_name = r.name;
    }
  }
  for (const sf::ForecastResult& r : s.results) {
    if (!r.learned) continue;
    const double last = r.test.mae.back();
    runtime::log::info(str(r.name, " against the best baseline at the last horizon (", best_name,
                           "): MAE ", last, " vs ", best_baseline, ", ratio ",
                           last / best_baseline));
  }
}

}  // namespace

ExperimentKind st_forecast_experiment_kind() {
  ExperimentKind kind;
  kind.name = "st_forecast";
  kind.description =
      "traffic forecasting on a sensor graph: STTN and a per-sensor MLP beside persistence, "
      "historical average and the previous day";
  kind.add_keys = sf::add_st_forecast_keys;
  kind.check = [](const config::Config& c, int ranks) { sf::validate(sf::from_config(c), ranks); };
  // Checkpoints of the models' training (models/st_forecast/run.cpp).
  kind.resumable = true;
  kind.run = [](const config::Config& c, RunContext& context) {
    log_summary(sf::run_st_forecast(sf::from_config(c), context));
  };
  return kind;
}

}  // namespace tessera::experiments
