#pragma once
// Sensor time series for forecasting and the benchmark protocol of the field (DCRNN,
// STGCN, BasicTS): windows of `input_steps` readings followed by `output_steps` targets,
// stride 1, split chronologically into training, validation and test windows, and one
// z-score from the training part.
//
// A reading of 0 is missing (loop detectors report 0 when they have no data): metrics
// mask it, the z-score and the historical average skip it.
#include <cstddef>
#include <string>
#include <vector>

namespace tessera::models::st_forecast {

struct SensorSeries {
  std::string path;  // for messages
  std::size_t steps = 0, sensors = 0;
  std::vector<double> values;       // steps x sensors, row-major
  std::size_t steps_per_day = 288;  // 5-minute readings
  std::size_t first_slot = 0;       // time-of-day slot of step 0
  int first_weekday = 0;            // day of week of step 0 (0 = Monday)
  // 0: one continuous series; otherwise the series is made of separate segments of this
  // many steps (separate days, say) and no window crosses from one to the next.
  std::size_t segment_steps = 0;

  double at(std::size_t t, std::size_t s) const { return values[t * sensors + s]; }
  std::size_t slot(std::size_t t) const { return (first_slot + t) % steps_per_day; }
  int weekday(std::size_t t) const {
    return static_cast<int>(
        (static_cast<std::size_t>(first_weekday) + (first_slot + t) / steps_per_day) % 7);
  }
};

// How the file is laid out: one row per time step (METR-LA's CSV) or one row per sensor
// (the US-101 text grids, rows space and columns time).
enum class SeriesLayout { kTimeRows, kSensorRows };

struct SeriesFileOptions {
  SeriesLayout layout = SeriesLayout::kTimeRows;
  bool header = false;  // the first row names the sensors (a CSV file only)
};

// A CSV file (".csv") or a whitespace-separated text grid (anything else). InputError
// naming the file and line for a malformed file, a negative or non-finite reading.
SensorSeries read_sensor_series(const std::string& path, const SeriesFileOptions& options);

struct SplitFractions {
  double train = 0.7, validation = 0.1;  // test: the rest
};

// Window starts of each part: window w covers steps [start, start + input_steps) as
// input and [start + input_steps, start + input_steps + output_steps) as targets.
struct WindowSplit {
  std::size_t input_steps = 12, output_steps = 12;
  std::vector<std::size_t> train, validation, test;
  std::size_t train_end_step = 0;  // steps [0, train_end_step) feed training inputs
};

// Every window that fits inside one segment, in time order, split by counts as DCRNN's
// data generator does: test = round(0.2 n), train = round(0.7 n), validation = the rest
// (with the given fractions; halves round to even, as Python's round). InputError when the series
// is too short for one window per part.
WindowSplit make_windows(const SensorSeries& series, std::size_t input_steps,
                         std::size_t output_steps, const SplitFractions& fractions);

struct ZScore {
  double mean = 0, std = 1;
  double forward(double v) const { return (v - mean) / std; }
  double inverse(double z) const { return z * std + mean; }
};

// Mean and standard deviation of the non-missing readings in steps [0, train_end_step).
ZScore fit_zscore(const SensorSeries& series, std::size_t train_end_step);

}  // namespace tessera::models::st_forecast
