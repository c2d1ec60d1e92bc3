#include "solvers/lwr/network/run.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <memory>
#include <sstream>

#include "core/graph/distance_kernel.hpp"
#include "core/io/hdf5_reader.hpp"
#include "core/io/vtk_series.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/progress.hpp"
#include "core/runtime/runtime.hpp"
#include "solvers/lwr/network/network_solver.hpp"
#include "solvers/lwr/network/sensor_graph.hpp"

namespace tessera::solvers::lwr::network {
namespace {

// A text file written on rank 0 under <path>.partial and renamed by close().
class TextOutput {
 public:
  TextOutput(const std::string& directory, const std::string& name, bool enabled)
      : path_((std::filesystem::path(directory) / name).string()), enabled_(enabled) {
    if (!enabled_) return;
    out_.open(path_ + ".partial");
    if (!out_) throw std::runtime_error(str("cannot write ", path_, ".partial"));
    out_ << std::setprecision(8);
  }
  std::ofstream& stream() { return out_; }
  void close() {
    if (!enabled_) return;
    out_.close();
    if (!out_) throw std::runtime_error(str("writing ", path_, " failed"));
    std::filesystem::rename(path_ + ".partial", path_);
  }

 private:
  std::string path_;
  bool enabled_;
  std::ofstream out_;
};

// One row of readings, 7 significant digits, formatted with std::to_chars: thousands of
// detectors x 288 rows a day made ostream formatting the slowest part of a run.
void write_csv_row(std::ofstream& out, const std::vector<double>& values, std::string& buffer) {
  buffer.resize(values.size() * 24 + 1);
  char* cursor = buffer.data();
  char* const end = buffer.data() + buffer.size();
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (k > 0) *cursor++ = ',';
    cursor = std::to_chars(cursor, end, values[k], std::chars_format::general, 7).ptr;
  }
  *cursor++ = '\n';
  out.write(buffer.data(), cursor - buffer.data());
}

std::string clock_time(double seconds_of_day) {
  const auto minutes = static_cast<long long>(std::llround(seconds_of_day / 60.0));
  std::ostringstream out;
  out << std::setw(2) << std::setfill('0') << minutes / 60 << ":" << std::setw(2)
      << std::setfill('0') << minutes % 60;
  return out.str();
}

// This rank's links as VTK lines, one per cell, drawn straight between the link's nodes.
io::UnstructuredPiece network_piece(const NetworkSolver& solver) {
  const RoadNetwork& net = solver.network();
  io::UnstructuredPiece piece;
  std::int64_t point = 0;
  for (const int l : solver.owned_links()) {
    const Link& link = net.link(l);
    const Node& a = net.node(link.from);
    const Node& b = net.node(link.to);
    for (long long c = 0; c < link.cells; ++c) {
      for (const long long end : {c, c + 1}) {
        const double f = static_cast<double>(end) / static_cast<double>(link.cells);
        piece.points.insert(piece.points.end(),
                            {a.x + f * (b.x - a.x), a.y + f * (b.y - a.y), 0.0});
      }
      piece.cell_offsets.push_back(point);
      piece.connectivity.push_back(point);
      piece.connectivity.push_back(point + 1);
      piece.cell_types.push_back(io::CellType::kLine);
      point += 2;
    }
  }
  piece.cell_offsets.push_back(point);
  return piece;
}

}  // namespace

