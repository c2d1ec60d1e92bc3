#include "models/st_forecast/training.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
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

// The batch of windows `starts` as this rank's model takes it: every sensor's, or the
// local sensors' of a part.
template <class T>
ForecastBatch<T> batch_for(const ForecastData& data, const std::vector<std::size_t>& starts,
                           const parallel::GraphPart* part) {
  ForecastBatch<T> b =
      make_batch<T>(*data.series, data.z, starts, data.split.input_steps, data.split.output_steps,
                    data.daily, data.daily_rule);
  return part ? local_batch(b, *part) : b;
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
                                   const std::vector<std::size_t>& starts, std::size_t batch,
                                   const parallel::GraphPart* sensor_part) {
  const int rank = runtime::comm_rank(comm), ranks = runtime::comm_size(comm);
  const std::vector<std::size_t> mine = share(starts, rank, ranks);
  MetricAccumulator acc(data.split.output_steps);
  for (std::size_t first = 0; first < mine.size(); first += batch) {
    const std::vector<std::size_t> part(
        mine.begin() + static_cast<std::ptrdiff_t>(first),
        mine.begin() + static_cast<std::ptrdiff_t>(std::min(mine.size(), first + batch)));
    const ForecastBatch<T> b = batch_for<T>(data, part, sensor_part);
    std::vector<double> forecast = tensor::to_host(model.forward(store, b));
    for (double& v : forecast) v = data.z.inverse(v);
    acc.add(forecast, b.target);  // a part's ghosts have no target: their owner scores them
  }
  acc.allreduce(comm);
  if (sensor_part) acc.allreduce(sensor_part->halo().comm());
  return acc.result();
}

namespace {

// The training windows in the order of `epoch`: shuffled from the seed and the epoch
// alone (the same on every rank, and again on a resumed run).
std::vector<std::size_t> epoch_order(std::vector<std::size_t> windows, std::uint64_t seed,
                                     std::size_t epoch) {
  std::mt19937_64 shuffle_rng(seed * 1000003ULL + epoch);
  std::shuffle(windows.begin(), windows.end(), shuffle_rng);
  return windows;
}

// Where a training stands between two batches (see TrainingCheckpoints), beside the
// parameters and the optimiser state.
struct TrainingLoop {
  std::size_t epoch = 0;              // epochs done
  std::size_t next = 0;               // position in the epoch's order of its next batch
  double abs_sum = 0, count_sum = 0;  // the epoch's |error| sum and valid targets so far
  std::size_t since_best = 0;         // epochs without a better validation MAE
  std::vector<double> best_params;    // the parameters of the best epoch so far
};

constexpr std::size_t kLoopValues = 9;
constexpr std::size_t kRecordValues = 5;

void write_loop(io::ResultsFile& state, const std::string& group, const TrainingLoop& loop,
                const TrainResult& result, double seconds) {
  state.write_root_array(
      group + "/loop", {kLoopValues},
      {static_cast<double>(loop.epoch), static_cast<double>(loop.next), loop.abs_sum,
       loop.count_sum, static_cast<double>(loop.since_best), static_cast<double>(result.steps),
       result.best_validation_mae, static_cast<double>(result.best_epoch), seconds});
  state.write_root_array(group + "/best_parameters", {loop.best_params.size()}, loop.best_params);
  std::vector<double> history;
  for (const EpochRecord& r : result.history) {
    history.insert(history.end(),
                   {static_cast<double>(r.epoch), r.train_mae, r.validation_mae, r.lr, r.seconds});
  }
  state.write_root_array(group + "/history", {result.history.size(), kRecordValues}, history);
}

// The inverse of write_loop; returns the training seconds before. InputError naming the
// file when the state is of another shape (another model or version).
double read_loop(const io::Hdf5Reader& state, const std::string& group, TrainingLoop& loop,
                 TrainResult& result) {
  const auto values = [&](const std::string& name, std::size_t expected_multiple,
                          std::size_t expected = 0) {
    const std::vector<double> v = state.read(group + "/" + name);
    if ((expected > 0 && v.size() != expected) || v.size() % expected_multiple != 0) {
      throw InputError(str(state.path(), ": ", group, "/", name, " holds ", v.size(),
                           " values, expected ", expected > 0 ? expected : expected_multiple,
                           expected > 0 ? "" : " per row", " (a checkpoint of another model)"));
    }
    return v;
  };
  const std::vector<double> v = values("loop", 1, kLoopValues);
  loop.epoch = static_cast<std::size_t>(v[0]);
  loop.next = static_cast<std::size_t>(v[1]);
  loop.abs_sum = v[2];
  loop.count_sum = v[3];
  loop.since_best = static_cast<std::size_t>(v[4]);
  result.steps = static_cast<std::size_t>(v[5]);
  result.best_validation_mae = v[6];
  result.best_epoch = static_cast<std::size_t>(v[7]);
  loop.best_params = values("best_parameters", 1, loop.best_params.size());
  const std::vector<double> h = values("history", kRecordValues);
  result.history.clear();
  for (std::size_t k = 0; k < h.size(); k += kRecordValues) {
    result.history.push_back(
        EpochRecord{static_cast<std::size_t>(h[k]), h[k + 1], h[k + 2], h[k + 3], h[k + 4]});
  }
  result.epochs = loop.epoch;
  return v[8];
}

}  // namespace

