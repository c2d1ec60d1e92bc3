// The PINN training benchmark runs and reports its rows (quick shapes).
#include <cstdio>

#include "experiments/bench/bench_pinn_training.hpp"
#include "tests/support/catch.hpp"

TEST_CASE("bench_pinn_training reports a training step and a gradient", "[bench]") {
  tessera::bench::BenchOptions options;
  options.quick = true;
  options.repeats = 2;
  options.warmup = 1;
  const auto rows = tessera::bench::bench_pinn_training(options);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].benchmark == "pinn_train_step");
  CHECK(rows[1].benchmark == "pinn_train_gradient");
  for (const auto& row : rows) {
    CHECK(row.seconds > 0);
    CHECK(row.gflops > 0);
    CHECK(row.extra == Approx(1 / row.seconds));
    CHECK(row.shape.find("collocation=500") != std::string::npos);
  }
}

// Full shapes, run by hand (hidden from ctest):
//   OPENBLAS_NUM_THREADS=1 test_models_pinn_traffic "[bench_full]" -s
TEST_CASE("bench_pinn_training at full size", "[.][bench_full]") {
  const auto rows = tessera::bench::bench_pinn_training(tessera::bench::BenchOptions{});
  for (const auto& row : rows) {
    std::printf("%s | %s | %.6f s | %.2f GFLOP/s | %.2f steps/s\n", row.benchmark.c_str(),
                row.shape.c_str(), row.seconds, row.gflops, row.extra);
  }
  CHECK(rows.size() == 2);
}
