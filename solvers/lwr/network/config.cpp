#include "solvers/lwr/network/config.hpp"

#include <cmath>

#include "core/runtime/error.hpp"
#include "solvers/lwr/network/network_solver.hpp"
#include "solvers/lwr/network/sensor_graph.hpp"

namespace tessera::solvers::lwr::network {

using config::at_least;
using config::between;
using config::greater_than;

void add_lwr_network_keys(config::Schema& s) {
  s.add_string("network.scenario", std::string("corridor"), {"corridor", "freeways", "grid"},
               "corridor: a 30 km freeway with 8 on- and 8 off-ramps; freeways: crossing freeways "
               "with interchanges and ramps; grid: a LargeST-scale grid of junctions");
  s.add_real("network.dt", 5.0, greater_than(0),
             "time step in s (cells are at least free speed x dt long)");
  s.add_int("network.days", 1, between(1, 3650), "days simulated, from midnight of day 0");
  s.add_int("network.first_weekday", 0, between(0, 6), "weekday of day 0 (0 = Monday)");
  s.add_string("network.partition", std::string("metis"), {"metis", "blocks"},
               "how whole links are given to ranks: METIS on the link graph weighted by cells, "
               "or contiguous link ids");
  s.add_real("network.demand_scale", 1.0, greater_than(0), "multiplies every origin's peak demand");
  s.add_real("network.free_speed", 105.0, greater_than(0), "free-flow speed, km/h");
  s.add_real("network.wave_speed", 20.0, greater_than(0), "congested backward wave speed, km/h");
  s.add_real("network.jam_density", 150.0, greater_than(0), "jam density, veh/km per lane");
  s.add_real("network.capacity", 2100.0, greater_than(0),
             "capacity, veh/h per lane (cuts the triangle's peak; >= its peak: triangular)");

  s.add_real("corridor.length_km", 30.0, greater_than(0), "corridor: length of the mainline");
  s.add_int("corridor.lanes", 3, at_least(1), "corridor: mainline lanes");
  s.add_int("corridor.on_ramps", 8, at_least(0), "corridor: on-ramps");
  s.add_int("corridor.off_ramps", 8, at_least(0), "corridor: off-ramps");
  s.add_real("corridor.detector_spacing_km", 0.5, greater_than(0), "corridor: detector spacing");

  s.add_int("freeways.count", 4, between(2, 12),
            "freeways: number of freeways (crossing pairwise)");
  s.add_real("freeways.extent_km", 40.0, greater_than(0),
             "freeways: side of the square they cross");
  s.add_int("freeways.lanes", 3, at_least(1), "freeways: lanes per carriageway");
  s.add_real("freeways.ramp_spacing_km", 4.0, greater_than(0), "freeways: distance between ramps");
  s.add_real("freeways.detector_spacing_km", 1.6, greater_than(0), "freeways: detector spacing");

  s.add_int("grid.rows", 33, between(2, 1000), "grid: junction rows");
  s.add_int("grid.columns", 33, between(2, 1000), "grid: junction columns");
  s.add_real("grid.spacing_km", 1.0, greater_than(0), "grid: distance between junctions");
  s.add_int("grid.lanes", 2, at_least(1), "grid: lanes per direction");
  s.add_int("grid.detectors_per_link", 2, at_least(1), "grid: detectors on each road link");
  s.add_bool("grid.turn_lanes", true,
             "grid: a lane per movement at junctions (no FIFO); false: one FIFO queue per "
             "approach, which gridlocks above about 1.1 x the peak demand");

  s.add_real("demand.day_sigma", 0.08, between(0, 1), "std of the log day factor (lognormal)");
  s.add_real("demand.noise_sigma", 0.10, between(0, 1), "stationary std of the AR(1) log noise");
  s.add_real("demand.noise_correlation", 0.9, between(0, 0.999),
             "AR(1) coefficient between demand intervals");
  s.add_real("demand.interval", 300.0, greater_than(0), "s between demand updates");
  s.add_real("demand.turning_amplitude", 0.3, between(0, 0.95),
             "relative daily swing of the turning fractions");

  s.add_real("incidents.rate", 0.005, at_least(0), "incidents per lane-km per day");
  s.add_real("incidents.min_duration", 20.0, greater_than(0), "shortest incident, minutes");
  s.add_real("incidents.max_duration", 90.0, greater_than(0), "longest incident, minutes");
  s.add_real("incidents.min_drop", 0.3, greater_than(0), "smallest capacity drop (fraction)");
  s.add_real("incidents.max_drop", 0.7, greater_than(0), "largest capacity drop (fraction)");

  s.add_real("detectors.interval", 300.0, greater_than(0), "s over which a reading integrates");
  s.add_real("detectors.speed_noise", 0.0, at_least(0), "std of Gaussian speed noise, km/h");
  s.add_real("detectors.dropout_rate", 0.0, at_least(0),
             "dropouts starting per detector per day (readings written as 0)");
  s.add_real("detectors.min_dropout", 10.0, greater_than(0), "shortest dropout, minutes");
  s.add_real("detectors.max_dropout", 360.0, greater_than(0), "longest dropout, minutes");

  s.add_real("graph.max_distance_km", 5.0, greater_than(0),
             "sensor graph: road distances listed up to this far downstream");
  s.add_real("graph.threshold", 0.1, between(0, 1),
             "sensor graph: Gaussian weights below it dropped");

  s.add_real("output.field_interval", 900.0, at_least(0),
             "s between density fields (HDF5 and VTK); 0: none");
  s.add_int("output.field_days", 1, at_least(0), "fields are written on the first days only");
}

NetworkConfig network_from_config(const config::Config& c) {
  NetworkConfig n;
  n.source = c.source();
  n.scenario = c.get_string("network.scenario");
  n.dt = c.get_real("network.dt");
  n.days = c.get_int("network.days");
  n.partition = c.get_string("network.partition");
  const double scale = c.get_real("network.demand_scale");
  n.demand_scale = scale;
  n.lane.free_speed = c.get_real("network.free_speed") / 3.6;
  n.lane.wave_speed = c.get_real("network.wave_speed") / 3.6;
  n.lane.jam_density = c.get_real("network.jam_density") / 1000.0;
  n.lane.capacity = c.get_real("network.capacity") / 3600.0;

  n.corridor.length = c.get_real("corridor.length_km") * 1000.0;
  n.corridor.lanes = static_cast<int>(c.get_int("corridor.lanes"));
  n.corridor.on_ramps = static_cast<int>(c.get_int("corridor.on_ramps"));
  n.corridor.off_ramps = static_cast<int>(c.get_int("corridor.off_ramps"));
  n.corridor.detector_spacing = c.get_real("corridor.detector_spacing_km") * 1000.0;
  n.corridor.demand_scale = scale;
  n.freeways.freeways = static_cast<int>(c.get_int("freeways.count"));
  n.freeways.extent = c.get_real("freeways.extent_km") * 1000.0;
  n.freeways.lanes = static_cast<int>(c.get_int("freeways.lanes"));
  n.freeways.ramp_spacing = c.get_real("freeways.ramp_spacing_km") * 1000.0;
  n.freeways.detector_spacing = c.get_real("freeways.detector_spacing_km") * 1000.0;
  n.freeways.demand_scale = scale;
  n.grid.rows = static_cast<int>(c.get_int("grid.rows"));
  n.grid.columns = static_cast<int>(c.get_int("grid.columns"));
  n.grid.spacing = c.get_real("grid.spacing_km") * 1000.0;
  n.grid.lanes = static_cast<int>(c.get_int("grid.lanes"));
  n.grid.detectors_per_link = static_cast<int>(c.get_int("grid.detectors_per_link"));
  n.grid.demand_scale = scale;
  n.grid.turn_lanes = c.get_bool("grid.turn_lanes");
  n.corridor.lane = n.freeways.lane = n.grid.lane = n.lane;

  const auto seed = static_cast<std::uint64_t>(c.get_int("run.seed"));
  n.demand.seed = seed;
  n.demand.first_weekday = static_cast<int>(c.get_int("network.first_weekday"));
  n.demand.day_sigma = c.get_real("demand.day_sigma");
  n.demand.noise_sigma = c.get_real("demand.noise_sigma");
  n.demand.noise_correlation = c.get_real("demand.noise_correlation");
  n.demand.interval = c.get_real("demand.interval");
  n.demand.turning_amplitude = c.get_real("demand.turning_amplitude");
  // Each random process has its own seed derived from run.seed.
  n.incidents.seed = seed * 1000003ULL + 17;
  n.incidents.rate = c.get_real("incidents.rate");
  n.incidents.min_duration = c.get_real("incidents.min_duration") * 60.0;
  n.incidents.max_duration = c.get_real("incidents.max_duration") * 60.0;
  n.incidents.min_drop = c.get_real("incidents.min_drop");
  n.incidents.max_drop = c.get_real("incidents.max_drop");
  n.noise.seed = seed * 1000003ULL + 29;
  n.noise.speed_sigma = c.get_real("detectors.speed_noise");
  n.noise.dropout_rate = c.get_real("detectors.dropout_rate");
  n.noise.min_dropout = c.get_real("detectors.min_dropout") * 60.0;
  n.noise.max_dropout = c.get_real("detectors.max_dropout") * 60.0;
  n.detector_interval = c.get_real("detectors.interval");
  n.graph_max_distance = c.get_real("graph.max_distance_km") * 1000.0;
  n.graph_threshold = c.get_real("graph.threshold");
  n.field_interval = c.get_real("output.field_interval");
  n.field_days = c.get_int("output.field_days");
  n.vtk = c.get_bool("output.vtk");
  return n;
}

Scenario build_scenario(const NetworkConfig& c) {
  Scenario s;
  try {
    s = c.scenario == "corridor"   ? corridor(c.corridor)
        : c.scenario == "freeways" ? freeway_network(c.freeways)
                                   : grid(c.grid);
  } catch (const InputError& e) {
    // The builders speak of their options in metres; the keys are [<scenario>] ones in km.
    throw InputError(str("network.scenario = \"", c.scenario, "\": ", e.what(), " (set by the [",
                         c.scenario, "] keys, lengths in km there)"));
  }
  return s;
}

namespace {

// `interval` must be a whole number of time steps (outputs and updates fall on steps).
void require_steps(double interval, double dt, const char* key) {
  const double steps = interval / dt;
  if (std::abs(steps - std::round(steps)) > 1e-9 * steps || std::round(steps) < 1) {
    throw InputError(str("key '", key, "' = ", interval, " s: expected a whole multiple of ",
                         "network.dt = ", dt, " s"));
  }
}

}  // namespace

void validate(const NetworkConfig& c, int ranks) {
  config::with_source(c.source, [&] {
    const double per_hour = 3600.0 / c.dt;
    if (std::abs(per_hour - std::round(per_hour)) > 1e-9 * per_hour) {
      throw InputError(str("key 'network.dt' = ", c.dt,
                           " s: expected a divisor of an hour (3600 s), e.g. 2, 2.5 or 5"));
    }
    require_steps(c.detector_interval, c.dt, "detectors.interval");
    require_steps(c.demand.interval, c.dt, "demand.interval");
    if (c.field_interval > 0) require_steps(c.field_interval, c.dt, "output.field_interval");
    const double per_day = 86400.0 / c.detector_interval;
    if (std::abs(per_day - std::round(per_day)) > 1e-9) {
      throw InputError(str("key 'detectors.interval' = ", c.detector_interval,
                           " s: expected a divisor of a day (86400 s), e.g. 300"));
    }
    Scenario s = build_scenario(c);
    s.network.finalize(c.dt, "network.dt");
    partition_links(s.network, ranks, c.partition);
    DemandModel demand(s.network, s.peak_demand, c.demand);
    generate_incidents(s.network, c.incidents, 0);
    ReadingCorruptor corruptor(c.noise, 0, c.detector_interval);
    for (const DetectorSite& d : s.detectors) {
      if (d.link < 0 || d.link >= s.network.link_count() || !(d.position >= 0) ||
          d.position > s.network.link(d.link).length) {
        throw InputError(str("detector '", d.name, "' is not on a link of the network"));
      }
    }
    road_distances(s.network, s.detectors, c.graph_max_distance, "graph.max_distance_km");
  });
}

}  // namespace tessera::solvers::lwr::network
