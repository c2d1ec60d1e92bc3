#pragma once
// One PINN training task: a JetMlp rho(x, t) (in normalised variables), its loss
//   L = w_d data + w_r residual + w_i initial + w_b boundary
// (each term a mean of squares over its points), Adam and L-BFGS, data parallel over the
// ranks of a communicator. Collocation points and observations are sharded in contiguous
// blocks of one global set that every rank draws alike, and each rank scales its gradient
// so that the all-reduced average is the full-batch gradient: 1, 2 or 4 ranks follow the
// same trajectory to round-off.
//
// The Validator evaluates the main task's objective for any parameter vector on a fixed
// validation set without communication (multi-task optimisation compares tasks with it).
#include <mpi.h>

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/io/hdf5_reader.hpp"
#include "core/io/results_file.hpp"
#include "core/nn/jet_mlp.hpp"
#include "core/nn/parameter_store.hpp"
#include "core/optim/adam.hpp"
#include "core/optim/lbfgs.hpp"
#include "core/optim/schedule.hpp"
#include "core/parallel/gradient_allreduce.hpp"
#include "models/pinn_traffic/problem.hpp"
#include "models/pinn_traffic/task_spec.hpp"
#include "models/pinn_traffic/training_data.hpp"

namespace tessera::models::pinn_traffic {

// Unweighted means of the loss terms and the weighted total (the task's objective).
struct LossTerms {
  double data = 0, residual = 0, initial = 0, boundary = 0, speed = 0;
  double total = 0;
};

// Declares the PINN's parameters in `store` (the network, then the learned diagram when
// network.learn_diagram) and finalises it. Returns the diagram's slice id, -1 without.
template <class T>
int declare_pinn_model(nn::ParameterStore<T>& store, nn::JetMlp<T>& net,
                       const NetworkSpec& network);

// The diagram of a parameter vector relative to the configured one: {v_max / v_max0,
// rho_max / rho_max0} = exp of its last two entries with a learned diagram, {1, 1} without.
std::array<double, 2> diagram_ratios(const std::vector<double>& parameters,
                                     const NetworkSpec& network);

struct OptimiserSpec {
  double lr = 1e-3;
  std::string schedule = "constant";  // constant, warmup_cosine, step_decay (optim::Schedule)
  double min_lr = 0;                  // warmup_cosine: final lr
  long long warmup_steps = 0;         // warmup_cosine
  long long decay_every = 1000;       // step_decay
  double decay_gamma = 0.5;           // step_decay
  double clip_norm = 0;               // global gradient norm clipping; 0: off
  int lbfgs_history = 50;
  // torch's tolerance_change of L-BFGS (on the directional derivative, the step and the
  // loss change). It is absolute: with a PINN loss of 1e-5 or less, torch's 1e-9 is a
  // relative test of 1e-4 that can end L-BFGS after a handful of evaluations while it still
  // makes progress, leaving most of the budget unused.
  double lbfgs_tolerance_change = 1e-9;
  // The schedule over `steps` Adam steps of one task. InputError naming train.* keys.
  optim::Schedule make_schedule(long long steps) const;
};

struct EvaluationMetrics {
  double relative_l2 = 0;             // over the cells that count (held out), density units
  double relative_l2_all = 0;         // over every cell of the grid
  double relative_l2_validation = 0;  // over the validation rows (0 without them)
};

template <class T>
class PinnTask {
 public:
  // Every rank of `comm` constructs the task alike (no communication here). All tasks
  // built with the same seed and network start from the same parameters. `adam_steps` is
  // this task's Adam budget (for the schedule).
  PinnTask(MPI_Comm comm, const PinnProblem& problem, const NetworkSpec& network,
           const TaskSpec& spec, const TrainingData& data, std::uint64_t seed,
           const OptimiserSpec& optimiser, long long adam_steps);
  PinnTask(const PinnTask&) = delete;
  PinnTask& operator=(const PinnTask&) = delete;

  // Loss and full-batch gradient (left in store().grads()) at the current parameters and
  // loss weights. Collective. Counts one gradient evaluation.
  LossTerms gradient();
  // One Adam step (new collocation points first when resampling is due). Collective.
  // Returns the loss terms at the parameters before the step.
  LossTerms adam_step();
  // L-BFGS with strong Wolfe line search on the current collocation set until exactly
  // `budget` closure evaluations are spent (then the parameters are the best point
  // evaluated) or it converges (then they are its last iterate); `after_chunk` is called
  // on every rank after each `chunk` evaluations with the evaluations so far and the last
  // terms. `boundary` (optional) is called on every rank after `after_chunk` when another
  // chunk follows, with the evaluations so far: there the L-BFGS state is whole (a
  // checkpoint boundary, see save_state). After load_state of a state saved inside
  // lbfgs(), the call continues that run (same budget and chunk). Returns the evaluations
  // used (at most `budget`). Collective.
  long long lbfgs(long long budget, long long chunk,
                  const std::function<void(long long, const LossTerms&)>& after_chunk = {},
                  const std::function<void(long long)>& boundary = {});

  // Checkpoints: everything the task carries between Adam steps and between L-BFGS
  // chunks: the parameters, Adam's moments and step, the step and evaluation counters,
  // the loss weights (adapted ones), the collocation epoch, the refined points and the
  // refinement round, the last loss terms, and once lbfgs() has run, the L-BFGS state
  // (direction, curvature pairs, ...) with its budget bookkeeping (evaluations used, best
  // point). Replicated state: rank 0 writes it under `group`. Collective over the file's
  // communicator.
  void save_state(io::ResultsFile& file, const std::string& group) const;
  // Restores what save_state wrote (every rank reads the file). InputError naming the
  // file when it holds another model.
  void load_state(const io::Hdf5Reader& file, const std::string& group);

