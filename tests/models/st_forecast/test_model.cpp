// The forecasting models: finite-difference gradients of the whole STTN (every
// spatial-embedding choice), the per-sensor MLP, the STGCN and STID in double, and the Chebyshev
// convolution against dense Chebyshev polynomials of the Laplacian.
#include <algorithm>
#include <cmath>
#include <utility>

#include "core/nn/chebyshev_conv.hpp"
#include "core/tensor/host_copy.hpp"
#include "models/st_forecast/forecaster.hpp"
#include "tests/models/st_forecast/synthetic.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/gradient_check.hpp"

using namespace tessera;
using namespace tessera::models::st_forecast;
using tessera::testing::check_gradient;
using tessera::testing::random_matrix;
using tessera::testing::weighted_sum;

namespace {

SensorGraphOptions chain() {
  SensorGraphOptions o;
  o.source = "chain";
  return o;
}

// A forecaster of options `o` (small sizes filled in) on 3 windows of a 5-sensor chain,
// with a random weighting r of its outputs (loss = sum(y * r)).
struct SmallCase {
  SensorSeries s = testing::synthetic_series(60, 5);
  SensorGraph g = load_sensor_graph(chain(), s.sensors);
  HistoricalAverage ha{s, 40};  // for the previous-day column
  nn::ParameterStore<double> store;
  Forecaster<double> model;
  ForecastBatch<double> batch;
  Matrix<double> r = random_matrix(3 * s.sensors, 3, 17);

  explicit SmallCase(ForecasterOptions o) {
    o.sttn.sensors = s.sensors;
    o.sttn.input_steps = 4;
    o.sttn.horizons = 3;
    o.sttn.steps_per_day = s.steps_per_day;
    o.sttn.dim = 8;
    o.sttn.heads = 2;
    o.sttn.blocks = 2;
    o.sttn.ffn_hidden = 12;
    o.sttn.head_hidden = 10;
    o.sttn.eigenvectors = 3;
    o.mlp_hidden = 9;
    o.stgcn.blocks = 1;  // 4 steps: one block of two kt = 2 temporal convolutions
    o.stgcn.kt = 2;
    o.stgcn.channels = 6;
    o.stgcn.spatial_channels = 4;
    o.stgcn.head_hidden = 7;
    o.stid.dim = 4;
    o.stid.layers = 2;
    model.declare(store, o);
    store.finalize();
    model.init(store, 5);
    model.set_graph(testing::device_laplacian<double>(g),
                    tensor::from_host<double>(laplacian_eigenvectors(g, 3), s.sensors, 3, "eig"));
    const ZScore z{50, 7};
    batch = make_batch<double>(s, z, {0, 9, 30}, 4, 3, o.sttn.daily_input ? &ha : nullptr);
  }

  // The outputs, then every parameter gradient of sum(y * r).
  std::pair<std::vector<double>, std::vector<double>> run() {
    store.zero_grad();
    std::vector<double> y = tensor::to_host(model.forward(store, batch));
    model.backward(store, r);
    return {y, tensor::to_host(store.grads())};
  }
};

// Gradient check of a forecaster on 3 windows of a 5-sensor chain.
double forecaster_gradient_error(const ForecasterOptions& o) {
  SmallCase c(o);
  c.run();
  auto loss = [&] { return weighted_sum(c.model.forward(c.store, c.batch), c.r); };
  const auto check = check_gradient(c.store.params(), c.store.grads(), loss, 1e-5, 500);
  UNSCOPED_INFO("worst parameter " << check.worst_index << " of " << c.store.size()
                                   << ", largest absolute error " << check.max_abs_error);
  return check.max_relative_error;
}

}  // namespace

TEST_CASE("STTN parameter gradients match finite differences", "[model_fd]") {
  for (SpatialEmbedding spatial :
       {SpatialEmbedding::kBoth, SpatialEmbedding::kLaplacian, SpatialEmbedding::kLearned}) {
    ForecasterOptions o;
    o.kind = ForecasterKind::kSttn;
    o.sttn.spatial = spatial;
    o.sttn.weekday_embedding = spatial != SpatialEmbedding::kLearned;  // both ways covered
    CHECK(forecaster_gradient_error(o) < 1e-6);
  }
  // The Hopfield ablation: a Hopfield layer of 6 learned patterns in place of the
  // spatial FFN, with dense and with graph attention.
  for (std::size_t hops : {0, 1}) {
    ForecasterOptions o;
    o.kind = ForecasterKind::kSttn;
    o.sttn.memory_patterns = 6;
    o.sttn.spatial_hops = hops;
    INFO("Hopfield memory, " << hops << " hops");
    CHECK(forecaster_gradient_error(o) < 1e-6);
  }
}

