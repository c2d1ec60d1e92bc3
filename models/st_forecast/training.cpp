#include "models/st_forecast/training.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "core/optim/adam.hpp"
#include "core/optim/clip.hpp"
#include "core/parallel/gradient_allreduce.hpp"
#include "core/runtime/runtime.hpp"
#include "core/tensor/host_copy.hpp"

namespace tessera::models::st_forecast {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Positions rank, rank + ranks, ... of `starts` (this rank's share of a batch).
std::vector<std::size_t> share(const std::vector<std::size_t>& starts, int rank, int ranks) {
  std::vector<std::size_t> mine;
  for (std::size_t k = static_cast<std::size_t>(rank); k < starts.size();
       k += static_cast<std::size_t>(ranks)) {
    mine.push_back(starts[k]);
  }
  return mine;
}

double step_lr(const TrainOptions& o, std::size_t epoch) {
  double lr = o.lr;
  for (double m : o.milestones) {
    if (static_cast<double>(epoch) >= m) lr *= o.gamma;
  }
  return lr;
}

}  // namespace

double masked_mae_loss(const std::vector<double>& output, const std::vector<double>& target,
                       const ZScore& z, double denominator, std::vector<double>& grad) {
  grad.assign(output.size(), 0.0);
  double loss = 0;
  for (std::size_t k = 0; k < output.size(); ++k) {
    if (target[k] == 0) continue;
    const double error = z.inverse(output[k]) - target[k];
    loss += std::abs(error);
    grad[k] = (error > 0 ? 1.0 : error < 0 ? -1.0 : 0.0) * z.std / denominator;
  }
  return loss / denominator;
}

template <class T>
HorizonMetrics evaluate_forecaster(MPI_Comm comm, Forecaster<T>& model,
                                   const nn::ParameterStore<T>& store, const ForecastData& data,
                                   const std::vector<std::size_t>& starts, std::size_t batch) {
  const int rank = runtime::comm_rank(comm), ranks = runtime::comm_size(comm);
  const std::vector<std::size_t> mine = share(starts, rank, ranks);
  MetricAccumulator acc(data.split.output_steps);
  for (std::size_t first = 0; first < mine.size(); first += batch) {
    const std::vector<std::size_t> part(
        mine.begin() + static_cast<std::ptrdiff_t>(first),
        mine.begin() + static_cast<std::ptrdiff_t>(std::min(mine.size(), first + batch)));
    const ForecastBatch<T> b =
        make_batch<T>(*data.series, data.z, part, data.split.input_steps, data.split.output_steps);
    std::vector<double> forecast = tensor::to_host(model.forward(store, b));
    for (double& v : forecast) v = data.z.inverse(v);
    acc.add(forecast, b.target);
  }
  acc.allreduce(comm);
  return acc.result();
}

template <class T>
TrainResult train_forecaster(MPI_Comm comm, Forecaster<T>& model, nn::ParameterStore<T>& store,
                             const ForecastData& data, const TrainOptions& o,
                             const std::function<void(const EpochRecord&)>& observer,
                             runtime::Timers* timers,
                             const std::function<void(double, double)>& on_step) {
  const int rank = runtime::comm_rank(comm), ranks = runtime::comm_size(comm);
  const auto start = Clock::now();
  std::vector<std::size_t> windows = data.split.train;
  if (o.max_train_windows > 0 && o.max_train_windows < windows.size()) {
    std::vector<std::size_t> subset;
    for (std::size_t k = 0; k < o.max_train_windows; ++k) {
      subset.push_back(windows[k * windows.size() / o.max_train_windows]);
    }
    windows = subset;
  }
  optim::AdamOptions adam_options;
  adam_options.lr = o.lr;
  adam_options.beta1 = o.beta1;
  adam_options.beta2 = o.beta2;
  adam_options.weight_decay = o.weight_decay;
  adam_options.decoupled_weight_decay = true;
  optim::Adam<T> adam(store, adam_options);
  parallel::GradientAllreduce<T> allreduce(comm);

  TrainResult result;
  result.best_validation_mae = std::numeric_limits<double>::infinity();
  std::vector<double> best_params = tensor::to_host(store.params());
  std::vector<double> grad;
  std::size_t since_best = 0;
  const std::size_t steps_per_epoch = (windows.size() + o.batch - 1) / o.batch;
  const double total_steps = static_cast<double>(steps_per_epoch * o.epochs);
  for (std::size_t epoch = 0; epoch < o.epochs; ++epoch) {
    std::vector<std::size_t> order = windows;
    std::mt19937_64 shuffle_rng(o.seed * 1000003ULL + epoch);
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    const double lr = step_lr(o, epoch);
    adam.set_lr(lr);
    double abs_sum = 0, count_sum = 0;
    for (std::size_t first = 0; first < order.size(); first += o.batch) {
      const std::vector<std::size_t> global(
          order.begin() + static_cast<std::ptrdiff_t>(first),
          order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), first + o.batch)));
      const std::vector<std::size_t> mine = share(global, rank, ranks);
      ForecastBatch<T> b;
      if (!mine.empty()) {
        b = make_batch<T>(*data.series, data.z, mine, data.split.input_steps,
                          data.split.output_steps);
      }
      double counts[2] = {0, 0};  // valid targets, then |error| sum
      for (double y : b.target) counts[0] += y != 0;
      MPI_Allreduce(MPI_IN_PLACE, counts, 1, MPI_DOUBLE, MPI_SUM, comm);
      store.zero_grad();
      if (!mine.empty() && counts[0] > 0) {
        runtime::Timers::Scope scope(timers, "st_forecast.forward_backward");
        const std::vector<double> output = tensor::to_host(model.forward(store, b));
        // The all-reduce averages over ranks: scale by the rank count.
        const double loss =
            masked_mae_loss(output, b.target, data.z, counts[0] / static_cast<double>(ranks), grad);
        counts[1] = loss * counts[0] / static_cast<double>(ranks);
        model.backward(store, tensor::from_host<T>(grad, b.windows * b.sensors, b.horizons,
                                                   "st_forecast::output_grad"));
      }
      {
        runtime::Timers::Scope scope(timers, "st_forecast.allreduce");
        allreduce.average(store);
      }
      MPI_Allreduce(MPI_IN_PLACE, counts + 1, 1, MPI_DOUBLE, MPI_SUM, comm);
      if (counts[0] == 0) continue;
      if (!std::isfinite(counts[1])) {
        throw CollectiveError(str("st_forecast: the training loss is ", counts[1], " in epoch ",
                                  epoch + 1, " (lower train.lr)"));
      }
      abs_sum += counts[1];
      count_sum += counts[0];
      if (o.clip > 0) optim::clip_grad_norm(store, o.clip);
      runtime::Timers::Scope scope(timers, "st_forecast.optimizer");
      adam.step(store);
      ++result.steps;
      if (on_step) {
        on_step(static_cast<double>(epoch * steps_per_epoch + first / o.batch + 1), total_steps);
      }
    }
    EpochRecord record;
    record.epoch = epoch + 1;
    record.lr = lr;
    record.train_mae = count_sum > 0 ? abs_sum / count_sum : 0;
    record.validation_mae =
        evaluate_forecaster(comm, model, store, data, data.split.validation).mae_mean;
    record.seconds = seconds_since(start);
    result.history.push_back(record);
    result.epochs = epoch + 1;
    if (observer) observer(record);
    if (record.validation_mae < result.best_validation_mae) {
      result.best_validation_mae = record.validation_mae;
      result.best_epoch = epoch + 1;
      best_params = tensor::to_host(store.params());
      since_best = 0;
    } else if (++since_best >= o.patience) {
      break;
    }
  }
  Kokkos::deep_copy(store.params(), tensor::from_host<T>(best_params, "st_forecast::best"));
  result.seconds = seconds_since(start);
  result.seconds_per_step =
      result.steps > 0 ? result.seconds / static_cast<double>(result.steps) : 0;
  return result;
}

#define TESSERA_ST_TRAINING(T)                                                                    \
  template TrainResult train_forecaster<T>(                                                       \
      MPI_Comm, Forecaster<T>&, nn::ParameterStore<T>&, const ForecastData&, const TrainOptions&, \
      const std::function<void(const EpochRecord&)>&, runtime::Timers*,                           \
      const std::function<void(double, double)>&);                                                \
  template HorizonMetrics evaluate_forecaster<T>(                                                 \
      MPI_Comm, Forecaster<T>&, const nn::ParameterStore<T>&, const ForecastData&,                \
      const std::vector<std::size_t>&, std::size_t);
TESSERA_ST_TRAINING(float)
TESSERA_ST_TRAINING(double)
#undef TESSERA_ST_TRAINING

}  // namespace tessera::models::st_forecast
