#include "experiments/bench/bench_st_forecast.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/optim/adam.hpp"
#include "core/parallel/gradient_allreduce.hpp"
#include "core/parallel/sharded_softmax.hpp"
#include "core/runtime/runtime.hpp"
#include "core/tensor/random.hpp"
#include "models/st_forecast/sensor_graph.hpp"
#include "models/st_forecast/sensor_split.hpp"
#include "models/st_forecast/sttn.hpp"

namespace tessera::bench {

namespace {

namespace sf = models::st_forecast;

struct Case {
  std::size_t sensors, windows, dim;
  std::size_t hops = 0;  // 0: dense spatial attention; K: graph attention over K hops
};

// The chain with links i -> i + 5, as the PyTorch twin builds it.
sf::SensorGraph bench_graph(std::size_t n) {
  std::vector<sf::SensorLink> links;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t step : {std::size_t{1}, std::size_t{5}}) {
      if (i + step < n) links.push_back({i, i + step, 1.0});
    }
  }
  return sf::sensor_graph_from_links(n, std::move(links));
}

// Query-key pairs of the spatial attention per (window, step): sensors^2 when dense,
// the K-hop neighbourhoods' sizes (self included) on the bench graph otherwise.
double spatial_keys(const sf::SttnOptions& o) {
  const double n = static_cast<double>(o.sensors);
  if (o.spatial_hops == 0) return n * n;
  // Links i -> i + 1 and i -> i + 5 both ways: K hops reach the offsets a + 5 b with
  // |a| + |b| <= K, 2K^2 + 2K + 1 of them away from the ends.
  const double k = static_cast<double>(o.spatial_hops);
  return n * std::min(n, 2 * k * k + 2 * k + 1);
}

double sttn_flops(const sf::SttnOptions& o, double windows) {
  const double n = static_cast<double>(o.sensors), t = static_cast<double>(o.input_steps);
  const double d = static_cast<double>(o.dim), f = static_cast<double>(o.ffn_hidden);
  const double rows = windows * n * t;
  const double block_mac =
      rows * (2 * (4 * d * d + 2 * d * f) + static_cast<double>(o.cheb_order) * d * d + 2 * d * d) +
      2 * windows * t * spatial_keys(o) * d + 2 * windows * n * t * t * d;
  const double head_mac = windows * n *
                          (t * d * static_cast<double>(o.head_hidden) +
                           static_cast<double>(o.head_hidden * o.horizons));
  return 6 * (rows * 2 * d + static_cast<double>(o.blocks) * block_mac + head_mac);
}

}  // namespace

