#pragma once
// Configuration of the flow experiment: the channel mesh (the shared [mesh] fragment of
// core/mesh/channel_config.hpp), the flow ([flow]), the solver ([solver]), outputs, and
// the trajectory data sets ([dataset]) that the mesh models train on.
#include <cstdint>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/mesh/channel_config.hpp"
#include "solvers/flow/dfg.hpp"
#include "solvers/flow/flow_solver.hpp"

namespace tessera::solvers::flow {

struct DatasetConfig {
  std::int64_t train = 0, valid = 0, test = 0;  // train = 0: one flow (benchmark mode)
  std::vector<double> inflow_range, cylinder_x_range, cylinder_y_range, radius_range;
  std::int64_t frames = 100;
  std::int64_t steps_per_frame = 2;
  double warmup = 0.0;
  bool enabled() const { return train > 0; }
};

struct FlowConfig {
  std::string source;  // the experiment file, for messages
  std::uint64_t seed = 1;
  bool vtk = true;
  mesh::ChannelMeshConfig mesh;
  bool curved_cylinder = true;
  ChannelFlow flow;
  FlowParameters parameters;             // velocity_limit already scaled by flow.max_inflow
  double velocity_limit_factor = 100.0;  // x U_m, for data sets with their own U_m
  bool amg_pressure = false;
  double t_end = 1.0;
  bool steady = false;
  double steady_tolerance = 1e-8;
  std::int64_t log_every = 100;
  double field_interval = 0.0;
  std::int64_t vtk_every = 1;
  std::int64_t metrics_every = 1;
  double periodic_from = 0.0;
  DatasetConfig dataset;
};

void add_flow_keys(config::Schema& schema);
FlowConfig from_config(const config::Config& c);
// Every check that can be made without running (reads a mesh file): InputError naming
// the experiment file and the key.
void validate(const FlowConfig& config, int ranks);

}  // namespace tessera::solvers::flow
