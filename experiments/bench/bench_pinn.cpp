#include "experiments/bench/bench_pinn.hpp"

#include <string>

#include "core/nn/jet_mlp.hpp"
#include "core/runtime/error.hpp"
#include "core/tensor/gemm.hpp"
#include "core/tensor/random.hpp"

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
  const nn::LwrParameters lwr{1.0, 1.0, kViscosity};
  tensor::Matrix<float> seed;

  const double step = time_median(
      [&] {
        store.zero_grad();
        nn::lwr_residual_loss(mlp.forward(store, collocation), lwr, seed);
        mlp.backward(store, seed);
      },
      options.repeats, options.warmup);
  const double forward = time_median([&] { mlp.forward(store, collocation); }, options.repeats,
                                     options.warmup);
  nn::lwr_residual_loss(mlp.forward(store, collocation), lwr, seed);
  const double backward =
      time_median([&] { mlp.backward(store, seed); }, options.repeats, options.warmup);

  // The same gemm calls as one step makes, on scratch buffers of the same shapes.
  const std::size_t rows = 4 * points;
  tensor::Matrix<float> a("bench::a", rows, kWidth), z("bench::z", rows, kWidth);
  tensor::Matrix<float> w("bench::w", kWidth, kWidth), dw("bench::dw", kWidth, kWidth);
  tensor::Matrix<float> ones("bench::ones", 1, points), db("bench::db", 1, kWidth);
  Kokkos::deep_copy(a, 0.5f);
  Kokkos::deep_copy(w, 0.1f);
  Kokkos::deep_copy(ones, 1.0f);
  const double gemms = time_median(
      [&] {
        for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
          const std::size_t in = sizes[l], out = sizes[l + 1];
          const tensor::Matrix<float> x(a.data(), rows, in), y(z.data(), rows, out);
          const tensor::Matrix<float> wl(w.data(), out, in), dwl(dw.data(), out, in);
          const tensor::Matrix<float> y_value(z.data(), points, out), dbl(db.data(), 1, out);
          tensor::gemm('N', 'T', 1.0f, x, wl, 0.0f, y);
          tensor::gemm('T', 'N', 1.0f, y, x, 1.0f, dwl);
          tensor::gemm('N', 'N', 1.0f, ones, y_value, 1.0f, dbl);
          if (l > 0) tensor::gemm('N', 'N', 1.0f, y, wl, 0.0f, x);
        }
      },
      options.repeats, options.warmup);

  std::vector<BenchRow> out;
  out.push_back({"pinn_step", shape, step, flops / step * 1e-9, gemms / step,
                 "jets + LWR residual + backward; extra = gemm share of the step"});
  out.push_back({"pinn_jet_forward", shape, forward, flops / forward * 1e-9, 0,
                 "forward jets (u, u_x, u_t, u_xx) only"});
  out.push_back({"pinn_backward", shape, backward, flops / backward * 1e-9, 0,
                 "reverse sweep only"});
  out.push_back(
      {"pinn_gemms", shape, gemms, flops / gemms * 1e-9, 0, "the step's gemm calls alone"});
  return out;
}

}  // namespace tessera::bench
