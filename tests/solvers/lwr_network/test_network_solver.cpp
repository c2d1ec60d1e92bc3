// The cell transmission model on networks: a one-link network against the single-road
// solver (bitwise), mass balance, origin queues, off-ramp spill-back, and the waves of an
// incident queue against their exact speeds.
#include <mpi.h>

#include <cmath>
#include <vector>

#include "solvers/lwr/lwr_solver.hpp"
#include "solvers/lwr/network/network_solver.hpp"
#include "tests/solvers/lwr_network/small_networks.hpp"
#include "tests/support/catch.hpp"

using namespace tessera::solvers::lwr;
using namespace tessera::solvers::lwr::network;
using namespace tessera::solvers::lwr::network::testing;

namespace {

// One link from an origin to a destination.
RoadNetwork one_link(double length, int lanes, long long cells, double lane_capacity) {
  RoadNetwork net;
  const int o = net.add_node(make_node("origin", NodeKind::kOrigin));
  const int d = net.add_node(make_node("destination", NodeKind::kDestination, length));
  Link l = make_link("road", o, d, length, lanes, cells);
  l.lane.capacity = lane_capacity;
  net.add_link(l);
  return net;
}

std::vector<int> everything_on_rank0(const RoadNetwork& net) {
  return std::vector<int>(static_cast<std::size_t>(net.link_count()), 0);
}

// Position (m from the link start) where the density first crosses `level` going
// downstream from `from_m`, rising (up = true) or falling, interpolated between cell
// centres; -1 when it does not.
double crossing(const std::vector<double>& rho, double dx, double level, bool up, double from_m) {
  for (std::size_t c = 0; c + 1 < rho.size(); ++c) {
    const double x = (static_cast<double>(c) + 0.5) * dx;
    if (x < from_m) continue;
    const bool crosses =
        up ? (rho[c] < level && rho[c + 1] >= level) : (rho[c] > level && rho[c + 1] <= level);
    if (crosses) return x + dx * (level - rho[c]) / (rho[c + 1] - rho[c]);
  }
  return -1.0;
}

}  // namespace

TEST_CASE("a network of one link reproduces the single-road solver bitwise", "[single_link]") {
  LwrParameters p;
  p.cells = 120;
  p.road_length = 6000.0;
  p.diagram.kind = FluxKind::kTriangular;
  p.diagram.v_max = 105.0 / 3.6;
  p.diagram.wave_speed = 20.0 / 3.6;
  p.diagram.rho_max = 3 * 0.150;
  p.cfl = 1.0;
  p.boundary = Boundary::kOpen;
  p.upstream_density = 0.05;    // below critical (0.072): free-flow inflow
  p.downstream_density = 0.30;  // congested downstream: a queue backs up from the end
  LwrSolver road(MPI_COMM_SELF, p);
  const double dt = road.stable_dt();

  // A lane capacity far above the triangle's peak leaves the triangle as it is.
  RoadNetwork net = one_link(p.road_length, 3, p.cells, 1e6);
  net.finalize(dt, "dt");
  NetworkSolver solver(MPI_COMM_SELF, net, dt, everything_on_rank0(net));
  std::vector<double> initial(static_cast<std::size_t>(p.cells));
  for (long long i = 0; i < p.cells; ++i) {
    const double x = road.cell_center(i);
    initial[static_cast<std::size_t>(i)] =
        0.03 + 0.35 * std::exp(-std::pow((x - 4200.0) / 400.0, 2));
  }
  road.set_density(initial);
  solver.set_link_density(0, initial);
  solver.set_origin_demand(0, p.diagram.demand(p.upstream_density));
  solver.set_exit_supply(1, p.diagram.supply(p.downstream_density));
  for (int s = 0; s < 300; ++s) {
    road.step(dt);
    solver.step();
  }
  REQUIRE(solver.origin_queues()[0] == 0.0);  // the inflow was never held back
  const std::vector<double> a = road.density_host(), b = solver.density_host();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) REQUIRE(a[i] == b[i]);
  CHECK(solver.mass_balance().relative_error() < 1e-13);
}

TEST_CASE("an origin queue grows at demand minus capacity", "[single_link]") {
  const double dt = 2.0;
  RoadNetwork net = one_link(3000.0, 2, 0, 2100.0 / 3600.0);
  net.finalize(dt, "dt");
  NetworkSolver solver(MPI_COMM_SELF, net, dt, everything_on_rank0(net));
  solver.set_origin_demand(0, 5000.0 / 3600.0);
  for (int s = 0; s < 1800; ++s) solver.step();  // one hour
  CHECK(solver.origin_queues()[0] == Approx(800.0).epsilon(1e-10));
  CHECK(solver.mass_balance().relative_error() < 1e-13);
}

