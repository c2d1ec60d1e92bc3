#include "experiments/bench/bench_lwr_network.hpp"

#include <algorithm>
#include <chrono>
#include <functional>

#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/runtime.hpp"
#include "solvers/lwr/lwr_solver.hpp"
#include "solvers/lwr/network/detectors.hpp"
#include "solvers/lwr/network/network_solver.hpp"
#include "solvers/lwr/network/scenarios.hpp"

namespace tessera::bench {
namespace {

namespace net = solvers::lwr::network;

// Median over `blocks` of the slowest rank's time per step in a block of `block_steps`.
double median_step_seconds(MPI_Comm comm, int block_steps, int blocks,
                           const std::function<void()>& step) {
  std::vector<double> seconds;
  for (int b = 0; b < blocks; ++b) {
    MPI_Barrier(comm);
    const auto start = std::chrono::steady_clock::now();
    for (int k = 0; k < block_steps; ++k) step();
    Kokkos::fence();
    double local = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double slowest = local;
    MPI_Allreduce(&local, &slowest, 1, MPI_DOUBLE, MPI_MAX, comm);
    seconds.push_back(slowest / block_steps);
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

// Steps at constant peak demand: first an hour of simulated time to load the network,
// then `blocks` timed blocks of `block_steps` steps (with the detectors accumulating, as
// in a run); the median block gives the time per step.
BenchRow time_network(MPI_Comm comm, const std::string& name, net::Scenario scenario,
                      const BenchOptions& options) {
  const double dt = 5.0;
  scenario.network.finalize(dt, "network.dt");
  const int ranks = runtime::comm_size(comm);
  net::NetworkSolver solver(comm, scenario.network, dt,
                            net::partition_links(scenario.network, ranks, "metis"));
  net::NetworkDetectors detectors(solver, scenario.detectors);
  for (const int o : scenario.network.origins()) {
    solver.set_origin_demand(o, scenario.peak_demand[static_cast<std::size_t>(o)]);
  }
  for (const int d : scenario.network.destinations()) {
    solver.set_exit_supply(d, scenario.exit_capacity[static_cast<std::size_t>(d)]);
  }
  const int warmup_steps = options.quick ? 20 : 720;
  for (int k = 0; k < warmup_steps; ++k) solver.step();
  const int block_steps = options.quick ? 5 : 100;
  const int blocks = std::max(3, std::min(options.repeats, options.quick ? 3 : 9));
  const double per_step = median_step_seconds(comm, block_steps, blocks, [&] {
    solver.step();
    detectors.accumulate(solver);
  });
  const double cells = static_cast<double>(scenario.network.total_cells());
  BenchRow row;
  row.benchmark = "network_step";
  row.shape =
      str(name, " links=", scenario.network.link_count(), " cells=", scenario.network.total_cells(),
          " detectors=", detectors.count(), " ranks=", ranks);
  row.seconds = per_step;
  row.extra = cells / per_step / 1e6;
  row.note = "extra = million cell-updates per second (dt = 5 s, peak demand, detectors on)";
  row.more = {{"cells", cells},
              {"links", static_cast<double>(scenario.network.link_count())},
              {"ranks", static_cast<double>(ranks)},
              {"simulated_day_seconds", per_step * 86400.0 / dt}};
  runtime::log::info(str("bench lwr_network: ", row.shape, ": ", per_step * 1e3, " ms/step, ",
                         row.extra, " M cell-updates/s, one simulated day in ",
                         per_step * 86400.0 / dt, " s"));
  return row;
}

// The single-road Godunov solver on as many cells (one open road, a congested half),
// timed the same way: the reference cost of a cell update without junctions.
BenchRow time_single_road(MPI_Comm comm, long long cells, const BenchOptions& options) {
  solvers::lwr::LwrParameters p;
  p.cells = cells;
  p.road_length = static_cast<double>(cells) * 150.0;
  p.diagram.kind = solvers::lwr::FluxKind::kTriangular;
  p.diagram.v_max = 105.0 / 3.6;
  p.diagram.wave_speed = 20.0 / 3.6;
  p.diagram.rho_max = 0.3;
  p.cfl = 1.0;
  p.boundary = solvers::lwr::Boundary::kOpen;
  p.upstream_density = 0.03;
  p.downstream_density = 0.2;
  solvers::lwr::LwrSolver road(comm, p);
  const double dt = road.stable_dt();
  const int block_steps = options.quick ? 5 : 100;
  const int blocks = std::max(3, std::min(options.repeats, options.quick ? 3 : 9));
  for (int k = 0; k < block_steps; ++k) road.step(dt);
  const double per_step = median_step_seconds(comm, block_steps, blocks, [&] { road.step(dt); });
  BenchRow row;
  row.benchmark = "single_road_step";
  row.shape = str("cells=", cells, " ranks=", runtime::comm_size(comm));
  row.seconds = per_step;
  row.extra = static_cast<double>(cells) / row.seconds / 1e6;
  row.note = "extra = million cell-updates per second (solvers/lwr, the reference)";
  runtime::log::info(
      str("bench lwr_network: single road ", row.shape, ": ", row.extra, " M cell-updates/s"));
  return row;
}

}  // namespace

std::vector<BenchRow> bench_lwr_network(MPI_Comm comm, const BenchOptions& options) {
  std::vector<BenchRow> rows;
  net::GridOptions grid;
  if (options.quick) grid.rows = grid.columns = 6;
  rows.push_back(
      time_network(comm, str("grid ", grid.rows, "x", grid.columns), net::grid(grid), options));
  rows.push_back(time_network(comm, "freeways", net::freeway_network({}), options));
  rows.push_back(
      time_single_road(comm, static_cast<long long>(rows.front().more[0].second), options));
  return rows;
}

}  // namespace tessera::bench
