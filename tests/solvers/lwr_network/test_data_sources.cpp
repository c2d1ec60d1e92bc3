// What turns the network solver into a data source: the daily demand, random incidents,
// loop detectors (with noise and dropouts) and the road-distance sensor graph.
#include <cmath>
#include <string>
#include <vector>

#include "core/runtime/error.hpp"
#include "solvers/lwr/network/demand.hpp"
#include "solvers/lwr/network/detectors.hpp"
#include "solvers/lwr/network/incidents.hpp"
#include "solvers/lwr/network/network_solver.hpp"
#include "solvers/lwr/network/sensor_graph.hpp"
#include "tests/solvers/lwr_network/small_networks.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/input_error.hpp"

using tessera::testing::input_error_of;

using namespace tessera::solvers::lwr::network;
using namespace tessera::solvers::lwr::network::testing;
using Catch::Matchers::Contains;

namespace {

std::vector<double> peaks_for(const RoadNetwork& net, double flow) {
  std::vector<double> peaks(static_cast<std::size_t>(net.node_count()), 0.0);
  for (const int o : net.origins()) peaks[static_cast<std::size_t>(o)] = flow;
  return peaks;
}

}  // namespace

TEST_CASE(
    "the daily profile has a morning and an evening peak on weekdays, a midday bump on "
    "weekends",
    "[demand]") {
  CHECK(daily_profile(7.75, false) > 0.9);
  CHECK(daily_profile(17.25, false) > 0.9);
  CHECK(daily_profile(3.0, false) < 0.15);
  CHECK(daily_profile(12.5, false) > 0.4);
  CHECK(daily_profile(12.5, false) < 0.8);
  CHECK(daily_profile(13.5, true) > 0.7);
  CHECK(daily_profile(7.75, true) < 0.5 * daily_profile(7.75, false));
  for (double h = 0; h < 24; h += 0.25) {
    CHECK(daily_profile(h, false) <= 1.0);
    CHECK(daily_profile(h, true) > 0.0);
  }
}

TEST_CASE("demand is keyed by (seed, origin, day), unbiased, and AR(1) within a day", "[demand]") {
  RoadNetwork net = corridor();
  net.finalize(5.0, "network.dt");
  const std::vector<double> peaks = peaks_for(net, 1.0);
  DemandOptions options;
  options.seed = 11;
  DemandModel sequential(net, peaks, options), direct(net, peaks, options);
  std::vector<double> day5;
  for (long long day = 0; day <= 5; ++day) {
    for (int k = 0; k < 288; ++k) {
      const std::vector<double>& d = sequential.origin_demand(day, k);
      if (day == 5 && k == 100) day5 = d;
    }
  }
  CHECK(direct.origin_demand(5, 100) == day5);  // no dependence on the days before
  options.seed = 12;
  DemandModel other(net, peaks, options);
  CHECK(other.origin_demand(5, 100) != day5);

  // Over many days the multipliers average to 1, and the noise is correlated from one
  // five-minute interval to the next as the AR(1) coefficient says.
  for (const double day_sigma : {0.08, 0.0}) {
    options.seed = 3;
    options.day_sigma = day_sigma;
    DemandModel model(net, peaks, options);
    double sum = 0, c0 = 0, c1 = 0, mean_log = 0;
    std::vector<std::vector<double>> logs;
    int count = 0;
    for (long long day = 0; day < 60; ++day) {
      std::vector<double> row;
      for (int k = 0; k < 288; ++k) {
        const double multiplier = model.origin_demand(day, k)[0] / model.expected_demand(0, day, k);
        sum += multiplier;
        row.push_back(std::log(multiplier));
        mean_log += row.back();
        ++count;
      }
      logs.push_back(row);
    }
    INFO("day_sigma = " << day_sigma);
    CHECK(sum / count == Approx(1.0).epsilon(0.04));
    if (day_sigma > 0) continue;
    mean_log /= count;
    for (const auto& row : logs) {
      for (std::size_t k = 0; k < row.size(); ++k) {
        c0 += (row[k] - mean_log) * (row[k] - mean_log);
        if (k > 0) c1 += (row[k] - mean_log) * (row[k - 1] - mean_log);
      }
    }
    CHECK(c1 / c0 == Approx(options.noise_correlation).margin(0.05));
    CHECK(std::sqrt(c0 / count) == Approx(options.noise_sigma).epsilon(0.2));
  }
}

