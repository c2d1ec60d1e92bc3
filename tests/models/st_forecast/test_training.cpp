// Training the forecasters: the loss falls and the models beat persistence on a
// learnable synthetic series, early stopping keeps the best epoch, a training resumed
// from a checkpoint's state ends bitwise equal, data-parallel training on 1, 2 and 4
// ranks equals one rank, the masked loss and its gradient, and bad input (series,
// graphs, windows) gives one clear error.
#include <algorithm>
#include <fstream>

#include "core/parallel/rank_groups.hpp"
#include "core/parallel/sharded_softmax.hpp"
#include "core/runtime/runtime.hpp"
#include "models/st_forecast/baselines.hpp"
#include "models/st_forecast/training.hpp"
#include "tests/models/st_forecast/synthetic.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/training_checkpoints.hpp"

using namespace tessera;
using namespace tessera::models::st_forecast;
using Catch::Matchers::Contains;

namespace {

ForecasterOptions small_model(ForecasterKind kind, std::size_t sensors, std::size_t per_day) {
  ForecasterOptions o;
  o.kind = kind;
  SttnOptions& t = o.sttn;
  t.sensors = sensors;
  t.input_steps = 6;
  t.horizons = 3;
  t.steps_per_day = per_day;
  t.dim = 16;
  t.heads = 2;
  t.blocks = 1;
  t.ffn_hidden = 32;
  t.head_hidden = 32;
  t.eigenvectors = 2;
  o.mlp_hidden = 32;
  o.stgcn.blocks = 1;
  o.stgcn.channels = 16;
  o.stgcn.spatial_channels = 8;
  o.stgcn.head_hidden = 32;
  o.stid.dim = 8;
  o.stid.layers = 2;
  return o;
}

struct Setup {
  SensorSeries series;
  SensorGraph graph;
  ForecastData data;
  ScaledLaplacian laplacian;
  std::vector<double> eigenvectors;
};

Setup make_setup() {
  Setup s;
  s.series = testing::synthetic_series(240, 5);
  SensorGraphOptions chain;
  chain.source = "chain";
  s.graph = load_sensor_graph(chain, s.series.sensors);
  s.data.series = &s.series;
  s.data.split = make_windows(s.series, 6, 3, SplitFractions{});
  s.data.z = fit_zscore(s.series, s.data.split.train_end_step);
  s.laplacian = scaled_laplacian(s.graph);
  s.eigenvectors = laplacian_eigenvectors(s.graph, 2);
  return s;
}

template <class T>
struct Trained {
  TrainResult result;
  HorizonMetrics test;
  std::vector<double> params;
};

template <class T>
Trained<T> train_on(MPI_Comm comm, Setup& s, ForecasterKind kind, const TrainOptions& o,
                    const TrainingCheckpoints* checkpoints = nullptr,
                    const nn::KeyShard<T>* shard = nullptr) {
  nn::ParameterStore<T> store;
  Forecaster<T> model;
  model.declare(store, small_model(kind, s.series.sensors, s.series.steps_per_day));
  store.finalize();
  model.init(store, o.seed);
  model.set_graph(
      graph::sparse_from_host<T>(s.laplacian.row_ptr, s.laplacian.col_idx, s.laplacian.values),
      tensor::from_host<T>(s.eigenvectors, s.series.sensors, 2, "eig"));
  if (shard) model.set_spatial_key_shard(*shard);
  Trained<T> out;
  out.result = train_forecaster(comm, model, store, s.data, o, {}, nullptr, {}, checkpoints);
  out.test = evaluate_forecaster(comm, model, store, s.data, s.data.split.test, 16);
  out.params = tensor::to_host(store.params());
  return out;
}

}  // namespace

TEST_CASE("the masked MAE and its gradient skip missing targets", "[training]") {
  const ZScore z{10, 2};
  std::vector<double> grad;
  // Forecasts 12, 8, 10 in data units; the middle target is missing.
  const double loss = masked_mae_loss({1.0, -1.0, 0.0}, {11.0, 0.0, 13.0}, z, 2.0, grad);
  CHECK(loss == Approx((1.0 + 3.0) / 2.0));
  CHECK(grad == std::vector<double>{2.0 / 2.0, 0.0, -2.0 / 2.0});
}

