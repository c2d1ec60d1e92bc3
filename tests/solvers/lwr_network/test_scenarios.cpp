// The synthetic scenarios: their shape (ramps, interchanges, links and detectors as
// promised), networks that finalize at the usual time steps, options refused with a
// message naming them, and the peak hour: queues at the bottlenecks that dissolve when
// demand falls to 40 % of the peak, with mass conserved to round-off.
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "core/runtime/error.hpp"
#include "solvers/lwr/network/network_solver.hpp"
#include "solvers/lwr/network/scenarios.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/input_error.hpp"

using tessera::testing::input_error_of;

using namespace tessera::solvers::lwr::network;
using Catch::Matchers::Contains;

namespace {

int count_junctions(const RoadNetwork& net, std::size_t ins, std::size_t outs) {
  int count = 0;
  for (int n = 0; n < net.node_count(); ++n) {
    if (net.node(n).kind == NodeKind::kJunction && net.in_links(n).size() == ins &&
        net.out_links(n).size() == outs) {
      ++count;
    }
  }
  return count;
}

// What every scenario promises whatever its shape.
void check_common(const Scenario& s) {
  const RoadNetwork& net = s.network;
  REQUIRE(s.peak_demand.size() == static_cast<std::size_t>(net.node_count()));
  REQUIRE(s.exit_capacity.size() == static_cast<std::size_t>(net.node_count()));
  for (int n = 0; n < net.node_count(); ++n) {
    const NodeKind kind = net.node(n).kind;
    INFO("node " << net.node(n).name);
    CHECK((kind == NodeKind::kOrigin) == (s.peak_demand[static_cast<std::size_t>(n)] > 0.0));
    CHECK((kind == NodeKind::kDestination) == (s.exit_capacity[static_cast<std::size_t>(n)] > 0.0));
    for (const std::vector<double>& row : net.node(n).turning) {
      double sum = 0.0;
      for (const double beta : row) sum += beta;
      CHECK(std::abs(sum - 1.0) < 1e-12);
    }
  }
  std::set<std::string> names;
  for (const DetectorSite& d : s.detectors) {
    INFO("detector " << d.name);
    REQUIRE(d.link >= 0);
    REQUIRE(d.link < net.link_count());
    CHECK(d.position >= 0.0);
    CHECK(d.position < net.link(d.link).length);
    CHECK(names.insert(d.name).second);
  }
  for (const double dt : {2.0, 5.0}) {
    RoadNetwork copy = net;
    CHECK_NOTHROW(copy.finalize(dt, "network.dt"));
  }
}

// Detectors come road by road, each road's in driving order: the distance from the
// road's start (summed over its links, named <road>_<k>) only grows within a road.
void check_driving_order(const Scenario& s) {
  const RoadNetwork& net = s.network;
  std::vector<double> start(static_cast<std::size_t>(net.link_count()), -1.0);
  std::vector<std::string> road_of(static_cast<std::size_t>(net.link_count()));
  std::string road;
  double station = 0.0;
  for (const int l : s.mainline_links) {
    const std::string name = net.link(l).name;
    const std::string this_road = name.substr(0, name.rfind('_'));
    if (this_road != road) station = 0.0;
    road = this_road;
    start[static_cast<std::size_t>(l)] = station;
    road_of[static_cast<std::size_t>(l)] = road;
    station += net.link(l).length;
  }
  std::set<std::string> finished;
  std::string current;
  double previous = -1.0;
  for (const DetectorSite& d : s.detectors) {
    INFO("detector " << d.name);
    const std::size_t l = static_cast<std::size_t>(d.link);
    REQUIRE(start[l] >= 0.0);  // on a road, not a ramp
    if (road_of[l] != current) {
      CHECK(finished.insert(current).second);
      current = road_of[l];
      previous = -1.0;
    }
    CHECK(start[l] + d.position > previous);
    previous = start[l] + d.position;
  }
  CHECK(finished.count(current) == 0);
}

const Node& node_named(const RoadNetwork& net, const std::string& name) {
  for (const Node& n : net.nodes()) {
    if (n.name == name) return n;
  }
  FAIL("no node " << name);
  return net.nodes().front();
}

std::vector<int> all_on_rank0(const RoadNetwork& net) {
  return std::vector<int>(static_cast<std::size_t>(net.link_count()), 0);
}

// Congestion on the roads (not the ramps) at one moment.
struct Congestion {
  double worst_ratio = 0.0;       // largest density / critical density on a road cell
  double congested_length = 0.0;  // m of road cells above the critical density
  double origin_queues = 0.0;     // vehicles waiting at the origins
};

Congestion congestion(const NetworkSolver& solver, const std::vector<int>& roads) {
  const RoadNetwork& net = solver.network();
  Congestion c;
  for (const int l : roads) {
    const double critical = net.diagram(l).critical_density();
    for (const double rho : solver.link_density(l)) {
      c.worst_ratio = std::max(c.worst_ratio, rho / critical);
      if (rho > critical) c.congested_length += net.cell_length(l);
    }
  }
  for (const double q : solver.origin_queues()) c.origin_queues += q;
  return c;
}

// Demand at `level` x the peak for `seconds`; the largest congestion seen on the way.
Congestion run_at(NetworkSolver& solver, const Scenario& s, double level, double seconds) {
  for (const int o : s.network.origins()) {
    solver.set_origin_demand(o, level * s.peak_demand[static_cast<std::size_t>(o)]);
  }
  Congestion worst;
  const double end = solver.time() + seconds;
  while (solver.time() < end - 1e-9) {
    solver.step();
    if (solver.steps_taken() % 60 == 0) {
      const Congestion now = congestion(solver, s.mainline_links);
      worst.worst_ratio = std::max(worst.worst_ratio, now.worst_ratio);
      worst.congested_length = std::max(worst.congested_length, now.congested_length);
      worst.origin_queues = std::max(worst.origin_queues, now.origin_queues);
    }
  }
  return worst;
}

// Junctions that are active bottlenecks: a queue on a road into them (its last cell above
// the critical density), free flow on every road out of them (their first cells below it).
std::vector<std::string> active_bottlenecks(const NetworkSolver& solver, const Scenario& s) {
  const RoadNetwork& net = solver.network();
  std::vector<bool> road(static_cast<std::size_t>(net.link_count()), false);
  for (const int l : s.mainline_links) road[static_cast<std::size_t>(l)] = true;
  auto congested = [&](int l, bool at_end) {
    const std::vector<double> rho = solver.link_density(l);
    return (at_end ? rho.back() : rho.front()) > net.diagram(l).critical_density();
  };
  std::vector<std::string> names;
  for (int n = 0; n < net.node_count(); ++n) {
    if (net.node(n).kind != NodeKind::kJunction) continue;
    bool queue_in = false, free_out = true;
    for (const int in : net.in_links(n)) {
      if (road[static_cast<std::size_t>(in)] && congested(in, true)) queue_in = true;
    }
    for (const int out : net.out_links(n)) {
      if (road[static_cast<std::size_t>(out)] && congested(out, false)) free_out = false;
    }
    if (queue_in && free_out) names.push_back(net.node(n).name);
  }
  return names;
}

// One hour at the peak, then 1.5 hours at 40 % of it: queues at the peak, none at the end,
// and every vehicle accounted for. Returns the active bottlenecks at the end of the peak.
std::vector<std::string> check_peak_then_off_peak(const Scenario& s) {
  const double dt = 5.0;
  RoadNetwork net = s.network;
  net.finalize(dt, "network.dt");
  NetworkSolver solver(MPI_COMM_SELF, net, dt, all_on_rank0(net));
  for (const int d : net.destinations()) {
    solver.set_exit_supply(d, s.exit_capacity[static_cast<std::size_t>(d)]);
  }
  const Congestion peak = run_at(solver, s, 1.0, 3600.0);
  const std::vector<std::string> bottlenecks = active_bottlenecks(solver, s);
  INFO(s.name << " peak hour: densest road cell at " << peak.worst_ratio << " x critical, up to "
              << peak.congested_length / 1000.0 << " km of road congested, origin queues up to "
              << peak.origin_queues << " veh, " << bottlenecks.size() << " active bottlenecks");
  CHECK(peak.worst_ratio > 1.5);  // a real queue, not a cell grazing the critical density
  CHECK(peak.congested_length > 1000.0);
  run_at(solver, s, 0.4, 5400.0);
  const Congestion after = congestion(solver, s.mainline_links);
  INFO("after 1.5 h at 40 %: densest road cell at "
       << after.worst_ratio << " x critical, origin queues " << after.origin_queues << " veh");
  CHECK(after.worst_ratio < 1.0);
  CHECK(after.origin_queues < 1e-6);
  CHECK(solver.mass_balance().relative_error() < 1e-12);
  solver.check_finite();
  return bottlenecks;
}

}  // namespace

