#include "experiments/bench/bench_pinn.hpp"

#include <string>

#include "core/nn/jet_mlp.hpp"
#include "core/runtime/error.hpp"
#include "core/tensor/gemm.hpp"
#include "core/tensor/random.hpp"
#include "models/pinn_traffic/lwr_residual.hpp"

namespace tessera::bench {

namespace {

constexpr std::size_t kHiddenLayers = 8, kWidth = 20;
constexpr double kViscosity = 0.005;

std::vector<std::size_t> network_sizes() {
  std::vector<std::size_t> sizes{2};
  for (std::size_t l = 0; l < kHiddenLayers; ++l) sizes.push_back(kWidth);
  sizes.push_back(1);
  return sizes;
}

double nominal_flops(const std::vector<std::size_t>& sizes, std::size_t points) {
  double macs = 0;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    macs += static_cast<double>(sizes[l] * sizes[l + 1]);
  }
  return 3 * 2 * 4 * static_cast<double>(points) * macs;
}

BenchRow make_row(const std::string& benchmark, const std::string& shape, double seconds,
                  double flops, const std::string& note) {
  BenchRow row;
  row.benchmark = benchmark;
  row.shape = shape;
  row.seconds = seconds;
  row.gflops = flops / seconds * 1e-9;
  row.note = note;
  return row;
}

// The gemm calls of one forward_backward pass (same shapes and chunking) on scratch
// buffers, to split the step's time into dense products and element-wise kernels.
double time_gemms(const std::vector<std::size_t>& sizes, std::size_t points, std::size_t chunk,
                  const BenchOptions& options) {
  const std::size_t cols = 4 * chunk;
  tensor::Matrix<float> a("bench::a", kWidth, cols), z("bench::z", kWidth, cols);
  tensor::Matrix<float> w("bench::w", kWidth, kWidth), dw("bench::dw", kWidth, kWidth);
  tensor::Matrix<float> mask("bench::mask", cols, 1), db("bench::db", kWidth, 1);
  Kokkos::deep_copy(a, 0.5f);
  Kokkos::deep_copy(z, 0.5f);
  Kokkos::deep_copy(w, 0.1f);
  Kokkos::deep_copy(mask, 1.0f);
  return time_median(
      [&] {
        for (std::size_t first = 0; first < points; first += chunk) {
          const std::size_t c = 4 * (points - first < chunk ? points - first : chunk);
          for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
            const std::size_t in = sizes[l], out = sizes[l + 1];
            const tensor::Matrix<float> x(a.data(), in, c), y(z.data(), out, c);
            const tensor::Matrix<float> wl(w.data(), out, in), dwl(dw.data(), out, in);
            const tensor::Matrix<float> ml(mask.data(), c, 1), dbl(db.data(), out, 1);
            tensor::gemm('N', 'N', 1.0f, wl, x, 0.0f, y);
            tensor::gemm('N', 'T', 1.0f, y, x, 1.0f, dwl);
            tensor::gemm('N', 'N', 1.0f, y, ml, 1.0f, dbl);
            if (l > 0) tensor::gemm('T', 'N', 1.0f, wl, y, 0.0f, x);
          }
        }
      },
      options.repeats, options.warmup);
}

}  // namespace

std::vector<BenchRow> bench_pinn(const BenchOptions& options) {
  const std::size_t points = options.quick ? 500 : 10000;
  const std::vector<std::size_t> sizes = network_sizes();
  const std::string shape =
      str("points=", points, " layers=", kHiddenLayers, "x", kWidth, " tanh eps=", kViscosity);
  const double flops = nominal_flops(sizes, points);

  nn::ParameterStore<float> store;
  nn::JetMlp<float> mlp;
  mlp.declare(store, "pinn", sizes, nn::ActivationKind::kTanh);
  store.finalize();
  mlp.init(store, 1);
  tensor::Matrix<float> collocation("bench::collocation", points, 2);
  tensor::fill_uniform(tensor::flat(collocation), 0.0f, 1.0f, 2, 0);
  const models::pinn_traffic::LwrResidualCoefficients lwr{1.0, 1.0, kViscosity};
  auto residual = [&](const tensor::Matrix<float>& jet, tensor::Matrix<float>& seed,
                      double weight) {
    return models::pinn_traffic::lwr_residual_loss(jet, lwr, seed, weight);
  };
  tensor::Matrix<float> seed;

  const double step = time_median(
      [&] {
        store.zero_grad();
        mlp.forward_backward(store, collocation, residual);
      },
      options.repeats, options.warmup);
  const double unchunked = time_median(
      [&] {
        store.zero_grad();
        models::pinn_traffic::lwr_residual_loss(mlp.forward(store, collocation), lwr, seed);
        mlp.backward(store, seed);
      },
      options.repeats, options.warmup);
  const double forward =
      time_median([&] { mlp.forward(store, collocation); }, options.repeats, options.warmup);
  const std::size_t chunk = mlp.chunk_points(points);
  const double gemms = time_gemms(sizes, points, chunk, options);

  std::vector<BenchRow> rows;
  rows.push_back(make_row("pinn_step", shape, step, flops,
                          "JetMlp::forward_backward + lwr_residual_loss; extra = gemm share"));
  rows.back().extra = gemms / step;
  rows.back().more = {{"gemm_seconds", gemms},
                      {"elementwise_seconds", step - gemms},
                      {"chunk_points", static_cast<double>(chunk)}};
  rows.push_back(make_row("pinn_step_unchunked", shape, unchunked, flops,
                          "forward + lwr_residual_loss + backward, all points at once"));
  rows.push_back(make_row("pinn_jet_forward", shape, forward, flops,
                          "forward jets (u, u_x, u_t, u_xx) of all points"));
  return rows;
}

}  // namespace tessera::bench