TEST_CASE("forecasters learn a daily wave and beat persistence", "[training]") {
  Setup s = make_setup();
  const std::vector<double> truth =
      window_targets(s.series, s.data.split.test, s.data.split.input_steps, 3);
  const double persistence =
      masked_metrics(persistence_forecast(s.series, s.data.split.test, 6, 3), truth, 3).mae_mean;
  for (ForecasterKind kind : {ForecasterKind::kSttn, ForecasterKind::kMlp, ForecasterKind::kStgcn,
                              ForecasterKind::kStid}) {
    TrainOptions o;
    o.epochs = 25;
    o.batch = 16;
    o.patience = 25;
    o.lr = 3e-3;
    const Trained<float> t = train_on<float>(MPI_COMM_SELF, s, kind, o);
    INFO(forecaster_name(kind) << ": train MAE " << t.result.history.front().train_mae << " -> "
                               << t.result.history.back().train_mae << ", test MAE "
                               << t.test.mae_mean << " against persistence " << persistence);
    CHECK(t.result.history.back().train_mae < 0.5 * t.result.history.front().train_mae);
    CHECK(t.test.mae_mean < persistence);
    // The kept parameters are those of the best validation epoch.
    double best = 1e300;
    for (const EpochRecord& e : t.result.history) best = std::min(best, e.validation_mae);
    CHECK(t.result.best_validation_mae == best);
  }
}

TEST_CASE("train.optimizer: Adam's L2 weight decay and AdamW's agree without decay, differ with",
          "[training]") {
  Setup s = make_setup();
  const auto params = [&](bool decoupled, double decay) {
    TrainOptions o;
    o.epochs = 2;
    o.batch = 16;
    o.max_train_windows = 32;
    o.weight_decay = decay;
    o.decoupled_weight_decay = decoupled;
    return train_on<double>(MPI_COMM_SELF, s, ForecasterKind::kStid, o).params;
  };
  CHECK(params(true, 0) == params(false, 0));
  const std::vector<double> adamw = params(true, 1e-2), adam = params(false, 1e-2);
  double largest = 0;
  for (std::size_t i = 0; i < adam.size(); ++i) {
    largest = std::max(largest, std::abs(adam[i] - adamw[i]));
  }
  CHECK(largest > 1e-4);  // L2 through Adam's scaling moves parameters by about lr per step
}

TEST_CASE("early stopping ends training after `patience` epochs without improvement",
          "[training]") {
  Setup s = make_setup();
  TrainOptions o;
  o.epochs = 40;
  o.batch = 32;
  o.patience = 2;
  o.lr = 0.3;  // too large to keep improving
  o.max_train_windows = 32;
  const Trained<float> t = train_on<float>(MPI_COMM_SELF, s, ForecasterKind::kMlp, o);
  CHECK(t.result.epochs < 40);
  CHECK(t.result.epochs == t.result.best_epoch + 2);
}

