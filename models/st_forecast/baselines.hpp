#pragma once
// The forecasts a user gets without a learned model, on the same windows and metric:
//   persistence        every horizon repeats the last reading of the input window (the
//                      last non-missing one; 0 when the window has none);
//   historical average per sensor and slot of the week when the training part covers
//                      two weeks or more, else per slot of the day: the mean of the
//                      training part's non-missing readings (the sensor's mean where a
//                      slot has none);
//   previous day       the reading one day before each target step (the historical
//                      average where that is missing or before the series);
//   last similar day   the reading at the same slot on the most recent earlier day of the
//                      same kind, Monday to Friday or Saturday and Sunday, within a week
//                      (Monday reads Friday, Saturday the Sunday before; otherwise the
//                      previous day), the historical average where there is none.
// All return (windows x sensors x horizons), in data units.
#include <cstddef>
#include <string>
#include <vector>

#include "models/st_forecast/series.hpp"

namespace tessera::models::st_forecast {

// The true values of the windows, (windows x sensors x horizons).
std::vector<double> window_targets(const SensorSeries& s, const std::vector<std::size_t>& starts,
                                   std::size_t input_steps, std::size_t output_steps);

std::vector<double> persistence_forecast(const SensorSeries& s,
                                         const std::vector<std::size_t>& starts,
                                         std::size_t input_steps, std::size_t output_steps);

class HistoricalAverage {
 public:
  // From the readings in steps [0, train_end_step).
  HistoricalAverage(const SensorSeries& s, std::size_t train_end_step);
  double at(std::size_t step, std::size_t sensor) const;
  bool weekly() const { return weekly_; }

 private:
  std::size_t slot_of(std::size_t step) const;
  const SensorSeries* series_;
  bool weekly_ = false;
  std::size_t slots_ = 0;
  std::vector<double> mean_;  // slots x sensors
};

std::vector<double> historical_average_forecast(const HistoricalAverage& ha, const SensorSeries& s,
                                                const std::vector<std::size_t>& starts,
                                                std::size_t input_steps, std::size_t output_steps);

// Which earlier day a day-before forecast reads: the previous day, or the last similar day.
enum class DayRule { kPreviousDay, kLastSimilarDay };

// "previous_day" or "last_similar_day".
std::string day_rule_name(DayRule rule);

// Sensor n's reading at step t's slot on the earlier day `rule` picks (the historical
// average where that is missing or before the series): one target of the day-before
// forecasts, and the models' daily input (model.daily_input, batch.hpp).
double day_before_value(const HistoricalAverage& ha, const SensorSeries& s, std::size_t t,
                        std::size_t n, DayRule rule);

std::vector<double> day_before_forecast(const HistoricalAverage& ha, const SensorSeries& s,
                                        const std::vector<std::size_t>& starts,
                                        std::size_t input_steps, std::size_t output_steps,
                                        DayRule rule);

}  // namespace tessera::models::st_forecast
