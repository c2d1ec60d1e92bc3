// The flow benchmark (experiments/bench/bench_flow.cpp, wired into `tessera bench`):
// a quick run checks that it produces sensible rows; the hidden "[.bench_flow]" case
// runs the full set of meshes and prints the rows (for the README numbers).
#include <cstdlib>

#include "core/runtime/runtime.hpp"
#include "experiments/bench/bench_flow.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;

TEST_CASE("flow benchmark rows", "[bench]") {
  bench::BenchOptions options;
  options.quick = true;
  options.repeats = 2;
  options.warmup = 1;
  const auto rows = bench::bench_flow(MPI_COMM_WORLD, options);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].benchmark == "flow_step");
  CHECK(rows[0].seconds > 0);
  CHECK(rows[0].extra > 0);
}

TEST_CASE("flow benchmark, all meshes", "[.bench_flow]") {
  bench::BenchOptions options;
  options.repeats = 3;
  options.warmup = 1;
  const auto rows = bench::bench_flow(MPI_COMM_WORLD, options);
  if (runtime::comm_rank(MPI_COMM_WORLD) == 0) {
    for (const auto& row : rows) {
      std::string more;
      for (const auto& [k, v] : row.more) more += " " + k + "=" + std::to_string(v);
      WARN(row.shape << ": " << row.seconds << " s/step, " << row.extra << " s/step/1k vertices;"
                     << more);
    }
  }
}