TEST_CASE("a training resumed from a checkpoint's state ends bitwise equal", "[training]") {
  Setup s = make_setup();
  TrainOptions o;
  o.epochs = 40;
  o.batch = 8;  // 4 steps per epoch
  o.patience = 2;
  o.lr = 0.3;  // stops early
  o.max_train_windows = 32;
  o.milestones = {2};
  const testing::ScopedTempDir dir("st_resume");
  const auto path = [&](long long step) { return dir.path() + "/state_" + str(step) + ".h5"; };
  // The uninterrupted training writes its state at a boundary inside epoch 2 and at the
  // one after it (early-stopping state, best parameters and the milestone included).
  const std::vector<long long> at = {6, 8};
  const TrainingCheckpoints writing = testing::writing_at(at, path);
  const Trained<float> full = train_on<float>(MPI_COMM_SELF, s, ForecasterKind::kMlp, o, &writing);
  REQUIRE(full.result.epochs < o.epochs);
  for (long long step : at) {
    INFO("resumed at step " << step);
    const io::Hdf5Reader reader(path(step));
    long long first_boundary = -1;  // where the resumed training starts
    const TrainingCheckpoints resuming = testing::resuming_from(reader, first_boundary);
    const Trained<float> resumed =
        train_on<float>(MPI_COMM_SELF, s, ForecasterKind::kMlp, o, &resuming);
    CHECK(first_boundary == step + 1);
    CHECK(resumed.params == full.params);
    CHECK(resumed.test.mae == full.test.mae);
    CHECK(resumed.result.steps == full.result.steps);
    CHECK(resumed.result.epochs == full.result.epochs);
    CHECK(resumed.result.best_epoch == full.result.best_epoch);
    CHECK(resumed.result.best_validation_mae == full.result.best_validation_mae);
    REQUIRE(resumed.result.history.size() == full.result.history.size());
    for (std::size_t e = 0; e < full.result.history.size(); ++e) {
      CHECK(resumed.result.history[e].train_mae == full.result.history[e].train_mae);
      CHECK(resumed.result.history[e].validation_mae == full.result.history[e].validation_mae);
      CHECK(resumed.result.history[e].lr == full.result.history[e].lr);
    }
  }
  // The state of another model is refused, naming the file.
  const io::Hdf5Reader reader(path(at.front()));
  TrainingCheckpoints other;
  other.resume = &reader;
  CHECK_THROWS_WITH(train_on<float>(MPI_COMM_SELF, s, ForecasterKind::kStgcn, o, &other),
                    Contains(path(at.front())) && Contains("different model"));
}

TEST_CASE("data-parallel training equals one rank", "[training_mpi]") {
  Setup s = make_setup();
  for (ForecasterKind kind : {ForecasterKind::kSttn, ForecasterKind::kMlp, ForecasterKind::kStgcn,
                              ForecasterKind::kStid}) {
    TrainOptions o;
    o.epochs = 2;
    o.batch = 7;  // uneven shares on 2 and 4 ranks
    o.max_train_windows = 30;
    o.milestones = {1};
    const Trained<double> one = train_on<double>(MPI_COMM_SELF, s, kind, o);
    const Trained<double> all = train_on<double>(MPI_COMM_WORLD, s, kind, o);
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < one.params.size(); ++i) {
      worst = std::max(worst, std::abs(one.params[i] - all.params[i]));
      scale = std::max(scale, std::abs(one.params[i]));
    }
    INFO(forecaster_name(kind) << ": largest parameter difference " << worst);
    CHECK(worst <= 1e-9 * scale);
    CHECK(std::abs(one.test.mae_mean - all.test.mae_mean) <= 1e-9 * one.test.mae_mean);
    CHECK(one.result.best_epoch == all.result.best_epoch);
  }
}

TEST_CASE("STTN spatial attention sharded over sensor groups equals one rank", "[training_mpi]") {
  // World = sensor groups x window groups: each group's ranks score their block of the
  // sensors as keys on the same windows; the groups split the batch.
  Setup s = make_setup();
  TrainOptions o;
  o.epochs = 2;
  o.batch = 7;
  o.max_train_windows = 30;
  o.milestones = {1};
  const Trained<double> one = train_on<double>(MPI_COMM_SELF, s, ForecasterKind::kSttn, o);
  const int ranks = runtime::comm_size(MPI_COMM_WORLD);
  for (int sensor_ranks = 2; sensor_ranks <= ranks; sensor_ranks *= 2) {
    const parallel::RankGroups groups =
        parallel::split_ranks(MPI_COMM_WORLD, sensor_ranks, "train.sensor_ranks");
    const nn::KeyShard<double> shard = parallel::key_shard<double>(groups.domain, s.series.sensors);
    const Trained<double> sharded =
        train_on<double>(groups.samples, s, ForecasterKind::kSttn, o, nullptr, &shard);
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < one.params.size(); ++i) {
      worst = std::max(worst, std::abs(one.params[i] - sharded.params[i]));
      scale = std::max(scale, std::abs(one.params[i]));
    }
    INFO(sensor_ranks << " sensor ranks of " << ranks << ": largest parameter difference "
                      << worst);
    CHECK(worst <= 1e-9 * scale);
    CHECK(std::abs(one.test.mae_mean - sharded.test.mae_mean) <= 1e-9 * one.test.mae_mean);
    CHECK(one.result.best_epoch == sharded.result.best_epoch);
    // The ranks of a sensor group hold the same parameters.
    std::vector<double> first = sharded.params;
    MPI_Bcast(first.data(), static_cast<int>(first.size()), MPI_DOUBLE, 0, groups.domain);
    CHECK(first == sharded.params);
  }
}

