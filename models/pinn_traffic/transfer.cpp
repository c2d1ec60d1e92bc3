#include "models/pinn_traffic/transfer.hpp"

#include <cmath>
#include <stdexcept>

#include "core/runtime/error.hpp"

namespace tessera::models::pinn_traffic {

TransferController::TransferController(double alpha_max, double alpha_min)
    : alpha_max_(alpha_max), alpha_min_(alpha_min) {
  if (!(alpha_max > 0 && alpha_max <= 1)) {
    throw InputError(str("mto.alpha = ", alpha_max,
                         " is out of range: the largest blending strength must be in (0, 1]"));
  }
  if (!(alpha_min > 0 && alpha_min <= alpha_max)) {
    throw InputError(str("mto.alpha_min = ", alpha_min,
                         " is out of range: expected (0, mto.alpha = ", alpha_max, "]"));
  }
}

double TransferController::alpha() const {
  const double rate = (static_cast<double>(helped_) + 1) / (static_cast<double>(tried_) + 2);
  const double a = alpha_max_ * rate;
  return a > alpha_min_ ? a : alpha_min_;
}

int TransferController::best_auxiliary(const std::vector<double>& validation) {
  // A main task whose objective is not finite is beaten by any finite auxiliary task.
  const bool main_finite = !validation.empty() && std::isfinite(validation[0]);
  int best = -1;
  double best_value = main_finite ? validation[0] : 0.0;
  for (std::size_t k = 1; k < validation.size(); ++k) {
    const double v = validation[k];
    if (!std::isfinite(v)) continue;
    if ((best < 0 && !main_finite) || v < best_value) {
      best = static_cast<int>(k);
      best_value = v;
    }
  }
  return best;
}

void TransferController::record(bool helped) {
  ++tried_;
  if (helped) ++helped_;
}

void TransferController::restore(long long tried, long long helped) {
  tried_ = tried;
  helped_ = helped;
}

std::vector<double> blend(const std::vector<double>& main, const std::vector<double>& other,
                          double alpha) {
  if (main.size() != other.size()) {
    throw std::invalid_argument(
        str("blend: parameter vectors of ", main.size(), " and ", other.size(), " entries"));
  }
  std::vector<double> out(main.size());
  for (std::size_t i = 0; i < main.size(); ++i) out[i] = (1 - alpha) * main[i] + alpha * other[i];
  return out;
}

std::vector<int> TaskLayout::tasks_of_group(int group) const {
  std::vector<int> out;
  for (int k = group; k < tasks; k += groups) out.push_back(k);
  return out;
}

TaskLayout task_layout(int ranks, int tasks) {
  if (ranks < 1 || tasks < 1) {
    throw std::invalid_argument(str("task_layout: ", ranks, " ranks, ", tasks, " tasks"));
  }
  TaskLayout layout;
  layout.ranks = ranks;
  layout.tasks = tasks;
  for (int g = tasks < ranks ? tasks : ranks; g >= 1; --g) {
    if (ranks % g == 0) {
      layout.groups = g;
      break;
    }
  }
  return layout;
}

}  // namespace tessera::models::pinn_traffic
