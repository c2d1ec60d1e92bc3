#include "models/st_forecast/series.hpp"

#include <cmath>
#include <filesystem>

#include "core/io/text_readers.hpp"
#include "core/runtime/error.hpp"

namespace tessera::models::st_forecast {

SensorSeries read_sensor_series(const std::string& path, const SeriesFileOptions& options) {
  io::Grid grid;
  const std::string extension = std::filesystem::path(path).extension().string();
  if (extension == ".csv") {
    const io::CsvTable table =
        io::read_csv(path, options.header ? io::CsvHeader::kPresent : io::CsvHeader::kAbsent);
    grid.rows = table.rows.size();
    grid.cols = table.column_count();
    grid.values.resize(grid.rows * grid.cols);
    for (std::size_t c = 0; c < grid.cols; ++c) {
      const std::vector<double> column = table.numeric_column(c);
      for (std::size_t r = 0; r < grid.rows; ++r) grid.values[r * grid.cols + c] = column[r];
    }
  } else {
    if (options.header) {
      throw InputError(str(path, ": a header row is only read from a .csv file"));
    }
    grid = io::read_text_grid(path);
  }
  if (grid.rows == 0 || grid.cols == 0) throw InputError(str(path, ": no readings"));
  SensorSeries s;
  s.path = path;
  const bool time_rows = options.layout == SeriesLayout::kTimeRows;
  s.steps = time_rows ? grid.rows : grid.cols;
  s.sensors = time_rows ? grid.cols : grid.rows;
  s.values.resize(s.steps * s.sensors);
  for (std::size_t r = 0; r < grid.rows; ++r) {
    for (std::size_t c = 0; c < grid.cols; ++c) {
      const double v = grid.values[r * grid.cols + c];
      if (!(v >= 0) || !std::isfinite(v)) {
        throw InputError(str(path, ": reading ", v, " at row ", r + 1, ", column ", c + 1,
                             " (expected a finite value >= 0; 0 marks a missing reading)"));
      }
      const std::size_t t = time_rows ? r : c, sensor = time_rows ? c : r;
      s.values[t * s.sensors + sensor] = v;
    }
  }
  return s;
}

WindowSplit make_windows(const SensorSeries& series, std::size_t input_steps,
                         std::size_t output_steps, const SplitFractions& fractions) {
  if (input_steps == 0 || output_steps == 0) {
    throw InputError("forecast windows need at least one input and one output step");
  }
  const std::size_t span = input_steps + output_steps;
  const std::size_t segment = series.segment_steps == 0 ? series.steps : series.segment_steps;
  if (segment < span) {
    throw InputError(str(
        series.path, ": a window of ", input_steps, " + ", output_steps, " steps is longer than ",
        series.segment_steps == 0 ? "the series (" : "a segment (", segment, " steps)"));
  }
  std::vector<std::size_t> starts;
  for (std::size_t first = 0; first < series.steps; first += segment) {
    const std::size_t last = std::min(series.steps, first + segment);
    for (std::size_t t = first; t + span <= last; ++t) starts.push_back(t);
  }
  const std::size_t n = starts.size();
  // Halves to even, as Python's round() in DCRNN's generator (std::llrint in the default
  // rounding mode; std::llround would send 80.5 = 0.7 x 115 to 81, DCRNN to 80).
  const auto count = [n](double fraction) {
    return static_cast<std::size_t>(std::llrint(fraction * static_cast<double>(n)));
  };
  const std::size_t test = count(1.0 - fractions.train - fractions.validation);
  const std::size_t train = count(fractions.train);
  if (train == 0 || test == 0 || train + test >= n) {
    throw InputError(str(series.path, ": ", n, " windows of ", span,
                         " steps cannot be split into training, validation and test parts (", train,
                         " / ", n - std::min(n, train + test), " / ", test, ")"));
  }
  WindowSplit split;
  split.input_steps = input_steps;
  split.output_steps = output_steps;
  split.train.assign(starts.begin(), starts.begin() + static_cast<std::ptrdiff_t>(train));
  split.validation.assign(starts.begin() + static_cast<std::ptrdiff_t>(train),
                          starts.end() - static_cast<std::ptrdiff_t>(test));
  split.test.assign(starts.end() - static_cast<std::ptrdiff_t>(test), starts.end());
  split.train_end_step = split.train.back() + input_steps;
  return split;
}

ZScore fit_zscore(const SensorSeries& series, std::size_t train_end_step) {
  double sum = 0, squares = 0;
  std::size_t count = 0;
  for (std::size_t t = 0; t < train_end_step; ++t) {
    for (std::size_t s = 0; s < series.sensors; ++s) {
      const double v = series.at(t, s);
      if (v == 0) continue;
      sum += v;
      squares += v * v;
      ++count;
    }
  }
  if (count < 2) throw InputError(str(series.path, ": the training part has no readings"));
  ZScore z;
  z.mean = sum / static_cast<double>(count);
  const double variance = squares / static_cast<double>(count) - z.mean * z.mean;
  z.std = variance > 0 ? std::sqrt(variance) : 1.0;
  return z;
}

}  // namespace tessera::models::st_forecast