  // Relative L2 errors of the density over the evaluation set. Collective.
  EvaluationMetrics evaluate(const EvaluationSet& set);
  // Predicted densities (physical units) at every point of the set, on every rank.
  // Collective.
  std::vector<double> predict(const EvaluationSet& set);

  std::vector<double> parameters() const;
  void set_parameters(const std::vector<double>& values);

  // The loss weights in use (the spec's, or adapted: AdaptiveWeights).
  const LossWeights& weights() const { return weights_; }
  void set_weights(const LossWeights& weights) { weights_ = weights; }
  // Collocation points added by residual-based refinement (n x 2, normalised); the set in
  // use is the epoch's points followed by these.
  const std::vector<double>& refined_points() const { return refined_; }
  void set_refined_points(const std::vector<double>& points);
  // The residual's coefficients at the current parameters (the learned diagram's).
  LwrResidualCoefficients coefficients() const;
  // {v_max, rho_max} in physical units at the current parameters.
  std::array<double, 2> diagram() const;
  nn::ParameterStore<T>& store() { return store_; }
  const nn::JetMlp<T>& network() const { return net_; }

  const TaskSpec& spec() const { return spec_; }
  long long steps() const { return step_; }
  long long gradient_evaluations() const { return evaluations_; }
  // The collocation set in use (epoch e = the e-th resampling).
  std::uint64_t epoch() const { return epoch_; }
  void set_epoch(std::uint64_t epoch);
  const LossTerms& last_terms() const { return last_; }
  MPI_Comm comm() const { return comm_; }

 private:
  void upload_shard(const std::vector<double>& points, const std::vector<double>& values,
                    std::size_t total, tensor::Matrix<T>& device_points,
                    tensor::Matrix<T>& device_values);
  void prepare_evaluation(const EvaluationSet& set);
  LossTerms gradient_with(const LossWeights& weights);
  void adapt_weights();
  void refine_collocation();
  std::array<double, 2> ratios() const;

  MPI_Comm comm_;
  int rank_ = 0, ranks_ = 1;
  PinnProblem problem_;
  TaskSpec spec_;
  std::uint64_t seed_;
  LwrResidualCoefficients lwr_;  // of the configured diagram
  ArzResidualCoefficients arz_;  // problem.arz
  nn::ParameterStore<T> store_;
  nn::JetMlp<T> net_;
  int diagram_slice_ = -1;
  LossWeights weights_;
  std::vector<double> refined_;
  std::uint64_t refinement_round_ = 0;
  std::unique_ptr<optim::Adam<T>> adam_;
  optim::Schedule schedule_;
  double clip_norm_ = 0;
  int lbfgs_history_ = 50;
  double lbfgs_tolerance_change_ = 1e-9;
  parallel::GradientAllreduce<T> allreduce_;

  // Global counts and this rank's shards (device).
  std::size_t collocation_total_ = 0, observation_total_ = 0, initial_total_ = 0,
              boundary_total_ = 0, speed_total_ = 0;
  tensor::Matrix<T> collocation_, observation_points_, observation_values_, initial_points_,
      initial_values_, boundary_points_, speed_points_, speed_values_;
  tensor::Matrix<T> seed_buffer_;

  // Evaluation shard, prepared for the last set seen.
  const EvaluationSet* evaluation_set_ = nullptr;
  std::size_t evaluation_first_ = 0;
  tensor::Matrix<T> evaluation_points_;

  long long step_ = 0, evaluations_ = 0;
  std::uint64_t epoch_ = 0;
  LossTerms last_;

  // The L-BFGS run of lbfgs(), kept for save_state; `lbfgs_resumed_`: load_state
  // restored one, which the next lbfgs() call continues.
  struct LbfgsRun {
    long long used = 0;  // closure evaluations so far
    double best = std::numeric_limits<double>::infinity();
    std::vector<double> best_parameters;
    LossTerms best_terms;
  };
  std::unique_ptr<optim::Lbfgs<T>> lbfgs_;
  LbfgsRun lbfgs_run_;
  bool lbfgs_resumed_ = false;
};

template <class T>
class Validator {
 public:
  // `collocation`: validation points (n x 2, normalised), independent of every task's.
  Validator(const PinnProblem& problem, const NetworkSpec& network, const LossWeights& weights,
            const TrainingData& data, const std::vector<double>& collocation);
  Validator(const Validator&) = delete;
  Validator& operator=(const Validator&) = delete;
  // The weighted objective of `parameters` over the whole validation set (no gradient,
  // no communication: every rank gets the same number).
  LossTerms objective(const std::vector<double>& parameters);

 private:
  NetworkSpec network_;
  LossWeights weights_;
  bool arz_model_ = false;
  ArzResidualCoefficients arz_;
  LwrResidualCoefficients lwr_;
  nn::ParameterStore<T> store_;
  nn::JetMlp<T> net_;
  tensor::Matrix<T> collocation_, observation_points_, observation_values_, initial_points_,
      initial_values_, boundary_points_, speed_points_, speed_values_;
  tensor::Matrix<T> seed_;
};

}  // namespace tessera::models::pinn_traffic
