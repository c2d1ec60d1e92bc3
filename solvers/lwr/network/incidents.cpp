#include "solvers/lwr/network/incidents.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/runtime/error.hpp"
#include "core/tensor/random.hpp"

namespace tessera::solvers::lwr::network {

std::vector<Incident> generate_incidents(const RoadNetwork& network, const IncidentOptions& o,
                                         long long days, const std::string& key_prefix) {
  auto key = [&](const char* name) { return key_prefix + name; };
  if (!(o.rate >= 0 && std::isfinite(o.rate))) {
    throw InputError(str("key '", key("rate"), "' = ", o.rate,
                         ": expected incidents per lane-km per day, >= 0"));
  }
  if (!(o.min_duration > 0 && o.max_duration >= o.min_duration)) {
    throw InputError(str("keys '", key("min_duration"), "' and '", key("max_duration"),
                         "' = ", o.min_duration / 60, " and ", o.max_duration / 60,
                         " min: expected 0 < min <= max"));
  }
  if (!(o.min_drop > 0 && o.min_drop <= o.max_drop && o.max_drop < 1)) {
    throw InputError(str("keys '", key("min_drop"), "' and '", key("max_drop"), "' = ", o.min_drop,
                         " and ", o.max_drop, ": expected 0 < min <= max < 1"));
  }
  std::vector<Incident> incidents;
  for (int l = 0; l < network.link_count(); ++l) {
    const Link& link = network.link(l);
    const double mean = o.rate * link.lanes * link.length / 1000.0;
    if (mean > 50.0) {  // the inversion below is exact for small means only
      throw InputError(str("key '", key("rate"), "' = ", o.rate, " incidents per lane-km per day ",
                           "gives ", mean, " a day on link '", link.name,
                           "': expected at most 50 per link and day"));
    }
    for (long long day = 0; day < days; ++day) {
      const std::uint64_t stream = tensor::counter_hash(static_cast<std::uint64_t>(l),
                                                        static_cast<std::uint64_t>(day), 0x1c1d);
      // Poisson count by inversion (mean << 1 per link and day, so a handful of terms).
      const double u = tensor::counter_uniform(o.seed, stream, 0);
      int count = 0;
      double term = std::exp(-mean), cumulative = term;
      while (u > cumulative && count < 100) {
        ++count;
        term *= mean / count;
        cumulative += term;
      }
      for (int k = 0; k < count; ++k) {
        auto draw = [&](int which) {
          return tensor::counter_uniform(o.seed, stream,
                                         static_cast<std::uint64_t>(1 + 4 * k + which));
        };
        Incident incident;
        incident.link = l;
        incident.cell = std::min(link.cells - 1, static_cast<long long>(draw(0) * link.cells));
        incident.start = (static_cast<double>(day) + draw(1)) * 86400.0;
        incident.end =
            incident.start + o.min_duration + (o.max_duration - o.min_duration) * draw(2);
        incident.capacity_factor = 1.0 - (o.min_drop + (o.max_drop - o.min_drop) * draw(3));
        incidents.push_back(incident);
      }
    }
  }
  std::sort(incidents.begin(), incidents.end(), [](const Incident& a, const Incident& b) {
    return a.start != b.start ? a.start < b.start : a.link < b.link;
  });
  return incidents;
}

IncidentSchedule::IncidentSchedule(std::vector<Incident> incidents)
    : incidents_(std::move(incidents)) {
  std::sort(incidents_.begin(), incidents_.end(),
            [](const Incident& a, const Incident& b) { return a.start < b.start; });
}

std::vector<IncidentSchedule::Change> IncidentSchedule::advance(double t) {
  std::map<std::pair<int, long long>, bool> touched;
  while (next_ < incidents_.size() && incidents_[next_].start <= t) {
    touched[{incidents_[next_].link, incidents_[next_].cell}] = true;
    active_.push_back(next_++);
  }
  for (std::size_t k = 0; k < active_.size();) {
    const Incident& incident = incidents_[active_[k]];
    if (incident.end <= t) {
      touched[{incident.link, incident.cell}] = true;
      active_.erase(active_.begin() + static_cast<long>(k));
    } else {
      ++k;
    }
  }
  std::vector<Change> changes;
  for (const auto& [where, unused] : touched) {
    double factor = 1.0;
    for (const std::size_t k : active_) {
      const Incident& incident = incidents_[k];
      if (incident.link == where.first && incident.cell == where.second) {
        factor = std::min(factor, incident.capacity_factor);
      }
    }
    changes.push_back({where.first, where.second, factor});
  }
  return changes;
}

}  // namespace tessera::solvers::lwr::network
