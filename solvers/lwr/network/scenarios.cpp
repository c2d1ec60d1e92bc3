#include "solvers/lwr/network/scenarios.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>

#include "core/runtime/error.hpp"
#include "core/tensor/random.hpp"

namespace tessera::solvers::lwr::network {
namespace {

constexpr double kPerHour = 1.0 / 3600.0;  // veh/h in veh/s
constexpr double kPi = 3.14159265358979323846;

// Gore to gore: an off-ramp leaves this far before an interchange's centre and the
// on-ramp joins this far after it (a compact diamond).
constexpr double kRampOffset = 400.0;
// A signalised arterial at the end of an off-ramp lets about this much out.
constexpr double kArterialExit = 1200.0 * kPerHour;

struct Point {
  double x = 0.0, y = 0.0;
};
Point operator+(Point a, Point b) {
  return {a.x + b.x, a.y + b.y};
}
Point operator-(Point a, Point b) {
  return {a.x - b.x, a.y - b.y};
}
Point operator*(double s, Point a) {
  return {s * a.x, s * a.y};
}
double dot(Point a, Point b) {
  return a.x * b.x + a.y * b.y;
}
double cross(Point a, Point b) {
  return a.x * b.y - a.y * b.x;
}
double distance(Point a, Point b) {
  return std::hypot(a.x - b.x, a.y - b.y);
}

// A number in [0, 1) fixed by its keys, the same on every platform: ramps vary from one to
// the next without a random stream whose order would matter.
double unit_hash(std::uint64_t a, std::uint64_t b = 0, std::uint64_t c = 0, std::uint64_t d = 0) {
  return tensor::counter_uniform(a, tensor::counter_hash(b, c, d), 0);
}

double smoothstep(double t) {
  t = std::clamp(t, 0.0, 1.0);
  return t * t * (3.0 - 2.0 * t);
}

std::string numbered(const std::string& prefix, int i, int width) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%0*d", width, i);
  return prefix + digits;
}

void require(bool ok, const std::string& message) {
  if (!ok) throw InputError(message);
}

std::string option(const char* builder, const char* key) {
  return str(builder, " option '", key, "'");
}

void require_positive(double value, const char* builder, const char* key, const char* unit) {
  require(value > 0.0 && std::isfinite(value),
          str(option(builder, key), " = ", value, ": expected a positive length in ", unit));
}

void require_demand_scale(double value, const char* builder) {
  require(value >= 0.0 && std::isfinite(value),
          str(option(builder, "demand_scale"), " = ", value,
              ": expected a factor >= 0 on the peak demands"));
}

// The network grows with its per-node vectors.
int add_node(Scenario& s, const std::string& name, NodeKind kind, Point at) {
  Node n;
  n.name = name;
  n.kind = kind;
  n.x = at.x;
  n.y = at.y;
  s.peak_demand.push_back(0.0);
  s.exit_capacity.push_back(0.0);
  return s.network.add_node(std::move(n));
}

int add_link(Scenario& s, const std::string& name, int from, int to, double length, int lanes) {
  Link l;
  l.name = name;
  l.from = from;
  l.to = to;
  l.length = length;
  l.lanes = lanes;
  l.lane = s.lane;
  return s.network.add_link(std::move(l));
}

// What sits at a station (m from the start) of a carriageway.
enum class StopKind { kStart, kEnd, kDiverge, kMerge, kLaneChange, kInterchange };

struct Stop {
  double station = 0.0;
  StopKind kind = StopKind::kLaneChange;
  int lanes_after = 0;  // lanes of the link leaving the stop
  std::string label;    // node name (ramps: also the ramp's name)
  int node = -1;        // kInterchange: the junction the carriageways share
  double ramp_length = 350.0;
  double demand = 0.0;       // kStart, kMerge: peak demand of the origin, veh/s
  double off_fraction = 0;   // kDiverge: share of the mainline taking the off-ramp
  double exit_supply = 0.0;  // kDiverge: of the off-ramp's destination, veh/s
};

// A straight carriageway: station s lies at start + s direction, and ramps leave and
// join on the right (driving on the right).
struct Geometry {
  Point start, direction;
  Point at(double station) const { return start + station * direction; }
  Point right() const { return {direction.y, -direction.x}; }
};

// Nodes at the stops, links between consecutive stops, the ramps with their origins and
// destinations, and a detector every `detector_spacing` m (at the middle of each
// spacing, so none sits on a node). Returns the carriageway's own links in driving order.
std::vector<int> build_carriageway(Scenario& s, const std::string& road, const Geometry& g,
                                   std::vector<Stop> stops, double detector_spacing,
                                   const std::string& detector_prefix) {
  std::stable_sort(stops.begin(), stops.end(),
                   [](const Stop& a, const Stop& b) { return a.station < b.station; });
  RoadNetwork& net = s.network;
  std::vector<int> links;
  struct Diverge {
    int node, ramp;
    double fraction;
  };
  std::vector<Diverge> diverges;
  int previous = -1;
  for (std::size_t i = 0; i < stops.size(); ++i) {
    const Stop& stop = stops[i];
    const Point here = g.at(stop.station);
    int node = stop.node;
    switch (stop.kind) {
      case StopKind::kStart:
        node = add_node(s, road + "_origin", NodeKind::kOrigin, here);
        s.peak_demand[static_cast<std::size_t>(node)] = stop.demand;
        break;
      case StopKind::kEnd:
        node = add_node(s, road + "_destination", NodeKind::kDestination, here);
        s.exit_capacity[static_cast<std::size_t>(node)] =
            stops[i - 1].lanes_after * s.lane.capacity;
        break;
      case StopKind::kDiverge:
      case StopKind::kMerge:
      case StopKind::kLaneChange:
        node = add_node(s, road + "_" + stop.label, NodeKind::kJunction, here);
        break;
      case StopKind::kInterchange:
        break;
    }
    if (i > 0) {
      const Stop& from = stops[i - 1];
      links.push_back(add_link(s, numbered(road + "_", static_cast<int>(i - 1), 2), previous, node,
                               stop.station - from.station, from.lanes_after));
    }
    // Ramp ends sit beside the road, about a ramp's length from the gore.
    const double along = 0.85 * stop.ramp_length, aside = 0.5 * stop.ramp_length;
    if (stop.kind == StopKind::kMerge) {
      const int origin = add_node(s, road + "_" + stop.label + "_origin", NodeKind::kOrigin,
                                  g.at(stop.station - along) + aside * g.right());
      s.peak_demand[static_cast<std::size_t>(origin)] = stop.demand;
      add_link(s, road + "_" + stop.label + "_ramp", origin, node, stop.ramp_length, 1);
    } else if (stop.kind == StopKind::kDiverge) {
      const int exit = add_node(s, road + "_" + stop.label + "_exit", NodeKind::kDestination,
                                g.at(stop.station + along) + aside * g.right());
      s.exit_capacity[static_cast<std::size_t>(exit)] = stop.exit_supply;
      const int ramp =
          add_link(s, road + "_" + stop.label + "_ramp", node, exit, stop.ramp_length, 1);
      diverges.push_back({node, ramp, stop.off_fraction});
    }
    previous = node;
  }
  for (const Diverge& d : diverges) {
    std::vector<double> row;
    for (const int out : net.out_links(d.node)) {
      row.push_back(out == d.ramp ? d.fraction : 1.0 - d.fraction);
    }
    net.node(d.node).turning = {row};
  }
  const double length = stops.back().station;
  std::size_t section = 0;
  for (int k = 0;; ++k) {
    const double station = (k + 0.5) * detector_spacing;
    if (station >= length) break;
    while (stops[section + 1].station <= station) ++section;
    s.detectors.push_back(
        {numbered(detector_prefix, k, 3), links[section], station - stops[section].station});
  }
  s.mainline_links.insert(s.mainline_links.end(), links.begin(), links.end());
  return links;
}

// Diverge and merge stops of one local interchange centred at `centre`.
void add_interchange_ramps(std::vector<Stop>& stops, double centre, int lanes, double lane_capacity,
                           bool off, bool on, const std::string& label, double off_fraction,
                           double on_demand, double off_ramp_length, double on_ramp_length) {
  if (off) {
    Stop d;
    d.station = centre - kRampOffset;
    d.kind = StopKind::kDiverge;
    d.lanes_after = lanes;
    d.label = "off" + label;
    d.ramp_length = off_ramp_length;
    d.off_fraction = off_fraction;
    // The arterial's signal is timed for the ramp's design flow: never the bottleneck of an
    // ordinary peak, but a heavy one spills back.
    d.exit_supply = std::min(lane_capacity,
                             std::max(kArterialExit, 1.3 * off_fraction * lanes * lane_capacity));
    stops.push_back(d);
  }
  if (on) {
    Stop m;
    m.station = centre + kRampOffset;
    m.kind = StopKind::kMerge;
    m.lanes_after = lanes;
    m.label = "on" + label;
    m.ramp_length = on_ramp_length;
    m.demand = on_demand;
    stops.push_back(m);
  }
}

// Ramps of an interchange by how far into the city it lies: `urban` 0 in the suburbs
// (commuters join, few leave: on-ramps of 840-900 veh/h, 5-6.5 % exiting), 1 downtown and
// beyond (they leave: 13.5-15 % exiting, on-ramps of 400-460 veh/h), for a carriageway of
// 3 lanes; `u1`, `u2` in [0, 1) make every ramp a little different.
struct CommuterRamps {
  double off_fraction = 0.0;
  double on_veh_h = 0.0;
};
CommuterRamps commuter_ramps(double urban, double u1, double u2) {
  CommuterRamps r;
  r.off_fraction = 0.05 + 0.10 * (0.85 * urban + 0.15 * u1);
  r.on_veh_h = 400.0 + 500.0 * (0.88 * (1.0 - urban) + 0.12 * u2);
  return r;
}

Stop end_stop(StopKind kind, double station, int lanes, double demand = 0.0) {
  Stop s;
  s.kind = kind;
  s.station = station;
  s.lanes_after = lanes;
  s.demand = demand;
  return s;
}

}  // namespace

