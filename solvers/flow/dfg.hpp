#pragma once
// The DFG flow-around-a-cylinder benchmark (Schaefer & Turek 1996) on top of the flow
// solver: the parabolic inflow, the checks a channel mesh must pass, and the derived
// quantities the benchmark reports (drag and lift coefficients, pressure difference
// across the cylinder, Strouhal number of the periodic wake).
#include <string>
#include <vector>

#include "core/mesh/mesh.hpp"
#include "solvers/flow/flow_solver.hpp"

namespace tessera::solvers::flow {

struct ChannelFlow {
  double height = 0.41;     // channel height H
  double max_inflow = 0.3;  // U_m, the centre-line inflow speed
  double diameter = 0.1;    // of the cylinder, for the coefficients
  // Inflow ramps up as sin^2 over this time from rest (0: full inflow from t = 0).
  double ramp_time = 0;
  // "2D-3": U_m sin(pi t / 8) instead of a steady inflow.
  bool sine_inflow = false;
  // The cylinder (for the kick below).
  double cylinder_x = 0.2, cylinder_y = 0.2, cylinder_radius = 0.05;
  // The cylinder spins with surface speed kick_speed x U_m, fading out as cos^2 over
  // kick_time: an asymmetric start, so that the wake of 2D-2 sheds after a few periods
  // instead of waiting for round-off to grow (the periodic state does not depend on it).
  double kick_speed = 0;
  double kick_time = 0;
  double mean_inflow() const { return 2.0 * max_inflow / 3.0; }
};

// U(y) = 4 U_m y (H - y) / H^2 on kInflow, zero on walls and the obstacle.
BoundaryVelocity channel_inflow(const ChannelFlow& flow);

// InputError naming `source` when the mesh lacks an inflow, outflow or obstacle part
// (the benchmark has all three), listing the parts it has.
void check_channel_mesh(const mesh::Mesh& mesh, const std::string& source);

struct Coefficients {
  double drag = 0;  // c_D = 2 F_x / (Ubar^2 D)
  double lift = 0;  // c_L = 2 F_y / (Ubar^2 D)
};
Coefficients force_coefficients(const Forces& forces, const ChannelFlow& flow);

// Statistics of the periodic regime of c_D(t), c_L(t) sampled at `time`, from
// `from_time` on: period from the lift maxima (parabolic peak times), extremes.
struct PeriodicStats {
  int periods = 0;  // full lift periods found; the rest is 0 when fewer than 2
  double period = 0;
  double strouhal = 0;  // D / (period Ubar)
  double drag_max = 0, drag_min = 0, lift_max = 0, lift_min = 0;
};
PeriodicStats periodic_stats(const std::vector<double>& time, const std::vector<double>& drag,
                             const std::vector<double>& lift, double from_time,
                             const ChannelFlow& flow);

}  // namespace tessera::solvers::flow