TEST_CASE("the STTN's Hopfield memory seeded from encoded training windows", "[model_fd]") {
  ForecasterOptions o;
  o.kind = ForecasterKind::kSttn;
  o.sttn.memory_patterns = 6;
  SmallCase c(o);
  const std::vector<double> before = tensor::to_host(c.store.params());
  c.model.seed_memory(c.store, c.batch);
  const std::vector<double> after = tensor::to_host(c.store.params());
  // Only the two blocks' stored patterns (6 x 8 each) changed.
  std::size_t changed = 0;
  for (std::size_t i = 0; i < before.size(); ++i) changed += before[i] != after[i];
  CHECK(changed == 2 * 6 * 8);
  // They are rows of LayerNorm outputs (weight 1, bias 0 at init): mean 0, variance 1
  // per row, where random patterns are not.
  for (const nn::Slice& slice : c.store.slices()) {
    if (slice.name.find(".memory.lookup") == std::string::npos) continue;
    INFO(slice.name);
    for (std::size_t k = 0; k < 6; ++k) {
      double mean = 0, square = 0;
      for (std::size_t j = 0; j < 8; ++j) mean += after[slice.offset + k * 8 + j] / 8;
      for (std::size_t j = 0; j < 8; ++j) {
        square += std::pow(after[slice.offset + k * 8 + j] - mean, 2) / 8;
      }
      CHECK(std::abs(mean) < 1e-12);
      CHECK(std::abs(square - 1) < 1e-3);
    }
  }
  // Seeding again from the same windows gives the same patterns.
  c.model.seed_memory(c.store, c.batch);
  CHECK(tensor::to_host(c.store.params()) == after);
}

TEST_CASE(
    "STTN with graph attention over K-hop neighbourhoods: finite differences, and the dense model "
    "when K reaches every sensor",
    "[model_fd]") {
  ForecasterOptions o;
  o.kind = ForecasterKind::kSttn;
  for (std::size_t hops : {1, 2}) {
    o.sttn.spatial_hops = hops;
    INFO(hops << " hops");
    CHECK(forecaster_gradient_error(o) < 1e-6);
  }
  // On the 5-sensor chain 4 hops reach every sensor: the complete graph with self loops.
  o.sttn.spatial_hops = 0;
  SmallCase dense(o);
  o.sttn.spatial_hops = 4;
  SmallCase graph(o);
  const auto [y_dense, g_dense] = dense.run();
  const auto [y_graph, g_graph] = graph.run();
  REQUIRE(g_dense.size() == g_graph.size());  // the same parameters
  double worst_y = 0, worst_g = 0, scale_g = 0;
  for (std::size_t i = 0; i < y_dense.size(); ++i) {
    worst_y = std::max(worst_y, std::abs(y_dense[i] - y_graph[i]));
  }
  for (std::size_t i = 0; i < g_dense.size(); ++i) {
    worst_g = std::max(worst_g, std::abs(g_dense[i] - g_graph[i]));
    scale_g = std::max(scale_g, std::abs(g_dense[i]));
  }
  CHECK(worst_y <= 1e-12);
  CHECK(worst_g <= 1e-12 * scale_g);
  // One hop on the chain is not the dense model.
  o.sttn.spatial_hops = 1;
  SmallCase sparse(o);
  CHECK(sparse.run().first != y_dense);
  // A smaller batch after a larger one reads a prefix of the larger batch's graph: the
  // same forecasts as a model that never saw the larger batch.
  const ZScore z{50, 7};
  const ForecastBatch<double> one = make_batch<double>(sparse.s, z, {9}, 4, 3);
  const std::vector<double> after_larger = tensor::to_host(sparse.model.forward(sparse.store, one));
  SmallCase fresh(o);
  CHECK(tensor::to_host(fresh.model.forward(fresh.store, one)) == after_larger);
}

TEST_CASE("per-sensor MLP gradients match finite differences", "[model_fd]") {
  ForecasterOptions o;
  o.kind = ForecasterKind::kMlp;
  CHECK(forecaster_gradient_error(o) < 1e-6);
}

TEST_CASE("STGCN gradients match finite differences", "[model_fd]") {
  ForecasterOptions o;
  o.kind = ForecasterKind::kStgcn;
  CHECK(forecaster_gradient_error(o) < 1e-6);
}

TEST_CASE("STID gradients match finite differences, with and without the weekday table",
          "[model_fd]") {
  for (bool weekday : {true, false}) {
    ForecasterOptions o;
    o.kind = ForecasterKind::kStid;
    o.sttn.weekday_embedding = weekday;
    INFO("weekday embedding " << weekday);
    CHECK(forecaster_gradient_error(o) < 1e-6);
  }
}