NetworkSummary run_lwr_network(const NetworkConfig& c, const io::RunContext& ctx) {
  const int rank = runtime::comm_rank(ctx.comm);
  const int ranks = runtime::comm_size(ctx.comm);
  const bool root = rank == 0;
  Scenario scenario = build_scenario(c);
  config::with_source(c.source, [&] { scenario.network.finalize(c.dt, "network.dt"); });
  const RoadNetwork& net = scenario.network;
  std::vector<int> owner;
  config::with_source(c.source, [&] { owner = partition_links(net, ranks, c.partition); });
  // Every rank must hold the same owner map (the exchange plan is derived from it): take
  // rank 0's rather than trust METIS to give identical bits everywhere.
  MPI_Bcast(owner.data(), static_cast<int>(owner.size()), MPI_INT, 0, ctx.comm);
  NetworkSolver solver(ctx.comm, net, c.dt, owner);
  NetworkDetectors detectors(solver, scenario.detectors);
  std::vector<DetectorDistance> distances;
  config::with_source(c.source, [&] {
    distances =
        road_distances(net, scenario.detectors, c.graph_max_distance, "graph.max_distance_km");
  });
  DemandModel demand(net, scenario.peak_demand, c.demand);
  IncidentSchedule incidents(generate_incidents(net, c.incidents, c.days));
  ReadingCorruptor corruptor(c.noise, detectors.count(), c.detector_interval);
  for (const int d : net.destinations()) {
    solver.set_exit_supply(d, scenario.exit_capacity[static_cast<std::size_t>(d)]);
  }
  std::vector<int> varying_junctions;
  for (int n = 0; n < net.node_count(); ++n) {
    if (net.node(n).kind == NodeKind::kJunction && net.out_links(n).size() > 1) {
      varying_junctions.push_back(n);
    }
  }

  NetworkSummary summary;
  summary.nodes = net.node_count();
  summary.links = net.link_count();
  summary.cells = net.total_cells();
  summary.detectors = static_cast<int>(detectors.count());
  summary.origins = static_cast<int>(net.origins().size());
  summary.incidents = static_cast<long long>(incidents.incidents().size());
  summary.graph_edges = static_cast<long long>(distances.size());
  const std::vector<int> origins = net.origins();

  // Static outputs: sensors, sensor graph, incidents.
  io::ResultsFile& results = *ctx.results;
  const std::size_t n_det = detectors.count();
  {
    TextOutput sensors(ctx.directory, "sensors.csv", root);
    if (root) sensors.stream() << "index,name,link,position_m,x_m,y_m\n";
    std::vector<double> x(n_det), y(n_det), link(n_det), position(n_det);
    for (std::size_t d = 0; d < n_det; ++d) {
      const DetectorSite& s = scenario.detectors[d];
      const Link& l = net.link(s.link);
      const double f = s.position / l.length;
      x[d] = net.node(l.from).x + f * (net.node(l.to).x - net.node(l.from).x);
      y[d] = net.node(l.from).y + f * (net.node(l.to).y - net.node(l.from).y);
      link[d] = s.link;
      position[d] = s.position;
      if (root) {
        sensors.stream() << d << "," << s.name << "," << l.name << "," << s.position << "," << x[d]
                         << "," << y[d] << "\n";
      }
    }
    sensors.close();
    results.write_root_array("/detectors/x", {n_det}, x);
    results.write_root_array("/detectors/y", {n_det}, y);
    results.write_root_array("/detectors/link", {n_det}, link);
    results.write_root_array("/detectors/position", {n_det}, position);

    std::vector<double> costs;
    for (const DetectorDistance& e : distances) costs.push_back(e.distance);
    const double sigma = graph::distance_sigma(costs);
    TextOutput cost_file(ctx.directory, "sensor_distances.csv", root);
    TextOutput weight_file(ctx.directory, "sensor_weights.csv", root);
    std::vector<double> edge_table;
    if (root) {
      cost_file.stream() << "from,to,cost\n";
      weight_file.stream() << "from,to,weight\n";
      for (const DetectorDistance& e : distances) {
        cost_file.stream() << e.from << "," << e.to << "," << e.distance << "\n";
        const double w = graph::gaussian_kernel_weight(e.distance, sigma, c.graph_threshold);
        if (w > 0) weight_file.stream() << e.from << "," << e.to << "," << w << "\n";
        edge_table.insert(edge_table.end(),
                          {static_cast<double>(e.from), static_cast<double>(e.to), e.distance, w});
      }
    }
    cost_file.close();
    weight_file.close();
    if (!distances.empty()) {
      results.write_root_array("/graph/edges", {distances.size(), 4}, edge_table);
      results.set_attribute("/graph/edges", "columns",
                            "from, to, road distance (m), Gaussian weight");
      results.set_attribute("/graph/edges", "sigma_m", sigma);
    }

    TextOutput incident_file(ctx.directory, "incidents.csv", root);
    std::vector<double> table;
    if (root) incident_file.stream() << "link,cell,start_s,end_s,capacity_factor\n";
    for (const Incident& i : incidents.incidents()) {
      if (root) {
        incident_file.stream() << net.link(i.link).name << "," << i.cell << "," << i.start << ","
                               << i.end << "," << i.capacity_factor << "\n";
      }
      table.insert(table.end(), {static_cast<double>(i.link), static_cast<double>(i.cell), i.start,
                                 i.end, i.capacity_factor});
    }
    incident_file.close();
    results.set_attribute("/", "incidents", static_cast<double>(incidents.incidents().size()));
    if (!table.empty()) {
      results.write_root_array("/incidents", {incidents.incidents().size(), 5}, table);
      results.set_attribute("/incidents", "columns",
                            "link id, cell, start (s), end (s), capacity factor");
    }
  }

  std::unique_ptr<io::VtkSeries> vtk;
  io::UnstructuredPiece geometry;
  if (c.vtk && c.field_interval > 0 && c.field_days > 0) {
    vtk = std::make_unique<io::VtkSeries>(ctx.comm, ctx.directory, "network");
    geometry = network_piece(solver);
  }
  const std::vector<long long> rows64 = solver.global_cell_rows();
  const std::vector<std::int64_t> global_rows(rows64.begin(), rows64.end());
  std::vector<double> cell_lanes, cell_link_id;
  for (const int l : solver.owned_links()) {
    for (long long k = 0; k < net.link(l).cells; ++k) {
      cell_lanes.push_back(net.link(l).lanes);
      cell_link_id.push_back(l);
    }
  }
  auto write_fields = [&] {
    runtime::Timers::Scope scope(*ctx.timers, "output");
    solver.check_finite();
    const std::vector<double> rho = solver.density_host();
    auto capacity = Kokkos::create_mirror_view(solver.cell_capacity());
    Kokkos::deep_copy(capacity, solver.cell_capacity());
    std::vector<double> per_lane(rho.size()), speed(rho.size()), flow(rho.size());
    for (std::size_t i = 0; i < rho.size(); ++i) {
      const FundamentalDiagram d = net.diagram(static_cast<int>(cell_link_id[i]));
      // The trapezoid the solver runs: the triangle cut at the cell's current capacity.
      const double q = std::min(d.flux(rho[i]), capacity(i));
      per_lane[i] = rho[i] * 1000.0 / cell_lanes[i];
      flow[i] = q * 3600.0;
      speed[i] = (rho[i] > 0 ? q / rho[i] : d.v_max) * 3.6;
    }
    results.begin_field_step(solver.time());
    results.write_field_rows("density", summary.cells, global_rows, per_lane);
    if (vtk) {
      io::UnstructuredPiece piece = geometry;
      piece.cell_data.push_back({"density_veh_per_km_lane", 1, per_lane});
      piece.cell_data.push_back({"speed_kmh", 1, speed});
      piece.cell_data.push_back({"flow_veh_per_h", 1, flow});
      piece.cell_data.push_back({"link", 1, cell_link_id});
      vtk->write_step(solver.time(), piece);
    }
  };

  const auto steps_per_day = static_cast<long long>(std::llround(86400.0 / c.dt));
  const auto demand_steps = static_cast<long long>(std::llround(c.demand.interval / c.dt));
  const auto detector_steps = static_cast<long long>(std::llround(c.detector_interval / c.dt));
  const long long field_steps =
      c.field_interval > 0 ? static_cast<long long>(std::llround(c.field_interval / c.dt)) : 0;
  const long long total_steps = steps_per_day * c.days;
  const auto steps_per_hour = static_cast<long long>(std::llround(3600.0 / c.dt));
  const long long readings_per_day = steps_per_day / detector_steps;

  TextOutput speed_csv(ctx.directory, "speed.csv", root);
  TextOutput flow_csv(ctx.directory, "flow.csv", root);
  TextOutput density_csv(ctx.directory, "density.csv", root);
  TextOutput time_csv(ctx.directory, "timestamps.csv", root);
  if (root) {
    for (TextOutput* f : {&speed_csv, &flow_csv, &density_csv}) {
      for (std::size_t d = 0; d < n_det; ++d) {
        f->stream() << (d ? "," : "") << scenario.detectors[d].name;
      }
      f->stream() << "\n";
    }
    time_csv.stream() << "row,end_s,day,weekday,slot,clock\n";
  }
  // Readings go to the text files as they come and to run.h5 in blocks (at the end of
  // each day and before a checkpoint), so memory does not grow with the days simulated.
  std::vector<double> pending_speed, pending_flow, pending_density, pending_time;
  std::string row_buffer;
  double speed_sum = 0, congested = 0, valid = 0;
  // Rank 0: reading k (ending at `time`) to the text files and the pending rows.
  auto record_reading = [&](long long k, double time, const std::vector<double>& speed,
                            const std::vector<double>& flow, const std::vector<double>& density) {
    const std::vector<double>* values[3] = {&speed, &flow, &density};
    TextOutput* files[3] = {&speed_csv, &flow_csv, &density_csv};
    for (int q = 0; q < 3; ++q) write_csv_row(files[q]->stream(), *values[q], row_buffer);
    const long long day = k / readings_per_day;
    const long long slot = k % readings_per_day;
    time_csv.stream() << k << "," << time << "," << day << "," << demand.weekday(day) << "," << slot
                      << "," << clock_time(static_cast<double>(slot + 1) * c.detector_interval)
                      << "\n";
    pending_speed.insert(pending_speed.end(), speed.begin(), speed.end());
    pending_flow.insert(pending_flow.end(), flow.begin(), flow.end());
    pending_density.insert(pending_density.end(), density.begin(), density.end());
    pending_time.push_back(time);
    for (const double v : speed) {
      if (v <= 0) continue;
      speed_sum += v;
      congested += v < 60.0;
      valid += 1;
    }
  };
  auto flush_readings = [&] {  // collective
    results.append_rows("/detectors/time", 0, pending_time);
    results.append_rows("/detectors/speed", n_det, pending_speed);
    results.append_rows("/detectors/flow", n_det, pending_flow);
    results.append_rows("/detectors/density", n_det, pending_density);
    for (auto* v : {&pending_time, &pending_speed, &pending_flow, &pending_density}) v->clear();
  };
  // Sets what the solver takes from the demand model for the interval holding `step`.
  auto apply_demand = [&](long long step) {
    const long long day = step / steps_per_day;
    const int interval = static_cast<int>((step % steps_per_day) / demand_steps);
    const std::vector<double>& flows = demand.origin_demand(day, interval);
    for (std::size_t o = 0; o < origins.size(); ++o) solver.set_origin_demand(origins[o], flows[o]);
    for (const int n : varying_junctions) solver.set_turning(n, demand.turning(n, interval));
  };

  // Checkpoints (output.checkpoint_every counts steps of network.dt) are taken at the end
  // of a detector interval, where the detectors hold no partial sums: the solver's state
  // in global order, the dropouts in progress and the loop's flags. Demand, turning and
  // incident capacities are functions of the time and are set again on resume.
  auto write_state = [&](io::ResultsFile& state) {
    const NetworkSolver::State s = solver.state();
    state.write_root_array("/solver/density", {s.density.size()}, s.density);
    state.write_root_array("/solver/node_counters", {s.node_counters.size()}, s.node_counters);
    state.write_root_array(
        "/solver/clock", {4},
        {s.time, static_cast<double>(s.steps), s.initial_stored, s.initial_recorded ? 1.0 : 0.0});
    const std::vector<long long>& missing = corruptor.missing_until();  // rank 0's counts
    state.write_root_array("/detectors/missing_until", {missing.size()},
                           std::vector<double>(missing.begin(), missing.end()));
    state.write_root_array("/loop", {1}, {static_cast<double>(summary.gridlock_day)});
    const std::vector<double> vtk_times = vtk ? vtk->times() : std::vector<double>();
    state.write_root_array("/vtk_times", {vtk_times.size()}, vtk_times);
  };
  auto restore_state = [&](const io::Checkpoints& checkpoints) {
    const io::Hdf5Reader state(checkpoints.resume_state_path());
    NetworkSolver::State s;
    s.density = state.read("/solver/density");
    s.node_counters = state.read("/solver/node_counters");
    const std::vector<double> clock = state.read("/solver/clock");
    s.time = clock.at(0);
    s.steps = static_cast<long long>(clock.at(1));
    s.initial_stored = clock.at(2);
    s.initial_recorded = clock.at(3) != 0;
    solver.restore(s);
    const std::vector<double> missing = state.read("/detectors/missing_until");
    corruptor.restore(std::vector<long long>(missing.begin(), missing.end()));
    summary.gridlock_day = static_cast<long long>(state.read("/loop").at(0));
    if (vtk) vtk->restore(state.read("/vtk_times"));
    for (const IncidentSchedule::Change& change : incidents.advance(solver.time())) {
      solver.set_capacity_factor(change.link, change.cell, change.factor);
    }
    apply_demand(s.steps);
    // The readings so far back into the text files, from the checkpoint's results file.
    if (root) {
      const io::Hdf5Reader written(
          (std::filesystem::path(checkpoints.resume_folder()) / "run.h5").string());
      const std::vector<double> time = written.read("/detectors/time");
      const std::vector<double> speed = written.read("/detectors/speed");
      const std::vector<double> flow = written.read("/detectors/flow");
      const std::vector<double> density = written.read("/detectors/density");
      for (std::size_t k = 0; k < time.size(); ++k) {
        const auto row = [&](const std::vector<double>& all) {
          return std::vector<double>(all.begin() + static_cast<long>(k * n_det),
                                     all.begin() + static_cast<long>((k + 1) * n_det));
        };
        record_reading(static_cast<long long>(k), time[k], row(speed), row(flow), row(density));
      }
      for (auto* v : {&pending_time, &pending_speed, &pending_flow, &pending_density}) v->clear();
    }
    return s.steps;
  };

  runtime::log::info(str("LWR network '", c.scenario, "': ", summary.nodes, " nodes, ",
                         summary.links, " links, ", summary.cells, " cells (dt = ", c.dt, " s), ",
                         summary.origins, " origins, ", n_det, " detectors, ", distances.size(),
                         " sensor-graph edges, ", summary.incidents, " incidents over ", c.days,
                         " day(s), ", ranks, " rank(s)"));
  runtime::Progress progress("lwr_network", static_cast<double>(total_steps), root);
  long long first_step = 0;
  if (ctx.checkpoints && ctx.checkpoints->resuming()) {
    first_step = restore_state(*ctx.checkpoints);
    runtime::log::info(str("LWR network: resumed at step ", first_step, " (day ",
                           first_step / steps_per_day, ")"));
  } else if (field_steps > 0 && c.field_days > 0) {
    write_fields();
  }
  const auto started = std::chrono::steady_clock::now();
  double loop_seconds = 0;
  for (long long step = first_step; step < total_steps; ++step) {
    const long long day = step / steps_per_day;
    const long long in_day = step % steps_per_day;
    if (in_day % demand_steps == 0) apply_demand(step);
    for (const IncidentSchedule::Change& change : incidents.advance(solver.time())) {
      solver.set_capacity_factor(change.link, change.cell, change.factor);
    }
    {
      runtime::Timers::Scope scope(*ctx.timers, "solver");
      solver.step();
      detectors.accumulate(solver);
    }
    const long long done = step + 1;
    if (done % detector_steps == 0) {
      runtime::Timers::Scope scope(*ctx.timers, "detectors");
      DetectorReadings r = detectors.close_interval(solver);
      const long long k = done / detector_steps - 1;
      if (root) {
        corruptor.apply(k, r);
        record_reading(k, solver.time(), r.speed, r.flow, r.density);
      }
    }
    // Every hour of simulated time (dt divides an hour: validate): the state's checks and
    // the network's metrics.
    if (done % steps_per_hour == 0) {
      solver.check_finite();
      const MassBalance m = solver.mass_balance();
      results.append_metric("vehicles_on_network", solver.time(), m.stored);
      results.append_metric("vehicles_queued_at_origins", solver.time(), m.queued);
      results.append_metric("vehicles_exited", solver.time(), m.exited);
      results.append_metric("mass_balance_relative_error", solver.time(), m.relative_error());
      results.append_metric("active_incidents", solver.time(), incidents.active());
      const double queued = solver.queued_cell_fraction();
      results.append_metric("queued_cell_fraction", solver.time(), queued);
      // At 03:00 demand is at its lowest: queues still standing then have locked up
      // (gridlock: spill-back around a loop of junctions, which FIFO node models allow).
      if (in_day + 1 == 3 * steps_per_hour && queued > 0.02 && summary.gridlock_day < 0) {
        summary.gridlock_day = day;
        runtime::log::warn(str("gridlock: ", 100.0 * queued, " % of the cells are still queued at ",
                               "03:00 on day ", day, ", when demand is lowest; the network has ",
                               "locked up and its readings are no longer a daily pattern. Lower ",
                               "network.demand_scale (now ", c.demand_scale, ")"));
      }
    }
    if (field_steps > 0 && day < c.field_days && done % field_steps == 0) write_fields();
    if (done % steps_per_day == 0) flush_readings();
    if (done % 512 == 0 || done == total_steps) {
      progress.update(static_cast<double>(done),
                      str("day ", day, " ", clock_time(static_cast<double>(in_day + 1) * c.dt)));
    }
    if (ctx.checkpoints && done % detector_steps == 0 && done < total_steps &&
        ctx.checkpoints->due(done)) {
      flush_readings();
      ctx.checkpoints->write(done, results, write_state);
    }
  }
  loop_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  progress.finish(str(total_steps, " steps"));

  {
    runtime::Timers::Scope scope(*ctx.timers, "output");
    for (TextOutput* f : {&speed_csv, &flow_csv, &density_csv, &time_csv}) f->close();
    flush_readings();
    results.set_attribute("/detectors/speed", "layout", "time x detector; km/h, 0 = missing");
    results.set_attribute("/detectors/flow", "units", "veh/h over all lanes");
    results.set_attribute("/detectors/density", "units", "veh/km over all lanes");
  }
  const MassBalance m = solver.mass_balance();
  summary.steps = total_steps;
  summary.readings = static_cast<long long>(total_steps / detector_steps);
  summary.mass_balance_error = m.relative_error();
  summary.vehicles_exited = m.exited;
  summary.seconds = loop_seconds;
  summary.cell_updates_per_second =
      loop_seconds > 0 ? static_cast<double>(summary.cells) *
                             static_cast<double>(total_steps - first_step) / loop_seconds
                       : 0;
  double totals[3] = {speed_sum, congested, valid};
  MPI_Bcast(totals, 3, MPI_DOUBLE, 0, ctx.comm);
  summary.mean_speed = totals[2] > 0 ? totals[0] / totals[2] : 0;
  summary.congested_fraction = totals[2] > 0 ? totals[1] / totals[2] : 0;
  results.set_attribute("/", "steps", static_cast<double>(total_steps));
  results.set_attribute("/", "dt", c.dt);
  results.set_attribute("/", "cells", static_cast<double>(summary.cells));
  results.set_attribute("/", "mass_balance_relative_error", summary.mass_balance_error);
  results.set_attribute("/", "cell_updates_per_second", summary.cell_updates_per_second);
  return summary;
}

}  // namespace tessera::solvers::lwr::network
