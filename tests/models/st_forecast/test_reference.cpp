// The forecasting family against independent computations
// (analysis/reference/reference_st_forecast.py -> tests/reference/st_forecast.h5):
// the windows, split, z-score, baselines and masked metrics against numpy; the scaled
// Laplacian and its eigenvectors against numpy; the STTN's, the STGCN's and STID's output
// and every parameter gradient against plain PyTorch on the same weights.
#include <fstream>
#include <iomanip>

#include "core/io/hdf5_reader.hpp"
#include "models/st_forecast/baselines.hpp"
#include "models/st_forecast/forecaster.hpp"
#include "models/st_forecast/metrics.hpp"
#include "models/st_forecast/sensor_graph.hpp"
#include "tests/models/st_forecast/synthetic.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/torch_reference.hpp"

using namespace tessera;
using namespace tessera::models::st_forecast;

namespace {

const char* const kReference = TESSERA_SOURCE_DIR "/tests/reference/st_forecast.h5";

std::vector<double> as_double(const std::vector<std::size_t>& v) {
  return std::vector<double>(v.begin(), v.end());
}

void check_equal(const std::string& what, const std::vector<double>& ours,
                 const std::vector<double>& reference, double tolerance = 1e-12) {
  INFO(what);
  REQUIRE(ours.size() == reference.size());
  double worst = 0;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    worst =
        std::max(worst, std::abs(ours[i] - reference[i]) / std::max(1.0, std::abs(reference[i])));
  }
  CHECK(worst < tolerance);
}

SensorSeries reference_series(const io::Hdf5Reader& file) {
  std::vector<std::uint64_t> dims;
  SensorSeries s;
  s.values = file.read("/protocol/series", &dims);
  s.path = "reference";
  s.steps = dims[0];
  s.sensors = dims[1];
  s.steps_per_day = static_cast<std::size_t>(file.read_attribute("/protocol", "steps_per_day"));
  s.first_slot = static_cast<std::size_t>(file.read_attribute("/protocol", "first_slot"));
  s.first_weekday = static_cast<int>(file.read_attribute("/protocol", "first_weekday"));
  return s;
}

// The reference graph symmetrised as load_sensor_graph does (max(W, W^T)).
SensorGraph reference_graph(const io::Hdf5Reader& file) {
  std::vector<std::uint64_t> dims;
  const std::vector<double> weights = file.read("/graph/weights", &dims);
  return sensor_graph_from_dense(dims[0], weights);
}

// Integer ids stored as doubles (slots, weekdays, positions) on the device.
tensor::Vector<int> read_ids(const io::Hdf5Reader& file, const std::string& path) {
  const std::vector<double> values = file.read(path);
  tensor::Vector<int> v(path, values.size());
  auto host = Kokkos::create_mirror_view(v);
  for (std::size_t i = 0; i < values.size(); ++i) host(i) = static_cast<int>(values[i]);
  Kokkos::deep_copy(v, host);
  return v;
}

// A forecaster of options `o` with the PyTorch weights of `group`, on the graph of /graph
// (with its eigenvectors when `eigenvectors`): its output on the group's batch (inputs and
// any of slot, weekday, position stored) against y, and every parameter gradient of
// sum(y * dy) against PyTorch's.
void check_against_torch(const io::Hdf5Reader& file, const std::string& group,
                         const ForecasterOptions& o, bool eigenvectors) {
  nn::ParameterStore<float> store;
  Forecaster<float> model;
  model.declare(store, o);
  store.finalize();
  testing::load_weights(file, group, store);
  const SensorGraph g = reference_graph(file);
  const ScaledLaplacian l = scaled_laplacian(g);
  model.set_graph(graph::sparse_from_host<float>(l.row_ptr, l.col_idx, l.values),
                  eigenvectors ? tensor::from_host<float>(file.read("/graph/eigenvectors"), g.nodes,
                                                          o.sttn.eigenvectors, "eigenvectors")
                               : Matrix<float>());
  ForecastBatch<float> batch;
  batch.windows = static_cast<std::size_t>(file.read_attribute(group, "windows"));
  batch.sensors = o.sttn.sensors;
  batch.steps = o.sttn.input_steps;
  batch.horizons = o.sttn.horizons;
  batch.inputs = testing::read_matrix(file, group + "/inputs");
  if (file.has(group + "/slot")) batch.slot = read_ids(file, group + "/slot");
  if (file.has(group + "/weekday")) batch.weekday = read_ids(file, group + "/weekday");
  if (file.has(group + "/position")) batch.position = read_ids(file, group + "/position");
  testing::check_close("output", testing::host_values(model.forward(store, batch)),
                       file.read(group + "/y"));
  store.zero_grad();
  model.backward(store, testing::read_matrix(file, group + "/dy"));
  testing::check_parameter_gradients(file, group, store);
}

}  // namespace

