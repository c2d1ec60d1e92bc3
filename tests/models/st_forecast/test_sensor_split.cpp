// The STTN with its sensors split over the ranks of the world (sensor_split.hpp, graph
// attention): each rank's own sensors get the whole graph's forecasts, and the parameter
// gradients summed over the ranks are the whole graph's, on 1, 2 and 4 ranks, for 1- and
// 2-hop attention; and the split's parts (local batch, ghost reach).
#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "core/parallel/gradient_allreduce.hpp"
#include "core/parallel/rank_groups.hpp"
#include "core/runtime/runtime.hpp"
#include "core/tensor/random.hpp"
#include "models/st_forecast/forecaster.hpp"
#include "models/st_forecast/sensor_split.hpp"
#include "models/st_forecast/training.hpp"
#include "tests/models/st_forecast/synthetic.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/compare.hpp"

using namespace tessera;
using namespace tessera::models::st_forecast;
using tessera::testing::relative_difference;

namespace {

// A 4 x 5 grid of sensors (neighbours along rows and columns), weights keyed by the pair.
SensorGraph grid_graph() {
  const std::size_t n = 20;
  return testing::grid_sensor_graph(4, 5, [n](std::size_t a, std::size_t b) {
    return 0.5 + 0.5 * tensor::counter_uniform(3, 1, std::min(a, b) * n + std::max(a, b));
  });
}

ForecasterOptions split_model(std::size_t sensors, std::size_t hops) {
  ForecasterOptions o;
  o.kind = ForecasterKind::kSttn;
  SttnOptions& t = o.sttn;
  t.sensors = sensors;
  t.input_steps = 4;
  t.horizons = 3;
  t.steps_per_day = 24;
  t.dim = 8;
  t.heads = 2;
  t.blocks = 2;
  t.ffn_hidden = 12;
  t.head_hidden = 10;
  t.eigenvectors = 3;
  t.spatial_hops = hops;
  return o;
}

struct Run {
  std::vector<double> y, grads;
};

// Forward of `batch` and backward of dy (keyed by global sensor; 0 on ghosts), whole or
// on `part`; gradients summed over the world on a part.
Run run(const ForecasterOptions& o, const SensorGraph& g, const ForecastBatch<double>& batch,
        const parallel::GraphPart* part) {
  nn::ParameterStore<double> store;
  Forecaster<double> model;
  model.declare(store, o);
  store.finalize();
  model.init(store, 5);
  if (part) model.set_sensor_part(*part);
  model.set_graph(testing::device_laplacian<double>(g),
                  tensor::from_host<double>(laplacian_eigenvectors(g, 3), g.nodes, 3, "eig"));
  const ForecastBatch<double> local = part ? local_batch(batch, *part) : batch;
  Run r;
  r.y = tensor::to_host(model.forward(store, local));
  const std::size_t sensors = local.sensors, h = o.sttn.horizons;
  std::vector<double> dy(r.y.size(), 0.0);
  for (std::size_t w = 0; w < local.windows; ++w) {
    for (std::size_t l = 0; l < (part ? part->owned() : sensors); ++l) {
      const auto n = static_cast<std::size_t>(part ? part->rows()[l] : l);
      for (std::size_t k = 0; k < h; ++k) {
        dy[(w * sensors + l) * h + k] = tensor::counter_normal(7, 2, (w * g.nodes + n) * h + k);
      }
    }
  }
  store.zero_grad();
  model.backward(store, tensor::from_host<double>(dy, dy.size() / h, h, "dy"));
  if (part) parallel::GradientAllreduce<double>(MPI_COMM_WORLD).sum(store);
  r.grads = tensor::to_host(store.grads());
  return r;
}

}  // namespace

