#pragma once
// The forecasting metrics of the field (DCRNN, BasicTS): masked MAE, RMSE and MAPE per
// horizon, where a true value of 0 is a missing reading and is left out of every metric
// (MAPE would divide by it too). Predictions and truth are (windows, sensors, horizons)
// in data units, row-major.
#include <mpi.h>

#include <cstddef>
#include <string>
#include <vector>

namespace tessera::models::st_forecast {

struct HorizonMetrics {
  std::vector<double> mae, rmse, mape;                // per horizon (1..H); MAPE in percent
  double mae_mean = 0, rmse_mean = 0, mape_mean = 0;  // over all horizons' entries
};

// Accumulates over batches of windows.
class MetricAccumulator {
 public:
  explicit MetricAccumulator(std::size_t horizons = 12);
  // prediction, truth: (windows x sensors x horizons).
  void add(const std::vector<double>& prediction, const std::vector<double>& truth);
  HorizonMetrics result() const;
  // Sums of every rank combined (collective; MPI_COMM_NULL: nothing to combine).
  void allreduce(MPI_Comm comm);

 private:
  std::size_t horizons_;
  std::vector<double> abs_sum_, square_sum_, pct_sum_, count_;
};

HorizonMetrics masked_metrics(const std::vector<double>& prediction,
                              const std::vector<double>& truth, std::size_t horizons);

}  // namespace tessera::models::st_forecast
