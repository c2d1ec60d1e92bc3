#include "models/st_forecast/config.hpp"

#include <algorithm>

#include "core/io/data_root.hpp"
#include "core/runtime/error.hpp"

namespace tessera::models::st_forecast {

using config::at_least;
using config::between;
using config::greater_than;

void add_st_forecast_keys(config::Schema& s) {
  s.add_string("data.series", std::string("timeseries/METR-LA_7d_speed_los_loop.csv"), {},
               "sensor readings (0 = missing): a .csv file or a whitespace text grid; "
               "absolute, relative to the working directory, or under the data root");
  s.add_bool("data.header", false, "the first row of the CSV file names the sensors");
  s.add_string("data.layout", std::string("time_rows"), {"time_rows", "sensor_rows"},
               "time_rows: one row per time step (METR-LA); sensor_rows: one row per sensor");
  s.add_int("data.steps_per_day", 288, at_least(1), "readings per day (288: 5 minutes)");
  s.add_int("data.first_slot", 0, at_least(0), "time-of-day slot of the first reading");
  s.add_int("data.first_weekday", 0, between(0, 6),
            "day of week of the first reading (0 = Monday, 3 = Thursday)");
  s.add_int("data.segment_steps", 0, at_least(0),
            "0: one continuous series; N: separate segments (days) of N steps, no window "
            "crosses between them");
  s.add_int("data.input_steps", 12, at_least(1), "steps of history in a window");
  s.add_int("data.output_steps", 12, at_least(1), "steps forecast at once");
  s.add_real("data.train_fraction", 0.7, between(0, 1), "windows for training (in time order)");
  s.add_real("data.validation_fraction", 0.1, between(0, 1),
             "windows for validation (early stopping); the rest are the test windows");

  s.add_string("graph.source", std::string("file"), {"file", "chain"},
               "file: weights or distances from graph.file; chain: consecutive sensors along "
               "one road");
  s.add_string("graph.file", std::string("timeseries/METR-LA_adj_symmetric_los_loop.csv"), {},
               "dense CSV matrix (sensors x sensors) or a from,to,cost edge list");
  s.add_string("graph.format", std::string("dense"), {"dense", "edges"},
               "dense: a CSV matrix; edges: from,to,cost rows");
  s.add_string("graph.weighting", std::string("as_is"), {"as_is", "gaussian", "stgcn"},
               "as_is: the file holds weights; gaussian: distances -> exp(-(d/sigma)^2) "
               "(DCRNN); stgcn: distances -> exp(-(d/1e4)^2/0.1) (STGCN)");
  s.add_real("graph.threshold", 0.1, at_least(0),
             "kernel weights below it are dropped (DCRNN 0.1, STGCN 0.5)");

  s.add_string("model.kinds", std::string("sttn, stgcn, stid, mlp"), {},
               "models trained side by side, comma-separated: sttn, stgcn, stid, mlp");
  s.add_int("model.dim", 64, at_least(1), "sttn: width d");
  s.add_int("model.heads", 4, at_least(1), "sttn: attention heads (divides d)");
  s.add_int("model.blocks", 2, at_least(1), "sttn: spatial-temporal blocks");
  s.add_int("model.ffn_hidden", 128, at_least(1), "sttn: feed-forward width");
  s.add_int("model.cheb_order", 3, at_least(1), "sttn: Chebyshev polynomial terms K");
  s.add_int("model.head_hidden", 256, at_least(1), "sttn: hidden width of the output head");
  s.add_int("model.eigenvectors", 32, at_least(1), "sttn: Laplacian eigenvectors embedded");
  s.add_string("model.spatial_embedding", std::string("both"), {"laplacian", "learned", "both"},
               "sttn: Laplacian eigenvectors, a learned table per sensor, or both");
  s.add_int("model.spatial_hops", 0, at_least(0),
            "sttn: 0: spatial attention over all sensors (dense); K: over each sensor's K-hop "
            "neighbourhood in the graph (graph attention, for thousands of sensors)");
  s.add_int("model.memory_patterns", 0, at_least(0),
            "sttn: 0: the spatial feed-forward network; M: a Hopfield layer of M learned "
            "stored patterns in its place (the Hopfield ablation)");
  s.add_string("model.memory_init", std::string("random"), {"random", "windows"},
               "sttn with model.memory_patterns: the stored patterns start random, or as "
               "encoded rows of 8 training windows spread over the training part");
  s.add_string("model.weekday_embedding", std::string("auto"), {"auto", "on", "off"},
               "sttn and stid: a learned embedding of the day of week; auto: on when the "
               "training part covers all seven weekdays");
  s.add_string("model.daily_input", std::string("off"),
               {"off", "previous_day", "last_similar_day"},
               "sttn, stid and mlp: take a day-before forecast of each horizon as an input "
               "beside the window's readings (a daily-periodic input): the reading one day "
               "before the target step, or on the last earlier day of the same kind (weekday "
               "or weekend), the historical average where missing; the stgcn stays on the "
               "readings alone");
  s.add_int("model.mlp_hidden", 256, at_least(1), "mlp: hidden width");
  s.add_int("model.stid_dim", 32, at_least(1),
            "stid: width of the series embedding and of the sensor, time-of-day and weekday "
            "tables (the encoder is 3 or 4 times as wide)");
  s.add_int("model.stid_layers", 3, at_least(1), "stid: residual MLP layers");
  s.add_int("model.stgcn_blocks", 2, at_least(1), "stgcn: ST-Conv blocks (each takes 4 steps)");
  s.add_int("model.stgcn_channels", 64, at_least(1), "stgcn: temporal convolution channels");
  s.add_int("model.stgcn_spatial_channels", 16, at_least(1),
            "stgcn: Chebyshev convolution channels");

  s.add_int("train.epochs", 100, at_least(0), "epochs at most");
  s.add_int("train.batch", 64, at_least(1), "windows per step (split over the ranks)");
  s.add_int("train.patience", 10, at_least(1),
            "epochs without a better validation MAE before stopping");
  s.add_string("train.optimizer", std::string("adamw"), {"adamw", "adam"},
               "adamw: decoupled weight decay; adam: weight decay as an L2 term in the "
               "gradient (torch.optim.Adam, BasicTS's recipes)");
  s.add_real("train.lr", 1e-3, greater_than(0), "learning rate");
  s.add_real("train.weight_decay", 1e-4, at_least(0), "weight decay (see train.optimizer)");
  s.add_real("train.beta1", 0.9, between(0, 1), "Adam beta1");
  s.add_real("train.beta2", 0.999, between(0, 1), "Adam beta2");
  s.add_real("train.clip", 5.0, at_least(0), "global gradient-norm clipping (0: off)");
  s.add_real_list("train.milestones", std::vector<double>{20, 40}, at_least(1),
                  "epochs at which the learning rate is multiplied by train.gamma");
  s.add_real("train.gamma", 0.3, greater_than(0), "learning-rate factor at each milestone");
  s.add_int("train.sensor_ranks", 1, at_least(1),
            "ranks that share each window's sensors: the STTN's dense spatial attention "
            "shards its keys over them, its graph attention (model.spatial_hops > 0) splits "
            "the sensor graph over them (each rank its own sensors and their ghosts); groups "
            "of sensor_ranks ranks split the batch");
  s.add_int("train.max_windows", 0, at_least(0),
            "training windows used at most, evenly spaced (0: all; for quick runs)");
  s.add_real_list("report.horizons", std::vector<double>{3, 6, 12}, at_least(1),
                  "horizons (steps) in the log and summary; 3, 6, 12 = 15, 30, 60 minutes");
}

namespace {

std::vector<ForecasterKind> parse_kinds(const std::string& text) {
  std::vector<ForecasterKind> kinds;
  for (const std::string& name : config::split_list(text)) {
    try {
      kinds.push_back(forecaster_from_name(name));
    } catch (const InputError& e) {
      throw InputError(str("key 'model.kinds': ", e.what()));
    }
  }
  return kinds;  // empty: the baselines only
}

SpatialEmbedding spatial_from_name(const std::string& name) {
  if (name == "laplacian") return SpatialEmbedding::kLaplacian;
  if (name == "learned") return SpatialEmbedding::kLearned;
  return SpatialEmbedding::kBoth;
}

GraphWeighting weighting_from_name(const std::string& name) {
  if (name == "gaussian") return GraphWeighting::kGaussian;
  if (name == "stgcn") return GraphWeighting::kStgcn;
  return GraphWeighting::kAsIs;
}

}  // namespace

StForecastConfig from_config(const config::Config& c) {
  StForecastConfig m;
  m.source = c.source();
  m.data_root = c.get_string("run.data_root");
  m.series_file = c.get_string("data.series");
  m.file.header = c.get_bool("data.header");
  m.file.layout = c.get_string("data.layout") == "sensor_rows" ? SeriesLayout::kSensorRows
                                                               : SeriesLayout::kTimeRows;
  m.steps_per_day = static_cast<std::size_t>(c.get_int("data.steps_per_day"));
  m.first_slot = static_cast<std::size_t>(c.get_int("data.first_slot"));
  m.first_weekday = static_cast<int>(c.get_int("data.first_weekday"));
  m.segment_steps = static_cast<std::size_t>(c.get_int("data.segment_steps"));
  m.input_steps = static_cast<std::size_t>(c.get_int("data.input_steps"));
  m.output_steps = static_cast<std::size_t>(c.get_int("data.output_steps"));
  m.split.train = c.get_real("data.train_fraction");
  m.split.validation = c.get_real("data.validation_fraction");

  m.graph.source = c.get_string("graph.source");
  m.graph.file = c.get_string("graph.file");
  m.graph.format = c.get_string("graph.format");
  m.graph.weighting = weighting_from_name(c.get_string("graph.weighting"));
  m.graph.threshold = c.get_real("graph.threshold");

  config::with_source(m.source, [&] { m.kinds = parse_kinds(c.get_string("model.kinds")); });
  SttnOptions& t = m.model.sttn;
  t.input_steps = m.input_steps;
  t.horizons = m.output_steps;
  t.steps_per_day = m.steps_per_day;
  t.dim = static_cast<std::size_t>(c.get_int("model.dim"));
  t.heads = static_cast<std::size_t>(c.get_int("model.heads"));
  t.blocks = static_cast<std::size_t>(c.get_int("model.blocks"));
  t.ffn_hidden = static_cast<std::size_t>(c.get_int("model.ffn_hidden"));
  t.cheb_order = static_cast<std::size_t>(c.get_int("model.cheb_order"));
  t.head_hidden = static_cast<std::size_t>(c.get_int("model.head_hidden"));
  t.eigenvectors = static_cast<std::size_t>(c.get_int("model.eigenvectors"));
  t.spatial = spatial_from_name(c.get_string("model.spatial_embedding"));
  t.spatial_hops = static_cast<std::size_t>(c.get_int("model.spatial_hops"));
  t.memory_patterns = static_cast<std::size_t>(c.get_int("model.memory_patterns"));
  t.memory_from_windows = c.get_string("model.memory_init") == "windows";
  m.weekday_embedding = c.get_string("model.weekday_embedding");
  const std::string daily = c.get_string("model.daily_input");
  t.daily_input = daily != "off";
  m.daily_rule = daily == "last_similar_day" ? DayRule::kLastSimilarDay : DayRule::kPreviousDay;
  m.model.mlp_hidden = static_cast<std::size_t>(c.get_int("model.mlp_hidden"));
  m.model.stgcn.blocks = static_cast<std::size_t>(c.get_int("model.stgcn_blocks"));
  m.model.stgcn.channels = static_cast<std::size_t>(c.get_int("model.stgcn_channels"));
  m.model.stgcn.spatial_channels =
      static_cast<std::size_t>(c.get_int("model.stgcn_spatial_channels"));
  m.model.stgcn.cheb_order = m.model.sttn.cheb_order;
  m.model.stid.dim = static_cast<std::size_t>(c.get_int("model.stid_dim"));
  m.model.stid.layers = static_cast<std::size_t>(c.get_int("model.stid_layers"));

  TrainOptions& o = m.training;
  o.epochs = static_cast<std::size_t>(c.get_int("train.epochs"));
  o.batch = static_cast<std::size_t>(c.get_int("train.batch"));
  o.patience = static_cast<std::size_t>(c.get_int("train.patience"));
  o.lr = c.get_real("train.lr");
  o.weight_decay = c.get_real("train.weight_decay");
  o.decoupled_weight_decay = c.get_string("train.optimizer") == "adamw";
  o.beta1 = c.get_real("train.beta1");
  o.beta2 = c.get_real("train.beta2");
  o.clip = c.get_real("train.clip");
  o.milestones = c.get_real_list("train.milestones");
  o.gamma = c.get_real("train.gamma");
  o.max_train_windows = static_cast<std::size_t>(c.get_int("train.max_windows"));
  m.sensor_ranks = static_cast<int>(c.get_int("train.sensor_ranks"));
  o.seed = static_cast<std::uint64_t>(c.get_int("run.seed"));
  m.report_horizons = c.get_real_list("report.horizons");
  return m;
}

SensorSeries load_series(const StForecastConfig& m) {
  SensorSeries s =
      read_sensor_series(io::resolve_input_file(m.data_root, m.series_file, "data.series"), m.file);
  s.steps_per_day = m.steps_per_day;
  s.first_slot = m.first_slot;
  s.first_weekday = m.first_weekday;
  s.segment_steps = m.segment_steps;
  return s;
}

SensorGraph load_graph(const StForecastConfig& m, std::size_t sensors) {
  SensorGraphOptions o = m.graph;
  if (o.source == "file") o.file = io::resolve_input_file(m.data_root, o.file, "graph.file");
  return load_sensor_graph(o, sensors);
}

void validate(const StForecastConfig& m, int ranks) {
  config::with_source(m.source, [&] {
    if (ranks % m.sensor_ranks != 0) {
      throw InputError(str("key 'train.sensor_ranks' = ", m.sensor_ranks, " does not divide the ",
                           ranks, " ranks of the run (ranks = sensor ranks x window groups)"));
    }
    if (m.sensor_ranks > 1 && m.model.sttn.spatial_hops > 0 && m.model.sttn.memory_patterns > 0) {
      throw InputError(str("key 'train.sensor_ranks' = ", m.sensor_ranks,
                           " splits the sensors of graph attention; the Hopfield ablation "
                           "(model.memory_patterns = ",
                           m.model.sttn.memory_patterns, ") runs whole (set one of them to ",
                           "1 or 0)"));
    }
    if (m.split.train + m.split.validation >= 1) {
      throw InputError(str("keys 'data.train_fraction' + 'data.validation_fraction' = ",
                           m.split.train + m.split.validation,
                           ": expected below 1 (the rest are the test windows)"));
    }
    if (m.first_slot >= m.steps_per_day) {
      throw InputError(str("key 'data.first_slot' = ", m.first_slot,
                           ": expected below data.steps_per_day = ", m.steps_per_day));
    }
    if (m.model.sttn.daily_input && m.output_steps > m.input_steps) {
      throw InputError(str("key 'model.daily_input' = \"", day_rule_name(m.daily_rule),
                           "\" puts horizon t's day-before value beside input step t: "
                           "expected data.output_steps = ",
                           m.output_steps, " at most data.input_steps = ", m.input_steps));
    }
    if (m.model.sttn.dim % m.model.sttn.heads != 0) {
      throw InputError(str("key 'model.dim' = ", m.model.sttn.dim,
                           " is not a multiple of model.heads = ", m.model.sttn.heads));
    }
    const std::size_t stgcn_steps = m.model.stgcn.blocks * 2 * (m.model.stgcn.kt - 1);
    for (ForecasterKind kind : m.kinds) {
      if (kind == ForecasterKind::kStgcn && m.input_steps <= stgcn_steps) {
        throw InputError(str("key 'model.stgcn_blocks' = ", m.model.stgcn.blocks, ": each block ",
                             "takes 4 steps, so data.input_steps = ", m.input_steps,
                             " must be above ", stgcn_steps));
      }
    }
    for (double h : m.report_horizons) {
      if (h != static_cast<double>(static_cast<long long>(h)) ||
          h > static_cast<double>(m.output_steps)) {
        throw InputError(str("key 'report.horizons' holds ", h, ": expected whole steps from 1 to ",
                             "data.output_steps = ", m.output_steps));
      }
    }
    const SensorSeries s = load_series(m);
    make_windows(s, m.input_steps, m.output_steps, m.split);
    const bool eigenvectors =
        m.model.sttn.spatial != SpatialEmbedding::kLearned &&
        std::find(m.kinds.begin(), m.kinds.end(), ForecasterKind::kSttn) != m.kinds.end();
    if (eigenvectors && m.model.sttn.eigenvectors + 1 > s.sensors) {
      throw InputError(str("key 'model.eigenvectors' = ", m.model.sttn.eigenvectors, ": the ",
                           s.sensors, " sensors have at most ", s.sensors - 1,
                           " non-trivial Laplacian eigenvectors (or set model.spatial_embedding "
                           "= \"learned\")"));
    }
    try {
      load_graph(m, s.sensors);
    } catch (const InputError& e) {
      throw InputError(str("key 'graph.file': ", e.what()));
    }
  });
}

}  // namespace tessera::models::st_forecast