TEST_CASE("windows, split, z-score, baselines and metrics match numpy", "[reference]") {
  const io::Hdf5Reader file(kReference);
  const SensorSeries s = reference_series(file);
  const auto in = static_cast<std::size_t>(file.read_attribute("/protocol", "input_steps"));
  const auto out = static_cast<std::size_t>(file.read_attribute("/protocol", "output_steps"));
  const WindowSplit split = make_windows(s, in, out, SplitFractions{});
  check_equal("training windows", as_double(split.train), file.read("/protocol/train"));
  check_equal("validation windows", as_double(split.validation), file.read("/protocol/validation"));
  check_equal("test windows", as_double(split.test), file.read("/protocol/test"));
  CHECK(static_cast<double>(split.train_end_step) == file.read_attribute("/protocol", "train_end"));
  const ZScore z = fit_zscore(s, split.train_end_step);
  CHECK(std::abs(z.mean - file.read_attribute("/protocol", "mean")) < 1e-12);
  CHECK(std::abs(z.std - file.read_attribute("/protocol", "std")) < 1e-9);

  const std::vector<double> truth = window_targets(s, split.test, in, out);
  check_equal("targets", truth, file.read("/protocol/truth"));
  check_equal("persistence", persistence_forecast(s, split.test, in, out),
              file.read("/protocol/persistence"));
  const HistoricalAverage ha(s, split.train_end_step);
  CHECK_FALSE(ha.weekly());
  const std::vector<double> average = historical_average_forecast(ha, s, split.test, in, out);
  check_equal("historical average", average, file.read("/protocol/historical_average"));
  check_equal("previous day",
              day_before_forecast(ha, s, split.test, in, out, DayRule::kPreviousDay),
              file.read("/protocol/previous_day"));

  const HorizonMetrics m = masked_metrics(average, truth, out);
  check_equal("MAE", m.mae, file.read("/protocol/mae"), 1e-12);
  check_equal("RMSE", m.rmse, file.read("/protocol/rmse"), 1e-12);
  check_equal("MAPE", m.mape, file.read("/protocol/mape"), 1e-12);
  CHECK(std::abs(m.mae_mean - file.read_attribute("/protocol", "mae_mean")) < 1e-12);
  CHECK(std::abs(m.rmse_mean - file.read_attribute("/protocol", "rmse_mean")) < 1e-12);
  CHECK(std::abs(m.mape_mean - file.read_attribute("/protocol", "mape_mean")) < 1e-10);
}

TEST_CASE("scaled Laplacian and eigenvectors match numpy", "[reference]") {
  const io::Hdf5Reader file(kReference);
  std::vector<std::uint64_t> dims;
  const std::vector<double> weights = file.read("/graph/weights", &dims);
  const std::size_t n = dims[0];
  // Through the dense CSV reader, as a user's weight file.
  testing::ScopedTempDir dir("st_forecast_graph");
  const std::string path = dir.path() + "/weights.csv";
  {
    std::ofstream csv(path);
    csv << std::setprecision(17);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) csv << (j ? "," : "") << weights[i * n + j];
      csv << "\n";
    }
  }
  SensorGraphOptions o;
  o.file = path;
  const SensorGraph g = load_sensor_graph(o, n);
  const ScaledLaplacian l = scaled_laplacian(g);
  const std::vector<double> dense = testing::dense_laplacian(l, n);
  check_equal("scaled Laplacian", dense, file.read("/graph/scaled_laplacian"), 1e-9);
  CHECK(std::abs(l.lambda_max - file.read_attribute("/graph", "lambda_max")) < 1e-9);
  const std::vector<double> eig = file.read("/graph/eigenvectors", &dims);
  check_equal("eigenvectors", laplacian_eigenvectors(g, dims[1]), eig, 1e-9);
}

TEST_CASE("STTN agrees with PyTorch", "[torch_reference]") {
  const io::Hdf5Reader file(kReference);
  const auto attribute = [&](const char* name) {
    return static_cast<std::size_t>(file.read_attribute("/sttn", name));
  };
  ForecasterOptions o;
  o.kind = ForecasterKind::kSttn;
  SttnOptions& t = o.sttn;
  t.sensors = attribute("sensors");
  t.input_steps = attribute("input_steps");
  t.horizons = attribute("horizons");
  t.steps_per_day = attribute("steps_per_day");
  t.dim = attribute("dim");
  t.heads = attribute("heads");
  t.blocks = attribute("blocks");
  t.ffn_hidden = attribute("ffn_hidden");
  t.cheb_order = attribute("cheb_order");
  t.head_hidden = attribute("head_hidden");
  t.eigenvectors = attribute("eigenvectors");
  t.spatial = SpatialEmbedding::kBoth;
  check_against_torch(file, "/sttn", o, true);
}

TEST_CASE("STGCN agrees with PyTorch", "[torch_reference]") {
  const io::Hdf5Reader file(kReference);
  const auto attribute = [&](const char* name) {
    return static_cast<std::size_t>(file.read_attribute("/stgcn", name));
  };
  ForecasterOptions o;
  o.kind = ForecasterKind::kStgcn;
  o.sttn.sensors = attribute("sensors");
  o.sttn.input_steps = attribute("steps");
  o.sttn.horizons = attribute("horizons");
  o.stgcn.blocks = attribute("blocks");
  o.stgcn.kt = attribute("kt");
  o.stgcn.cheb_order = attribute("order");
  o.stgcn.channels = attribute("channels");
  o.stgcn.spatial_channels = attribute("spatial");
  o.stgcn.head_hidden = attribute("head_hidden");
  check_against_torch(file, "/stgcn", o, false);
}

TEST_CASE("STID agrees with PyTorch", "[torch_reference]") {
  const io::Hdf5Reader file(kReference);
  const auto attribute = [&](const char* name) {
    return static_cast<std::size_t>(file.read_attribute("/stid", name));
  };
  ForecasterOptions o;
  o.kind = ForecasterKind::kStid;
  o.sttn.sensors = attribute("sensors");
  o.sttn.input_steps = attribute("steps");
  o.sttn.horizons = attribute("horizons");
  o.sttn.steps_per_day = attribute("per_day");
  o.sttn.weekday_embedding = true;
  o.stid.dim = attribute("dim");
  o.stid.layers = attribute("layers");
  check_against_torch(file, "/stid", o, false);
}