namespace {

// One STTN training step of case c, timed; with `shard`, the spatial attention's keys
// sharded over its processes, with `split` (graph attention) its sensors split over
// them (every process of `comm` runs this collectively).
BenchRow sttn_step(const Case& c, const BenchOptions& options, MPI_Comm comm,
                   const nn::KeyShard<float>* shard, bool split = false) {
  sf::SttnOptions o;
  o.sensors = c.sensors;
  o.dim = c.dim;
  o.ffn_hidden = 2 * c.dim;
  o.eigenvectors = std::min<std::size_t>(32, c.sensors - 1);
  o.spatial_hops = c.hops;
  // Laplacian eigenvectors of thousands of sensors take a dense eigensolve: learned
  // sensor embeddings there.
  if (c.sensors > 2000) o.spatial = sf::SpatialEmbedding::kLearned;
  nn::ParameterStore<float> store;
  sf::Sttn<float> model;
  model.declare(store, o);
  store.finalize();
  model.init(store, 7);
  const sf::SensorGraph g = bench_graph(c.sensors);
  const sf::ScaledLaplacian l = sf::scaled_laplacian(g);
  std::unique_ptr<parallel::GraphPart> part;
  if (split) {
    part = sf::split_sensors(comm, l, c.hops, o.cheb_order);
    model.set_sensor_part(*part);
  }
  const tensor::Matrix<float> eigenvectors =
      o.spatial == sf::SpatialEmbedding::kLearned
          ? tensor::Matrix<float>()
          : tensor::from_host<float>(sf::laplacian_eigenvectors(g, o.eigenvectors), c.sensors,
                                     o.eigenvectors, "bench::eigenvectors");
  model.set_graph(graph::sparse_from_host<float>(l.row_ptr, l.col_idx, l.values), eigenvectors);
  if (shard) model.set_spatial_key_shard(*shard);
  // A synthetic series with a daily wave: windows at every 7th step.
  sf::SensorSeries series;
  series.steps = c.windows * 7 + 24;
  series.sensors = c.sensors;
  series.values.resize(series.steps * series.sensors);
  for (std::size_t k = 0; k < series.values.size(); ++k) {
    series.values[k] = 50 + 10 * std::sin(0.02 * static_cast<double>(k));
  }
  std::vector<std::size_t> starts;
  for (std::size_t w = 0; w < c.windows; ++w) starts.push_back(7 * w);
  sf::ForecastBatch<float> batch = sf::make_batch<float>(series, {50, 10}, starts, 12, 12);
  if (part) batch = sf::local_batch(batch, *part);
  tensor::Matrix<float> dy("bench::dy", c.windows * batch.sensors, o.horizons);
  tensor::fill_normal(tensor::Vector<float>(dy.data(), dy.size()), 0.0f, 1.0f, 3, 0);
  std::unique_ptr<parallel::GradientAllreduce<float>> group_sum;
  if (part) group_sum = std::make_unique<parallel::GradientAllreduce<float>>(comm);
  optim::AdamOptions adam_options;
  adam_options.decoupled_weight_decay = true;
  adam_options.weight_decay = 1e-4;
  optim::Adam<float> adam(store, adam_options);
  const double flops = sttn_flops(o, static_cast<double>(c.windows));
  // What the training steps add to the memory of the graph, data and parameters.
  reset_peak_memory();
  const double resident_before = resident_memory_bytes();
  const int repeats = flops > 1e11 ? std::min(options.repeats, 3) : options.repeats;
  double seconds = time_median(
      [&] {
        store.zero_grad();
        model.forward(store, batch);
        model.backward(store, dy);
        if (group_sum) group_sum->sum(store);
        adam.step(store);
      },
      repeats, std::min(options.warmup, repeats));
  const double step_peak = max_over_ranks(comm, peak_memory_bytes() - resident_before);
  seconds = max_over_ranks(comm, seconds);
  const int ranks = runtime::comm_size(comm);
  BenchRow row;
  row.benchmark = "sttn_step";
  row.shape =
      str("sensors=", c.sensors, " windows=", c.windows, " d=", c.dim,
          c.hops > 0 ? str(" spatial=graph hops=", c.hops) : std::string(),
          shard ? str(" keys_sharded ranks=", ranks) : std::string(),
          part ? str(" sensors_split ranks=", ranks, " ghosts=", part->local() - part->owned())
               : std::string());
  row.seconds = seconds;
  row.gflops = flops / seconds * 1e-9;
  row.extra = static_cast<double>(store.size());
  row.note = shard || part
                 ? "forward + backward + AdamW, float; extra = parameters; step_peak_bytes: "
                   "memory the steps add, largest over ranks"
                 : "forward + backward + AdamW, float; extra = parameters; step_peak_bytes: "
                   "memory the steps add";
  row.more = {{"step_peak_bytes", step_peak}};
  return row;
}

}  // namespace