TEST_CASE("the corridor: interchanges, a lane drop and detectors in driving order", "[scenarios]") {
  const Scenario s = corridor(CorridorOptions{});
  const RoadNetwork& net = s.network;
  check_common(s);
  CHECK(s.name == "corridor");
  // 8 on-ramps (merges: 2 in, 1 out) and 8 off-ramps (diverges: 1 in, 2 out).
  CHECK(count_junctions(net, 2, 1) == 8);
  CHECK(count_junctions(net, 1, 2) == 8);
  CHECK(net.origins().size() == 9);
  CHECK(net.destinations().size() == 9);
  // The lane drop: a stretch of 2 lanes, 1-2 km long, in the second half.
  double mainline_length = 0.0, drop_length = 0.0, drop_start = -1.0;
  for (const int l : s.mainline_links) {
    if (net.link(l).lanes == 2) {
      if (drop_start < 0.0) drop_start = mainline_length;
      drop_length += net.link(l).length;
    } else {
      CHECK(net.link(l).lanes == 3);
    }
    mainline_length += net.link(l).length;
  }
  CHECK(mainline_length == Approx(30000.0));
  CHECK(drop_start >= 15000.0);
  CHECK(drop_length >= 1000.0);
  CHECK(drop_length <= 2000.0);
  // Ramps of one lane, 300-400 m.
  for (int l = 0; l < net.link_count(); ++l) {
    if (std::find(s.mainline_links.begin(), s.mainline_links.end(), l) != s.mainline_links.end()) {
      continue;
    }
    CHECK(net.link(l).lanes == 1);
    CHECK(net.link(l).length >= 300.0);
    CHECK(net.link(l).length <= 400.0);
  }
  // Detectors every 500 m along the mainline, D000 first, in driving order.
  REQUIRE(s.detectors.size() == 60);
  CHECK(s.detectors.front().name == "D000");
  CHECK(s.detectors.back().name == "D059");
  double start = 0.0;
  std::size_t next = 0;
  for (const int l : s.mainline_links) {
    for (; next < s.detectors.size() && s.detectors[next].link == l; ++next) {
      CHECK(start + s.detectors[next].position == Approx(250.0 + 500.0 * next));
    }
    start += net.link(l).length;
  }
  CHECK(next == s.detectors.size());
  check_driving_order(s);
  // Off-ramp shares vary between 5 and 15 %.
  std::set<double> fractions;
  for (int n = 0; n < net.node_count(); ++n) {
    if (net.out_links(n).size() != 2) continue;
    const int ramp = net.link(net.out_links(n)[0]).lanes == 1 ? 0 : 1;
    const double beta = net.node(n).turning[0][static_cast<std::size_t>(ramp)];
    CHECK(beta >= 0.05);
    CHECK(beta <= 0.15);
    fractions.insert(beta);
  }
  CHECK(fractions.size() == 8);
}

