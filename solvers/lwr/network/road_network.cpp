#include "solvers/lwr/network/road_network.hpp"

#include <cmath>
#include <set>

#include "core/runtime/error.hpp"

namespace tessera::solvers::lwr::network {

const char* node_kind_name(NodeKind kind) {
  switch (kind) {
    case NodeKind::kOrigin:
      return "origin";
    case NodeKind::kDestination:
      return "destination";
    case NodeKind::kJunction:
      return "junction";
  }
  return "?";
}

std::vector<std::vector<double>> normalised_turning(std::vector<std::vector<double>> rows) {
  for (auto& row : rows) {
    double sum = 0.0;
    for (const double b : row) sum += b;
    for (double& b : row) b /= sum;
  }
  return rows;
}

int RoadNetwork::add_node(Node node) {
  nodes_.push_back(std::move(node));
  in_.emplace_back();
  out_.emplace_back();
  return node_count() - 1;
}

int RoadNetwork::add_link(Link link) {
  const int id = link_count();
  for (const int end : {link.from, link.to}) {
    if (end < 0 || end >= node_count()) {
      throw InputError(str("link '", link.name, "': node id ", end, " is not one of the ",
                           node_count(), " nodes"));
    }
  }
  if (link.from == link.to) {
    throw InputError(str("link '", link.name, "' starts and ends at node '", node(link.from).name,
                         "': a link joins two different nodes"));
  }
  out_[static_cast<std::size_t>(link.from)].push_back(id);
  in_[static_cast<std::size_t>(link.to)].push_back(id);
  links_.push_back(std::move(link));
  return id;
}

int RoadNetwork::find_link(const std::string& name) const {
  for (int l = 0; l < link_count(); ++l) {
    if (links_[static_cast<std::size_t>(l)].name == name) return l;
  }
  return -1;
}

std::vector<int> RoadNetwork::origins() const {
  std::vector<int> ids;
  for (int n = 0; n < node_count(); ++n) {
    if (node(n).kind == NodeKind::kOrigin) ids.push_back(n);
  }
  return ids;
}

std::vector<int> RoadNetwork::destinations() const {
  std::vector<int> ids;
  for (int n = 0; n < node_count(); ++n) {
    if (node(n).kind == NodeKind::kDestination) ids.push_back(n);
  }
  return ids;
}

double RoadNetwork::turning_fraction(int node_id, int in_position, int out_position) const {
  const Node& n = node(node_id);
  if (n.turning.empty()) return 1.0;
  return n.turning.at(static_cast<std::size_t>(in_position))
      .at(static_cast<std::size_t>(out_position));
}

FundamentalDiagram RoadNetwork::diagram(int link_id) const {
  const Link& l = link(link_id);
  FundamentalDiagram d;
  d.kind = FluxKind::kTriangular;
  d.v_max = l.lane.free_speed;
  d.wave_speed = l.lane.wave_speed;
  d.rho_max = l.lane.jam_density * l.lanes;
  return d;
}

double RoadNetwork::capacity(int link_id) const {
  const Link& l = link(link_id);
  return l.lane.capacity * l.lanes;
}

double RoadNetwork::cell_length(int link_id) const {
  const Link& l = link(link_id);
  return l.length / static_cast<double>(l.cells);
}

long long RoadNetwork::total_cells() const {
  long long total = 0;
  for (const Link& l : links_) total += l.cells;
  return total;
}

void RoadNetwork::finalize(double dt, const std::string& dt_key) {
  if (!(dt > 0.0 && std::isfinite(dt))) {
    throw InputError(str("key '", dt_key, "' = ", dt, ": expected a positive time step in s"));
  }
  if (links_.empty()) throw InputError("the road network has no links");
  std::set<std::string> names;
  for (Link& l : links_) {
    const std::string where = str("link '", l.name, "'");
    if (!names.insert(l.name).second) throw InputError(str(where, ": the name is used twice"));
    if (!(l.length > 0.0 && std::isfinite(l.length))) {
      throw InputError(str(where, ": length ", l.length, " m, expected a positive length"));
    }
    if (l.lanes < 1) throw InputError(str(where, ": ", l.lanes, " lanes, expected at least 1"));
    const LaneDiagram& d = l.lane;
    if (!(d.free_speed > 0 && d.wave_speed > 0 && d.jam_density > 0 && d.capacity > 0) ||
        !std::isfinite(d.free_speed + d.wave_speed + d.jam_density + d.capacity)) {
      throw InputError(str(where, ": free speed, wave speed, jam density and capacity must all ",
                           "be positive (got ", d.free_speed * 3.6, " km/h, ", d.wave_speed * 3.6,
                           " km/h, ", d.jam_density * 1000, " veh/km/lane, ", d.capacity * 3600,
                           " veh/h/lane)"));
    }
    const double speed = std::max(d.free_speed, d.wave_speed);
    if (l.cells == 0) {
      l.cells = static_cast<long long>(std::floor(l.length / (speed * dt)));
      if (l.cells < 1) {
        throw InputError(str(where, " is ", l.length, " m long, shorter than one cell: a cell ",
                             "must be at least v dt = ", speed * dt, " m long (v = ", speed * 3.6,
                             " km/h, ", dt_key, " = ", dt, " s); lengthen the link or lower ",
                             dt_key));
      }
    } else if (l.cells < 0) {
      throw InputError(str(where, ": ", l.cells, " cells, expected at least 1 (or 0 for auto)"));
    } else {
      const double dx = l.length / static_cast<double>(l.cells);
      if (dt > dx / speed * (1.0 + 1e-12)) {
        throw InputError(str(dt_key, " = ", dt, " s is above the CFL limit of ", where,
                             ": its cells are ", dx, " m long, so dt <= dx / v = ", dx / speed,
                             " s (v = ", speed * 3.6, " km/h); lower ", dt_key,
                             " or use fewer cells"));
      }
    }
  }
  names.clear();
  for (int n = 0; n < node_count(); ++n) {
    const Node& node_ref = node(n);
    const std::string where = str(node_kind_name(node_ref.kind), " '", node_ref.name, "'");
    if (!names.insert(node_ref.name).second) {
      throw InputError(str(where, ": the node name is used twice"));
    }
    const std::size_t ins = in_links(n).size(), outs = out_links(n).size();
    switch (node_ref.kind) {
      case NodeKind::kOrigin:
        if (ins != 0 || outs != 1) {
          throw InputError(str(where, " has ", ins, " in-links and ", outs,
                               " out-links: an origin feeds exactly one link and receives none"));
        }
        break;
      case NodeKind::kDestination:
        if (ins != 1 || outs != 0) {
          throw InputError(str(where, " has ", ins, " in-links and ", outs,
                               " out-links: a destination drains exactly one link"));
        }
        break;
      case NodeKind::kJunction:
        if (ins < 1 || outs < 1) {
          throw InputError(str(where, " has ", ins, " in-links and ", outs,
                               " out-links: a junction needs at least one of each (traffic "
                               "enters at origins and leaves at destinations)"));
        }
        if (ins > static_cast<std::size_t>(kMaxNodeDegree) ||
            outs > static_cast<std::size_t>(kMaxNodeDegree)) {
          throw InputError(str(where, " has ", ins, " in-links and ", outs, " out-links: at most ",
                               kMaxNodeDegree, " of each"));
        }
        break;
    }
    if (node_ref.turning.empty()) {
      if (outs > 1) {
        throw InputError(str(where, " has ", outs, " out-links but no turning fractions"));
      }
      continue;
    }
    check_turning(n, node_ref.turning);
  }
}

void RoadNetwork::check_turning(int node_id,
                                const std::vector<std::vector<double>>& fractions) const {
  const Node& node_ref = node(node_id);
  const std::string where = str(node_kind_name(node_ref.kind), " '", node_ref.name, "'");
  const std::size_t ins = in_links(node_id).size(), outs = out_links(node_id).size();
  if (fractions.size() != ins) {
    throw InputError(
        str(where, ": ", fractions.size(), " rows of turning fractions for ", ins, " in-links"));
  }
  for (std::size_t i = 0; i < ins; ++i) {
    const std::vector<double>& row = fractions[i];
    const std::string in_name = link(in_links(node_id)[i]).name;
    if (row.size() != outs) {
      throw InputError(str(where, ": in-link '", in_name, "' has ", row.size(),
                           " turning fractions for ", outs, " out-links"));
    }
    double sum = 0.0;
    for (const double beta : row) {
      if (!(beta >= 0.0 && beta <= 1.0)) {
        throw InputError(str(where, ": in-link '", in_name, "' has the turning fraction ", beta,
                             ", expected a value in [0, 1]"));
      }
      sum += beta;
    }
    if (std::abs(sum - 1.0) > 1e-9) {
      throw InputError(str(where, ": the turning fractions of in-link '", in_name, "' sum to ", sum,
                           ", expected 1"));
    }
  }
}

}  // namespace tessera::solvers::lwr::network