TEST_CASE(
    "STTN with its sensors split over ranks: own forecasts and summed gradients equal "
    "the whole graph's",
    "[training_mpi]") {
  const SensorGraph g = grid_graph();
  const SensorSeries s = testing::synthetic_series(60, g.nodes);
  const HistoricalAverage ha(s, 40);
  const ScaledLaplacian l = scaled_laplacian(g);
  // 1 and 2 hops; 1 hop with the previous-day input (a third input column).
  for (const auto& [hops, previous_day] :
       std::vector<std::pair<std::size_t, bool>>{{1, false}, {2, false}, {1, true}}) {
    INFO(hops << "-hop attention on " << runtime::comm_size(MPI_COMM_WORLD) << " ranks"
              << (previous_day ? ", previous-day input" : ""));
    ForecasterOptions o = split_model(g.nodes, hops);
    o.sttn.daily_input = previous_day;
    const ForecastBatch<double> batch =
        make_batch<double>(s, ZScore{50, 7}, {0, 9, 30}, 4, 3, previous_day ? &ha : nullptr);
    const Run whole = run(o, g, batch, nullptr);
    const auto part = split_sensors(MPI_COMM_WORLD, l, hops, o.sttn.cheb_order);
    const Run split = run(o, g, batch, part.get());
    // The own sensors' forecasts, against the whole graph's rows of the same sensors.
    std::vector<double> own, reference;
    const std::size_t local = part->local(), h = o.sttn.horizons;
    for (std::size_t w = 0; w < batch.windows; ++w) {
      for (std::size_t i = 0; i < part->owned(); ++i) {
        const auto n = static_cast<std::size_t>(part->rows()[i]);
        for (std::size_t k = 0; k < h; ++k) {
          own.push_back(split.y[(w * local + i) * h + k]);
          reference.push_back(whole.y[(w * g.nodes + n) * h + k]);
        }
      }
    }
    CHECK(relative_difference(reference, own) <= 1e-12);
    CHECK(relative_difference(whole.grads, split.grads) <= 1e-12);
    // Every gradient is non-zero somewhere: a missing term would show.
    CHECK(*std::max_element(whole.grads.begin(), whole.grads.end()) > 0);
  }
}