TEST_CASE("STID reads each row's sensor and its last input step's time of day and weekday",
          "[model_fd]") {
  // Changing the slot of any input step but the last leaves the forecast as it is;
  // changing the last one's moves it.
  ForecasterOptions o;
  o.kind = ForecasterKind::kStid;
  SmallCase c(o);
  const std::vector<double> before = tensor::to_host(c.model.forward(c.store, c.batch));
  auto slot = Kokkos::create_mirror_view(c.batch.slot);
  Kokkos::deep_copy(slot, c.batch.slot);
  slot(0) = (slot(0) + 1) % static_cast<int>(c.s.steps_per_day);  // row 0, step 0
  Kokkos::deep_copy(c.batch.slot, slot);
  CHECK(tensor::to_host(c.model.forward(c.store, c.batch)) == before);
  slot(3) = (slot(3) + 1) % static_cast<int>(c.s.steps_per_day);  // row 0, step 3 (last)
  Kokkos::deep_copy(c.batch.slot, slot);
  const std::vector<double> after = tensor::to_host(c.model.forward(c.store, c.batch));
  CHECK(after[0] != before[0]);
  CHECK(std::equal(after.begin() + 3, after.end(), before.begin() + 3));  // other rows
}

TEST_CASE("the daily input: its column, and the gradients of the models that take it",
          "[model_fd]") {
  const SensorSeries s = testing::synthetic_series(60, 5);
  const HistoricalAverage ha(s, 40);
  const ZScore z{50, 7};
  // Windows starting at 0 and 9 (targets in the first day: the historical average) and 30
  // (targets at steps 34-36: the readings of steps 10-12).
  const std::vector<std::size_t> starts = {0, 9, 30};
  const ForecastBatch<double> b = make_batch<double>(s, z, starts, 4, 3, &ha);
  const ForecastBatch<double> plain = make_batch<double>(s, z, starts, 4, 3);
  REQUIRE(b.inputs.extent(1) == 3);
  const std::vector<double> in = tensor::to_host(b.inputs), in2 = tensor::to_host(plain.inputs);
  const std::vector<double> baseline =
      day_before_forecast(ha, s, starts, 4, 3, DayRule::kPreviousDay);
  for (std::size_t w = 0; w < starts.size(); ++w) {
    for (std::size_t n = 0; n < s.sensors; ++n) {
      for (std::size_t t = 0; t < 4; ++t) {
        const std::size_t r = (w * s.sensors + n) * 4 + t;
        INFO("window " << w << ", sensor " << n << ", step " << t);
        CHECK(in[3 * r] == in2[2 * r]);  // the reading and the time of day as before
        CHECK(in[3 * r + 1] == in2[2 * r + 1]);
        const double expected =
            t < 3 ? z.forward(baseline[(w * s.sensors + n) * 3 + t]) : 0.0;  // horizon t
        CHECK(in[3 * r + 2] == expected);
      }
    }
  }
  // The fallback is used: sensor 0's reading at step 17 is missing, and window 9's horizon
  // 2 (step 15) reads step 15 - 24 < 0: both the historical average.
  const DayRule previous = DayRule::kPreviousDay;
  CHECK(day_before_value(ha, s, 15, 0, previous) == ha.at(15, 0));
  CHECK(day_before_value(ha, s, 17 + 24, 0, previous) == ha.at(17 + 24, 0));
  CHECK(day_before_value(ha, s, 30, 2, previous) == s.at(6, 2));
  CHECK_THROWS_AS(make_batch<double>(s, z, starts, 3, 4, &ha), std::invalid_argument);

  for (ForecasterKind kind : {ForecasterKind::kSttn, ForecasterKind::kStid, ForecasterKind::kMlp}) {
    ForecasterOptions o;
    o.kind = kind;
    o.sttn.daily_input = true;
    INFO(forecaster_name(kind) << " with the daily input");
    CHECK(forecaster_gradient_error(o) < 1e-6);
    // The column is read: changing it moves the forecast. A batch without it is refused.
    SmallCase c(o);
    const std::vector<double> before = tensor::to_host(c.model.forward(c.store, c.batch));
    std::vector<double> changed = tensor::to_host(c.batch.inputs);
    changed[3 * 1 + 2] += 0.5;  // row 0 (window 0, sensor 0), step 1: horizon 1's value
    c.batch.inputs = tensor::from_host<double>(changed, changed.size() / 3, 3, "inputs");
    const std::vector<double> after = tensor::to_host(c.model.forward(c.store, c.batch));
    CHECK(after[0] != before[0]);
    CHECK_THROWS_AS(c.model.forward(c.store, make_batch<double>(c.s, z, starts, 4, 3)),
                    std::invalid_argument);
  }
}

