#pragma once
// Configuration of the traffic PINN experiment: where the truth comes from (an LWR
// simulation through the shared road fragments of solvers/lwr/config.hpp, or a measured
// NGSIM grid), what is observed, the network, the loss, the collocation points, training
// and multi-task optimisation.
#include <cstdint>
#include <string>

#include "core/config/config.hpp"
#include "models/pinn_traffic/baselines.hpp"
#include "models/pinn_traffic/ground_truth.hpp"
#include "models/pinn_traffic/training.hpp"

namespace tessera::models::pinn_traffic {

// data.source = "ngsim": a density grid under the data root.
struct GridFileSpec {
  std::string data_root;   // run.data_root
  std::string file;        // relative to the data root
  std::string speed_file;  // measured speeds beside it (empty: none)
  double cell_length = 20.0;
  double interval = 5.0;
  double scale = 1.0;
};

struct PinnTrafficConfig {
  std::string source;         // the experiment file, for messages
  bool ngsim = false;         // data.source
  GridFileSpec grid;          // ngsim
  SimulationSpec simulation;  // simulation: the road, its initial density, the truth grid
  std::string flux;           // solver.flux as written (the PINN's PDE is Greenshields)
  SensorSpec sensors;
  // ngsim: detector rows neither trained on nor scored, for choosing settings
  // (detectors.validation).
  std::vector<double> validation_positions;
  // The classical estimators beside the PINN (baselines.*); the driver fills the
  // viscosity, ring and initial density.
  bool baselines = true;
  bool fit_diagram = true;  // baselines.diagram = "fitted" (else "configured")
  BaselineOptions baseline_options;
  double noise = 0.0;  // observations.noise, with observations.seed
  std::uint64_t noise_seed = 1;
  std::size_t initial_points = 0;  // 0: the initial density is not observed
  std::size_t boundary_points = 200;
  bool vtk = true;  // output.vtk: the space-time grid for ParaView
  bool double_precision = false;
  std::string precision;  // model.precision as written
  // problem, network, main task, training and mto; data and evaluation are made by the
  // driver from the truth (ngsim: the problem's road and time window too).
  PinnSetup setup;
};

void add_pinn_traffic_keys(config::Schema& schema);
PinnTrafficConfig from_config(const config::Config& c);
// Every check that can be made without training (reads an NGSIM grid): InputError naming
// the experiment file and the key.
void validate(const PinnTrafficConfig& config, int ranks);

// The NGSIM grid of the configuration, read and checked.
DensityGrid read_grid(const PinnTrafficConfig& config);
// Its speeds (data.speed_file; empty when the key is empty), read and checked.
std::vector<double> read_speeds(const PinnTrafficConfig& config, const DensityGrid& grid);

}  // namespace tessera::models::pinn_traffic
