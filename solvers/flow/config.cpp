#include "solvers/flow/config.hpp"

#include "core/mesh/read_mesh.hpp"
#include "core/runtime/error.hpp"
#include "solvers/flow/pressure_amg.hpp"

namespace tessera::solvers::flow {

using config::at_least;
using config::between;
using config::greater_than;

void add_flow_keys(config::Schema& s) {
  mesh::add_channel_mesh_keys(s);
  s.add_bool("mesh.curved_cylinder", true,
             "move P2 midpoints of cylinder edges onto the circle (isoparametric boundary)");

  s.add_real("flow.viscosity", 1e-3, greater_than(0), "kinematic viscosity nu (density 1)");
  s.add_real("flow.max_inflow", 0.3, greater_than(0),
             "U_m, centre-line inflow speed: 0.3 for DFG 2D-1 (Re 20), 1.5 for 2D-2/2D-3 (Re 100)");
  s.add_string("flow.inflow", std::string("steady"), {"steady", "sine"},
               "steady: parabolic profile; sine: U_m sin(pi t / 8) (DFG 2D-3)");
  s.add_real("flow.ramp_time", 0.0, at_least(0),
             "inflow ramps up smoothly from rest over this time");
  s.add_real(
      "flow.kick_speed", 0.0, config::any_value(),
      "the cylinder spins with this surface speed (x U_m) at the start, to trigger shedding");
  s.add_real("flow.kick_time", 0.0, at_least(0), "the spin fades out over this time");

  s.add_real("solver.dt", 0.01, greater_than(0), "time step");
  s.add_int("solver.time_order", 2, between(1, 2), "1: backward Euler, 2: BDF2");
  s.add_real("solver.t_end", 1.0, greater_than(0), "final time");
  s.add_bool("solver.steady", false,
             "stop early when max |u^{n+1} - u^n| / (dt max |u|) < solver.steady_tolerance");
  s.add_real("solver.steady_tolerance", 1e-8, greater_than(0), "steady-state criterion");
  s.add_real("solver.max_cfl", 0.0, at_least(0),
             "largest allowed max |u| dt / h (0: no check); checked every step");
  s.add_real("solver.velocity_limit", 100.0, greater_than(0),
             "max |u| beyond this many times flow.max_inflow is divergence");
  s.add_string("solver.pressure_solver", std::string("cg"), {"cg", "amg"},
               "pressure Poisson solver: \"cg\" (Jacobi-preconditioned CG) or \"amg\" "
               "(CG with a hypre BoomerAMG V-cycle; iterations stay flat under refinement)");
  s.add_real("solver.pressure_tolerance", 1e-9, greater_than(0),
             "relative residual of the pressure CG");
  s.add_real("solver.momentum_tolerance", 1e-9, greater_than(0),
             "relative residual of the momentum BiCGStab");
  s.add_int("solver.max_iterations", 10000, at_least(1), "iteration cap of each Krylov solve");
  s.add_int("solver.log_every", 100, at_least(1), "log iterations and residuals every k steps");

  s.add_real("output.field_interval", 0.0, at_least(0),
             "time between velocity/pressure fields in run.h5 and VTK (0: final state only)");
  s.add_int("output.vtk_every", 1, at_least(1), "write every k-th field output to VTK");
  s.add_int("output.metrics_every", 1, at_least(1), "steps between drag/lift/pressure samples");
  s.add_real("output.periodic_from", 0.0, at_least(0),
             "Strouhal number and c_D/c_L extremes from the lift maxima after this time");

  s.add_int("dataset.train", 0, at_least(0),
            "trajectories in train.h5; 0: run one flow (the benchmark mode) instead");
  s.add_int("dataset.valid", 0, at_least(0), "trajectories in valid.h5");
  s.add_int("dataset.test", 0, at_least(0), "trajectories in test.h5");
  s.add_real_list("dataset.inflow_range", std::vector<double>{0.5, 1.5}, greater_than(0),
                  "[min, max] of U_m, drawn uniformly");
  s.add_real_list("dataset.cylinder_x_range", std::vector<double>{0.15, 0.35}, greater_than(0),
                  "[min, max] of the cylinder centre x");
  s.add_real_list("dataset.cylinder_y_range", std::vector<double>{0.16, 0.25}, greater_than(0),
                  "[min, max] of the cylinder centre y");
  s.add_real_list("dataset.radius_range", std::vector<double>{0.04, 0.07}, greater_than(0),
                  "[min, max] of the cylinder radius");
  s.add_int("dataset.frames", 100, at_least(2), "frames stored per trajectory");
  s.add_int("dataset.steps_per_frame", 2, at_least(1), "solver steps between stored frames");
  s.add_real("dataset.warmup", 0.0, at_least(0), "simulated time before the first frame");
}

FlowConfig from_config(const config::Config& c) {
  FlowConfig f;
  f.source = c.source();
  f.seed = static_cast<std::uint64_t>(c.get_int("run.seed"));
  f.vtk = c.get_bool("output.vtk");
  f.mesh = mesh::channel_mesh_from_config(c);
  f.curved_cylinder = c.get_bool("mesh.curved_cylinder");

  ChannelFlow& cf = f.flow;
  cf.height = f.mesh.channel.height;
  cf.max_inflow = c.get_real("flow.max_inflow");
  cf.diameter = 2 * f.mesh.channel.cylinder_radius;
  cf.ramp_time = c.get_real("flow.ramp_time");
  cf.sine_inflow = c.get_string("flow.inflow") == "sine";
  cf.cylinder_x = f.mesh.channel.cylinder_x;
  cf.cylinder_y = f.mesh.channel.cylinder_y;
  cf.cylinder_radius = f.mesh.channel.cylinder_radius;
  cf.kick_speed = c.get_real("flow.kick_speed");
  cf.kick_time = c.get_real("flow.kick_time");

  FlowParameters& p = f.parameters;
  p.viscosity = c.get_real("flow.viscosity");
  p.dt = c.get_real("solver.dt");
  p.time_order = static_cast<int>(c.get_int("solver.time_order"));
  p.max_cfl = c.get_real("solver.max_cfl");
  f.velocity_limit_factor = c.get_real("solver.velocity_limit");
  p.velocity_limit = f.velocity_limit_factor * cf.max_inflow;
  const int cap = static_cast<int>(c.get_int("solver.max_iterations"));
  p.pressure.relative_tolerance = c.get_real("solver.pressure_tolerance");
  p.momentum.relative_tolerance = c.get_real("solver.momentum_tolerance");
  p.pressure.max_iterations = p.momentum.max_iterations = cap;
  f.amg_pressure = c.get_string("solver.pressure_solver") == "amg";
  if (f.amg_pressure) p.pressure_solver = PressureSolver::kAmg;
  if (f.curved_cylinder) {
    p.obstacle_circle = Circle{cf.cylinder_x, cf.cylinder_y, cf.cylinder_radius};
  }

  f.t_end = c.get_real("solver.t_end");
  f.steady = c.get_bool("solver.steady");
  f.steady_tolerance = c.get_real("solver.steady_tolerance");
  f.log_every = c.get_int("solver.log_every");
  f.field_interval = c.get_real("output.field_interval");
  f.vtk_every = c.get_int("output.vtk_every");
  f.metrics_every = c.get_int("output.metrics_every");
  f.periodic_from = c.get_real("output.periodic_from");

  DatasetConfig& d = f.dataset;
  d.train = c.get_int("dataset.train");
  d.valid = c.get_int("dataset.valid");
  d.test = c.get_int("dataset.test");
  d.inflow_range = c.get_real_list("dataset.inflow_range");
  d.cylinder_x_range = c.get_real_list("dataset.cylinder_x_range");
  d.cylinder_y_range = c.get_real_list("dataset.cylinder_y_range");
  d.radius_range = c.get_real_list("dataset.radius_range");
  d.frames = c.get_int("dataset.frames");
  d.steps_per_frame = c.get_int("dataset.steps_per_frame");
  d.warmup = c.get_real("dataset.warmup");
  return f;
}

namespace {

void check_range(const FlowConfig& f, const std::string& key, const std::vector<double>& r) {
  if (r.size() != 2 || r[0] > r[1]) {
    throw InputError(str(f.source, ": key '", key, "' must be [min, max] with min <= max"));
  }
}

}  // namespace

void validate(const FlowConfig& f, int /*ranks*/) {
  if (f.amg_pressure && !hypre_available()) {
    throw InputError(str(f.source,
                         ": 'solver.pressure_solver' = \"amg\" needs hypre, and this "
                         "build has none: install libhypre-dev (./setup.sh does) and rebuild, "
                         "or use \"cg\""));
  }
  const double h = f.mesh.channel.height;
  const double cy = f.mesh.channel.cylinder_y, r = f.mesh.channel.cylinder_radius;
  if (!f.mesh.from_file && (cy - r <= 0 || cy + r >= h)) {
    throw InputError(str(f.source, ": keys 'mesh.cylinder_y' = ", cy,
                         " and 'mesh.cylinder_radius' = ", r,
                         " put the cylinder through a wall of the channel of height ", h));
  }
  if (f.mesh.from_file) {
    config::with_source(f.source, [&] {
      const std::string path = mesh::resolve_mesh_file(f.mesh);
      check_channel_mesh(mesh::read_mesh(path, f.mesh.trajectory), path);
    });
  }
  // The CFL number at the cylinder with the peak inflow speed, before any run.
  const double max_cfl = f.parameters.max_cfl, dt = f.parameters.dt;
  const double cfl = 1.5 * f.flow.max_inflow * dt / (0.5 * f.mesh.channel.cylinder_mesh_size);
  if (max_cfl > 0 && cfl > max_cfl) {
    throw InputError(str(f.source, ": key 'solver.dt' = ", dt, " gives an estimated CFL number ",
                         cfl, " near the cylinder (1.5 U_m dt / ",
                         "(mesh.cylinder_size / 2)), above solver.max_cfl = ", max_cfl,
                         ": expected dt <= ", dt * max_cfl / cfl));
  }
  const DatasetConfig& d = f.dataset;
  if (d.enabled()) {
    check_range(f, "dataset.inflow_range", d.inflow_range);
    check_range(f, "dataset.cylinder_x_range", d.cylinder_x_range);
    check_range(f, "dataset.cylinder_y_range", d.cylinder_y_range);
    check_range(f, "dataset.radius_range", d.radius_range);
    const auto& ys = d.cylinder_y_range;
    const auto& rs = d.radius_range;
    if (ys[0] - rs[1] <= 0.01 * h || ys[1] + rs[1] >= 0.99 * h) {
      throw InputError(str(f.source, ": dataset.cylinder_y_range and dataset.radius_range allow a ",
                           "cylinder touching a wall of the channel of height ", h));
    }
  }
}

}  // namespace tessera::solvers::flow