TEST_CASE("turning fractions drift through the day and stay fractions", "[demand]") {
  RoadNetwork net = corridor(0.2);
  net.finalize(5.0, "network.dt");
  DemandOptions options;
  DemandModel model(net, peaks_for(net, 1.0), options);
  double low = 1, high = 0;
  for (int k = 0; k < 288; ++k) {
    const auto rows = model.turning(3, k);  // the diverge
    REQUIRE(rows.size() == 1);
    CHECK(rows[0][0] + rows[0][1] == Approx(1.0).epsilon(1e-15));
    low = std::min(low, rows[0][1]);
    high = std::max(high, rows[0][1]);
  }
  CHECK(low >= 0.2 * (1 - options.turning_amplitude) * 0.9);
  CHECK(high <= 0.2 * (1 + options.turning_amplitude) * 1.1);
  CHECK(high - low > 0.01);            // it does move
  CHECK(model.turning(2, 0).empty());  // the merge has one out-link
}

TEST_CASE("incidents: Poisson counts at the given rate, in range, keyed by day", "[incidents]") {
  RoadNetwork net = corridor();
  net.finalize(5.0, "network.dt");
  IncidentOptions options;
  options.rate = 0.05;
  const long long days = 200;
  const std::vector<Incident> all = generate_incidents(net, options, days);
  double lane_km = 0;
  for (const Link& l : net.links()) lane_km += l.lanes * l.length / 1000.0;
  const double expected = options.rate * lane_km * days;
  CHECK(std::abs(static_cast<double>(all.size()) - expected) < 4 * std::sqrt(expected));
  for (std::size_t k = 0; k < all.size(); ++k) {
    const Incident& i = all[k];
    CHECK(i.cell >= 0);
    CHECK(i.cell < net.link(i.link).cells);
    CHECK(i.end - i.start >= options.min_duration);
    CHECK(i.end - i.start <= options.max_duration);
    CHECK(i.capacity_factor >= 1 - options.max_drop);
    CHECK(i.capacity_factor <= 1 - options.min_drop);
    if (k > 0) CHECK(all[k - 1].start <= i.start);
  }
  // The first 50 days do not change when more days are simulated.
  const std::vector<Incident> first = generate_incidents(net, options, 50);
  std::size_t matched = 0;
  for (const Incident& i : all) {
    if (i.start < 50 * 86400.0) {
      REQUIRE(matched < first.size());
      CHECK(first[matched].start == i.start);
      CHECK(first[matched].link == i.link);
      ++matched;
    }
  }
  CHECK(matched == first.size());
  options.max_drop = 1.2;
  CHECK_THAT(input_error_of([&] { generate_incidents(net, options, 1); }),
             Contains("incidents.min_drop") && Contains("expected 0 < min <= max < 1"));
}

TEST_CASE("the incident schedule opens and closes capacity drops; overlaps take the lowest",
          "[incidents]") {
  std::vector<Incident> list = {
      {0, 3, 100, 400, 0.5}, {0, 3, 200, 300, 0.3}, {1, 0, 250, 260, 0.6}};
  IncidentSchedule schedule(list);
  CHECK(schedule.advance(50).empty());
  auto changes = schedule.advance(100);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].factor == 0.5);
  changes = schedule.advance(200);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].factor == 0.3);
  changes = schedule.advance(300);  // the second ended, the first still on; link 1 came and went
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].link == 0);
  CHECK(changes[0].factor == 0.5);
  CHECK(changes[1].link == 1);
  CHECK(changes[1].factor == 1.0);
  changes = schedule.advance(400);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].factor == 1.0);
  CHECK(schedule.active() == 0);
}

TEST_CASE("detectors read flow, density and speed of steady states exactly", "[detectors]") {
  const double dt = 2.0;
  RoadNetwork net;
  const int o = net.add_node(make_node("o", NodeKind::kOrigin));
  const int d = net.add_node(make_node("d", NodeKind::kDestination, 3000));
  net.add_link(make_link("road", o, d, 3000, 2));
  net.finalize(dt, "network.dt");
  NetworkSolver solver(MPI_COMM_SELF, net, dt, {0});
  const tessera::solvers::lwr::FundamentalDiagram diagram = net.diagram(0);
  // Free flow at 3000 veh/h: density q / v everywhere, fed by the same demand.
  const double q = 3000.0 / 3600.0, rho = q / diagram.v_max;
  solver.set_link_density(0, std::vector<double>(static_cast<std::size_t>(net.link(0).cells), rho));
  solver.set_origin_demand(o, q);
  NetworkDetectors detectors(solver, {{"A", 0, 1000.0}, {"B", 0, 2500.0}});
  for (int s = 0; s < 150; ++s) {
    solver.step();
    detectors.accumulate(solver);
  }
  const DetectorReadings r = detectors.close_interval(solver);
  for (int k = 0; k < 2; ++k) {
    CHECK(r.flow[k] == Approx(3000.0).epsilon(1e-12));
    CHECK(r.density[k] == Approx(rho * 1000).epsilon(1e-12));
    CHECK(r.speed[k] == Approx(105.0).epsilon(1e-12));
  }
  // A congested steady state: flow w (rho_jam - rho), speed w (rho_jam - rho) / rho.
  const double rho_c = 0.2;  // veh/m over 2 lanes (jam 0.3)
  const double q_c = diagram.wave_speed * (diagram.rho_max - rho_c);
  solver.set_link_density(0,
                          std::vector<double>(static_cast<std::size_t>(net.link(0).cells), rho_c));
  solver.set_origin_demand(o, 10.0);  // more than the link takes
  solver.set_exit_supply(d, q_c);
  for (int s = 0; s < 150; ++s) {
    solver.step();
    detectors.accumulate(solver);
  }
  const DetectorReadings c = detectors.close_interval(solver);
  CHECK(c.flow[0] == Approx(q_c * 3600).epsilon(1e-12));
  CHECK(c.speed[0] == Approx(q_c / rho_c * 3.6).epsilon(1e-12));
  CHECK(c.density[1] == Approx(200.0).epsilon(1e-12));
}

