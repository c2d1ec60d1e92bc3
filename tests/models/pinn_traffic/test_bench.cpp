// The PINN training benchmark runs and reports its rows (quick shapes).
#include <cstdio>

#include "experiments/bench/bench_pinn_training.hpp"
#include "tests/support/catch.hpp"

TEST_CASE("bench_pinn_training reports a training step, a gradient and the layer gemms",
          "[bench]") {
  tessera::bench::BenchOptions options;
  options.quick = true;
  options.repeats = 2;
  options.warmup = 1;
  const auto rows = tessera::bench::bench_pinn_training(options);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].benchmark == "pinn_train_step");
  CHECK(rows[1].benchmark == "pinn_train_gradient");
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(rows[i].seconds > 0);
    CHECK(rows[i].gflops > 0);
    CHECK(rows[i].extra == Approx(1 / rows[i].seconds));
    CHECK(rows[i].shape.find("collocation=500") != std::string::npos);
  }
  const auto& gemms = rows[2];
  CHECK(gemms.benchmark == "pinn_layer_gemms");
  CHECK(gemms.shape == "weights=20x20 jet_columns=500 float");
  CHECK(gemms.seconds > 0);
  REQUIRE(gemms.more.size() == 1);
  CHECK(gemms.more[0].first == "sgemm_peak_gflops");
  CHECK(gemms.extra == Approx(gemms.gflops / gemms.more[0].second));
}

// Full shapes, run by hand (hidden from ctest):
//   OPENBLAS_NUM_THREADS=1 test_models_pinn_traffic "[bench_full]" -s
TEST_CASE("bench_pinn_training at full size", "[.][bench_full]") {
  const auto rows = tessera::bench::bench_pinn_training(tessera::bench::BenchOptions{});
  for (const auto& row : rows) {
    std::printf("%s | %s | %.6f s | %.2f GFLOP/s | %.2f steps/s\n", row.benchmark.c_str(),
                row.shape.c_str(), row.seconds, row.gflops, row.extra);
  }
  CHECK(rows.size() == 3);
}
