#pragma once
// Training a forecaster on the training windows and scoring it on any part:
//   loss     masked MAE in data units (the forecast de-normalised with the training
//            z-score; missing targets, 0, left out), averaged over the global batch;
//   step     AdamW (or Adam with L2 weight decay, as BasicTS trains), global gradient-norm
//            clipping, learning rate lr x gamma^(number of
//            milestones passed) per epoch (MultiStepLR);
//   epochs   the training windows in an order shuffled per epoch (the same on every
//            rank), batches split over the ranks by position, gradients combined;
//   stopping the validation MAE after each epoch; training stops after `patience`
//            epochs without improvement, and the best epoch's parameters are kept.
#include <mpi.h>

#include <functional>
#include <string>
#include <vector>

#include "core/io/training_checkpoints.hpp"
#include "core/nn/parameter_store.hpp"
#include "core/runtime/timers.hpp"
#include "models/st_forecast/forecaster.hpp"
#include "models/st_forecast/metrics.hpp"
#include "models/st_forecast/sensor_split.hpp"

namespace tessera::models::st_forecast {

struct TrainOptions {
  std::size_t epochs = 100, batch = 64, patience = 10;
  double lr = 1e-3, weight_decay = 1e-4, beta1 = 0.9, beta2 = 0.999, clip = 5.0;
  // true: AdamW (decay p *= 1 - lr wd); false: Adam with wd p added to the gradient (L2,
  // torch.optim.Adam's weight_decay), which Adam's scaling makes far stronger on
  // parameters with small gradients, such as rarely used embedding rows.
  bool decoupled_weight_decay = true;
  std::vector<double> milestones;     // epochs at which lr is multiplied by gamma
  double gamma = 0.3;                 // as the config key train.gamma
  std::size_t max_train_windows = 0;  // 0: all (a subset, evenly spaced, for quick runs)
  std::uint64_t seed = 1;
};

struct EpochRecord {
  std::size_t epoch = 0;  // 1-based
  double train_mae = 0, validation_mae = 0, lr = 0;
  double seconds = 0;  // training seconds from the start to this epoch's end (resumes included)
};

struct TrainResult {
  std::size_t epochs = 0, best_epoch = 0, steps = 0;
  double best_validation_mae = 0;
  double seconds = 0, seconds_per_step = 0;
  std::vector<EpochRecord> history;
};

// The data every model of a run shares.
struct ForecastData {
  const SensorSeries* series = nullptr;
  WindowSplit split;
  ZScore z;
  // The training part's historical average when the models take the daily input
  // (model.daily_input: the batches' third column, by daily_rule); null: two columns.
  const HistoricalAverage* daily = nullptr;
  DayRule daily_rule = DayRule::kPreviousDay;
};

// Checkpoints of a training (`tessera run --resume`). `boundary(step, write_state)` is
// called on every rank where the training state is whole: after every batch but an
// epoch's last, and after every epoch's record and early-stopping decision; `step` counts
// the optimiser steps so far, and `write_state` writes the state into a checkpoint's
// state file (collective), under `group`: the parameters, AdamW's moments and step, the
// position in the epoch (the batch order follows from the seed and the epoch) and its
// loss sums so far, the early-stopping state (best validation MAE, its epoch and
// parameters, epochs since), the epoch records and the training seconds. `resume`: a
// state file written so; training continues from it, and with the same options and rank
// count ends bitwise equal to a training never interrupted.
using TrainingCheckpoints = io::TrainingCheckpoints;

// `observer` gets a record after every epoch; `on_step(done, total)` after every
// optimiser step (total: steps of all epochs at most), for a progress display.
// `sensor_part`: the model's sensors split over the ranks of the part's group
// (Forecaster::set_sensor_part); `comm` then joins the ranks that hold the same part in
// the other groups, which split the batch, and the group's ranks take the same windows,
// each its own sensors' (local_batch): losses, counts and gradients are summed over the
// group as well.
template <class T>
TrainResult train_forecaster(MPI_Comm comm, Forecaster<T>& model, nn::ParameterStore<T>& store,
                             const ForecastData& data, const TrainOptions& options,
                             const std::function<void(const EpochRecord&)>& observer = {},
                             runtime::Timers* timers = nullptr,
                             const std::function<void(double, double)>& on_step = {},
                             const TrainingCheckpoints* checkpoints = nullptr,
                             const parallel::GraphPart* sensor_part = nullptr);

// Masked metrics of the model's forecasts over `starts` (collective: windows split over
// the ranks, sums combined; with `sensor_part` as in train_forecaster).
template <class T>
HorizonMetrics evaluate_forecaster(MPI_Comm comm, Forecaster<T>& model,
                                   const nn::ParameterStore<T>& store, const ForecastData& data,
                                   const std::vector<std::size_t>& starts, std::size_t batch = 64,
                                   const parallel::GraphPart* sensor_part = nullptr);

// The loss of a batch and its gradient with respect to the z-scored output:
// sum |y - target| over valid entries / denominator, with y = z.inverse(output).
double masked_mae_loss(const std::vector<double>& output, const std::vector<double>& target,
                       const ZScore& z, double denominator, std::vector<double>& grad);

}  // namespace tessera::models::st_forecast
