#pragma once
// Learning-rate schedules as closed forms lr(step), step = 0, 1, ... the index of the
// optimiser step about to be taken (so a resumed run needs only the step count):
//   constant        lr
//   warmup_cosine   linear warm-up peak (step + 1) / warmup over the first `warmup`
//                   steps, then cosine decay from peak to min_lr at step `total`, and
//                   min_lr after it (torch: LambdaLR then CosineAnnealingLR in a
//                   SequentialLR, which would rise again after `total`)
//   step_decay      lr gamma^floor(step / step_size) (torch.optim.lr_scheduler.StepLR)
//   exponential     lr gamma^(step / decay_steps) + min_lr, continuous (MeshGraphNets:
//                   tf.train.exponential_decay(1e-4, step, 5e6, 0.1) + 1e-6)
// Use: optimiser.set_lr(schedule.lr(optimiser.step_count())) before each step.
#include <cmath>
#include <string>

#include "core/runtime/error.hpp"

namespace tessera::optim {

enum class ScheduleKind { kConstant, kWarmupCosine, kStepDecay, kExponential };

// "constant", "warmup_cosine", "step_decay", "exponential"; InputError listing them
// otherwise.
inline ScheduleKind schedule_kind_from_name(const std::string& name) {
  if (name == "constant") return ScheduleKind::kConstant;
  if (name == "warmup_cosine") return ScheduleKind::kWarmupCosine;
  if (name == "step_decay") return ScheduleKind::kStepDecay;
  if (name == "exponential") return ScheduleKind::kExponential;
  throw InputError(str("unknown learning-rate schedule '", name,
                       "' (expected constant, warmup_cosine, step_decay or exponential)"));
}

inline std::string schedule_name(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::kConstant:
      return "constant";
    case ScheduleKind::kWarmupCosine:
      return "warmup_cosine";
    case ScheduleKind::kStepDecay:
      return "step_decay";
    case ScheduleKind::kExponential:
      return "exponential";
  }
  return "constant";
}

class Schedule {
 public:
  Schedule() = default;

  static Schedule constant(double lr) {
    check_lr("constant schedule: lr", lr);
    Schedule s;
    s.kind_ = ScheduleKind::kConstant;
    s.lr_ = lr;
    return s;
  }

  static Schedule warmup_cosine(double peak_lr, long long warmup_steps, long long total_steps,
                                double min_lr = 0) {
    check_lr("warmup_cosine schedule: peak lr", peak_lr);
    check_lr("warmup_cosine schedule: min_lr", min_lr);
    if (warmup_steps < 0 || total_steps < warmup_steps) {
      throw InputError(str("warmup_cosine schedule: need 0 <= warmup_steps <= total_steps, got ",
                           "warmup_steps = ", warmup_steps, ", total_steps = ", total_steps));
    }
    Schedule s;
    s.kind_ = ScheduleKind::kWarmupCosine;
    s.lr_ = peak_lr;
    s.min_lr_ = min_lr;
    s.warmup_ = warmup_steps;
    s.total_ = total_steps;
    return s;
  }

  static Schedule step_decay(double lr, long long step_size, double gamma) {
    check_lr("step_decay schedule: lr", lr);
    if (step_size <= 0 || !(gamma > 0)) {
      throw InputError(
          str("step_decay schedule: need step_size > 0 and gamma > 0, got step_size = ", step_size,
              ", gamma = ", gamma));
    }
    Schedule s;
    s.kind_ = ScheduleKind::kStepDecay;
    s.lr_ = lr;
    s.step_size_ = step_size;
    s.gamma_ = gamma;
    return s;
  }

  static Schedule exponential(double lr, long long decay_steps, double gamma, double min_lr = 0) {
    check_lr("exponential schedule: lr", lr);
    check_lr("exponential schedule: min_lr", min_lr);
    if (decay_steps <= 0 || !(gamma > 0)) {
      throw InputError(
          str("exponential schedule: need decay_steps > 0 and gamma > 0, got decay_steps = ",
              decay_steps, ", gamma = ", gamma));
    }
    Schedule s;
    s.kind_ = ScheduleKind::kExponential;
    s.lr_ = lr;
    s.step_size_ = decay_steps;
    s.gamma_ = gamma;
    s.min_lr_ = min_lr;
    return s;
  }

  double lr(long long step) const {
    if (step < 0) throw std::invalid_argument(str("schedule: negative step ", step));
    switch (kind_) {
      case ScheduleKind::kConstant:
        return lr_;
      case ScheduleKind::kWarmupCosine: {
        if (step < warmup_) {
          return lr_ * static_cast<double>(step + 1) / static_cast<double>(warmup_);
        }
        if (step >= total_) return min_lr_;
        const double t =
            static_cast<double>(step - warmup_) / static_cast<double>(total_ - warmup_);
        return min_lr_ + (lr_ - min_lr_) * 0.5 * (1 + std::cos(kPi * t));
      }
      case ScheduleKind::kStepDecay:
        return lr_ * std::pow(gamma_, static_cast<double>(step / step_size_));
      case ScheduleKind::kExponential:
        return lr_ * std::pow(gamma_, static_cast<double>(step) / static_cast<double>(step_size_)) +
               min_lr_;
    }
    return lr_;
  }

  ScheduleKind kind() const { return kind_; }
  double base_lr() const { return lr_; }

 private:
  static constexpr double kPi = 3.14159265358979323846;
  static void check_lr(const char* what, double lr) {
    if (!(lr >= 0) || !std::isfinite(lr)) {
      throw InputError(str(what, " = ", lr, " must be finite and not negative"));
    }
  }

  ScheduleKind kind_ = ScheduleKind::kConstant;
  double lr_ = 1e-3;
  double min_lr_ = 0;
  long long warmup_ = 0;
  long long total_ = 0;
  long long step_size_ = 1;
  double gamma_ = 1;
};

}  // namespace tessera::optim