TEST_CASE("the freeway network: six 4 x 4 interchanges and about 200 detectors", "[scenarios]") {
  const Scenario s = freeway_network(FreewayNetworkOptions{});
  const RoadNetwork& net = s.network;
  check_common(s);
  CHECK(count_junctions(net, 4, 4) == 6);
  // Interchanges well apart and well inside the square.
  std::vector<int> interchanges;
  for (int n = 0; n < net.node_count(); ++n) {
    if (net.in_links(n).size() == 4) interchanges.push_back(n);
  }
  for (std::size_t a = 0; a < interchanges.size(); ++a) {
    const Node& p = net.node(interchanges[a]);
    CHECK(std::min({p.x, p.y, 40000.0 - p.x, 40000.0 - p.y}) >= 5000.0 - 1e-6);
    for (std::size_t b = a + 1; b < interchanges.size(); ++b) {
      const Node& q = net.node(interchanges[b]);
      CHECK(std::hypot(p.x - q.x, p.y - q.y) >= 5000.0);
    }
    // No U-turns: from each carriageway, nothing onto the other carriageway of its freeway.
    const std::vector<int>& ins = net.in_links(interchanges[a]);
    const std::vector<int>& outs = net.out_links(interchanges[a]);
    for (std::size_t i = 0; i < ins.size(); ++i) {
      int straight = 0, u_turns = 0, turns = 0;
      for (std::size_t j = 0; j < outs.size(); ++j) {
        const std::string from = net.link(ins[i]).name, to = net.link(outs[j]).name;
        const double beta = net.node(interchanges[a]).turning[i][j];
        if (from.substr(0, 3) == to.substr(0, 3)) {
          CHECK(beta == Approx(0.82));
          ++straight;
        } else if (from.substr(0, 2) == to.substr(0, 2)) {
          CHECK(beta == 0.0);
          ++u_turns;
        } else {
          CHECK(beta >= 0.08 - 1e-12);
          CHECK(beta <= 0.10 + 1e-12);
          ++turns;
        }
      }
      CHECK(straight == 1);
      CHECK(u_turns == 1);
      CHECK(turns == 2);
    }
  }
  // 4 freeways x 2 carriageways, each from its origin to its destination.
  CHECK(net.origins().size() == net.destinations().size());
  CHECK(count_junctions(net, 2, 1) == count_junctions(net, 1, 2));  // on- and off-ramps
  CHECK(count_junctions(net, 2, 1) > 40);
  CHECK(s.detectors.size() >= 180);
  CHECK(s.detectors.size() <= 230);
  for (const DetectorSite& d : s.detectors) {
    CHECK(std::find(s.mainline_links.begin(), s.mainline_links.end(), d.link) !=
          s.mainline_links.end());
  }
  check_driving_order(s);
  // Opposite carriageways 30 m apart in the picture.
  const Node& a = node_named(net, "f0a_origin");
  const Node& b = node_named(net, "f0b_destination");
  CHECK(std::hypot(a.x - b.x, a.y - b.y) == Approx(30.0));
}