template <class T>
TrainResult train_forecaster(MPI_Comm comm, Forecaster<T>& model, nn::ParameterStore<T>& store,
                             const ForecastData& data, const TrainOptions& o,
                             const std::function<void(const EpochRecord&)>& observer,
                             runtime::Timers* timers,
                             const std::function<void(double, double)>& on_step,
                             const TrainingCheckpoints* checkpoints,
                             const parallel::GraphPart* sensor_part) {
  const int rank = runtime::comm_rank(comm), ranks = runtime::comm_size(comm);
  // A part's group: its ranks hold the same windows, each its own sensors.
  const MPI_Comm group = sensor_part ? sensor_part->halo().comm() : MPI_COMM_NULL;
  const auto start = Clock::now();
  double seconds_before = 0;  // a resumed training: the seconds of the runs before
  const auto elapsed = [&] { return seconds_before + seconds_since(start); };
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
  adam_options.decoupled_weight_decay = o.decoupled_weight_decay;
  optim::Adam<T> adam(store, adam_options);
  parallel::GradientAllreduce<T> allreduce(comm);
  std::unique_ptr<parallel::GradientAllreduce<T>> group_sum;
  if (sensor_part) group_sum = std::make_unique<parallel::GradientAllreduce<T>>(group);

  TrainResult result;
  result.best_validation_mae = std::numeric_limits<double>::infinity();
  TrainingLoop loop;
  loop.best_params = tensor::to_host(store.params());
  if (checkpoints && checkpoints->resume) {
    const io::Hdf5Reader& state = *checkpoints->resume;
    store.load(state, checkpoints->group + "/parameters");
    adam.load(state, checkpoints->group + "/adam");
    seconds_before = read_loop(state, checkpoints->group, loop, result);
  }
  const auto boundary = [&] {
    if (!checkpoints || !checkpoints->boundary) return;
    checkpoints->boundary(static_cast<long long>(result.steps), [&](io::ResultsFile& state) {
      store.save(state, checkpoints->group + "/parameters");
      adam.save(state, checkpoints->group + "/adam");
      write_loop(state, checkpoints->group, loop, result, elapsed());
    });
  };

  std::vector<double> grad;
  const std::size_t steps_per_epoch = (windows.size() + o.batch - 1) / o.batch;
  const double total_steps = static_cast<double>(steps_per_epoch * o.epochs);
  // One batch of the epoch's order from position `first`: forward, backward, combined
  // gradients and a step (none when the batch holds no valid target).
  const auto train_batch = [&](const std::vector<std::size_t>& order, std::size_t first) {
    const std::vector<std::size_t> global(
        order.begin() + static_cast<std::ptrdiff_t>(first),
        order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), first + o.batch)));
    const std::vector<std::size_t> mine = share(global, rank, ranks);
    ForecastBatch<T> b;
    if (!mine.empty()) b = batch_for<T>(data, mine, sensor_part);
    double counts[2] = {0, 0};  // valid targets, then |error| sum
    for (double y : b.target) counts[0] += y != 0;
    MPI_Allreduce(MPI_IN_PLACE, counts, 1, MPI_DOUBLE, MPI_SUM, comm);
    if (sensor_part) MPI_Allreduce(MPI_IN_PLACE, counts, 1, MPI_DOUBLE, MPI_SUM, group);
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
      if (group_sum) group_sum->sum(store);  // the group's sensors make one gradient
      allreduce.average(store);
    }
    MPI_Allreduce(MPI_IN_PLACE, counts + 1, 1, MPI_DOUBLE, MPI_SUM, comm);
    if (sensor_part) MPI_Allreduce(MPI_IN_PLACE, counts + 1, 1, MPI_DOUBLE, MPI_SUM, group);
    if (counts[0] == 0) return;
    if (!std::isfinite(counts[1])) {
      throw CollectiveError(str("st_forecast: the training loss is ", counts[1], " in epoch ",
                                loop.epoch + 1, " (lower train.lr)"));
    }
    loop.abs_sum += counts[1];
    loop.count_sum += counts[0];
    if (o.clip > 0) optim::clip_grad_norm(store, o.clip);
    runtime::Timers::Scope scope(timers, "st_forecast.optimizer");
    adam.step(store);
    ++result.steps;
    if (on_step) {
      on_step(static_cast<double>(loop.epoch * steps_per_epoch + first / o.batch + 1), total_steps);
    }
  };
  while (loop.epoch < o.epochs) {
    const std::vector<std::size_t> order = epoch_order(windows, o.seed, loop.epoch);
    const double lr = step_lr(o, loop.epoch);
    adam.set_lr(lr);
    while (loop.next < order.size()) {
      const std::size_t first = loop.next;
      loop.next = std::min(order.size(), first + o.batch);
      train_batch(order, first);
      // The epoch's last batch is followed by its record, then by the epoch's boundary.
      if (loop.next < order.size()) boundary();
    }
    EpochRecord record;
    record.epoch = loop.epoch + 1;
    record.lr = lr;
    record.train_mae = loop.count_sum > 0 ? loop.abs_sum / loop.count_sum : 0;
    // Validation batches of the training batch's size: memory is sized by train.batch (a
    // fixed 64 windows took the 8,448-sensor STTN of batch 2 past 12 GB a rank).
    record.validation_mae =
        evaluate_forecaster(comm, model, store, data, data.split.validation, o.batch, sensor_part)
            .mae_mean;
    record.seconds = elapsed();
    result.history.push_back(record);
    result.epochs = loop.epoch + 1;
    if (observer) observer(record);
    bool stop = false;
    if (record.validation_mae < result.best_validation_mae) {
      result.best_validation_mae = record.validation_mae;
      result.best_epoch = loop.epoch + 1;
      loop.best_params = tensor::to_host(store.params());
      loop.since_best = 0;
    } else {
      stop = ++loop.since_best >= o.patience;
    }
    ++loop.epoch;
    loop.next = 0;
    loop.abs_sum = loop.count_sum = 0;
    if (stop) break;
    boundary();
  }
  Kokkos::deep_copy(store.params(), tensor::from_host<T>(loop.best_params, "st_forecast::best"));
  result.seconds = elapsed();
  result.seconds_per_step =
      result.steps > 0 ? result.seconds / static_cast<double>(result.steps) : 0;
  return result;
}

#define TESSERA_ST_TRAINING(T)                                                                    \
  template TrainResult train_forecaster<T>(                                                       \
      MPI_Comm, Forecaster<T>&, nn::ParameterStore<T>&, const ForecastData&, const TrainOptions&, \
      const std::function<void(const EpochRecord&)>&, runtime::Timers*,                           \
      const std::function<void(double, double)>&, const TrainingCheckpoints*,                     \
      const parallel::GraphPart*);                                                                \
  template HorizonMetrics evaluate_forecaster<T>(                                                 \
      MPI_Comm, Forecaster<T>&, const nn::ParameterStore<T>&, const ForecastData&,                \
      const std::vector<std::size_t>&, std::size_t, const parallel::GraphPart*);
TESSERA_ST_TRAINING(float)
TESSERA_ST_TRAINING(double)
#undef TESSERA_ST_TRAINING

}  // namespace tessera::models::st_forecast
