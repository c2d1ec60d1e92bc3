#pragma once
// A small ring-road PINN setup shared by the tests: 64 cells, t in [0, 0.5], a bell, three
// detectors, a 3 x 12 network and a few hundred collocation points, so that a training run
// takes a fraction of a second.
#include <cmath>
#include <string>
#include <vector>

#include "models/pinn_traffic/ground_truth.hpp"
#include "models/pinn_traffic/training.hpp"

namespace tessera::testing {

namespace pinn = models::pinn_traffic;

// The simulation of small_simulation(), for tests that vary it.
inline pinn::SimulationSpec small_simulation_spec(bool ring = true) {
  pinn::SimulationSpec spec;
  spec.lwr.cells = 64;
  spec.lwr.viscosity = 0.005;
  spec.lwr.boundary = ring ? solvers::lwr::Boundary::kRing : solvers::lwr::Boundary::kOpen;
  spec.lwr.upstream_density = 0.2;
  spec.lwr.downstream_density = 0.2;
  spec.initial.kind = solvers::lwr::InitialCondition::Kind::kBell;
  spec.initial.base = 0.2;
  spec.initial.amplitude = 0.5;
  spec.initial.center = 0.5;
  spec.initial.width = 0.15;
  spec.t_end = 0.5;
  spec.field_interval = 0.025;
  return spec;
}

inline pinn::SimulatedData small_simulation(bool ring = true) {
  const pinn::SimulationSpec spec = small_simulation_spec(ring);
  pinn::SensorSpec sensors;
  sensors.detector_positions = {0.2, 0.5, 0.8};
  sensors.detector_interval = 0.025;
  return pinn::simulate_lwr(spec, sensors);
}

inline pinn::PinnSetup small_setup(std::size_t collocation = 256, long long adam = 60,
                                   long long lbfgs = 20) {
  const pinn::SimulatedData sim = small_simulation();
  pinn::PinnSetup setup;
  setup.problem.road_length = 1.0;
  setup.problem.t_end = 0.5;
  setup.problem.ring = true;
  setup.problem.viscosity = 0.005;
  setup.network.hidden_layers = 3;
  setup.network.width = 12;
  setup.main.collocation.points = collocation;
  setup.main.collocation.resample_every = 25;
  setup.data = pinn::make_training_data(setup.problem, sim.observations, sim.truth, 32, 16);
  setup.evaluation = pinn::make_evaluation_set(setup.problem, sim.truth);
  setup.training.adam_evaluations = adam;
  setup.training.lbfgs_evaluations = lbfgs;
  setup.training.log_every = 10;
  setup.training.optimiser.lr = 3e-3;
  setup.training.seed = 7;
  setup.mto.tasks = {"physics_heavy", "data_heavy"};
  setup.mto.interval = 10;
  setup.mto.validation_points = 128;
  return setup;
}

// small_setup() whose detectors measure speed too: 0.9 of Greenshields' speed of the
// density plus a ripple (so that a learned diagram has something to move to).
inline pinn::PinnSetup small_setup_with_speeds(std::size_t collocation = 256, long long adam = 60,
                                               long long lbfgs = 20) {
  pinn::PinnSetup setup = small_setup(collocation, adam, lbfgs);
  pinn::SimulatedData sim = small_simulation();
  pinn::ObservationSet& obs = sim.observations;
  for (std::size_t i = 0; i < obs.size(); ++i) {
    obs.speed.push_back(0.9 * (1.0 - obs.density[i]) + 0.02 * std::sin(static_cast<double>(i)));
  }
  setup.data = pinn::make_training_data(setup.problem, obs, sim.truth, 32, 16);
  return setup;
}

}  // namespace tessera::testing
