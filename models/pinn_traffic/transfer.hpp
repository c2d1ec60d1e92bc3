#pragma once
// Knowledge transfer of multi-task optimisation, and how tasks map onto ranks.
//
// At each synchronisation point every task's parameters are scored with the main task's
// validation objective V. When the best auxiliary task b beats the main task
// (V(theta_b) < V(theta_0)), the candidate theta' = (1 - alpha) theta_0 + alpha theta_b is
// scored too, and replaces theta_0 only if V(theta') < V(theta_0) (a transfer that would
// hurt is rolled back; train_pinn then adopts theta_b whole if task b started from other
// initial parameters, since a blend between two minima can be worse than both). The
// blending strength follows how often blends helped:
//   alpha = alpha_max (helped + 1) / (tried + 2)   (at least alpha_min),
// the posterior mean of a success rate under a uniform prior, times alpha_max: strong
// blending while transfers keep paying off, gentle once they mostly fail.
#include <vector>

namespace tessera::models::pinn_traffic {

class TransferController {
 public:
  // InputError naming mto.alpha / mto.alpha_min unless 0 < alpha_min <= alpha_max <= 1.
  TransferController(double alpha_max, double alpha_min);

  double alpha() const;
  // Index of the auxiliary task (1, 2, ...) with the lowest validation objective when it
  // is below the main task's (index 0); -1 when no auxiliary task beats the main task.
  // Ties go to the lower index; NaN never wins.
  static int best_auxiliary(const std::vector<double>& validation);
  void record(bool helped);
  long long tried() const { return tried_; }
  long long helped() const { return helped_; }
  // The counts of a checkpoint (a resumed run continues with the same alpha).
  void restore(long long tried, long long helped);

 private:
  double alpha_max_, alpha_min_;
  long long tried_ = 0, helped_ = 0;
};

// (1 - alpha) main + alpha other, entry by entry.
std::vector<double> blend(const std::vector<double>& main, const std::vector<double>& other,
                          double alpha);

// Tasks on rank groups: `groups` groups of ranks / groups consecutive ranks each (the
// largest divisor of the rank count that is at most the task count), task k on group
// k % groups; a group runs its tasks in turn. One rank: one group, every task in turn.
struct TaskLayout {
  int ranks = 1, tasks = 1, groups = 1;
  int group_size() const { return ranks / groups; }
  int group_of_rank(int rank) const { return rank / group_size(); }
  int group_of_task(int task) const { return task % groups; }
  std::vector<int> tasks_of_group(int group) const;
};
TaskLayout task_layout(int ranks, int tasks);

}  // namespace tessera::models::pinn_traffic
