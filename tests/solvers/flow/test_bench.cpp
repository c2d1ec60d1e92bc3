// The flow benchmark (experiments/bench/bench_flow.cpp, wired into `tessera bench`):
// a quick run checks that it produces sensible rows; the hidden "[.bench_flow]" case
// runs the full set of meshes and prints the rows (for the README numbers).
#include <cstdlib>

#include "core/runtime/runtime.hpp"
#include "experiments/bench/bench_flow.hpp"
#include "solvers/flow/pressure_amg.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;

namespace {
double more_value(const bench::BenchRow& row, const std::string& name) {
  for (const auto& [key, value] : row.more) {
    if (key == name) return value;
  }
  FAIL("row " << row.shape << " has no value " << name);
  return 0;
}
}  // namespace

TEST_CASE("flow benchmark rows", "[bench]") {
  bench::BenchOptions options;
  options.quick = true;
  options.repeats = 2;
  options.warmup = 1;
  const auto rows = bench::bench_flow(MPI_COMM_WORLD, options);
  // One row per pressure solver: Jacobi-CG, and AMG-CG when hypre is built in.
  REQUIRE(rows.size() == (solvers::flow::hypre_available() ? 2u : 1u));
  for (const auto& row : rows) {
    CHECK(row.benchmark == "flow_step");
    CHECK(row.seconds > 0);
    CHECK(row.extra > 0);
    CHECK(more_value(row, "pressure_iterations") >= 1);
  }
  if (rows.size() == 2) {  // AMG needs far fewer pressure iterations than Jacobi
    CHECK(more_value(rows[1], "pressure_iterations") < more_value(rows[0], "pressure_iterations"));
  }
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
