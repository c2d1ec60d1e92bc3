#pragma once
// Training a traffic PINN: the standard PINN (one task: Adam, then L-BFGS) or multi-task
// optimisation (MTO: the main task and K auxiliary tasks trained side by side with
// knowledge transfer every `interval` steps, see transfer.hpp, then L-BFGS on the main
// task). Compute is counted in gradient evaluations (one forward and backward pass of a
// task's whole loss): `adam_evaluations` is the Adam budget of all tasks together, so a
// standard run and an MTO run with the same settings spend the same compute; MTO gives
// each of its K + 1 tasks adam_evaluations / (K + 1) steps (the remainder goes to L-BFGS).
//
// Parallel layout: the tasks are spread over rank groups (MPI_Comm_split, transfer.hpp's
// TaskLayout); each group trains its tasks in turn, data parallel over its ranks. At a
// transfer the groups exchange parameters with one all-reduce over all ranks, and every
// rank scores every task on the same validation set, so all ranks take the same
// decisions without further messages. L-BFGS then runs on all ranks together.
#include <mpi.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/io/results_file.hpp"
#include "core/runtime/timers.hpp"
#include "models/pinn_traffic/pinn_task.hpp"
#include "models/pinn_traffic/task_spec.hpp"
#include "models/pinn_traffic/training_data.hpp"

namespace tessera::models::pinn_traffic {

struct TrainingOptions {
  long long adam_evaluations = 10000;  // Adam steps of all tasks together
  long long lbfgs_evaluations = 0;     // L-BFGS closure evaluations on the main task
  long long log_every = 100;           // standard PINN: Adam steps between records;
                                       // L-BFGS: evaluations between records
  OptimiserSpec optimiser;
  std::uint64_t seed = 1;  // initial parameters (the same for every task) and collocation
  // Keep the parameters of the record with the smallest validation error (detector rows
  // neither trained on nor scored) instead of the last ones; needs validation rows.
  bool select_on_validation = false;
};

struct MtoOptions {
  bool enabled = false;
  std::vector<std::string> tasks;        // auxiliary task kinds (task_spec.hpp)
  long long interval = 100;              // Adam steps of each task between transfers
  double alpha = 0.5;                    // largest blending strength
  double alpha_min = 0.05;               // smallest blending strength
  double weight_factor = 10;             // physics_heavy / data_heavy weight multiplier
  double early_fraction = 0.5;           // early_time: fraction of the time window
  bool reset_worse = true;               // auxiliary tasks worse than the main task restart from it
  std::size_t validation_points = 2000;  // collocation points of the validation objective
};

struct PinnSetup {
  PinnProblem problem;
  NetworkSpec network;
  TaskSpec main;
  TrainingData data;
  EvaluationSet evaluation;
  TrainingOptions training;
  MtoOptions mto;
};

// A progress record, identical on every rank.
struct TrainingRecord {
  std::string phase;          // "adam" or "lbfgs"
  long long evaluations = 0;  // gradient evaluations so far, all tasks together
  LossTerms terms;            // the main task's last evaluated loss
  EvaluationMetrics metrics;  // the main task's current error against the truth
  double seconds = 0;         // since training started
  // Transfer points of MTO (validation empty otherwise).
  std::vector<double> validation;  // the main task's validation objective of each task
  int best_task = -1;              // auxiliary task that beat the main task, -1 none
  int transfer = -1;               // 1 blended in, 0 rolled back, 2 adopted whole, -1 not attempted
  double alpha = 0;                // blending strength of this point
  LossWeights weights;             // the main task's loss weights (adapted ones change)
  std::array<double, 2> diagram{0, 0};  // the main task's {v_max, rho_max}, physical units
};

struct TrainingResult {
  std::vector<std::string> task_names;  // main first
  std::vector<double> parameters;       // the main task's final parameters
  std::vector<double> prediction;       // density at every evaluation point
  EvaluationMetrics metrics;            // final
  LossTerms terms;                      // the last evaluated loss of the main task
  long long adam_evaluations = 0, lbfgs_evaluations = 0;
  long long transfers_tried = 0, transfers_helped = 0;  // blends
  long long transfers_adopted = 0;  // tasks from other initial parameters adopted whole
  double seconds = 0;
  LossWeights weights;                  // final loss weights of the main task
  std::array<double, 2> diagram{0, 0};  // final {v_max, rho_max} (the configured ones unless
                                        // learned)
  std::size_t refined_points = 0;       // collocation points added by refinement
  long long selected_at = -1;  // select_on_validation: the record's evaluations; -1: the last
};

// Checkpoints of training (`tessera run --resume`). `boundary` is called on every rank
// where the training state is whole, with the gradient evaluations so far (the checkpoint's
// step) and a function that writes that state into a checkpoint's state file (a
// ResultsFile, collective): the standard PINN after every Adam step and after every
// L-BFGS chunk (train.log_every evaluations) that another follows; MTO at its transfer
// points (each task's state goes into task_<k>.h5 beside the state file, written by the
// ranks of its group) and in its L-BFGS phase as the standard PINN. `resume_from`: a
// state file written so; training continues from it (the same configuration and rank
// count give the uninterrupted run's numbers bit for bit).
struct TrainingCheckpoints {
  std::function<void(long long step, const std::function<void(io::ResultsFile&)>& write_state)>
      boundary;
  std::string resume_from;  // empty: a fresh run
};

// Collective over `comm`. `observer` (optional) is called on every rank with each record;
// `timers` (optional) gets the regions pinn.adam, pinn.transfer, pinn.lbfgs,
// pinn.evaluation; `checkpoints` (optional) as above.
template <class T>
TrainingResult train_pinn(MPI_Comm comm, const PinnSetup& setup,
                          const std::function<void(const TrainingRecord&)>& observer = {},
                          runtime::Timers* timers = nullptr,
                          const TrainingCheckpoints* checkpoints = nullptr);

// The task list of a setup: the main task, then one per mto.tasks entry (when enabled).
std::vector<TaskSpec> task_specs(const PinnSetup& setup);

}  // namespace tessera::models::pinn_traffic
