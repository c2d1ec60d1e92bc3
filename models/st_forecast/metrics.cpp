#include "models/st_forecast/metrics.hpp"

#include <cmath>
#include <stdexcept>

#include "core/runtime/error.hpp"

namespace tessera::models::st_forecast {

MetricAccumulator::MetricAccumulator(std::size_t horizons)
    : horizons_(horizons),
      abs_sum_(horizons, 0.0),
      square_sum_(horizons, 0.0),
      pct_sum_(horizons, 0.0),
      count_(horizons, 0.0) {}

void MetricAccumulator::add(const std::vector<double>& prediction,
                            const std::vector<double>& truth) {
  if (prediction.size() != truth.size() || truth.size() % horizons_ != 0) {
    throw std::invalid_argument(str("metrics: ", prediction.size(), " predictions for ",
                                    truth.size(), " true values of ", horizons_, " horizons"));
  }
  for (std::size_t k = 0; k < truth.size(); ++k) {
    const double y = truth[k];
    if (y == 0) continue;
    const std::size_t h = k % horizons_;
    const double error = prediction[k] - y;
    abs_sum_[h] += std::abs(error);
    square_sum_[h] += error * error;
    pct_sum_[h] += std::abs(error / y);
    count_[h] += 1;
  }
}

HorizonMetrics MetricAccumulator::result() const {
  HorizonMetrics m;
  double abs_total = 0, square_total = 0, pct_total = 0, count_total = 0;
  for (std::size_t h = 0; h < horizons_; ++h) {
    const double c = count_[h];
    m.mae.push_back(c > 0 ? abs_sum_[h] / c : 0);
    m.rmse.push_back(c > 0 ? std::sqrt(square_sum_[h] / c) : 0);
    m.mape.push_back(c > 0 ? 100.0 * pct_sum_[h] / c : 0);
    abs_total += abs_sum_[h];
    square_total += square_sum_[h];
    pct_total += pct_sum_[h];
    count_total += c;
  }
  if (count_total > 0) {
    m.mae_mean = abs_total / count_total;
    m.rmse_mean = std::sqrt(square_total / count_total);
    m.mape_mean = 100.0 * pct_total / count_total;
  }
  return m;
}

void MetricAccumulator::allreduce(MPI_Comm comm) {
  if (comm == MPI_COMM_NULL) return;
  for (std::vector<double>* sums : {&abs_sum_, &square_sum_, &pct_sum_, &count_}) {
    MPI_Allreduce(MPI_IN_PLACE, sums->data(), static_cast<int>(sums->size()), MPI_DOUBLE, MPI_SUM,
                  comm);
  }
}

HorizonMetrics masked_metrics(const std::vector<double>& prediction,
                              const std::vector<double>& truth, std::size_t horizons) {
  MetricAccumulator acc(horizons);
  acc.add(prediction, truth);
  return acc.result();
}

}  // namespace tessera::models::st_forecast