TEST_CASE("the grid: LargeST-sized, 4224 road links and 8448 detectors", "[scenarios]") {
  const Scenario s = grid(GridOptions{});
  const RoadNetwork& net = s.network;
  check_common(s);
  CHECK(s.mainline_links.size() == 4224);
  CHECK(s.detectors.size() == 8448);
  CHECK(net.node_count() == 3 * 33 * 33);
  CHECK(net.link_count() == 4224 + 2 * 33 * 33);
  for (int n = 0; n < net.node_count(); ++n) {
    CHECK(net.in_links(n).size() <= 5);
    CHECK(net.out_links(n).size() <= 5);
  }
  // An inner junction from the west: straight 0.55, left and right 0.15, zone 0.15.
  const int centre = 16 * 33 + 16;
  const std::vector<int>& ins = net.in_links(centre);
  const std::vector<int>& outs = net.out_links(centre);
  const int from_west = net.find_link("j16_15-j16_16");
  const std::size_t i =
      static_cast<std::size_t>(std::find(ins.begin(), ins.end(), from_west) - ins.begin());
  REQUIRE(i < ins.size());
  for (std::size_t j = 0; j < outs.size(); ++j) {
    const std::string to = net.link(outs[j]).name;
    const double beta = net.node(centre).turning[i][j];
    INFO(to);
    if (to == "j16_16-j16_17") CHECK(beta == Approx(0.55));
    if (to == "j16_16-j17_16" || to == "j16_16-j15_16") CHECK(beta == Approx(0.15));
    if (to == "j16_16-j16_15") CHECK(beta == 0.0);
    if (to == "zone_out16_16") CHECK(beta == Approx(0.15));
  }
}