TEST_CASE("detector noise and dropouts: keyed, zeros for missing readings", "[detectors]") {
  DetectorNoise noise;
  noise.seed = 5;
  noise.speed_sigma = 3.0;
  noise.dropout_rate = 2.0;  // per detector-day
  const std::size_t n = 50;
  ReadingCorruptor a(noise, n, 300.0), b(noise, n, 300.0);
  double missing = 0, total = 0, deviation = 0;
  for (long long k = 0; k < 288 * 10; ++k) {
    DetectorReadings r{std::vector<double>(n, 1000.0), std::vector<double>(n, 20.0),
                       std::vector<double>(n, 100.0)};
    DetectorReadings s = r;
    missing += static_cast<double>(a.apply(k, r));
    b.apply(k, s);
    CHECK(r.speed == s.speed);  // the same seed gives the same gaps and noise
    for (std::size_t d = 0; d < n; ++d) {
      if (r.speed[d] == 0) {
        CHECK(r.flow[d] == 0);
        CHECK(r.density[d] == 0);
      } else {
        deviation += (r.speed[d] - 100.0) * (r.speed[d] - 100.0);
        total += 1;
      }
    }
  }
  CHECK(std::sqrt(deviation / total) == Approx(3.0).epsilon(0.05));
  // About 2 dropouts a day of log-uniform length between 10 minutes and 6 hours (mean
  // (6 h - 10 min) / ln 36 = 97.6 min): roughly 13 % of readings missing.
  const double fraction = missing / (288.0 * 10 * n);
  CHECK(fraction > 0.06);
  CHECK(fraction < 0.25);
}

TEST_CASE("the sensor graph holds road distances downstream, computed by hand", "[sensor_graph]") {
  RoadNetwork net = corridor();
  net.finalize(5.0, "network.dt");
  // up: 2 km, mid: 2 km, down: 2 km, ramp_off: 500 m, ramp_on: 400 m.
  const std::vector<DetectorSite> sites = {
      {"up", 0, 1500}, {"mid", 2, 500}, {"off", 4, 100}, {"down", 3, 300}, {"on", 1, 200}};
  const auto edges = road_distances(net, sites, 2700.0, "graph.max_distance_km");
  auto distance = [&](std::size_t a, std::size_t b) {
    for (const DetectorDistance& e : edges) {
      if (e.from == a && e.to == b) return e.distance;
    }
    return -1.0;
  };
  CHECK(distance(0, 1) == 1000.0);  // 500 m to the merge + 500 m
  CHECK(distance(0, 2) == 2600.0);  // + mid 2 km + 100 m on the off-ramp
  CHECK(distance(0, 3) == -1.0);    // 2.8 km: beyond the cut-off
  CHECK(distance(1, 0) == -1.0);    // against the traffic
  CHECK(distance(4, 1) == 700.0);   // 200 m of ramp left + 500 m
  CHECK(distance(1, 3) == 1800.0);
  CHECK(distance(4, 3) == 2500.0);
  CHECK(edges.size() == 7);  // 0->1, 0->2, 1->2, 1->3, 4->1, 4->2, 4->3
  CHECK_THAT(
      input_error_of([&] {
        road_distances(net, {{"up", 0, 100}, {"far", 3, 1900}}, 2000.0, "graph.max_distance_km");
      }),
      Contains("detector 'up' on link 'up' is disconnected from the sensor graph") &&
          Contains("graph.max_distance_km = 2 km"));
}

TEST_CASE("detectors off the road are refused", "[detectors]") {
  RoadNetwork net = corridor();
  net.finalize(5.0, "network.dt");
  NetworkSolver solver(MPI_COMM_SELF, net, 5.0, std::vector<int>(5, 0));
  CHECK_THAT(input_error_of([&] {
               NetworkDetectors(solver, {{"X", 0, 2500}});
             }),
             Contains("detector 'X': position 2500 m is outside link 'up' (0 to 2000 m)"));
  CHECK_THAT(input_error_of([&] {
               NetworkDetectors(solver, {{"Y", -1, 0}});
             }),
             Contains("detector 'Y' is on no link of the network"));
}