// ----------------------------------------------------------------------------------------
// Corridor

Scenario corridor(const CorridorOptions& o) {
  const char* who = "corridor";
  constexpr double kMinLength = 5000.0;
  constexpr double kMinInterchangeSpacing = 2500.0;  // leaves >= 1.7 km between the ramps
  require(o.length >= kMinLength && std::isfinite(o.length),
          str(option(who, "length"), " = ", o.length, ": expected a road of at least ", kMinLength,
              " m"));
  require(o.lanes >= 1, str(option(who, "lanes"), " = ", o.lanes, ": expected at least 1 lane"));
  require(o.on_ramps >= 0, str(option(who, "on_ramps"), " = ", o.on_ramps, ": expected >= 0"));
  require(o.off_ramps >= 0, str(option(who, "off_ramps"), " = ", o.off_ramps, ": expected >= 0"));
  const int interchanges = std::max(o.on_ramps, o.off_ramps);
  const int most = static_cast<int>(std::floor(o.length / kMinInterchangeSpacing)) - 1;
  require(
      interchanges <= most,
      str(option(who, o.on_ramps >= o.off_ramps ? "on_ramps" : "off_ramps"), " = ", interchanges,
          ": that many interchanges do not fit on a ", o.length, " m road (at most ", most,
          ", one every ", kMinInterchangeSpacing, " m); lower it or raise 'length'"));
  require_positive(o.detector_spacing, who, "detector_spacing", "m");
  require(o.detector_spacing <= o.length,
          str(option(who, "detector_spacing"), " = ", o.detector_spacing,
              " m: longer than the road (length = ", o.length, " m)"));
  require_demand_scale(o.demand_scale, who);

  Scenario s;
  s.lane = o.lane;
  s.name = "corridor";
  const double mainline_capacity = o.lanes * o.lane.capacity;
  std::vector<Stop> stops;
  stops.push_back(
      end_stop(StopKind::kStart, 0.0, o.lanes, 0.8 * mainline_capacity * o.demand_scale));
  stops.push_back(end_stop(StopKind::kEnd, o.length, o.lanes));
  // Which interchanges get which ramps when there are fewer of one kind: spread evenly.
  auto has = [&](int count, int i) {
    return (i + 1) * count / interchanges > i * count / interchanges;
  };
  const double spacing = o.length / (interchanges + 1);
  for (int i = 0; i < interchanges; ++i) {
    // Suburbs to city along the road: the first merges fill the mainline to capacity,
    // then the exits thin it out towards the lane drop.
    const double urban = smoothstep(((i + 0.5) / interchanges - 0.25) / 0.3);
    const CommuterRamps ramps = commuter_ramps(urban, unit_hash(1, i), unit_hash(2, i));
    // More lanes carry proportionally busier ramps.
    const double on_demand = ramps.on_veh_h * kPerHour * o.lanes / 3.0 * o.demand_scale;
    add_interchange_ramps(stops, spacing * (i + 1), o.lanes, o.lane.capacity, has(o.off_ramps, i),
                          has(o.on_ramps, i), std::to_string(i), ramps.off_fraction, on_demand,
                          300.0 + 100.0 * unit_hash(3, i), 300.0 + 100.0 * unit_hash(4, i));
  }

  // The lane drop: lanes - 1 lanes for 1-1.5 km between two ramps in the second half, as
  // close to 85 % of the way as fits, at least 300 m from either ramp.
  if (o.lanes >= 2) {
    std::vector<double> marks;
    for (const Stop& stop : stops) marks.push_back(stop.station);
    std::sort(marks.begin(), marks.end());
    const double target = 0.85 * o.length;
    double best_start = -1.0, best_length = 0.0, best_miss = 0.0;
    for (std::size_t g = 0; g + 1 < marks.size(); ++g) {
      const double lo = std::max(marks[g] + 300.0, 0.5 * o.length), hi = marks[g + 1] - 300.0;
      if (hi - lo < 1000.0) continue;
      const double drop = std::min(1500.0, hi - lo);
      const double centre = std::clamp(target, lo + 0.5 * drop, hi - 0.5 * drop);
      if (best_start < 0.0 || std::abs(centre - target) < best_miss) {
        best_start = centre - 0.5 * drop;
        best_length = drop;
        best_miss = std::abs(centre - target);
      }
    }
    require(best_start >= 0.0, str(who,
                                   ": no room for the lane drop between the ramps of the "
                                   "second half; use fewer ramps or a longer 'length'"));
    Stop drop = end_stop(StopKind::kLaneChange, best_start, o.lanes - 1);
    drop.label = "lane_drop";
    Stop gain = end_stop(StopKind::kLaneChange, best_start + best_length, o.lanes);
    gain.label = "lane_gain";
    stops.push_back(drop);
    stops.push_back(gain);
  }
  build_carriageway(s, "main", Geometry{{0.0, 0.0}, {1.0, 0.0}}, stops, o.detector_spacing, "D");
  return s;
}

