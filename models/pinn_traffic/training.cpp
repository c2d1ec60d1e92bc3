#include "models/pinn_traffic/training.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>

#include "core/io/hdf5_reader.hpp"
#include "core/runtime/error.hpp"
#include "models/pinn_traffic/collocation.hpp"
#include "models/pinn_traffic/transfer.hpp"

namespace tessera::models::pinn_traffic {

namespace {

// Stream of the validation collocation set: apart from every task's (0, 1, 2, ...).
constexpr std::uint64_t kValidationStream = 0x7a11d;

// A communicator from MPI_Comm_split, freed when the scope ends.
class SplitComm {
 public:
  SplitComm(MPI_Comm parent, int color, int key) { MPI_Comm_split(parent, color, key, &comm_); }
  ~SplitComm() {
    if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  }
  SplitComm(const SplitComm&) = delete;
  SplitComm& operator=(const SplitComm&) = delete;
  MPI_Comm get() const { return comm_; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
};

// Every task's parameters on every rank: the first rank of the group that trains a task
// contributes it, all others zeros, and one all-reduce sums them (exactly: one non-zero
// term per entry).
template <class T>
std::vector<std::vector<double>> gather_parameters(
    MPI_Comm world, bool group_root, const std::vector<int>& ids,
    const std::vector<std::unique_ptr<PinnTask<T>>>& tasks, int task_count, std::size_t size) {
  std::vector<double> buffer(static_cast<std::size_t>(task_count) * size, 0.0);
  if (group_root) {
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      const std::vector<double> p = tasks[i]->parameters();
      std::copy(p.begin(), p.end(), buffer.begin() + static_cast<std::ptrdiff_t>(ids[i] * size));
    }
  }
  MPI_Allreduce(MPI_IN_PLACE, buffer.data(), static_cast<int>(buffer.size()), MPI_DOUBLE, MPI_SUM,
                world);
  std::vector<std::vector<double>> out(static_cast<std::size_t>(task_count));
  for (int k = 0; k < task_count; ++k) {
    out[k].assign(buffer.begin() + static_cast<std::ptrdiff_t>(k * size),
                  buffer.begin() + static_cast<std::ptrdiff_t>((k + 1) * size));
  }
  return out;
}

// What a record says about the main task (on the ranks of group 0), to every rank.
void broadcast_main(MPI_Comm world, LossTerms& terms, EvaluationMetrics& metrics,
                    LossWeights& weights, std::array<double, 2>& diagram) {
  double buffer[16] = {terms.data,
                       terms.residual,
                       terms.initial,
                       terms.boundary,
                       terms.speed,
                       terms.total,
                       metrics.relative_l2,
                       metrics.relative_l2_all,
                       metrics.relative_l2_validation,
                       weights.data,
                       weights.residual,
                       weights.initial,
                       weights.boundary,
                       weights.speed,
                       diagram[0],
                       diagram[1]};
  MPI_Bcast(buffer, 16, MPI_DOUBLE, 0, world);
  terms = LossTerms{buffer[0], buffer[1], buffer[2], buffer[3], buffer[4], buffer[5]};
  metrics = EvaluationMetrics{buffer[6], buffer[7], buffer[8]};
  weights = LossWeights{buffer[9], buffer[10], buffer[11], buffer[12], buffer[13]};
  diagram = {buffer[14], buffer[15]};
}

// A vector of doubles from rank 0 to every rank (sizes may differ before).
void broadcast_vector(MPI_Comm comm, std::vector<double>& values) {
  unsigned long long n = values.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, comm);
  values.resize(n);
  if (n > 0) MPI_Bcast(values.data(), static_cast<int>(n), MPI_DOUBLE, 0, comm);
}

// The parameters with the smallest validation error seen so far (kept on rank 0).
struct ValidationSelection {
  bool enabled = false;
  double best = std::numeric_limits<double>::infinity();
  long long at = -1;
  std::vector<double> parameters;
  template <class Task>
  void offer(int rank, const TrainingRecord& record, const Task* task) {
    if (!enabled || !(record.metrics.relative_l2_validation < best)) return;
    best = record.metrics.relative_l2_validation;
    at = record.evaluations;
    if (rank == 0) parameters = task->parameters();
  }
};

// MTO checkpoints: the state file of task k, beside the checkpoint's state.h5. A task
// lives on its group's communicator only, and state.h5 (on all ranks) takes rank 0's
// data, so the group writes its tasks into files of their own. Named by task, not by
// group, so that a checkpoint does not depend on the layout.
std::string task_state_path(const std::string& state_path, int task) {
  return (std::filesystem::path(state_path).parent_path() / str("task_", task, ".h5")).string();
}

}  // namespace