TEST_CASE("mass balance holds to round-off through queues, spill-back and incidents",
          "[mass_balance]") {
  const double dt = 2.0;
  RoadNetwork net = corridor(0.25);
  net.finalize(dt, "dt");
  NetworkSolver solver(MPI_COMM_SELF, net, dt, everything_on_rank0(net));
  for (int s = 0; s < 3000; ++s) {
    if (s % 60 == 0) {  // demand above and below capacity, changing every two minutes
      const double wave = std::sin(s / 400.0);
      solver.set_origin_demand(0, (4500.0 + 2500.0 * wave) / 3600.0);
      solver.set_origin_demand(1, (900.0 + 500.0 * wave) / 3600.0);
      solver.set_exit_supply(5, s < 1500 ? 200.0 / 3600.0 : 2100.0 / 3600.0);
      solver.set_capacity_factor(2, 10, s >= 600 && s < 1200 ? 0.4 : 1.0);
    }
    solver.step();
    if (s % 500 == 499) {
      const MassBalance m = solver.mass_balance();
      INFO("step " << s << ": demanded " << m.demanded << ", queued " << m.queued << ", stored "
                   << m.stored << ", exited " << m.exited);
      CHECK(m.relative_error() < 1e-12);
      CHECK(m.entered + m.queued == Approx(m.demanded).epsilon(1e-12));
    }
  }
  const MassBalance m = solver.mass_balance();
  CHECK(m.queued > 0.0);  // the setup really did congest up to the origin
  solver.check_finite();
}

TEST_CASE("a blocked off-ramp spills back onto the mainline and clears when it opens",
          "[spill_back]") {
  const double dt = 2.0;
  RoadNetwork net = corridor(0.2);
  net.finalize(dt, "dt");
  NetworkSolver solver(MPI_COMM_SELF, net, dt, everything_on_rank0(net));
  solver.set_origin_demand(0, 4000.0 / 3600.0);
  solver.set_origin_demand(1, 500.0 / 3600.0);
  const int mid = 2, ramp_off = 4;
  const double critical = net.diagram(mid).critical_density();
  // The off-ramp's exit lets 300 veh/h out for 20 minutes: FIFO holds the diverge to
  // 300 / 0.2 = 1500 veh/h once the ramp is full (about 8 minutes), so the mainline
  // upstream of it congests.
  solver.set_exit_supply(5, 300.0 / 3600.0);
  for (int s = 0; s < 600; ++s) solver.step();
  std::vector<double> rho = solver.link_density(mid);
  CHECK(rho.back() > critical);
  CHECK(solver.link_density(ramp_off).back() > net.diagram(ramp_off).critical_density());
  // The queue on the mainline: congested at the flow 1500 veh/h, rho = rho_jam - q / w.
  const double queue_density = net.diagram(mid).rho_max - (1500.0 / 3600.0) / (20.0 / 3.6);
  CHECK(rho[rho.size() - 3] == Approx(queue_density).epsilon(0.02));
  solver.set_exit_supply(5, 2100.0 / 3600.0);
  for (int s = 0; s < 900; ++s) solver.step();  // 30 minutes later
  for (const double v : solver.link_density(mid)) CHECK(v < critical);
  for (const double v : solver.link_density(ramp_off)) {
    CHECK(v < net.diagram(ramp_off).critical_density());
  }
  CHECK(solver.origin_queues()[0] == 0.0);
}

TEST_CASE("an incident queue: the tail moves at the shock speed, the recovery at the wave speed",
          "[incident_waves]") {
  const double dt = 2.0;
  RoadNetwork net = one_link(10000.0, 3, 0, 2100.0 / 3600.0);
  net.finalize(dt, "dt");
  NetworkSolver solver(MPI_COMM_SELF, net, dt, everything_on_rank0(net));
  const double dx = net.cell_length(0);
  const long long incident_cell = static_cast<long long>(8000.0 / dx);
  const double w = 20.0 / 3.6, rho_jam = 0.45;
  const double q_up = 4500.0 / 3600.0, rho_up = q_up / (105.0 / 3.6);
  const double q_queue = 0.5 * 6300.0 / 3600.0, rho_queue = rho_jam - q_queue / w;
  const double rho_discharge = rho_jam - (6300.0 / 3600.0) / w;  // leaving a queue at capacity
  const double shock_speed = (q_queue - q_up) / (rho_queue - rho_up);  // Rankine-Hugoniot
  solver.set_origin_demand(0, q_up);
  // Free flow everywhere first.
  std::vector<double> initial(static_cast<std::size_t>(net.link(0).cells), rho_up);
  solver.set_link_density(0, initial);
  solver.set_capacity_factor(0, incident_cell, 0.5);
  auto run_until = [&](double t) {
    while (solver.time() < t - 1e-9) solver.step();
  };
  const double tail_level = 0.5 * (rho_up + rho_queue);
  run_until(400);
  const double tail_400 = crossing(solver.link_density(0), dx, tail_level, true, 0);
  run_until(1000);
  const double tail_1000 = crossing(solver.link_density(0), dx, tail_level, true, 0);
  CHECK((tail_1000 - tail_400) / 600.0 == Approx(shock_speed).epsilon(0.03));
  run_until(1200);  // the incident clears after 20 minutes
  solver.set_capacity_factor(0, incident_cell, 1.0);
  const double head_level = 0.5 * (rho_queue + rho_discharge);
  run_until(1300);
  std::vector<double> rho = solver.link_density(0);
  const double head_1300 =
      crossing(rho, dx, head_level, false, crossing(rho, dx, tail_level, true, 0));
  run_until(1500);
  rho = solver.link_density(0);
  const double head_1500 =
      crossing(rho, dx, head_level, false, crossing(rho, dx, tail_level, true, 0));
  CHECK((head_1500 - head_1300) / 200.0 == Approx(-w).epsilon(0.03));
  CHECK(solver.mass_balance().relative_error() < 1e-12);
}
