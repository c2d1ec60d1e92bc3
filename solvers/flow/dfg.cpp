#include "solvers/flow/dfg.hpp"

#include <algorithm>
#include <cmath>

#include "core/runtime/error.hpp"

namespace tessera::solvers::flow {

BoundaryVelocity channel_inflow(const ChannelFlow& flow) {
  return [flow](double x, double y, double t, mesh::BoundaryTag tag) -> std::array<double, 2> {
    if (tag == mesh::BoundaryTag::kObstacle && flow.kick_speed != 0 && t < flow.kick_time) {
      const double fade = std::cos(0.5 * M_PI * t / flow.kick_time);
      const double speed = flow.kick_speed * flow.max_inflow * fade * fade / flow.cylinder_radius;
      return {-speed * (y - flow.cylinder_y), speed * (x - flow.cylinder_x)};
    }
    if (tag != mesh::BoundaryTag::kInflow) return {0.0, 0.0};
    double scale = 1.0;
    if (flow.sine_inflow) scale = std::sin(M_PI * t / 8.0);
    if (flow.ramp_time > 0 && t < flow.ramp_time) {
      const double s = std::sin(0.5 * M_PI * t / flow.ramp_time);
      scale *= s * s;
    }
    const double h = flow.height;
    return {scale * 4.0 * flow.max_inflow * y * (h - y) / (h * h), 0.0};
  };
}

void check_channel_mesh(const mesh::Mesh& mesh, const std::string& source) {
  bool inflow = false, outflow = false, obstacle = false;
  for (mesh::BoundaryTag tag : mesh.boundary_tags) {
    inflow = inflow || tag == mesh::BoundaryTag::kInflow;
    outflow = outflow || tag == mesh::BoundaryTag::kOutflow;
    obstacle = obstacle || tag == mesh::BoundaryTag::kObstacle;
  }
  std::string missing;
  if (!inflow) missing += " inflow";
  if (!outflow) missing += " outflow";
  if (!obstacle) missing += " obstacle";
  if (!missing.empty()) {
    std::string has;
    for (auto tag : {mesh::BoundaryTag::kInflow, mesh::BoundaryTag::kOutflow,
                     mesh::BoundaryTag::kWall, mesh::BoundaryTag::kObstacle}) {
      if (std::find(mesh.boundary_tags.begin(), mesh.boundary_tags.end(), tag) !=
          mesh.boundary_tags.end()) {
        has += " " + mesh::to_string(tag);
      }
    }
    throw InputError(str(source, ": the mesh has no", missing,
                         " boundary: a channel flow needs facets tagged inflow, outflow and "
                         "obstacle (it has:",
                         has.empty() ? " none" : has, ")"));
  }
}

Coefficients force_coefficients(const Forces& forces, const ChannelFlow& flow) {
  const double ubar = flow.mean_inflow();
  const double scale = 2.0 / (ubar * ubar * flow.diameter);
  return {scale * forces.fx, scale * forces.fy};
}

PeriodicStats periodic_stats(const std::vector<double>& time, const std::vector<double>& drag,
                             const std::vector<double>& lift, double from_time,
                             const ChannelFlow& flow) {
  PeriodicStats s;
  std::vector<double> peaks;
  for (std::size_t i = 1; i + 1 < lift.size(); ++i) {
    if (time[i] < from_time) continue;
    if (lift[i] > lift[i - 1] && lift[i] >= lift[i + 1]) {
      // Vertex of the parabola through the three samples (uniform steps).
      const double denom = lift[i - 1] - 2 * lift[i] + lift[i + 1];
      const double shift = denom != 0 ? 0.5 * (lift[i - 1] - lift[i + 1]) / denom : 0.0;
      peaks.push_back(time[i] + shift * (time[i + 1] - time[i]));
    }
  }
  if (peaks.size() < 2) return s;
  s.periods = static_cast<int>(peaks.size()) - 1;
  s.period = (peaks.back() - peaks.front()) / s.periods;
  s.strouhal = flow.diameter / (s.period * flow.mean_inflow());
  s.drag_max = s.lift_max = -1e300;
  s.drag_min = s.lift_min = 1e300;
  for (std::size_t i = 0; i < time.size(); ++i) {
    if (time[i] < peaks.front() || time[i] > peaks.back()) continue;
    s.drag_max = std::max(s.drag_max, drag[i]);
    s.drag_min = std::min(s.drag_min, drag[i]);
    s.lift_max = std::max(s.lift_max, lift[i]);
    s.lift_min = std::min(s.lift_min, lift[i]);
  }
  return s;
}

}  // namespace tessera::solvers::flow
