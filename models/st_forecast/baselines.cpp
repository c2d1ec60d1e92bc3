#include "models/st_forecast/baselines.hpp"

namespace tessera::models::st_forecast {

namespace {

// Fills (windows x sensors x horizons) from value(target_step, sensor, start).
template <class Value>
std::vector<double> per_target(const SensorSeries& s, const std::vector<std::size_t>& starts,
                               std::size_t input_steps, std::size_t output_steps, Value value) {
  std::vector<double> out(starts.size() * s.sensors * output_steps);
  std::size_t k = 0;
  for (std::size_t start : starts) {
    for (std::size_t n = 0; n < s.sensors; ++n) {
      for (std::size_t h = 0; h < output_steps; ++h) {
        out[k++] = value(start + input_steps + h, n, start);
      }
    }
  }
  return out;
}

}  // namespace

std::vector<double> window_targets(const SensorSeries& s, const std::vector<std::size_t>& starts,
                                   std::size_t input_steps, std::size_t output_steps) {
  return per_target(s, starts, input_steps, output_steps,
                    [&](std::size_t t, std::size_t n, std::size_t) { return s.at(t, n); });
}

std::vector<double> persistence_forecast(const SensorSeries& s,
                                         const std::vector<std::size_t>& starts,
                                         std::size_t input_steps, std::size_t output_steps) {
  return per_target(s, starts, input_steps, output_steps,
                    [&](std::size_t, std::size_t n, std::size_t start) {
                      for (std::size_t t = start + input_steps; t-- > start;) {
                        if (s.at(t, n) != 0) return s.at(t, n);
                      }
                      return 0.0;
                    });
}

HistoricalAverage::HistoricalAverage(const SensorSeries& s, std::size_t train_end_step)
    : series_(&s) {
  weekly_ = train_end_step >= 14 * s.steps_per_day;
  slots_ = weekly_ ? 7 * s.steps_per_day : s.steps_per_day;
  std::vector<double> sum(slots_ * s.sensors, 0.0), count(slots_ * s.sensors, 0.0);
  std::vector<double> sensor_sum(s.sensors, 0.0), sensor_count(s.sensors, 0.0);
  for (std::size_t t = 0; t < train_end_step; ++t) {
    const std::size_t slot = slot_of(t);
    for (std::size_t n = 0; n < s.sensors; ++n) {
      const double v = s.at(t, n);
      if (v == 0) continue;
      sum[slot * s.sensors + n] += v;
      count[slot * s.sensors + n] += 1;
      sensor_sum[n] += v;
      sensor_count[n] += 1;
    }
  }
  mean_.assign(slots_ * s.sensors, 0.0);
  for (std::size_t k = 0; k < mean_.size(); ++k) {
    const std::size_t n = k % s.sensors;
    mean_[k] = count[k] > 0          ? sum[k] / count[k]
               : sensor_count[n] > 0 ? sensor_sum[n] / sensor_count[n]
                                     : 0.0;
  }
}

std::size_t HistoricalAverage::slot_of(std::size_t step) const {
  const SensorSeries& s = *series_;
  return weekly_ ? static_cast<std::size_t>(s.weekday(step)) * s.steps_per_day + s.slot(step)
                 : s.slot(step);
}

double HistoricalAverage::at(std::size_t step, std::size_t sensor) const {
  return mean_[slot_of(step) * series_->sensors + sensor];
}

std::vector<double> historical_average_forecast(const HistoricalAverage& ha, const SensorSeries& s,
                                                const std::vector<std::size_t>& starts,
                                                std::size_t input_steps, std::size_t output_steps) {
  return per_target(s, starts, input_steps, output_steps,
                    [&](std::size_t t, std::size_t n, std::size_t) { return ha.at(t, n); });
}

std::string day_rule_name(DayRule rule) {
  return rule == DayRule::kPreviousDay ? "previous_day" : "last_similar_day";
}

double day_before_value(const HistoricalAverage& ha, const SensorSeries& s, std::size_t t,
                        std::size_t n, DayRule rule) {
  const auto weekend = [&](std::size_t step) { return s.weekday(step) >= 5; };
  const std::size_t days = rule == DayRule::kPreviousDay ? 1 : 7;
  for (std::size_t k = 1; k <= days && t >= k * s.steps_per_day; ++k) {
    const std::size_t u = t - k * s.steps_per_day;
    if (rule == DayRule::kLastSimilarDay && weekend(u) != weekend(t)) continue;
    return s.at(u, n) != 0 ? s.at(u, n) : ha.at(t, n);
  }
  return ha.at(t, n);
}

std::vector<double> day_before_forecast(const HistoricalAverage& ha, const SensorSeries& s,
                                        const std::vector<std::size_t>& starts,
                                        std::size_t input_steps, std::size_t output_steps,
                                        DayRule rule) {
  return per_target(s, starts, input_steps, output_steps,
                    [&](std::size_t t, std::size_t n, std::size_t) {
                      return day_before_value(ha, s, t, n, rule);
                    });
}

}  // namespace tessera::models::st_forecast