// ----------------------------------------------------------------------------------------
// Freeway network

namespace {

// A line across the square: its direction's angle and its signed distance from the
// square's centre (along the normal (-sin, cos)).
struct Line {
  double angle = 0.0, offset = 0.0;
  Point direction() const { return {std::cos(angle), std::sin(angle)}; }
  Point normal() const { return {-std::sin(angle), std::cos(angle)}; }
};

// Crossing of two lines, relative to the square's centre.
Point crossing(const Line& a, const Line& b) {
  const Point na = a.normal(), nb = b.normal();
  const double det = cross(na, nb);
  return {(a.offset * nb.y - b.offset * na.y) / det, (na.x * b.offset - nb.x * a.offset) / det};
}

struct Layout {
  std::vector<Line> lines;
  double separation = -1.0;  // smallest distance between two crossings
};

// Lines whose directions are spread over a half turn (crossing angles of at least 0.4 pi /
// n) and whose crossings all lie at least `margin` inside the square; of many tried, the
// one whose closest two crossings are farthest apart. A fixed seed: the same layout every
// time.
Layout spread_lines(int n, double extent, double margin) {
  std::mt19937_64 rng(0x5eed'f00d'2024ULL);
  auto uniform = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  const double half = 0.5 * extent, inner = half - margin;
  Layout best;
  std::vector<Line> lines(static_cast<std::size_t>(n));
  std::vector<Point> points;
  for (int trial = 0; trial < 20000; ++trial) {
    for (int k = 0; k < n; ++k) {
      Line& l = lines[static_cast<std::size_t>(k)];
      l.angle = kPi * (k + 0.5 + 0.6 * (uniform() - 0.5)) / n;
      l.offset = 0.7 * half * (2.0 * uniform() - 1.0);
    }
    points.clear();
    double closest = 2.0 * extent;
    bool fits = true;
    for (int a = 0; a < n && fits; ++a) {
      for (int b = a + 1; b < n && fits; ++b) {
        const Point p =
            crossing(lines[static_cast<std::size_t>(a)], lines[static_cast<std::size_t>(b)]);
        if (std::abs(p.x) > inner || std::abs(p.y) > inner) {
          fits = false;
          break;
        }
        for (const Point& q : points) closest = std::min(closest, distance(p, q));
        if (closest <= best.separation) fits = false;  // cannot beat the best any more
        points.push_back(p);
      }
    }
    if (fits) {
      best.lines = lines;
      best.separation = closest;
    }
  }
  return best;
}

// Both ends of a line clipped to the square centred at the origin, in driving order
// along its direction.
std::pair<Point, Point> clip(const Line& line, double half) {
  const Point u = line.direction(), p0 = line.offset * line.normal();
  double lo = -1e300, hi = 1e300;
  for (const auto& [start, step] : {std::pair{p0.x, u.x}, std::pair{p0.y, u.y}}) {
    if (std::abs(step) < 1e-12) continue;
    const double t1 = (-half - start) / step, t2 = (half - start) / step;
    lo = std::max(lo, std::min(t1, t2));
    hi = std::min(hi, std::max(t1, t2));
  }
  return {p0 + lo * u, p0 + hi * u};
}

}  // namespace