TEST_CASE("other options build other valid networks", "[scenarios]") {
  SECTION("a corridor of 4 lanes with 3 on- and 5 off-ramps") {
    CorridorOptions o;
    o.length = 20000;
    o.lanes = 4;
    o.on_ramps = 3;
    o.off_ramps = 5;
    o.detector_spacing = 1000;
    const Scenario s = corridor(o);
    check_common(s);
    check_driving_order(s);
    CHECK(count_junctions(s.network, 2, 1) == 3);
    CHECK(count_junctions(s.network, 1, 2) == 5);
    CHECK(s.detectors.size() == 20);
  }
  SECTION("a corridor of one lane has no lane drop and no ramps if asked") {
    CorridorOptions o;
    o.lanes = 1;
    o.on_ramps = 0;
    o.off_ramps = 0;
    const Scenario s = corridor(o);
    check_common(s);
    CHECK(s.network.link_count() == 1);
    CHECK(s.network.link(0).lanes == 1);
  }
  SECTION("the most interchanges that fit") {
    CorridorOptions o;
    o.on_ramps = 11;
    o.off_ramps = 11;
    check_common(corridor(o));
  }
  SECTION("two, three and five freeways") {
    for (const int freeways : {2, 3, 5}) {
      FreewayNetworkOptions o;
      o.freeways = freeways;
      o.ramp_spacing = 3000;
      o.lanes = 2;
      const Scenario s = freeway_network(o);
      INFO(freeways << " freeways");
      check_common(s);
      check_driving_order(s);
      CHECK(count_junctions(s.network, 4, 4) == freeways * (freeways - 1) / 2);
    }
  }
  SECTION("a small rectangular grid with one detector per link") {
    GridOptions o;
    o.rows = 3;
    o.columns = 5;
    o.detectors_per_link = 1;
    const Scenario s = grid(o);
    check_common(s);
    CHECK(s.mainline_links.size() == 2 * (3 * 4 + 5 * 2));
    CHECK(s.detectors.size() == s.mainline_links.size());
    CHECK(s.detectors.front().position == Approx(500.0));
  }
}