std::vector<BenchRow> bench_st_forecast(const BenchOptions& options) {
  // Dense against graph attention (2 hops) at METR-LA's size and at 2,000 sensors, and
  // graph attention alone on an 8,448-sensor grid, where dense attention's probabilities
  // alone would take 8,448^2 x 12 steps x 4 heads x 4 bytes = 13.7 GB per window.
  const std::vector<Case> cases =
      options.quick ? std::vector<Case>{{20, 4, 16, 0}, {20, 4, 16, 2}}
                    : std::vector<Case>{{207, 8, 64, 0},  {207, 32, 64, 0}, {207, 32, 64, 2},
                                        {2000, 1, 64, 0}, {2000, 1, 64, 2}, {8448, 1, 64, 2}};
  std::vector<BenchRow> rows;
  for (const Case& c : cases) rows.push_back(sttn_step(c, options, MPI_COMM_SELF, nullptr));
  // The 32 Laplacian eigenvectors of the spatial embedding: LAPACK's dense solve against
  // the filtered subspace iteration (sparse products) on the same graph, and the
  // iteration alone at the grid's size, where the dense one would take minutes. The
  // bench graph is a chain: its small eigenvalues crowd together, a hard case.
  struct EigenCase {
    std::size_t sensors;
    sf::EigenMethod method;
  };
  const std::vector<EigenCase> eigen_cases =
      options.quick
          ? std::vector<EigenCase>{{60, sf::EigenMethod::kDense}, {60, sf::EigenMethod::kFiltered}}
          : std::vector<EigenCase>{{2000, sf::EigenMethod::kDense},
                                   {2000, sf::EigenMethod::kFiltered},
                                   {8448, sf::EigenMethod::kFiltered}};
  for (const EigenCase& c : eigen_cases) {
    const sf::SensorGraph g = bench_graph(c.sensors);
    const std::size_t count = options.quick ? 8 : 32;
    sf::EigenStats stats;
    const double seconds =
        time_median([&] { sf::laplacian_eigenvectors(g, count, c.method, &stats); }, 1, 0);
    BenchRow row;
    row.benchmark = "laplacian_eigenvectors";
    const bool dense = c.method == sf::EigenMethod::kDense;
    row.shape =
        str("sensors=", c.sensors, " count=", count, " method=", dense ? "dense" : "filtered");
    row.seconds = seconds;
    row.extra = dense ? 0.0 : static_cast<double>(stats.products);
    row.note =
        "bench chain graph (links i -> i + 1, i + 5); extra = block products with L "
        "(filtered)";
    if (!dense) row.more = {{"max_residual", stats.max_residual}};
    rows.push_back(row);
  }
  return rows;
}

std::vector<BenchRow> bench_st_forecast_sharded(MPI_Comm comm, const BenchOptions& options) {
  // Dense spatial attention with its keys sharded over the ranks (run on 1 and 2 ranks
  // and compare): the probabilities and score gradients, (steps x heads) x sensors^2 per
  // window, split over the ranks; everything else runs whole on every rank.
  const std::vector<Case> cases = options.quick
                                      ? std::vector<Case>{{20, 4, 16, 0}}
                                      : std::vector<Case>{{2000, 1, 64, 0}, {4000, 1, 64, 0}};
  std::vector<BenchRow> rows;
  for (const Case& c : cases) {
    const nn::KeyShard<float> shard = parallel::key_shard<float>(comm, c.sensors);
    BenchRow row = sttn_step(c, options, comm, &shard);
    if (runtime::comm_rank(comm) == 0) rows.push_back(row);
  }
  return rows;
}

}  // namespace tessera::bench

namespace tessera::bench {

std::vector<BenchRow> bench_st_forecast_split(MPI_Comm comm, const BenchOptions& options) {
  // Graph attention (2 hops) with the sensors split over the ranks (run on 1 and 2 ranks
  // and compare): every activation is per local sensor, so the step's memory and time
  // fall with the ranks, less the ghosts' share (largest over the ranks).
  const std::vector<Case> cases =
      options.quick ? std::vector<Case>{{20, 4, 16, 2}}
                    : std::vector<Case>{{2000, 4, 64, 2}, {8448, 1, 64, 2}, {8448, 2, 64, 2}};
  // One rank: the model whole (no exchange), the baseline of the split runs.
  const bool split = runtime::comm_size(comm) > 1;
  std::vector<BenchRow> rows;
  for (const Case& c : cases) {
    BenchRow row = sttn_step(c, options, comm, nullptr, split);
    if (runtime::comm_rank(comm) == 0) rows.push_back(row);
  }
  return rows;
}

}  // namespace tessera::bench
