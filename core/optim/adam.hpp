#pragma once
// Adam and AdamW with the exact update rules of torch.optim.Adam (bias correction, eps
// added outside the square root, weight decay as L2 on the gradient, optional AMSGrad)
// and torch.optim.AdamW (decoupled weight decay: p *= 1 - lr * weight_decay before the
// Adam update). One kernel per step over the flat buffers of a ParameterStore; follows
// the optimiser convention described in core/optim/sgd.hpp.
#include <cmath>
#include <string>

#include "core/optim/sgd.hpp"
#include "core/tensor/math.hpp"

namespace tessera::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  bool decoupled_weight_decay = false;  // true: AdamW
  bool amsgrad = false;
};

template <class T>
class Adam {
 public:
  explicit Adam(const nn::ParameterStore<T>& store, AdamOptions options = {})
      : options_(options), size_(store.size()) {
    const char* who = options.decoupled_weight_decay ? "AdamW" : "Adam";
    if (options.lr < 0 || options.eps < 0 || options.weight_decay < 0) {
      throw InputError(str(who, ": lr = ", options.lr, ", eps = ", options.eps,
                           ", weight_decay = ", options.weight_decay, " must not be negative"));
    }
    for (double beta : {options.beta1, options.beta2}) {
      if (!(beta >= 0 && beta < 1)) {
        throw InputError(
            str(who, ": betas (", options.beta1, ", ", options.beta2, ") must lie in [0, 1)"));
      }
    }
    exp_avg_ = Vector<T>("optim::adam_exp_avg", size_);
    exp_avg_sq_ = Vector<T>("optim::adam_exp_avg_sq", size_);
    if (options.amsgrad) max_exp_avg_sq_ = Vector<T>("optim::adam_max_exp_avg_sq", size_);
  }

  void step(nn::ParameterStore<T>& store) {
    detail::check_store(store, size_, name().c_str());
    store.check_finite(
        str(options_.decoupled_weight_decay ? "AdamW" : "Adam", " step ", step_ + 1));
    ++step_;
    // Scalars in double, as torch computes them in Python, then rounded to T.
    const double bias_correction1 = 1 - std::pow(options_.beta1, static_cast<double>(step_));
    const double bias_correction2 = 1 - std::pow(options_.beta2, static_cast<double>(step_));
    const T step_size = static_cast<T>(options_.lr / bias_correction1);
    const T bias_correction2_sqrt = static_cast<T>(std::sqrt(bias_correction2));
    const T beta1 = static_cast<T>(options_.beta1);
    const T beta2 = static_cast<T>(options_.beta2);
    const T one_minus_beta1 = static_cast<T>(1 - options_.beta1);
    const T one_minus_beta2 = static_cast<T>(1 - options_.beta2);
    const T eps = static_cast<T>(options_.eps);
    const bool decoupled = options_.decoupled_weight_decay;
    const bool l2 = !decoupled && options_.weight_decay != 0;
    const T wd = static_cast<T>(options_.weight_decay);
    const T decay_factor = static_cast<T>(1 - options_.lr * options_.weight_decay);
    const bool amsgrad = options_.amsgrad;
    const Vector<T> p = store.params();
    const Vector<T> g = store.grads();
    const Vector<T> m = exp_avg_;
    const Vector<T> v = exp_avg_sq_;
    const Vector<T> v_max = max_exp_avg_sq_;
    Kokkos::parallel_for(
        "optim::adam_step", Kokkos::RangePolicy<tensor::ExecSpace>(0, size_),
        KOKKOS_LAMBDA(const int i) {
          T param = p(i);
          T grad = g(i);
          if (decoupled) param = param * decay_factor;
          if (l2) grad = grad + wd * param;
          const T m_i = m(i) * beta1 + one_minus_beta1 * grad;
          const T v_i = v(i) * beta2 + one_minus_beta2 * grad * grad;
          m(i) = m_i;
          v(i) = v_i;
          T second = v_i;
          if (amsgrad) {
            second = math::max(v_max(i), v_i);
            v_max(i) = second;
          }
          const T denom = math::sqrt(second) / bias_correction2_sqrt + eps;
          p(i) = param + (-step_size) * m_i / denom;
        });
  }

  double lr() const { return options_.lr; }
  void set_lr(double lr) { options_.lr = lr; }
  long long step_count() const { return step_; }
  const AdamOptions& options() const { return options_; }
  std::string name() const { return options_.decoupled_weight_decay ? "adamw" : "adam"; }

  void save(io::ResultsFile& file, const std::string& group) const {
    detail::write_buffer(file, group + "/exp_avg", exp_avg_);
    detail::write_buffer(file, group + "/exp_avg_sq", exp_avg_sq_);
    if (options_.amsgrad) detail::write_buffer(file, group + "/max_exp_avg_sq", max_exp_avg_sq_);
    detail::write_header(file, group, name(), step_, options_.lr);
  }
  void load(const io::Hdf5Reader& file, const std::string& group) {
    const detail::Header header = detail::read_header(file, group, name());
    detail::read_buffer(file, group + "/exp_avg", exp_avg_);
    detail::read_buffer(file, group + "/exp_avg_sq", exp_avg_sq_);
    if (options_.amsgrad) detail::read_buffer(file, group + "/max_exp_avg_sq", max_exp_avg_sq_);
    step_ = header.step;
    options_.lr = header.lr;
  }

 private:
  AdamOptions options_;
  std::size_t size_ = 0;
  long long step_ = 0;
  Vector<T> exp_avg_, exp_avg_sq_, max_exp_avg_sq_;
};

// torch.optim.AdamW: Adam with decoupled weight decay, whose default is 1e-2 (not 0).
template <class T>
class AdamW : public Adam<T> {
 public:
  static AdamOptions defaults() {
    AdamOptions options;
    options.weight_decay = 1e-2;
    options.decoupled_weight_decay = true;
    return options;
  }
  explicit AdamW(const nn::ParameterStore<T>& store, AdamOptions options = defaults())
      : Adam<T>(store, decoupled(options)) {}

 private:
  static AdamOptions decoupled(AdamOptions options) {
    options.decoupled_weight_decay = true;
    return options;
  }
};

}  // namespace tessera::optim
