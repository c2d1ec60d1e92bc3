#pragma once
// What distinguishes one PINN training task from another: its network, the weights of
// its loss terms and its collocation points. The main task is the PINN as configured;
// multi-task optimisation adds auxiliary tasks derived from it (auxiliary_task()).
#include <cstdint>
#include <string>
#include <vector>

#include "core/nn/activations.hpp"
#include "models/pinn_traffic/collocation.hpp"

namespace tessera::models::pinn_traffic {

struct NetworkSpec {
  std::size_t hidden_layers = 8;
  std::size_t width = 20;
  nn::ActivationKind activation = nn::ActivationKind::kTanh;
  // A learned fundamental diagram: log(v_max / v_max0) and log(rho_max / rho_max0) are two
  // more parameters (slice "pinn.diagram", after the network's), trained with it.
  bool learn_diagram = false;
  std::size_t outputs = 1;  // 1: u (LWR); 2: u and w = v / v_max (ARZ)
  // The first layer's initial weights of x^ and t^ are multiplied by these: a wider
  // spread of initial frequencies (random-Fourier-feature-like with sine activations),
  // against the spectral bias of an MLP on data whose waves repeat many times in the
  // window (NGSIM: stop-and-go waves every minute or so over 15 minutes).
  double space_frequency = 1.0;
  double time_frequency = 1.0;
  // {2, width x hidden_layers, 1}; InputError naming model.* keys when empty.
  std::vector<std::size_t> sizes() const;
};

struct LossWeights {
  double data = 1;      // observations (detectors, probes)
  double residual = 1;  // PDE residual at collocation points
  double initial = 1;   // known initial density
  double boundary = 1;  // periodic boundary (ring roads)
  double speed = 0;     // measured speeds against the diagram's speed of the density
};

// Gradient-norm balancing of the loss weights (Wang, Teng & Perdikaris 2021, learning-rate
// annealing): every `every` Adam steps, each weighted term i other than the residual gets
//   w_i <- (1 - alpha) w_i + alpha max|grad(w_r L_r)| / mean|grad L_i|
// from one extra gradient evaluation per term (counted as evaluations).
struct AdaptiveWeights {
  long long every = 0;  // 0: fixed weights
  double alpha = 0.9;
};

// Residual-based adaptive refinement (as DeepXDE's RAR): every `every` Adam steps the
// `points` candidates of largest |residual| among `candidates` fresh Sobol points join the
// collocation set for the rest of the run.
struct ResidualRefinement {
  long long every = 0;  // 0: off
  std::size_t points = 500;
  std::size_t candidates = 20000;
};

struct CollocationSpec {
  SamplerKind sampler = SamplerKind::kSobol;
  std::size_t points = 10000;
  long long resample_every = 0;  // Adam steps between new sets; 0: one set for the run
  double time_fraction = 1.0;    // residual on t^ in [-1, -1 + 2 f] (a sub-domain when f < 1)
  ResidualRefinement refinement;
};

struct TaskSpec {
  std::string name = "main";
  LossWeights weights;
  AdaptiveWeights adaptive;
  CollocationSpec collocation;
  std::uint64_t stream = 0;  // collocation stream: different tasks draw different sets
  // Initial parameters: 0 draws them from the run's seed (every task alike); k > 0 from
  // another stream of it (a task that starts in another basin).
  std::uint64_t init_stream = 0;
};

// The auxiliary task kinds of multi-task optimisation, each a variation of `main` that
// makes a different trade-off (see the README section on the PINN):
//   physics_heavy     residual weight x factor: smoother fields that obey the PDE between
//                     detectors, at the cost of the data fit early on;
//   data_heavy        data and initial weights x factor: fits the observations first (a
//                     PINN whose residual dominates early can settle on a flat solution);
//   resampled         uniform random collocation drawn anew every 50 steps: sees many
//                     more points than the main task's fixed set (less overfitting of the
//                     residual between points);
//   early_time        residual only on the first `early_fraction` of the time window:
//                     learns the dynamics near the initial data first (causality), then
//                     hands the early-time fit to the main task;
//   other_collocation the main task's sampler with a different random set: the same
//                     objective seen through other points;
//   other_init        other initial parameters and another collocation set: the same
//                     objective from another start, which may lead to a better minimum
//                     (the main task adopts it when it scores better, transfer.hpp).
// InputError listing the kinds for an unknown name.
TaskSpec auxiliary_task(const std::string& kind, const TaskSpec& main, double factor,
                        double early_fraction, std::uint64_t stream);
const std::vector<std::string>& auxiliary_task_kinds();

// "physics_heavy, data_heavy" -> {"physics_heavy", "data_heavy"}; InputError naming
// `key` for an unknown or repeated kind.
std::vector<std::string> parse_task_list(const std::string& text, const std::string& key);

}  // namespace tessera::models::pinn_traffic