Scenario freeway_network(const FreewayNetworkOptions& o) {
  const char* who = "freeway_network";
  constexpr double kMinSeparation = 2000.0;  // between interchanges
  constexpr double kMinRampSpacing = 2000.0;
  constexpr double kCarriagewayOffset = 15.0;  // each side of the centre line, m
  require(o.freeways >= 2, str(option(who, "freeways"), " = ", o.freeways,
                               ": expected at least 2 (interchanges are where freeways cross)"));
  require_positive(o.extent, who, "extent", "m");
  require(o.lanes >= 1, str(option(who, "lanes"), " = ", o.lanes, ": expected at least 1 lane"));
  require(o.ramp_spacing >= kMinRampSpacing && std::isfinite(o.ramp_spacing),
          str(option(who, "ramp_spacing"), " = ", o.ramp_spacing, ": expected at least ",
              kMinRampSpacing, " m (an interchange's off- and on-ramp are ", 2 * kRampOffset,
              " m apart)"));
  require_positive(o.detector_spacing, who, "detector_spacing", "m");
  require(o.detector_spacing <= o.extent,
          str(option(who, "detector_spacing"), " = ", o.detector_spacing,
              " m: longer than the freeways (extent = ", o.extent, " m)"));
  require_demand_scale(o.demand_scale, who);

  const double half = 0.5 * o.extent, margin = o.extent / 8.0;
  const Layout layout = spread_lines(o.freeways, o.extent, margin);
  require(layout.separation >= kMinSeparation,
          str(option(who, "freeways"), " = ", o.freeways, ": found no layout in a square of ",
              option(who, "extent"), " = ", o.extent, " m where every two freeways cross inside ",
              "and the interchanges lie at least ", kMinSeparation, " m apart (best: ",
              std::max(0.0, layout.separation), " m); fewer freeways or a larger extent"));

  Scenario s;
  s.lane = o.lane;
  s.name = "freeway_network";
  const Point centre{half, half};
  const int n = o.freeways;
  // Interchange junctions first: node ids 0 .. n (n - 1) / 2 - 1, pair by pair.
  std::vector<std::vector<int>> interchange(static_cast<std::size_t>(n),
                                            std::vector<int>(static_cast<std::size_t>(n), -1));
  for (int a = 0; a < n; ++a) {
    for (int b = a + 1; b < n; ++b) {
      const Point p = centre + crossing(layout.lines[static_cast<std::size_t>(a)],
                                        layout.lines[static_cast<std::size_t>(b)]);
      const int node =
          add_node(s, "x" + std::to_string(a) + "_" + std::to_string(b), NodeKind::kJunction, p);
      interchange[static_cast<std::size_t>(a)][static_cast<std::size_t>(b)] = node;
      interchange[static_cast<std::size_t>(b)][static_cast<std::size_t>(a)] = node;
    }
  }

  const double capacity = o.lanes * o.lane.capacity;
  struct Carriageway {
    int freeway;
    Point direction;
  };
  std::vector<Carriageway> carriageways;
  std::vector<int> carriageway_of;  // per link id, -1 for ramps
  for (int k = 0; k < n; ++k) {
    const Line& line = layout.lines[static_cast<std::size_t>(k)];
    const auto [a_end, b_end] = clip(line, half);
    const Point u = line.direction();
    const double length = distance(a_end, b_end);
    // Crossings and local interchange centres in stations from the a end.
    std::vector<std::pair<double, int>> crossings;  // station, junction
    for (int other = 0; other < n; ++other) {
      if (other == k) continue;
      const Point p = crossing(line, layout.lines[static_cast<std::size_t>(other)]);
      crossings.emplace_back(
          dot(p - a_end, u),
          interchange[static_cast<std::size_t>(k)][static_cast<std::size_t>(other)]);
    }
    std::sort(crossings.begin(), crossings.end());
    std::vector<double> anchors{0.0};
    for (const auto& c : crossings) anchors.push_back(c.first);
    anchors.push_back(length);
    std::vector<double> centres;
    for (std::size_t g = 0; g + 1 < anchors.size(); ++g) {
      const double gap = anchors[g + 1] - anchors[g];
      const int pieces = std::max(1, static_cast<int>(std::lround(gap / o.ramp_spacing)));
      for (int j = 1; j < pieces; ++j) centres.push_back(anchors[g] + gap * j / pieces);
    }

    for (int direction = 0; direction < 2; ++direction) {
      const bool forward = direction == 0;
      const std::string road = "f" + std::to_string(k) + (forward ? "a" : "b");
      const Point heading = forward ? u : -1.0 * u;
      Geometry g{forward ? a_end : b_end, heading};
      g.start = centre + g.start + kCarriagewayOffset * g.right();
      auto station_of = [&](double from_a) { return forward ? from_a : length - from_a; };
      std::vector<Stop> stops;
      // As the corridor: 80 % of capacity enters at the end of the freeway.
      stops.push_back(end_stop(StopKind::kStart, 0.0, o.lanes, 0.8 * capacity * o.demand_scale));
      stops.push_back(end_stop(StopKind::kEnd, length, o.lanes));
      for (const auto& [from_a, node] : crossings) {
        Stop x = end_stop(StopKind::kInterchange, station_of(from_a), o.lanes);
        x.node = node;
        stops.push_back(x);
      }
      for (std::size_t j = 0; j < centres.size(); ++j) {
        const auto key = [&](int what) {
          return unit_hash(static_cast<std::uint64_t>(what), static_cast<std::uint64_t>(k),
                           static_cast<std::uint64_t>(direction), j);
        };
        // Inbound for the first 40 % of the way, outbound after 70 %: each carriageway fills
        // up towards the middle of the square, where the interchanges are, and its fuller
        // merges there queue at the peak.
        const double urban = smoothstep((station_of(centres[j]) / length - 0.4) / 0.3);
        const CommuterRamps ramps = commuter_ramps(urban, key(1), key(2));
        const double on_demand = ramps.on_veh_h * kPerHour * o.lanes / 3.0 * o.demand_scale;
        const int number = forward ? static_cast<int>(j) : static_cast<int>(centres.size() - 1 - j);
        add_interchange_ramps(stops, station_of(centres[j]), o.lanes, o.lane.capacity, true, true,
                              std::to_string(number), ramps.off_fraction, on_demand,
                              300.0 + 100.0 * key(3), 300.0 + 100.0 * key(4));
      }
      const std::vector<int> links =
          build_carriageway(s, road, g, stops, o.detector_spacing, road + "_D");
      carriageway_of.resize(static_cast<std::size_t>(s.network.link_count()), -1);
      for (const int l : links) {
        carriageway_of[static_cast<std::size_t>(l)] = static_cast<int>(carriageways.size());
      }
      carriageways.push_back({k, heading});
    }
  }

  // Interchange movements: straight on, a right or a left onto the other freeway; never a
  // U-turn onto the opposite carriageway.
  constexpr double kStraight = 0.82, kRight = 0.10, kLeft = 0.08;
  for (int a = 0; a < n; ++a) {
    for (int b = a + 1; b < n; ++b) {
      const int node = interchange[static_cast<std::size_t>(a)][static_cast<std::size_t>(b)];
      std::vector<std::vector<double>> rows;
      for (const int in : s.network.in_links(node)) {
        const Carriageway& from =
            carriageways[static_cast<std::size_t>(carriageway_of[static_cast<std::size_t>(in)])];
        std::vector<double> row;
        double sum = 0.0;
        for (const int out : s.network.out_links(node)) {
          const Carriageway& to =
              carriageways[static_cast<std::size_t>(carriageway_of[static_cast<std::size_t>(out)])];
          double share = 0.0;
          if (to.freeway == from.freeway) {
            share = dot(to.direction, from.direction) > 0.0 ? kStraight : 0.0;
          } else {
            share = cross(from.direction, to.direction) > 0.0 ? kLeft : kRight;
          }
          row.push_back(share);
          sum += share;
        }
        for (double& share : row) share /= sum;
        rows.push_back(row);
      }
      s.network.node(node).turning = rows;
      // Freeway-to-freeway ramps leave before the crossing: a full ramp does not stop the
      // through traffic (with one FIFO queue per carriageway the network gridlocks a little
      // above the default demand).
      s.network.node(node).fifo = false;
    }
  }
  return s;
}