std::vector<TaskSpec> task_specs(const PinnSetup& setup) {
  std::vector<TaskSpec> specs{setup.main};
  if (!setup.mto.enabled) return specs;
  std::uint64_t stream = setup.main.stream + 1;
  for (const std::string& kind : setup.mto.tasks) {
    specs.push_back(auxiliary_task(kind, setup.main, setup.mto.weight_factor,
                                   setup.mto.early_fraction, stream++));
  }
  return specs;
}

template <class T>
TrainingResult train_pinn(MPI_Comm comm, const PinnSetup& setup,
                          const std::function<void(const TrainingRecord&)>& observer,
                          runtime::Timers* timers, const TrainingCheckpoints* checkpoints) {
  const auto start = std::chrono::steady_clock::now();
  double seconds_before = 0;  // a resumed run: the training seconds of the runs before
  auto elapsed = [&] {
    return seconds_before +
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  const TrainingOptions& options = setup.training;
  const MtoOptions& mto = setup.mto;
  if (options.adam_evaluations < 0 || options.lbfgs_evaluations < 0 || options.log_every < 1) {
    throw InputError(str("train.adam_steps = ", options.adam_evaluations,
                         " and train.lbfgs_evaluations = ", options.lbfgs_evaluations,
                         " must be >= 0 and train.log_every = ", options.log_every, " >= 1"));
  }
  const std::vector<TaskSpec> specs = task_specs(setup);
  const int task_count = static_cast<int>(specs.size());
  if (mto.enabled && task_count == 1) {
    throw InputError("mto.enabled = true but mto.tasks names no auxiliary task");
  }
  if (mto.enabled && mto.interval < 1) {
    throw InputError(str("mto.interval = ", mto.interval, " must be at least 1 step"));
  }
  const long long per_task = options.adam_evaluations / task_count;
  const long long interval = mto.enabled ? mto.interval : options.log_every;
  // Adam steps that do not divide evenly over the tasks go to L-BFGS, so that every run
  // with the same settings has the same budget.
  const long long lbfgs_budget =
      options.lbfgs_evaluations > 0
          ? options.lbfgs_evaluations + options.adam_evaluations - per_task * task_count
          : 0;
  const bool checkpointing = checkpoints && checkpoints->boundary;
  const bool resuming = checkpoints && !checkpoints->resume_from.empty();

  const TaskLayout layout = task_layout(ranks, task_count);
  const int group = layout.group_of_rank(rank);
  const SplitComm group_comm(comm, group, rank);
  int group_rank = 0;
  MPI_Comm_rank(group_comm.get(), &group_rank);
  const std::vector<int> ids = layout.tasks_of_group(group);
  std::vector<std::unique_ptr<PinnTask<T>>> tasks;
  for (int k : ids) {
    tasks.push_back(std::make_unique<PinnTask<T>>(group_comm.get(), setup.problem, setup.network,
                                                  specs[k], setup.data, options.seed,
                                                  options.optimiser, per_task));
  }
  PinnTask<T>* main = group == 0 ? tasks.front().get() : nullptr;  // task 0 is on group 0
  const std::size_t parameter_count = tasks.front()->store().size();

  std::optional<Validator<T>> validator;
  std::optional<TransferController> controller;
  if (task_count > 1) {
    validator.emplace(setup.problem, setup.network, setup.main.weights, setup.data,
                      sample_points(SamplerKind::kSobol, mto.validation_points, Box{}, options.seed,
                                    kValidationStream, 0));
    controller.emplace(mto.alpha, mto.alpha_min);
  }

  ValidationSelection selection;
  selection.enabled = options.select_on_validation;
  if (selection.enabled &&
      std::find(setup.evaluation.in_validation.begin(), setup.evaluation.in_validation.end(), 1) ==
          setup.evaluation.in_validation.end()) {
    throw InputError(
        "train.select = \"validation\" needs validation rows (detectors.validation): without "
        "them the selection would have to look at the scored rows");
  }

  TrainingResult result;
  for (const auto& s : specs) result.task_names.push_back(s.name);
  long long done = 0;

  // Checkpoints: the loop's counters, the selection and MTO's transfer counts, then the
  // state of the tasks in training (the Adam tasks, or the L-BFGS one of phase 1).
  auto write_loop = [&](io::ResultsFile& state, int phase) {
    state.write_root_array("/training/loop", {5},
                           {static_cast<double>(phase), static_cast<double>(done), selection.best,
                            static_cast<double>(selection.at), elapsed()});
    // Rank 0 keeps the selected parameters; all ranks agree on their count.
    const std::size_t selected = selection.at >= 0 ? parameter_count : 0;
    state.write_root_array("/training/selection", {selected},
                           rank == 0 ? selection.parameters : std::vector<double>(selected));
    if (controller) {
      // The same on every rank (every rank takes the transfer decisions).
      state.write_root_array(
          "/training/transfers", {3},
          {static_cast<double>(controller->tried()), static_cast<double>(controller->helped()),
           static_cast<double>(result.transfers_adopted)});
    }
  };
  // Standard PINN: the one task in state.h5. MTO (at transfer points only): each task in
  // its own file, written by its group (task_state_path).
  const std::function<void(io::ResultsFile&)> write_adam = [&](io::ResultsFile& state) {
    write_loop(state, 0);
    if (task_count == 1) {
      tasks.front()->save_state(state, "/training/task");
      return;
    }
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      io::ResultsFile file(group_comm.get(), task_state_path(state.path(), ids[i]));
      tasks[i]->save_state(file, "/training/task");
      file.close();
    }
  };
  std::unique_ptr<io::Hdf5Reader> resume;
  int resumed_phase = -1;
  if (resuming) {
    resume = std::make_unique<io::Hdf5Reader>(checkpoints->resume_from);
    const std::vector<double> loop = resume->read("/training/loop");
    if (loop.size() != 5) {
      throw InputError(str(checkpoints->resume_from, ": /training/loop holds ", loop.size(),
                           " values, expected 5"));
    }
    resumed_phase = static_cast<int>(loop[0]);
    done = static_cast<long long>(loop[1]);
    selection.best = loop[2];
    selection.at = static_cast<long long>(loop[3]);
    seconds_before = loop[4];
    selection.parameters = resume->read("/training/selection");
    if (controller) {
      const std::vector<double> transfers = resume->read("/training/transfers");
      if (transfers.size() != 3 || !(transfers[1] >= 0 && transfers[1] <= transfers[0])) {
        throw InputError(str(checkpoints->resume_from,
                             ": /training/transfers is not 3 counts (tried, helped <= tried, "
                             "adopted): a checkpoint of another version"));
      }
      controller->restore(static_cast<long long>(transfers[0]),
                          static_cast<long long>(transfers[1]));
      result.transfers_adopted = static_cast<long long>(transfers[2]);
    }
    if (resumed_phase == 0 && task_count == 1) {
      tasks.front()->load_state(*resume, "/training/task");
    } else if (resumed_phase == 0) {
      for (std::size_t i = 0; i < tasks.size(); ++i) {
        const io::Hdf5Reader file(task_state_path(checkpoints->resume_from, ids[i]));
        tasks[i]->load_state(file, "/training/task");
      }
    }
  }

  while (done < per_task) {
    // A resumed run may start inside a record's interval: finish that one first.
    const long long steps = std::min(interval - done % interval, per_task - done);
    {
      const runtime::Timers::Scope timed(timers, "pinn.adam");
      if (checkpointing && task_count == 1) {
        // One task: a boundary after every Adam step (but the last of a record's, which
        // comes after the record).
        for (long long s = 0; s < steps; ++s) {
          tasks.front()->adam_step();
          ++done;
          if (s + 1 < steps) checkpoints->boundary(done, write_adam);
        }
      } else {
        for (auto& task : tasks) {
          for (long long s = 0; s < steps; ++s) task->adam_step();
        }
        done += steps;
      }
    }
    TrainingRecord record;
    record.phase = "adam";
    record.evaluations = done * task_count;
    if (task_count > 1) {
      const runtime::Timers::Scope timed(timers, "pinn.transfer");
      std::vector<std::vector<double>> all =
          gather_parameters(comm, group_rank == 0, ids, tasks, task_count, parameter_count);
      for (const auto& p : all) record.validation.push_back(validator->objective(p).total);
      double main_value = record.validation[0];
      record.best_task = TransferController::best_auxiliary(record.validation);
      record.alpha = controller->alpha();
      if (record.best_task > 0) {
        const int best = record.best_task;
        std::vector<double> candidate = blend(all[0], all[best], record.alpha);
        double value = validator->objective(candidate).total;
        bool kept = value < main_value;
        controller->record(kept);
        record.transfer = kept ? 1 : 0;
        // A task that started from other initial parameters may sit in another minimum,
        // and a blend between two minima can be worse than both: then the main task
        // adopts that task's parameters whole (it scores better, or it would not be best).
        if (!kept && specs[best].init_stream != specs[0].init_stream) {
          candidate = all[best];
          value = record.validation[best];
          kept = true;
          record.transfer = 2;
          record.alpha = 1.0;
          ++result.transfers_adopted;
        }
        if (kept) {
          all[0] = std::move(candidate);
          main_value = value;
          if (main) main->set_parameters(all[0]);
        }
      }
      if (mto.reset_worse) {
        for (std::size_t i = 0; i < tasks.size(); ++i) {
          const int k = ids[i];
          if (k > 0 && !(record.validation[k] <= main_value)) tasks[i]->set_parameters(all[0]);
        }
      }
    }
    {
      const runtime::Timers::Scope timed(timers, "pinn.evaluation");
      if (main) {
        record.terms = main->last_terms();
        record.metrics = main->evaluate(setup.evaluation);
        record.weights = main->weights();
        record.diagram = main->diagram();
      }
      broadcast_main(comm, record.terms, record.metrics, record.weights, record.diagram);
    }
    record.seconds = elapsed();
    selection.offer(rank, record, main);
    if (observer) observer(record);
    if (checkpointing && (done < per_task || lbfgs_budget > 0)) {
      checkpoints->boundary(done * task_count, write_adam);
    }
  }
  result.adam_evaluations = done * task_count;
  if (controller) {
    result.transfers_tried = controller->tried();
    result.transfers_helped = controller->helped();
  }

  // The main task's parameters and collocation set to every rank, then L-BFGS (and the
  // final prediction) on all ranks together.
  // The adapted weights and refined collocation points go with them.
  std::vector<double> parameters(parameter_count);
  std::vector<double> refined;
  unsigned long long epoch = 0;
  if (rank == 0) {
    parameters = main->parameters();
    epoch = main->epoch();
    refined = main->refined_points();
  }
  MPI_Bcast(parameters.data(), static_cast<int>(parameter_count), MPI_DOUBLE, 0, comm);
  MPI_Bcast(&epoch, 1, MPI_UNSIGNED_LONG_LONG, 0, comm);
  broadcast_vector(comm, refined);
  LossTerms last_terms;
  EvaluationMetrics unused;
  LossWeights weights = setup.main.weights;
  std::array<double, 2> diagram{0, 0};
  if (main) {
    last_terms = main->last_terms();
    weights = main->weights();
  }
  broadcast_main(comm, last_terms, unused, weights, diagram);
  tasks.clear();

  PinnTask<T> final_task(comm, setup.problem, setup.network, setup.main, setup.data, options.seed,
                         options.optimiser, 1);
  final_task.set_parameters(parameters);
  final_task.set_weights(weights);
  final_task.set_epoch(epoch);
  final_task.set_refined_points(refined);
  if (resumed_phase == 1) final_task.load_state(*resume, "/training/final");
  const std::function<void(io::ResultsFile&)> write_lbfgs = [&](io::ResultsFile& state) {
    write_loop(state, 1);
    final_task.save_state(state, "/training/final");
  };
  std::function<void(long long)> lbfgs_boundary;
  if (checkpointing) {
    lbfgs_boundary = [&](long long used) {
      checkpoints->boundary(result.adam_evaluations + used, write_lbfgs);
    };
  }
  if (lbfgs_budget > 0) {
    const runtime::Timers::Scope timed(timers, "pinn.lbfgs");
    result.lbfgs_evaluations = final_task.lbfgs(
        lbfgs_budget, options.log_every,
        [&](long long used, const LossTerms& terms) {
          TrainingRecord record;
          record.phase = "lbfgs";
          record.evaluations = result.adam_evaluations + used;
          record.terms = terms;
          {
            const runtime::Timers::Scope evaluation(timers, "pinn.evaluation");
            record.metrics = final_task.evaluate(setup.evaluation);
          }
          record.weights = final_task.weights();
          record.diagram = final_task.diagram();
          record.seconds = elapsed();
          selection.offer(rank, record, &final_task);
          if (observer) observer(record);
        },
        lbfgs_boundary);
    last_terms = final_task.last_terms();
  }
  {
    const runtime::Timers::Scope timed(timers, "pinn.evaluation");
    result.metrics = final_task.evaluate(setup.evaluation);
    if (selection.enabled && selection.best < result.metrics.relative_l2_validation) {
      broadcast_vector(comm, selection.parameters);
      final_task.set_parameters(selection.parameters);
      result.metrics = final_task.evaluate(setup.evaluation);
      result.selected_at = selection.at;
    }
    result.prediction = final_task.predict(setup.evaluation);
  }
  result.weights = final_task.weights();
  result.diagram = final_task.diagram();
  result.refined_points = final_task.refined_points().size() / 2;
  result.parameters = final_task.parameters();
  result.terms = last_terms;
  result.seconds = elapsed();
  return result;
}

template TrainingResult train_pinn<float>(MPI_Comm, const PinnSetup&,
                                          const std::function<void(const TrainingRecord&)>&,
                                          runtime::Timers*, const TrainingCheckpoints*);
template TrainingResult train_pinn<double>(MPI_Comm, const PinnSetup&,
                                           const std::function<void(const TrainingRecord&)>&,
                                           runtime::Timers*, const TrainingCheckpoints*);

}  // namespace tessera::models::pinn_traffic
