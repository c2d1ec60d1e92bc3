#include "models/st_forecast/run.hpp"

#include <algorithm>
#include <chrono>

#include "core/io/hdf5_reader.hpp"
#include "core/parallel/rank_groups.hpp"
#include "core/parallel/sharded_softmax.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/progress.hpp"
#include "core/runtime/runtime.hpp"
#include "models/st_forecast/baselines.hpp"

namespace tessera::models::st_forecast {

namespace {

void write_metrics(io::ResultsFile& results, const ForecastResult& r) {
  const std::string group = "/test/" + r.name;
  const std::uint64_t h = r.test.mae.size();
  results.write_root_array(group + "/mae", {h}, r.test.mae);
  results.write_root_array(group + "/rmse", {h}, r.test.rmse);
  results.write_root_array(group + "/mape", {h}, r.test.mape);
  results.set_attribute(group + "/mae", "mean", r.test.mae_mean);
  results.set_attribute(group + "/rmse", "mean", r.test.rmse_mean);
  results.set_attribute(group + "/mape", "mean", r.test.mape_mean);
}

// Checkpoints (`tessera run --resume`): the models are trained one after the other, so a
// checkpoint holds where the run stands ([model in training, optimiser steps of the
// models before it] in /st_forecast/loop), the results of the models done (their test
// metrics and training summaries, for the final summary: their datasets are in the
// results file already) and the training state of the current model (training.hpp).
// The baselines are recomputed on resume: they are deterministic and write no metric rows.
constexpr std::size_t kResultScalars = 10;

std::string done_group(std::size_t model) {
  return str("/st_forecast/done/", model);
}

void write_result(io::ResultsFile& state, const std::string& group, const ForecastResult& r) {
  const HorizonMetrics& m = r.test;
  std::vector<double> test = m.mae;
  test.insert(test.end(), m.rmse.begin(), m.rmse.end());
  test.insert(test.end(), m.mape.begin(), m.mape.end());
  state.write_root_array(group + "/test", {3, m.mae.size()}, test);
  const TrainResult& t = r.training;
  state.write_root_array(
      group + "/scalars", {kResultScalars},
      {static_cast<double>(r.parameters), m.mae_mean, m.rmse_mean, m.mape_mean,
       static_cast<double>(t.epochs), static_cast<double>(t.best_epoch),
       static_cast<double>(t.steps), t.best_validation_mae, t.seconds, t.seconds_per_step});
}

ForecastResult read_result(const io::Hdf5Reader& state, const std::string& group,
                           const std::string& name, std::size_t horizons) {
  const std::vector<double> test = state.read(group + "/test");
  const std::vector<double> v = state.read(group + "/scalars");
  if (test.size() != 3 * horizons || v.size() != kResultScalars) {
    throw InputError(str(state.path(), ": ", group, " holds ", test.size(), " test metrics and ",
                         v.size(), " values, expected ", 3 * horizons, " and ", kResultScalars,
                         " (a checkpoint of another run)"));
  }
  ForecastResult r;
  r.name = name;
  r.learned = true;
  const auto part = [&](std::size_t k) {
    return std::vector<double>(test.begin() + static_cast<std::ptrdiff_t>(k * horizons),
                               test.begin() + static_cast<std::ptrdiff_t>((k + 1) * horizons));
  };
  r.test = HorizonMetrics{part(0), part(1), part(2), v[1], v[2], v[3]};
  r.parameters = static_cast<std::size_t>(v[0]);
  r.training.epochs = static_cast<std::size_t>(v[4]);
  r.training.best_epoch = static_cast<std::size_t>(v[5]);
  r.training.steps = static_cast<std::size_t>(v[6]);
  r.training.best_validation_mae = v[7];
  r.training.seconds = v[8];
  r.training.seconds_per_step = v[9];
  return r;
}

// The weekday embedding: as configured, or (auto) on when the steps the training windows
// read cover all seven weekdays.
bool weekday_embedding(const StForecastConfig& c, const ForecastData& data) {
  if (c.weekday_embedding != "auto") return c.weekday_embedding == "on";
  std::vector<bool> seen(7, false);
  for (std::size_t t = 0; t < data.split.train_end_step; ++t) seen[data.series->weekday(t)] = true;
  return std::count(seen.begin(), seen.end(), true) == 7;
}

template <class T>
ForecastResult train_and_score(const StForecastConfig& c, const io::RunContext& ctx,
                               ForecasterKind kind, const ForecastData& data,
                               const ScaledLaplacian& laplacian,
                               const std::vector<double>& eigenvectors,
                               const TrainingCheckpoints* checkpoints) {
  const int rank = runtime::comm_rank(ctx.comm);
  ForecasterOptions options = c.model;
  options.kind = kind;
  options.sttn.sensors = data.series->sensors;
  options.sttn.weekday_embedding = weekday_embedding(c, data);
  nn::ParameterStore<T> store;
  Forecaster<T> model;
  model.declare(store, options);
  store.finalize();
  model.init(store, c.training.seed);
  // Sensor groups (train.sensor_ranks): each group's ranks run the same windows, and the
  // groups split the batch. The STTN with graph attention splits its sensors over the
  // group's ranks (sensor_split.hpp); with dense attention it shards the attention keys.
  const parallel::RankGroups groups =
      parallel::split_ranks(ctx.comm, c.sensor_ranks, "train.sensor_ranks");
  std::unique_ptr<parallel::GraphPart> sensor_part;
  const bool sttn = kind == ForecasterKind::kSttn;
  if (groups.domain_ranks > 1 && sttn && options.sttn.spatial_hops > 0) {
    sensor_part =
        split_sensors(groups.domain, laplacian, options.sttn.spatial_hops, options.sttn.cheb_order);
    model.set_sensor_part(*sensor_part);
    long long counts[2] = {static_cast<long long>(sensor_part->owned()),
                           static_cast<long long>(sensor_part->local() - sensor_part->owned())};
    MPI_Allreduce(MPI_IN_PLACE, counts, 2, MPI_LONG_LONG, MPI_SUM, groups.domain);
    runtime::log::info(str(forecaster_name(kind), ": sensors split over ", groups.domain_ranks,
                           " ranks per sensor group (METIS): ", counts[1], " ghost rows for ",
                           counts[0], " sensors, exchanged before every block; ",
                           groups.sample_groups, " group(s) splitting the batch"));
  } else if (groups.domain_ranks > 1) {
    const nn::KeyShard<T> shard = parallel::key_shard<T>(groups.domain, data.series->sensors);
    model.set_spatial_key_shard(shard);
    if (sttn) {
      runtime::log::info(str(forecaster_name(kind), ": spatial attention keys sharded over ",
                             groups.domain_ranks, " ranks per sensor group (about ", shard.count,
                             " of ", data.series->sensors, " sensors each), ", groups.sample_groups,
                             " group(s) splitting the batch"));
    }
  }
  const std::size_t count = eigenvectors.size() / data.series->sensors;
  model.set_graph(
      graph::sparse_from_host<T>(laplacian.row_ptr, laplacian.col_idx, laplacian.values),
      tensor::from_host<T>(eigenvectors, data.series->sensors, count, "st_forecast::eigenvectors"));
  if (kind == ForecasterKind::kSttn && options.sttn.memory_patterns > 0 &&
      options.sttn.memory_from_windows) {
    // 8 training windows spread over the training part, the same on every rank.
    const std::vector<std::size_t>& train = data.split.train;
    const std::size_t count_windows = std::min<std::size_t>(8, train.size());
    std::vector<std::size_t> starts;
    for (std::size_t k = 0; k < count_windows; ++k) {
      starts.push_back(train[k * train.size() / count_windows]);
    }
    model.seed_memory(store, make_batch<T>(*data.series, data.z, starts, data.split.input_steps,
                                           data.split.output_steps, data.daily,
                                           data.daily_rule));
  }
  ForecastResult r;
  r.name = forecaster_name(kind);
  r.learned = true;
  r.parameters = store.size();
  runtime::log::info(
      str(r.name, ": ", store.size(), " parameters; up to ", c.training.epochs, " epochs of batch ",
          c.training.batch, ", ", c.training.decoupled_weight_decay ? "AdamW" : "Adam (L2)", " lr ",
          c.training.lr, " weight decay ", c.training.weight_decay,
          (kind == ForecasterKind::kSttn || kind == ForecasterKind::kStid) &&
                  !options.sttn.weekday_embedding
              ? "; no weekday embedding (model.weekday_embedding = " + c.weekday_embedding +
                    (c.weekday_embedding == "auto" ? ": the training part lacks a weekday)" : ")")
              : ""));
  io::ResultsFile& results = *ctx.results;
  const std::size_t windows = c.training.max_train_windows > 0
                                  ? std::min(c.training.max_train_windows, data.split.train.size())
                                  : data.split.train.size();
  const std::size_t steps_per_epoch = (windows + c.training.batch - 1) / c.training.batch;
  runtime::Progress progress(
      r.name, static_cast<double>(std::max<std::size_t>(1, c.training.epochs * steps_per_epoch)),
      rank == 0, "steps");
  std::string last_epoch = "epoch 1";
  auto observer = [&](const EpochRecord& e) {
    const double x = static_cast<double>(e.epoch);
    results.append_metric(r.name + "_train_mae", x, e.train_mae);
    results.append_metric(r.name + "_validation_mae", x, e.validation_mae);
    results.append_metric(r.name + "_lr", x, e.lr);
    results.append_metric(r.name + "_elapsed_seconds", x, e.seconds);
    runtime::log::info(str(r.name, ": epoch ", e.epoch, ": train MAE ", e.train_mae,
                           ", validation MAE ", e.validation_mae, " (", e.seconds,
                           " s of training so far)"));
    last_epoch = str("epoch ", e.epoch + 1, "; epoch ", e.epoch, ": train MAE ", e.train_mae,
                     ", validation MAE ", e.validation_mae);
    progress.update(x * static_cast<double>(steps_per_epoch), last_epoch);
  };
  auto on_step = [&](double done, double) { progress.update(done, last_epoch); };
  {
    runtime::Timers::Scope scope(ctx.timers, r.name + ".train");
    if (checkpoints && checkpoints->resume) {
      runtime::log::info(str(r.name, ": resuming training from ", checkpoints->resume->path()));
    }
    r.training = train_forecaster(groups.samples, model, store, data, c.training, observer,
                                  ctx.timers, on_step, checkpoints, sensor_part.get());
  }
  progress.finish(str("best validation MAE ", r.training.best_validation_mae, " at epoch ",
                      r.training.best_epoch));
  {
    runtime::Timers::Scope scope(ctx.timers, r.name + ".test");
    r.test = evaluate_forecaster(groups.samples, model, store, data, data.split.test,
                                 c.training.batch, sensor_part.get());
  }
  results.set_attribute("/", r.name + "_parameters", static_cast<double>(r.parameters));
  results.set_attribute("/", r.name + "_epochs", static_cast<double>(r.training.epochs));
  results.set_attribute("/", r.name + "_best_epoch", static_cast<double>(r.training.best_epoch));
  results.set_attribute("/", r.name + "_seconds_per_step", r.training.seconds_per_step);
  results.set_attribute("/", r.name + "_train_seconds", r.training.seconds);
  store.save(results, "/checkpoint/" + r.name + "/parameters");
  return r;
}

}  // namespace

StForecastSummary run_st_forecast(const StForecastConfig& c, const io::RunContext& ctx) {
  StForecastSummary summary;
  SensorSeries series;
  SensorGraph graph;
  ForecastData data;
  {
    runtime::Timers::Scope scope(ctx.timers, "st_forecast.read");
    config::with_source(c.source, [&] {
      series = load_series(c);
      data.split = make_windows(series, c.input_steps, c.output_steps, c.split);
      graph = load_graph(c, series.sensors);
    });
  }
  data.series = &series;
  data.z = fit_zscore(series, data.split.train_end_step);
  summary.sensors = series.sensors;
  summary.steps = series.steps;
  summary.graph_edges = graph.edges();
  summary.train_windows = data.split.train.size();
  summary.validation_windows = data.split.validation.size();
  summary.test_windows = data.split.test.size();
  summary.minutes_per_step = 1440.0 / static_cast<double>(series.steps_per_day);
  summary.report_horizons = c.report_horizons;
  // The split and the z-score, for analysis scripts that rebuild the windows.
  ctx.results->set_attribute("/", "train_windows", static_cast<double>(summary.train_windows));
  ctx.results->set_attribute("/", "validation_windows",
                             static_cast<double>(summary.validation_windows));
  ctx.results->set_attribute("/", "test_windows", static_cast<double>(summary.test_windows));
  ctx.results->set_attribute("/", "zscore_mean", data.z.mean);
  ctx.results->set_attribute("/", "zscore_std", data.z.std);
  runtime::log::info(
      str("st_forecast: ", series.sensors, " sensors x ", series.steps, " steps, graph of ",
          summary.graph_edges, " directed edges; windows ", c.input_steps, " -> ", c.output_steps,
          ": ", summary.train_windows, " training, ", summary.validation_windows, " validation, ",
          summary.test_windows, " test; z-score mean ", data.z.mean, ", std ", data.z.std));

  // The baselines, on the test windows.
  const std::vector<double> truth =
      window_targets(series, data.split.test, c.input_steps, c.output_steps);
  const HistoricalAverage ha(series, data.split.train_end_step);
  const auto baseline = [&](const std::string& name, const std::vector<double>& forecast) {
    ForecastResult r;
    r.name = name;
    r.test = masked_metrics(forecast, truth, c.output_steps);
    summary.results.push_back(r);
    write_metrics(*ctx.results, r);
  };
  baseline("persistence",
           persistence_forecast(series, data.split.test, c.input_steps, c.output_steps));
  baseline("historical_average",
           historical_average_forecast(ha, series, data.split.test, c.input_steps, c.output_steps));
  for (DayRule rule : {DayRule::kPreviousDay, DayRule::kLastSimilarDay}) {
    baseline(day_rule_name(rule), day_before_forecast(ha, series, data.split.test, c.input_steps,
                                                      c.output_steps, rule));
  }
  ctx.results->set_attribute("/test/historical_average/mae", "slots",
                             ha.weekly() ? "time of week" : "time of day");
  if (c.model.sttn.daily_input) {
    data.daily = &ha;
    data.daily_rule = c.daily_rule;
    runtime::log::info(str("st_forecast: the sttn, stid and mlp take the ",
                           day_rule_name(c.daily_rule),
                           " forecast of each horizon as an input (model.daily_input)"));
  }
  ctx.results->set_attribute("/", "daily_input",
                             c.model.sttn.daily_input ? day_rule_name(c.daily_rule) : "off");

  if (!c.kinds.empty()) {
    ScaledLaplacian laplacian;
    std::vector<double> eigenvectors;
    {
      runtime::Timers::Scope scope(ctx.timers, "st_forecast.graph");
      laplacian = scaled_laplacian(graph);
      const bool need_eigenvectors = c.model.sttn.spatial != SpatialEmbedding::kLearned;
      for (ForecasterKind kind : c.kinds) {
        if (kind == ForecasterKind::kSttn && need_eigenvectors && eigenvectors.empty()) {
          EigenStats stats;
          const auto start = std::chrono::steady_clock::now();
          eigenvectors =
              laplacian_eigenvectors(graph, c.model.sttn.eigenvectors, EigenMethod::kAuto, &stats);
          const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
          if (stats.method == EigenMethod::kFiltered) {
            runtime::log::info(str("st_forecast: ", c.model.sttn.eigenvectors,
                                   " Laplacian eigenvectors of ", graph.nodes,
                                   " sensors by filtered subspace iteration in ", took.count(),
                                   " s (", stats.iterations, " iterations, ", stats.products,
                                   " block products, largest residual ", stats.max_residual, ")"));
          }
        }
      }
    }
    // Checkpoints: see write_result.
    io::TrainingSequence sequence(ctx.checkpoints, *ctx.results, "/st_forecast", c.kinds.size());
    std::vector<ForecastResult> learned;  // the models done, in order
    for (std::size_t k = 0; k < sequence.first(); ++k) {
      learned.push_back(read_result(*sequence.resume_state(), done_group(k),
                                    forecaster_name(c.kinds[k]), c.output_steps));
      summary.results.push_back(learned.back());
    }
    for (std::size_t k = sequence.first(); k < c.kinds.size(); ++k) {
      const TrainingCheckpoints* checkpoints =
          sequence.for_model(k, [&](io::ResultsFile& state, std::size_t j) {
            write_result(state, done_group(j), learned[j]);
          });
      learned.push_back(
          train_and_score<float>(c, ctx, c.kinds[k], data, laplacian, eigenvectors, checkpoints));
      sequence.finished(static_cast<long long>(learned.back().training.steps));
      summary.results.push_back(learned.back());
      write_metrics(*ctx.results, summary.results.back());
    }
  }
  ctx.results->write_root_array("/test/horizon_minutes", {c.output_steps}, [&] {
    std::vector<double> minutes(c.output_steps);
    for (std::size_t h = 0; h < c.output_steps; ++h) {
      minutes[h] = static_cast<double>(h + 1) * summary.minutes_per_step;
    }
    return minutes;
  }());
  return summary;
}

}  // namespace tessera::models::st_forecast