// ----------------------------------------------------------------------------------------
// Grid

Scenario grid(const GridOptions& o) {
  const char* who = "grid";
  require(o.rows >= 2, str(option(who, "rows"), " = ", o.rows, ": expected at least 2"));
  require(o.columns >= 2, str(option(who, "columns"), " = ", o.columns, ": expected at least 2"));
  require_positive(o.spacing, who, "spacing", "m");
  require(o.lanes >= 1, str(option(who, "lanes"), " = ", o.lanes, ": expected at least 1 lane"));
  require(o.detectors_per_link >= 0,
          str(option(who, "detectors_per_link"), " = ", o.detectors_per_link, ": expected >= 0"));
  require_demand_scale(o.demand_scale, who);

  constexpr double kConnectorLength = 300.0;
  Scenario s;
  s.lane = o.lane;
  s.name = "grid";
  auto junction = [&](int r, int c) { return r * o.columns + c; };
  auto label = [](int r, int c) { return std::to_string(r) + "_" + std::to_string(c); };
  for (int r = 0; r < o.rows; ++r) {
    for (int c = 0; c < o.columns; ++c) {
      add_node(s, "j" + label(r, c), NodeKind::kJunction, {c * o.spacing, r * o.spacing});
    }
  }
  auto road = [&](int a, int b) {
    const int l = add_link(s, s.network.node(a).name + "-" + s.network.node(b).name, a, b,
                           o.spacing, o.lanes);
    s.mainline_links.push_back(l);
    for (int k = 0; k < o.detectors_per_link; ++k) {
      s.detectors.push_back({s.network.link(l).name + "_D" + std::to_string(k), l,
                             (k + 0.5) * o.spacing / o.detectors_per_link});
    }
  };
  for (int r = 0; r < o.rows; ++r) {
    for (int c = 0; c < o.columns; ++c) {
      if (c + 1 < o.columns) {
        road(junction(r, c), junction(r, c + 1));
        road(junction(r, c + 1), junction(r, c));
      }
      if (r + 1 < o.rows) {
        road(junction(r, c), junction(r + 1, c));
        road(junction(r + 1, c), junction(r, c));
      }
    }
  }

  // Zones: demand from 1,700 veh/h in the middle (a business district) down to 200 at the
  // edges of a large grid. A zone's local streets take 1,200 veh/h, like an off-ramp's
  // arterial: at the peak the district's arrivals exceed it, its connectors fill and the
  // junctions around queue (FIFO) until demand falls off.
  const Point middle{0.5 * (o.columns - 1) * o.spacing, 0.5 * (o.rows - 1) * o.spacing};
  const double reach = 0.3 * std::max(o.columns - 1, o.rows - 1) * o.spacing;
  std::vector<int> zone_in(static_cast<std::size_t>(o.rows * o.columns));
  for (int r = 0; r < o.rows; ++r) {
    for (int c = 0; c < o.columns; ++c) {
      const int here = junction(r, c);
      const Point at{s.network.node(here).x, s.network.node(here).y};
      const Point diagonal{0.7 * kConnectorLength, 0.7 * kConnectorLength};
      const int origin = add_node(s, "o" + label(r, c), NodeKind::kOrigin, at - diagonal);
      const int destination = add_node(s, "d" + label(r, c), NodeKind::kDestination, at + diagonal);
      const double d = distance(at, middle) / reach;
      s.peak_demand[static_cast<std::size_t>(origin)] =
          (200.0 + 1500.0 * std::exp(-d * d)) * kPerHour * o.demand_scale;
      s.exit_capacity[static_cast<std::size_t>(destination)] = kArterialExit;
      zone_in[static_cast<std::size_t>(here)] =
          add_link(s, "zone_in" + label(r, c), origin, here, kConnectorLength, 1);
      add_link(s, "zone_out" + label(r, c), here, destination, kConnectorLength, 1);
    }
  }

  constexpr double kStraight = 0.55, kTurn = 0.15, kToZone = 0.15;
  RoadNetwork& net = s.network;
  for (int here = 0; here < o.rows * o.columns; ++here) {
    const Point centre{net.node(here).x, net.node(here).y};
    std::vector<std::vector<double>> rows;
    for (const int in : net.in_links(here)) {
      const bool from_zone = in == zone_in[static_cast<std::size_t>(here)];
      const Node& from = net.node(net.link(in).from);
      const Point heading = centre - Point{from.x, from.y};
      std::vector<double> row;
      double sum = 0.0;
      for (const int out : net.out_links(here)) {
        const Node& to = net.node(net.link(out).to);
        const Point leaving = Point{to.x, to.y} - centre;
        double share = 0.0;
        if (to.kind == NodeKind::kDestination) {
          share = from_zone ? 0.0 : kToZone;  // a zone's own trips do not come straight back
        } else if (from_zone) {
          share = 1.0;
        } else if (dot(heading, leaving) > 0.0) {
          share = kStraight;
        } else if (std::abs(cross(heading, leaving)) > 0.0) {
          share = kTurn;
        }  // else a U-turn: 0
        row.push_back(share);
        sum += share;
      }
      for (double& share : row) share /= sum;
      rows.push_back(row);
    }
    net.node(here).turning = rows;
    net.node(here).fifo = !o.turn_lanes;
  }
  return s;
}

}  // namespace tessera::solvers::lwr::network