TEST_CASE("bad series, graphs and windows are refused with the file and what is wrong",
          "[bad_input]") {
  const testing::ScopedTempDir scoped("st_bad");
  const std::string dir = scoped.path();
  const auto write = [&](const std::string& name, const std::string& text) {
    const std::string path = dir + "/" + name;
    if (runtime::comm_rank(MPI_COMM_WORLD) == 0) std::ofstream(path) << text;
    MPI_Barrier(MPI_COMM_WORLD);
    return path;
  };
  SeriesFileOptions csv;
  csv.header = true;
  const std::string good = write("good.csv", "7,8,9\n50,51,52\n49,0,53\n48,50,51\n47,52,50\n");
  CHECK(read_sensor_series(good, csv).sensors == 3);
  CHECK_THROWS_WITH(read_sensor_series(write("nan.csv", "7,8\n50,nan\n"), csv),
                    Contains("nan.csv:line 2, column 2"));
  CHECK_THROWS_WITH(read_sensor_series(write("negative.csv", "7,8\n50,-3\n"), csv),
                    Contains("negative.csv") && Contains("reading -3 at row 1, column 2"));
  CHECK_THROWS_WITH(read_sensor_series(write("grid.txt", "1 2\n3 4\n"), csv),
                    Contains("only read from a .csv file"));

  const SensorSeries series = read_sensor_series(good, csv);
  CHECK_THROWS_WITH(make_windows(series, 3, 2, SplitFractions{}),
                    Contains("good.csv") && Contains("longer than the series (4 steps)"));
  SensorSeries longer = testing::synthetic_series(26, 3);
  CHECK_THROWS_WITH(make_windows(longer, 12, 12, SplitFractions{}),
                    Contains("cannot be split into training, validation and test"));
  // 115 windows: 0.7 x 115 = 80.5 training windows, a half that Python's round (DCRNN's
  // generator) sends to the even 80; 23 test windows, 12 validation.
  const WindowSplit split115 =
      make_windows(testing::synthetic_series(138, 3), 12, 12, SplitFractions{});
  CHECK(split115.train.size() == 80);
  CHECK(split115.validation.size() == 12);
  CHECK(split115.test.size() == 23);
  longer.segment_steps = 10;
  CHECK_THROWS_WITH(make_windows(longer, 6, 6, SplitFractions{}),
                    Contains("longer than a segment (10 steps)"));

  SensorGraphOptions g;
  g.file = write("graph4.csv", "0,1,0,0\n1,0,1,0\n0,1,0,1\n0,0,1,0\n");
  CHECK_THROWS_WITH(load_sensor_graph(g, 3),
                    Contains("graph4.csv") && Contains("4 x 4 matrix, expected 3 x 3"));
  g.file = write("edges.csv", "from,to,cost\n0,1,100\n1,5,200\n");
  g.format = "edges";
  g.weighting = GraphWeighting::kGaussian;
  CHECK_THROWS_WITH(load_sensor_graph(g, 3),
                    Contains("edges.csv") && Contains("1 -> 5 names a sensor past the 3"));
  g.source = "chain";
  CHECK_THROWS_WITH(laplacian_eigenvectors(load_sensor_graph(g, 3), 3),
                    Contains("model.eigenvectors = 3") && Contains("only 3 sensors"));
}