TEST_CASE("scenario options out of range are refused naming the option", "[scenarios]") {
  auto corridor_with = [](auto change) {
    CorridorOptions o;
    change(o);
    return input_error_of([&] { corridor(o); });
  };
  CHECK_THAT(corridor_with([](CorridorOptions& o) { o.lanes = 0; }),
             Contains("corridor option 'lanes' = 0"));
  CHECK_THAT(corridor_with([](CorridorOptions& o) { o.on_ramps = 20; }),
             Contains("corridor option 'on_ramps' = 20") && Contains("at most 11"));
  CHECK_THAT(corridor_with([](CorridorOptions& o) { o.off_ramps = -1; }),
             Contains("corridor option 'off_ramps' = -1"));
  CHECK_THAT(corridor_with([](CorridorOptions& o) { o.detector_spacing = 0; }),
             Contains("corridor option 'detector_spacing' = 0"));
  CHECK_THAT(corridor_with([](CorridorOptions& o) { o.length = -5; }),
             Contains("corridor option 'length' = -5"));
  CHECK_THAT(corridor_with([](CorridorOptions& o) { o.demand_scale = -1; }),
             Contains("corridor option 'demand_scale' = -1"));

  auto freeways_with = [](auto change) {
    FreewayNetworkOptions o;
    change(o);
    return input_error_of([&] { freeway_network(o); });
  };
  CHECK_THAT(freeways_with([](FreewayNetworkOptions& o) { o.freeways = 1; }),
             Contains("freeway_network option 'freeways' = 1"));
  CHECK_THAT(freeways_with([](FreewayNetworkOptions& o) { o.extent = 0; }),
             Contains("freeway_network option 'extent' = 0"));
  CHECK_THAT(freeways_with([](FreewayNetworkOptions& o) { o.lanes = 0; }),
             Contains("freeway_network option 'lanes' = 0"));
  CHECK_THAT(freeways_with([](FreewayNetworkOptions& o) { o.ramp_spacing = 500; }),
             Contains("freeway_network option 'ramp_spacing' = 500"));
  CHECK_THAT(freeways_with([](FreewayNetworkOptions& o) { o.detector_spacing = -1; }),
             Contains("freeway_network option 'detector_spacing' = -1"));
  CHECK_THAT(freeways_with([](FreewayNetworkOptions& o) { o.freeways = 12; }),
             Contains("freeway_network option 'freeways' = 12") && Contains("larger extent"));

  auto grid_with = [](auto change) {
    GridOptions o;
    change(o);
    return input_error_of([&] { grid(o); });
  };
  CHECK_THAT(grid_with([](GridOptions& o) { o.rows = 1; }), Contains("grid option 'rows' = 1"));
  CHECK_THAT(grid_with([](GridOptions& o) { o.columns = 0; }),
             Contains("grid option 'columns' = 0"));
  CHECK_THAT(grid_with([](GridOptions& o) { o.spacing = 0; }),
             Contains("grid option 'spacing' = 0"));
  CHECK_THAT(grid_with([](GridOptions& o) { o.lanes = 0; }), Contains("grid option 'lanes' = 0"));
  CHECK_THAT(grid_with([](GridOptions& o) { o.detectors_per_link = -2; }),
             Contains("grid option 'detectors_per_link' = -2"));
}

TEST_CASE("the corridor's peak hour queues at its bottlenecks and clears off-peak", "[scenarios]") {
  const std::vector<std::string> bottlenecks =
      check_peak_then_off_peak(corridor(CorridorOptions{}));
  INFO("active bottlenecks: " << Catch::Detail::stringify(bottlenecks));
  CHECK(std::count(bottlenecks.begin(), bottlenecks.end(), "main_lane_drop") == 1);
  CHECK(std::count_if(bottlenecks.begin(), bottlenecks.end(),
                      [](const std::string& name) { return name.rfind("main_on", 0) == 0; }) >= 1);
}

TEST_CASE("the freeway network's peak hour queues at its merges and clears off-peak",
          "[scenarios]") {
  const std::vector<std::string> bottlenecks =
      check_peak_then_off_peak(freeway_network(FreewayNetworkOptions{}));
  INFO("active bottlenecks: " << Catch::Detail::stringify(bottlenecks));
  CHECK(bottlenecks.size() >= 3);
}

TEST_CASE("a small grid's peak hour queues around the centre and clears off-peak", "[scenarios]") {
  // The 33 x 33 grid's business district draws traffic from far more zones than a 9 x 9
  // one: the small grid needs more demand to queue at its centre.
  GridOptions o;
  o.rows = 9;
  o.columns = 9;
  o.demand_scale = 1.6;
  // One FIFO queue per approach: a blocked turn holds the approach back, so the centre
  // queues (with a lane per movement, the default, this grid barely congests).
  o.turn_lanes = false;
  CHECK_FALSE(check_peak_then_off_peak(grid(o)).empty());
}

TEST_CASE("a scenario's links and capacity-derived exits follow its lane diagram", "[scenarios]") {
  CorridorOptions o;
  o.lane.capacity = 2520.0 / 3600.0;  // the triangle's own peak: no cap
  const Scenario s = corridor(o);
  for (const Link& l : s.network.links()) CHECK(l.lane.capacity == o.lane.capacity);
  // The mainline's destination lets out what its last link carries.
  const int end = s.network.link(s.mainline_links.back()).to;
  CHECK(s.exit_capacity[static_cast<std::size_t>(end)] ==
        Approx(o.lanes * o.lane.capacity).epsilon(1e-15));
}