TEST_CASE("the last similar day: Monday reads Friday, weekends read weekends", "[model_fd]") {
  // 8 days of 24 steps from a Wednesday (first_weekday 2), the first slot 3: step t is on
  // day (t + 3) / 24, so day 0 Wednesday, 2 Friday, 3 Saturday, 4 Sunday, 5 Monday.
  SensorSeries s = testing::synthetic_series(8 * 24, 2);
  const HistoricalAverage ha(s, 6 * 24);
  const auto at_day = [](std::size_t day) { return day * 24 - 3 + 10; };  // slot 10 of a day
  const DayRule similar = DayRule::kLastSimilarDay, previous = DayRule::kPreviousDay;
  REQUIRE(s.weekday(at_day(5)) == 0);  // Monday
  CHECK(day_before_value(ha, s, at_day(5), 1, similar) == s.at(at_day(2), 1));   // Friday
  CHECK(day_before_value(ha, s, at_day(5), 1, previous) == s.at(at_day(4), 1));  // Sunday
  CHECK(day_before_value(ha, s, at_day(4), 1, similar) == s.at(at_day(3), 1));   // Saturday
  CHECK(day_before_value(ha, s, at_day(6), 1, similar) == s.at(at_day(5), 1));   // Tuesday: Monday
  // Saturday: no weekend day within the series before it, so the historical average.
  CHECK(day_before_value(ha, s, at_day(3), 1, similar) == ha.at(at_day(3), 1));
  // A missing reading on the day picked: the historical average (no further search).
  s.values[at_day(2) * s.sensors + 0] = 0;
  CHECK(day_before_value(ha, s, at_day(5), 0, similar) == ha.at(at_day(5), 0));
  // The batch column by the rule.
  const ZScore z{50, 7};
  const std::size_t start = at_day(5) - 4;  // horizon 0 at Monday's slot 10
  const std::vector<double> in =
      tensor::to_host(make_batch<double>(s, z, {start}, 4, 3, &ha, similar).inputs);
  CHECK(in[3 * (1 * 4 + 0) + 2] == z.forward(s.at(at_day(2), 1)));  // sensor 1, step 0
}

TEST_CASE("Chebyshev convolution equals dense Chebyshev polynomials of the Laplacian",
          "[model_fd]") {
  const std::size_t n = 6, groups = 2, in = 3, out = 2, order = 4;
  std::vector<double> ring(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {  // a ring with one chord
    const std::size_t j = (i + 1) % n;
    ring[i * n + j] = ring[j * n + i] = 1.0 + 0.1 * static_cast<double>(i);
  }
  ring[0 * n + 3] = ring[3 * n + 0] = 0.5;
  const SensorGraph g = sensor_graph_from_dense(n, ring);
  const ScaledLaplacian l = scaled_laplacian(g);
  const std::vector<double> dense = testing::dense_laplacian(l, n);
  nn::ParameterStore<double> store;
  nn::ChebyshevConv<double> conv;
  conv.declare(store, "cheb", in, out, order);
  store.finalize();
  conv.init(store, 3);
  const Matrix<double> x = random_matrix(groups * n, in, 4);
  const std::vector<double> y =
      tensor::to_host(conv.forward(store, x, testing::device_laplacian<double>(g)));
  const std::vector<double> xh = tensor::to_host(x);
  const std::vector<double> w = tensor::to_host(store.param_matrix(conv.linear().weight_id()));
  const std::vector<double> b = tensor::to_host(store.param_vector(conv.linear().bias_id()));
  double worst = 0;
  for (std::size_t grp = 0; grp < groups; ++grp) {
    // T_k x by the dense recurrence, then the weights.
    std::vector<std::vector<double>> terms(order, std::vector<double>(n * in, 0.0));
    for (std::size_t i = 0; i < n * in; ++i) terms[0][i] = xh[grp * n * in + i];
    for (std::size_t k = 1; k < order; ++k) {
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t c = 0; c < in; ++c) {
          double acc = 0;
          for (std::size_t j = 0; j < n; ++j) acc += dense[i * n + j] * terms[k - 1][j * in + c];
          terms[k][i * in + c] = k == 1 ? acc : 2 * acc - terms[k - 2][i * in + c];
        }
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t o = 0; o < out; ++o) {
        double expected = b[o];
        for (std::size_t k = 0; k < order; ++k) {
          for (std::size_t c = 0; c < in; ++c) {
            expected += w[o * order * in + k * in + c] * terms[k][i * in + c];
          }
        }
        worst = std::max(worst, std::abs(expected - y[(grp * n + i) * out + o]));
      }
    }
  }
  CHECK(worst < 1e-12);
  CHECK(l.lambda_max > 1.0);
  CHECK(l.lambda_max <= 2.0 + 1e-9);
}
