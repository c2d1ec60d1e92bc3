// Run on 1, 2 and 4 ranks: a grid network with junctions cut between ranks, varying
// demand, turning fractions and incidents must reproduce the one-rank run (MPI_COMM_SELF,
// on every rank) bitwise, for both link partitions, and so must its detector readings.
#include <mpi.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/runtime/runtime.hpp"
#include "solvers/lwr/network/detectors.hpp"
#include "solvers/lwr/network/network_solver.hpp"
#include "tests/solvers/lwr_network/small_networks.hpp"
#include "tests/support/catch.hpp"

using namespace tessera::solvers::lwr::network;
using namespace tessera::solvers::lwr::network::testing;

namespace {

// Every cell in the global order, on every rank: each rank adds its own cells to zeros.
std::vector<double> all_cells(const NetworkSolver& solver) {
  std::vector<double> local(static_cast<std::size_t>(solver.network().total_cells()), 0.0);
  const std::vector<double> mine = solver.density_host();
  const std::vector<long long> rows = solver.global_cell_rows();
  for (std::size_t k = 0; k < rows.size(); ++k) local[static_cast<std::size_t>(rows[k])] = mine[k];
  std::vector<double> all(local.size());
  MPI_Allreduce(local.data(), all.data(), static_cast<int>(local.size()), MPI_DOUBLE, MPI_SUM,
                solver.comm());
  return all;
}

// Drives the solver with changing demand, turning, an incident and a blocked exit;
// returns the detector readings (complete on rank 0) of every 150-step interval.
std::vector<double> drive(NetworkSolver& solver, int steps) {
  std::vector<DetectorSite> sites;
  for (int l = 0; l < solver.network().link_count(); l += 3) {
    sites.push_back({"D" + std::to_string(l), l, 0.6 * solver.network().link(l).length});
  }
  NetworkDetectors detectors(solver, sites);
  std::vector<double> readings;
  const RoadNetwork& net = solver.network();
  const std::vector<int> origins = net.origins();
  for (int s = 0; s < steps; ++s) {
    if (s % 30 == 0) {
      for (std::size_t o = 0; o < origins.size(); ++o) {
        const double phase = 0.7 * static_cast<double>(o);
        solver.set_origin_demand(
            origins[o], (600.0 + 1500.0 * std::pow(std::sin(s / 150.0 + phase), 2)) / 3600.0);
      }
      // Shift the turning fractions of junction 5 towards its first out-link and back.
      const int node = 5;
      const std::size_t ins = net.in_links(node).size(), outs = net.out_links(node).size();
      std::vector<std::vector<double>> rows(ins, std::vector<double>(outs));
      for (std::size_t i = 0; i < ins; ++i) {
        double sum = 0;
        for (std::size_t j = 0; j < outs; ++j) {
          rows[i][j] = net.turning_fraction(node, static_cast<int>(i), static_cast<int>(j)) *
                       (j == 0 ? 1.0 + 0.8 * std::sin(s / 200.0) : 1.0);
          sum += rows[i][j];
        }
        for (double& b : rows[i]) b /= sum;
      }
      solver.set_turning(node, rows);
      solver.set_capacity_factor(7, 3, s >= 300 && s < 600 ? 0.35 : 1.0);
      solver.set_exit_supply(net.destinations()[2], s < 450 ? 100.0 / 3600.0 : 1.0);
    }
    solver.step();
    detectors.accumulate(solver);
    if ((s + 1) % 150 == 0) {
      const DetectorReadings r = detectors.close_interval(solver);
      for (const auto* values : {&r.flow, &r.density, &r.speed}) {
        readings.insert(readings.end(), values->begin(), values->end());
      }
    }
  }
  return readings;
}

}  // namespace

TEST_CASE("a partitioned network reproduces one rank bitwise", "[parallel]") {
  const double dt = 2.0;
  RoadNetwork net = grid(4);
  net.node(6).fifo = false;  // one junction of each kind of node model
  net.finalize(dt, "network.dt");
  const int ranks = tessera::runtime::comm_size(MPI_COMM_WORLD);

  NetworkSolver reference(MPI_COMM_SELF, net, dt, partition_links(net, 1, "metis"));
  const std::vector<double> expected_readings = drive(reference, 900);
  const std::vector<double> expected = reference.density_host();  // one rank: global order
  const std::vector<double> expected_queues = reference.origin_queues();
  const MassBalance expected_mass = reference.mass_balance();
  CHECK(expected_mass.relative_error() < 1e-12);

  for (const std::string method : {"metis", "blocks"}) {
    INFO(ranks << " ranks, " << method << " partition");
    NetworkSolver solver(MPI_COMM_WORLD, net, dt, partition_links(net, ranks, method));
    const std::vector<double> readings = drive(solver, 900);
    if (tessera::runtime::comm_rank(MPI_COMM_WORLD) == 0) {
      REQUIRE(readings.size() == expected_readings.size());
      for (std::size_t i = 0; i < readings.size(); ++i)
        REQUIRE(readings[i] == expected_readings[i]);
    }
    const std::vector<double> got = all_cells(solver);
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == expected[i]);
    const std::vector<double> queues = solver.origin_queues();
    for (std::size_t o = 0; o < queues.size(); ++o) REQUIRE(queues[o] == expected_queues[o]);
    CHECK(solver.mass_balance().relative_error() < 1e-12);
    CHECK(solver.mass_balance().stored == Approx(expected_mass.stored).epsilon(1e-13));
  }
}