TEST_CASE(
    "a sensor split: ghosts within the reach of attention and the Chebyshev polynomial; "
    "the local batch",
    "[training_mpi]") {
  const SensorGraph g = grid_graph();
  const ScaledLaplacian l = scaled_laplacian(g);
  const auto part = split_sensors(MPI_COMM_WORLD, l, 1, 3);  // reach max(1, 3 - 1) = 2 hops
  const graph::HostCsr two_hops = graph::k_hop(laplacian_pattern(l.row_ptr, l.col_idx), 2, false);
  std::vector<long long> expected(part->rows().begin(), part->rows().begin() + part->owned());
  for (std::size_t i = 0; i < part->owned(); ++i) {
    const auto n = part->rows()[i];
    for (auto e = two_hops.row_ptr[n]; e < two_hops.row_ptr[n + 1]; ++e) {
      expected.push_back(two_hops.col_idx[e]);
    }
  }
  std::sort(expected.begin(), expected.end());
  expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
  std::vector<long long> held = part->rows();
  std::sort(held.begin(), held.end());
  CHECK(held == expected);
  // Own sensors summed over the ranks: each sensor once.
  long long owned = static_cast<long long>(part->owned());
  MPI_Allreduce(MPI_IN_PLACE, &owned, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
  CHECK(owned == static_cast<long long>(g.nodes));

  const SensorSeries s = testing::synthetic_series(60, g.nodes);
  const HistoricalAverage ha(s, 40);
  const ForecastBatch<double> batch = make_batch<double>(s, ZScore{50, 7}, {0, 9}, 4, 3);
  const ForecastBatch<double> local = local_batch(batch, *part);
  // With the previous-day column, the local batch keeps all three columns.
  const ForecastBatch<double> batch3 = make_batch<double>(s, ZScore{50, 7}, {0, 9}, 4, 3, &ha);
  const ForecastBatch<double> local3 = local_batch(batch3, *part);
  REQUIRE(local3.inputs.extent(1) == 3);
  REQUIRE(local.sensors == part->local());
  const std::vector<double> in = tensor::to_host(batch.inputs),
                            local_in = tensor::to_host(local.inputs);
  const std::size_t last = part->local() - 1, n = static_cast<std::size_t>(part->rows()[last]);
  // Window 1, the last local sensor, step 2: the whole batch's row of that sensor.
  CHECK(local_in[2 * ((1 * local.sensors + last) * 4 + 2)] == in[2 * ((1 * g.nodes + n) * 4 + 2)]);
  const std::vector<double> in3 = tensor::to_host(batch3.inputs),
                            local_in3 = tensor::to_host(local3.inputs);
  for (std::size_t c = 0; c < 3; ++c) {
    CHECK(local_in3[3 * ((1 * local.sensors + last) * 4 + 2) + c] ==
          in3[3 * ((1 * g.nodes + n) * 4 + 2) + c]);
  }
  // Targets: the own sensors' as they are, the ghosts' 0 (missing).
  const std::size_t first = 0, g0 = static_cast<std::size_t>(part->rows()[first]);
  CHECK(local.target[(1 * local.sensors + first) * 3 + 1] ==
        batch.target[(1 * g.nodes + g0) * 3 + 1]);
  if (part->local() > part->owned()) CHECK(local.target[(1 * local.sensors + last) * 3 + 1] == 0.0);
}

TEST_CASE("a sensor split needs graph attention", "[training_mpi]") {
  const SensorGraph g = grid_graph();
  const auto part = split_sensors(MPI_COMM_WORLD, scaled_laplacian(g), 1, 3);
  nn::ParameterStore<double> store;
  Sttn<double> dense;
  dense.declare(store, split_model(g.nodes, 0).sttn);
  CHECK_THROWS_WITH(dense.set_sensor_part(*part), Catch::Matchers::Contains("model.spatial_hops"));
}

TEST_CASE(
    "training with the sensors split over a group equals one rank (groups splitting the "
    "batch too)",
    "[training_mpi]") {
  const int ranks = runtime::comm_size(MPI_COMM_WORLD);
  const SensorGraph g = grid_graph();
  const SensorSeries s = testing::synthetic_series(160, g.nodes);
  ForecastData data;
  data.series = &s;
  data.split = make_windows(s, 4, 3, SplitFractions{});
  data.z = fit_zscore(s, data.split.train_end_step);
  const ScaledLaplacian l = scaled_laplacian(g);
  TrainOptions o;
  o.epochs = 2;
  o.batch = 7;  // uneven shares over the batch groups
  o.max_train_windows = 30;
  o.milestones = {1};
  const auto train = [&](int sensor_ranks, HorizonMetrics& test) {
    const parallel::RankGroups groups = parallel::split_ranks(
        sensor_ranks > 0 ? MPI_COMM_WORLD : MPI_COMM_SELF, std::max(sensor_ranks, 1), "test");
    const ForecasterOptions options = split_model(g.nodes, 2);
    nn::ParameterStore<double> store;
    Forecaster<double> model;
    model.declare(store, options);
    store.finalize();
    model.init(store, 3);
    std::unique_ptr<parallel::GraphPart> part;
    if (sensor_ranks > 1) {
      part = split_sensors(groups.domain, l, 2, options.sttn.cheb_order);
      model.set_sensor_part(*part);
    }
    model.set_graph(testing::device_laplacian<double>(g),
                    tensor::from_host<double>(laplacian_eigenvectors(g, 3), g.nodes, 3, "eig"));
    const TrainResult r = train_forecaster(groups.samples, model, store, data, o, {}, nullptr, {},
                                           nullptr, part.get());
    test = evaluate_forecaster(groups.samples, model, store, data, data.split.test, 16, part.get());
    CHECK(r.best_epoch >= 1);
    return tensor::to_host(store.params());
  };
  HorizonMetrics one_test, test;
  const std::vector<double> one = train(0, one_test);  // one rank, every sensor
  for (int sensor_ranks = 2; sensor_ranks <= ranks; sensor_ranks *= 2) {
    INFO("sensors over " << sensor_ranks << " of " << ranks << " ranks");
    const std::vector<double> split = train(sensor_ranks, test);
    CHECK(relative_difference(one, split) <= 1e-9);
    CHECK(std::abs(one_test.mae_mean - test.mae_mean) <= 1e-9 * one_test.mae_mean);
    CHECK(std::abs(one_test.rmse_mean - test.rmse_mean) <= 1e-9 * one_test.rmse_mean);
  }
}
