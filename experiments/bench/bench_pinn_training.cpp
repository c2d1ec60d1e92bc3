#include "experiments/bench/bench_pinn_training.hpp"

#include <mpi.h>

#include <cmath>

#include "core/runtime/error.hpp"
#include "core/tensor/gemm.hpp"
#include "core/tensor/random.hpp"
#include "core/tensor/reduce.hpp"
#include "models/pinn_traffic/pinn_task.hpp"

namespace tessera::bench {

namespace {

namespace pinn = models::pinn_traffic;
using tensor::Matrix;

constexpr std::size_t kHiddenLayers = 8, kWidth = 20;
constexpr std::size_t kDetectors = 5, kTimes = 101, kInitial = 200, kBoundary = 200;

// Observations of a bell moving right, u = 0.2 + 0.6 exp(-((x - 0.5 - 0.3 t) / 0.1)^2): the
// values do not change the cost, only the point counts do.
double bell(double x, double t) {
  const double z = (x - 0.5 - 0.3 * t) / 0.1;
  return 0.2 + 0.6 * std::exp(-z * z);
}

pinn::TrainingData ring_data(const pinn::PinnProblem& problem) {
  pinn::TrainingData data;
  for (std::size_t d = 0; d < kDetectors; ++d) {
    const double x = 0.1 + 0.2 * static_cast<double>(d);
    for (std::size_t k = 0; k < kTimes; ++k) {
      const double t = 0.01 * static_cast<double>(k);
      data.observation_points.insert(data.observation_points.end(),
                                     {problem.x_hat(x), problem.t_hat(t)});
      data.observation_values.push_back(bell(x, t));
    }
  }
  for (std::size_t i = 0; i < kInitial; ++i) {
    const double x = (static_cast<double>(i) + 0.5) / kInitial;
    data.initial_points.insert(data.initial_points.end(), {problem.x_hat(x), -1.0});
    data.initial_values.push_back(bell(x, 0));
  }
  for (std::size_t j = 0; j < kBoundary; ++j) {
    data.boundary_times.push_back(-1.0 + 2.0 * (static_cast<double>(j) + 0.5) / kBoundary);
  }
  return data;
}

// The three products of one hidden layer on one chunk of jets, as JetMlp makes them: z =
// W a (forward), dW += G a^T and G_in = W^T G (backward), 20 x 20 weights against the 4 x
// 625 jet columns of the automatic chunk; extra = fraction of an n x n sgemm's GFLOP/s.
BenchRow layer_gemms(const BenchOptions& options) {
  const std::size_t columns = 4 * (options.quick ? 125 : 625);
  Matrix<float> w("bench::w", kWidth, kWidth), a("bench::a", kWidth, columns),
      g("bench::g", kWidth, columns), z("bench::z", kWidth, columns),
      dw("bench::dw", kWidth, kWidth), g_in("bench::g_in", kWidth, columns);
  tensor::fill_normal(tensor::flat(w), 0.0f, 0.2f, 1, 0);
  tensor::fill_normal(tensor::flat(a), 0.0f, 1.0f, 2, 0);
  tensor::fill_normal(tensor::flat(g), 0.0f, 1.0f, 3, 0);
  const double seconds = time_median(
      [&] {
        tensor::gemm('N', 'N', 1.0f, w, a, 0.0f, z);
        tensor::gemm('N', 'T', 1.0f, g, a, 1.0f, dw);
        tensor::gemm('T', 'N', 1.0f, w, g, 0.0f, g_in);
      },
      options.repeats * 10, options.warmup);
  const double gflops = 3 * 2.0 * kWidth * kWidth * columns / seconds * 1e-9;
  const double peak = sgemm_peak_gflops(options.quick ? 256 : 2048, options);
  BenchRow r;
  r.benchmark = "pinn_layer_gemms";
  r.shape = str("weights=", kWidth, "x", kWidth, " jet_columns=", columns, " float");
  r.seconds = seconds;
  r.gflops = gflops;
  r.extra = gflops / peak;
  r.note =
      "z = W a, dW += G a^T, W^T G of one 20-wide layer on one chunk; extra = fraction "
      "of an n = 2048 sgemm's GFLOP/s (n = 256 with --quick)";
  r.more = {{"sgemm_peak_gflops", peak}};
  return r;
}

}  // namespace

std::vector<BenchRow> bench_pinn_training(const BenchOptions& options) {
  const std::size_t points = options.quick ? 500 : 10000;
  pinn::PinnProblem problem;  // ring of length 1 over [0, 1], v_max = rho_max = 1
  problem.viscosity = 0.005;
  pinn::NetworkSpec network;
  network.hidden_layers = kHiddenLayers;
  network.width = kWidth;
  pinn::TaskSpec spec;
  spec.collocation.points = points;
  const pinn::TrainingData data = ring_data(problem);
  pinn::OptimiserSpec optimiser;
  pinn::PinnTask<float> task(MPI_COMM_SELF, problem, network, spec, data, 1, optimiser, 1000000);

  double macs = 0;
  const std::vector<std::size_t> sizes = network.sizes();
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    macs += static_cast<double>(sizes[l] * sizes[l + 1]);
  }
  const double jet_points = 4.0 * static_cast<double>(points + 2 * kBoundary);
  const double value_points = static_cast<double>(kDetectors * kTimes + kInitial);
  const double flops = 3 * 2 * (jet_points + value_points) * macs;
  const std::string shape =
      str("collocation=", points, " observations=", kDetectors * kTimes, " initial=", kInitial,
          " boundary_pairs=", kBoundary, " layers=", kHiddenLayers, "x", kWidth, " tanh float");

  const double step = time_median([&] { task.adam_step(); }, options.repeats, options.warmup);
  const double gradient = time_median([&] { task.gradient(); }, options.repeats, options.warmup);

  auto row = [&](const char* name, double seconds, const char* note) {
    BenchRow r;
    r.benchmark = name;
    r.shape = shape;
    r.seconds = seconds;
    r.gflops = flops / seconds * 1e-9;
    r.extra = 1.0 / seconds;
    r.note = note;
    r.more = {{"steps_per_second", 1.0 / seconds},
              {"collocation_points", static_cast<double>(points)},
              {"observation_points", static_cast<double>(kDetectors * kTimes)}};
    return r;
  };
  std::vector<BenchRow> rows = {
      row("pinn_train_step", step,
          "PinnTask::adam_step: residual + data + initial + periodic boundary, Adam; "
          "extra = steps per second"),
      row("pinn_train_gradient", gradient,
          "PinnTask::gradient (one L-BFGS closure evaluation); extra = evaluations per "
          "second")};
  rows.push_back(layer_gemms(options));
  return rows;
}

}  // namespace tessera::bench
