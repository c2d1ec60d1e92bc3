#pragma once
// L-BFGS as torch.optim.LBFGS (line_search_fn="strong_wolfe" or a fixed step), ported
// step for step so that the iterates match torch's: the two-loop recursion over at
// most `history_size` curvature pairs, the first step scaled by min(1, 1 / |g|_1), the
// strong-Wolfe bracketing and zoom with cubic interpolation (c1 = 1e-4, c2 = 0.9, at
// most 25 evaluations per line search), and torch's stopping tests (tolerance_grad on
// max |g|, tolerance_change on the step and the loss change, max_iter, max_eval).
//
// One step() runs up to max_iter iterations. The closure recomputes the loss and the
// gradient of the current parameters: it zeroes store.grads() itself, runs the forward
// and backward passes and returns the loss, as a torch closure does. The state (the
// direction, the curvature pairs) persists between calls, so step() may be called
// repeatedly as in torch. A NaN or Inf loss or gradient is an error naming the slice.
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/optim/sgd.hpp"
#include "core/tensor/math.hpp"
#include "core/tensor/reduce.hpp"

namespace tessera::optim {

struct LbfgsOptions {
  double lr = 1;
  int max_iter = 20;  // iterations per step() call
  int max_eval = 0;   // closure evaluations per step() call; 0: max_iter * 5 / 4
  double tolerance_grad = 1e-7;
  double tolerance_change = 1e-9;
  int history_size = 100;
  bool strong_wolfe = true;  // false: fixed step lr (torch's line_search_fn=None)
};

template <class T>
class Lbfgs {
 public:
  using Closure = std::function<double(nn::ParameterStore<T>&)>;

  explicit Lbfgs(const nn::ParameterStore<T>& store, LbfgsOptions options = {})
      : options_(options), size_(store.size()) {
    if (options_.max_eval <= 0) options_.max_eval = options_.max_iter * 5 / 4;
    if (options_.max_iter < 1 || options_.history_size < 1 || !(options_.lr > 0)) {
      throw InputError(str("L-BFGS: need max_iter >= 1, history_size >= 1 and lr > 0, got ",
                           "max_iter = ", options.max_iter,
                           ", history_size = ", options.history_size, ", lr = ", options.lr));
    }
  }

  // Returns the loss at the parameters the call started from (torch returns the same).
  double step(nn::ParameterStore<T>& store, const Closure& closure) {
    detail::check_store(store, size_, "L-BFGS");
    in_iteration_ = false;
    Vector<T> flat_grad;
    const double orig_loss = evaluate(store, closure, flat_grad);
    double loss = orig_loss;
    int current_evals = 1;
    func_evals_ += 1;
    last_loss_ = loss;
    if (tensor::max_abs(flat_grad) <= options_.tolerance_grad) return orig_loss;

    int n_iter = 0;
    in_iteration_ = true;
    while (n_iter < options_.max_iter) {
      ++n_iter;
      ++n_iter_;
      if (n_iter_ == 1) {
        d_ = scaled_copy(flat_grad, -1.0);
        old_dirs_.clear();
        old_stps_.clear();
        ro_.clear();
        h_diag_ = 1;
      } else {
        update_direction(flat_grad);
      }
      if (prev_flat_grad_.extent(0) != size_) {
        prev_flat_grad_ = Vector<T>("optim::lbfgs_prev_grad", size_);
      }
      Kokkos::deep_copy(prev_flat_grad_, flat_grad);
      prev_loss_ = loss;

      if (n_iter_ == 1) {
        t_ = math::min(1.0, 1.0 / tensor::abs_sum(flat_grad)) * options_.lr;
      } else {
        t_ = options_.lr;
      }
      const double gtd = tensor::dot(flat_grad, d_);
      if (gtd > -options_.tolerance_change) break;

      int ls_func_evals = 0;
      bool opt_cond = false;
      if (options_.strong_wolfe) {
        const Vector<T> x_init = scaled_copy(store.params(), 1.0);
        const LineSearch found = strong_wolfe(store, closure, x_init, t_, d_, loss, flat_grad, gtd);
        loss = found.f;
        flat_grad = found.g;
        t_ = found.t;
        ls_func_evals = found.evals;
        set_point(store.params(), x_init, t_, d_);
        opt_cond = tensor::max_abs(flat_grad) <= options_.tolerance_grad;
      } else {
        set_point(store.params(), store.params(), t_, d_);
        if (n_iter != options_.max_iter) {
          loss = evaluate(store, closure, flat_grad);
          opt_cond = tensor::max_abs(flat_grad) <= options_.tolerance_grad;
          ls_func_evals = 1;
        }
      }
      current_evals += ls_func_evals;
      func_evals_ += ls_func_evals;
      last_loss_ = loss;

      if (n_iter == options_.max_iter) break;
      if (current_evals >= options_.max_eval) break;
      if (opt_cond) break;
      if (tensor::max_abs(d_) * math::abs(t_) <= options_.tolerance_change) break;
      if (math::abs(loss - prev_loss_) < options_.tolerance_change) break;
    }
    in_iteration_ = false;
    return orig_loss;
  }

  long long iterations() const { return n_iter_; }
  long long function_evaluations() const { return func_evals_; }
  // The loss at the parameters step() left (as far as the closure evaluated it).
  double last_loss() const { return last_loss_; }
  std::size_t history_length() const { return old_dirs_.size(); }
  const LbfgsOptions& options() const { return options_; }

  // Checkpoint: direction, previous gradient, curvature pairs (k x n datasets), and
  // [t, H_diag, prev_loss, func_evals, k] in `scalars`; `step` is the iteration count.
  void save(io::ResultsFile& file, const std::string& group) const {
    const std::size_t k = old_dirs_.size();
    if (n_iter_ > 0) {
      detail::write_buffer(file, group + "/d", d_);
      detail::write_buffer(file, group + "/prev_flat_grad", prev_flat_grad_);
    }
    if (k > 0) {
      file.write_root_array(group + "/old_dirs", {k, size_}, stack(old_dirs_));
      file.write_root_array(group + "/old_stps", {k, size_}, stack(old_stps_));
      file.write_root_array(group + "/ro", {k}, ro_);
    }
    file.write_root_array(
        group + "/scalars", {5},
        {t_, h_diag_, prev_loss_, static_cast<double>(func_evals_), static_cast<double>(k)});
    detail::write_header(file, group, "lbfgs", n_iter_, options_.lr);
  }

  void load(const io::Hdf5Reader& file, const std::string& group) {
    const detail::Header header = detail::read_header(file, group, "lbfgs");
    const std::vector<double> scalars = file.read(group + "/scalars");
    if (scalars.size() != 5)
      throw InputError(str(file.path(), ": ", group, "/scalars is not 5 values"));
    const auto k = static_cast<std::size_t>(scalars[4]);
    if (k > static_cast<std::size_t>(options_.history_size)) {
      throw InputError(str(file.path(), ": ", group, " holds ", k,
                           " curvature pairs, more than history_size = ", options_.history_size));
    }
    d_ = Vector<T>();
    prev_flat_grad_ = Vector<T>();
    if (header.step > 0) {
      d_ = Vector<T>("optim::lbfgs_direction", size_);
      prev_flat_grad_ = Vector<T>("optim::lbfgs_prev_grad", size_);
      detail::read_buffer(file, group + "/d", d_);
      detail::read_buffer(file, group + "/prev_flat_grad", prev_flat_grad_);
    }
    old_dirs_ = unstack(file, group + "/old_dirs", k);
    old_stps_ = unstack(file, group + "/old_stps", k);
    ro_ = k > 0 ? file.read(group + "/ro") : std::vector<double>();
    t_ = scalars[0];
    h_diag_ = scalars[1];
    prev_loss_ = scalars[2];
    func_evals_ = static_cast<long long>(scalars[3]);
    n_iter_ = header.step;
    options_.lr = header.lr;
  }

 private:
  struct LineSearch {
    double f;
    Vector<T> g;
    double t;
    int evals;
  };

  // Closure, then a private copy of the gradient; errors on NaN/Inf.
  double evaluate(nn::ParameterStore<T>& store, const Closure& closure, Vector<T>& grad) {
    const double loss = closure(store);
    // Before the first iteration of a call n_iter_ counts the finished ones.
    const std::string context = str("L-BFGS iteration ", n_iter_ + (in_iteration_ ? 0 : 1));
    store.check_finite(context);
    if (!std::isfinite(loss)) throw std::runtime_error(str(context, ": the loss is not finite"));
    grad = scaled_copy(store.grads(), 1.0);
    return loss;
  }

  // Loss and gradient at x + t d; the parameters are x again afterwards.
  double directional_evaluate(nn::ParameterStore<T>& store, const Closure& closure,
                              const Vector<T>& x, double t, const Vector<T>& d, Vector<T>& grad) {
    set_point(store.params(), x, t, d);
    const double loss = evaluate(store, closure, grad);
    Kokkos::deep_copy(store.params(), x);
    return loss;
  }

  // Two-loop recursion after adding the newest curvature pair (when y.s > 1e-10).
  void update_direction(const Vector<T>& flat_grad) {
    Vector<T> y = recycled();
    Vector<T> s = recycled();
    combine(y, flat_grad, 1.0, prev_flat_grad_, -1.0);
    combine(s, d_, t_, d_, 0.0);
    const double ys = tensor::dot(y, s);
    if (ys > 1e-10) {
      if (old_dirs_.size() == static_cast<std::size_t>(options_.history_size)) {
        spare_ = old_dirs_.front();
        old_dirs_.erase(old_dirs_.begin());
        old_stps_.erase(old_stps_.begin());
        ro_.erase(ro_.begin());
      }
      old_dirs_.push_back(y);
      old_stps_.push_back(s);
      ro_.push_back(1.0 / ys);
      h_diag_ = ys / tensor::dot(y, y);
    } else {
      spare_ = y;
    }
    const std::size_t num_old = old_dirs_.size();
    std::vector<double> al(num_old);
    Vector<T> q = scaled_copy(flat_grad, -1.0);
    for (std::size_t j = num_old; j-- > 0;) {
      al[j] = tensor::dot(old_stps_[j], q) * ro_[j];
      tensor::axpy(static_cast<T>(-al[j]), old_dirs_[j], q);
    }
    Vector<T> r = scaled_copy(q, h_diag_);
    for (std::size_t j = 0; j < num_old; ++j) {
      const double be = tensor::dot(old_dirs_[j], r) * ro_[j];
      tensor::axpy(static_cast<T>(al[j] - be), old_stps_[j], r);
    }
    d_ = r;
  }

  // torch's _cubic_interpolate: minimiser of the cubic through two points with slopes,
  // clamped to the bounds (or the interval), midpoint when the cubic has no minimum.
  static double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                                  bool bounded = false, double lo = 0, double hi = 0) {
    const double xmin_bound = bounded ? lo : (x1 <= x2 ? x1 : x2);
    const double xmax_bound = bounded ? hi : (x1 <= x2 ? x2 : x1);
    const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
    const double d2_square = d1 * d1 - g1 * g2;
    if (d2_square >= 0) {
      const double d2 = std::sqrt(d2_square);
      const double min_pos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                                      : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
      // Python's min(max(min_pos, lo), hi), NaN handling included.
      return math::min(math::max(min_pos, xmin_bound), xmax_bound);
    }
    return (xmin_bound + xmax_bound) / 2.;
  }

  // torch's _strong_wolfe with its defaults (c1 = 1e-4, c2 = 0.9, tolerance_change =
  // 1e-9 whatever the optimiser's, at most 25 evaluations).
  LineSearch strong_wolfe(nn::ParameterStore<T>& store, const Closure& closure, const Vector<T>& x,
                          double t, const Vector<T>& d, double f, const Vector<T>& g, double gtd) {
    constexpr double c1 = 1e-4, c2 = 0.9, tolerance_change = 1e-9;
    constexpr int max_ls = 25;
    const double d_norm = tensor::max_abs(d);
    Vector<T> g_new;
    double f_new = directional_evaluate(store, closure, x, t, d, g_new);
    int evals = 1;
    double gtd_new = tensor::dot(g_new, d);

    double t_prev = 0, f_prev = f, gtd_prev = gtd;
    Vector<T> g_prev = g;
    bool done = false;
    int ls_iter = 0;
    double bt[2] = {0, 0}, bf[2] = {0, 0}, bgtd[2] = {0, 0};
    Vector<T> bg[2];
    int bracket_size = 0;
    auto set_pair = [&]() {
      bt[0] = t_prev, bt[1] = t;
      bf[0] = f_prev, bf[1] = f_new;
      bg[0] = g_prev, bg[1] = g_new;
      bgtd[0] = gtd_prev, bgtd[1] = gtd_new;
      bracket_size = 2;
    };
    while (ls_iter < max_ls) {
      if (f_new > f + c1 * t * gtd || (ls_iter > 1 && f_new >= f_prev)) {
        set_pair();
        break;
      }
      if (math::abs(gtd_new) <= -c2 * gtd) {
        bt[0] = t, bf[0] = f_new, bg[0] = g_new, bgtd[0] = gtd_new;
        bracket_size = 1;
        done = true;
        break;
      }
      if (gtd_new >= 0) {
        set_pair();
        break;
      }
      const double min_step = t + 0.01 * (t - t_prev);
      const double max_step = t * 10;
      const double tmp = t;
      t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, true, min_step, max_step);
      t_prev = tmp;
      f_prev = f_new;
      g_prev = g_new;
      gtd_prev = gtd_new;
      f_new = directional_evaluate(store, closure, x, t, d, g_new);
      evals += 1;
      gtd_new = tensor::dot(g_new, d);
      ls_iter += 1;
    }
    if (ls_iter == max_ls) {
      bt[0] = 0, bt[1] = t;
      bf[0] = f, bf[1] = f_new;
      bg[0] = g, bg[1] = g_new;
      bracket_size = 2;
    }

    // Zoom: shrink the bracket until a point satisfies the strong Wolfe conditions.
    bool insuf_progress = false;
    int low = bf[0] <= bf[bracket_size - 1] ? 0 : 1;
    int high = 1 - low;
    while (!done && ls_iter < max_ls) {
      if (math::abs(bt[1] - bt[0]) * d_norm < tolerance_change) break;
      t = cubic_interpolate(bt[0], bf[0], bgtd[0], bt[1], bf[1], bgtd[1]);
      const double b_max = math::max(bt[0], bt[1]);
      const double b_min = math::min(bt[0], bt[1]);
      const double eps = 0.1 * (b_max - b_min);
      if (math::min(b_max - t, t - b_min) < eps) {
        // Close to a boundary: after insufficient progress, or when at the boundary,
        // move 0.1 of the bracket away from it.
        if (insuf_progress || t >= b_max || t <= b_min) {
          t = math::abs(t - b_max) < math::abs(t - b_min) ? b_max - eps : b_min + eps;
          insuf_progress = false;
        } else {
          insuf_progress = true;
        }
      } else {
        insuf_progress = false;
      }
      f_new = directional_evaluate(store, closure, x, t, d, g_new);
      evals += 1;
      gtd_new = tensor::dot(g_new, d);
      ls_iter += 1;
      if (f_new > f + c1 * t * gtd || f_new >= bf[low]) {
        bt[high] = t, bf[high] = f_new, bg[high] = g_new, bgtd[high] = gtd_new;
        low = bf[0] <= bf[1] ? 0 : 1;
        high = 1 - low;
      } else {
        if (math::abs(gtd_new) <= -c2 * gtd) {
          done = true;
        } else if (gtd_new * (bt[high] - bt[low]) >= 0) {
          bt[high] = bt[low], bf[high] = bf[low], bg[high] = bg[low], bgtd[high] = bgtd[low];
        }
        bt[low] = t, bf[low] = f_new, bg[low] = g_new, bgtd[low] = gtd_new;
      }
    }
    return LineSearch{bf[low], bg[low], bt[low], evals};
  }

  // A buffer for a new curvature vector: the one evicted from the history when there is
  // one (no allocation in the steady state), a fresh one otherwise.
  Vector<T> recycled() {
    if (spare_.extent(0) == size_) {
      Vector<T> out = spare_;
      spare_ = Vector<T>();
      return out;
    }
    return Vector<T>("optim::lbfgs_history", size_);
  }

 public:
  // Public only for nvcc, which cannot compile a device lambda inside a private or
  // protected member function; not part of the interface.
  // out = a * alpha + b * beta (out may alias neither input).
  static void combine(const Vector<T>& out, const Vector<T>& a, double alpha, const Vector<T>& b,
                      double beta) {
    const T ta = static_cast<T>(alpha), tb = static_cast<T>(beta);
    const bool add = beta != 0;
    Kokkos::parallel_for(
        "optim::lbfgs_combine", Kokkos::RangePolicy<tensor::ExecSpace>(0, out.extent(0)),
        KOKKOS_LAMBDA(const int i) { out(i) = add ? a(i) * ta + b(i) * tb : a(i) * ta; });
  }

  static Vector<T> scaled_copy(const Vector<T>& v, double alpha) {
    Vector<T> out("optim::lbfgs_vector", v.extent(0));
    if (alpha == 1.0) {
      Kokkos::deep_copy(out, v);
    } else {
      combine(out, v, alpha, v, 0.0);
    }
    return out;
  }

  // p = x + t d (p may be x).
  static void set_point(const Vector<T>& p, const Vector<T>& x, double t, const Vector<T>& d) {
    const T step = static_cast<T>(t);
    Kokkos::parallel_for(
        "optim::lbfgs_set_point", Kokkos::RangePolicy<tensor::ExecSpace>(0, p.extent(0)),
        KOKKOS_LAMBDA(const int i) { p(i) = x(i) + step * d(i); });
  }

 private:
  std::vector<double> stack(const std::vector<Vector<T>>& vectors) const {
    std::vector<double> out;
    out.reserve(vectors.size() * size_);
    for (const auto& v : vectors) {
      const std::vector<double> host = tensor::to_host(v);
      out.insert(out.end(), host.begin(), host.end());
    }
    return out;
  }

  std::vector<Vector<T>> unstack(const io::Hdf5Reader& file, const std::string& path,
                                 std::size_t k) const {
    std::vector<Vector<T>> out;
    if (k == 0) return out;
    std::vector<std::uint64_t> dims;
    if (!file.has(path))
      throw InputError(str(file.path(), ": optimiser state '", path, "' is missing"));
    const std::vector<double> values = file.read(path, &dims);
    if (dims.size() != 2 || dims[0] != k || dims[1] != size_) {
      throw InputError(str(file.path(), ": optimiser state '", path, "' is not ", k, " x ", size_,
                           " (checkpoint from a different model)"));
    }
    for (std::size_t j = 0; j < k; ++j) {
      Vector<T> v("optim::lbfgs_history", size_);
      auto host = Kokkos::create_mirror_view(v);
      for (std::size_t i = 0; i < size_; ++i) host(i) = static_cast<T>(values[j * size_ + i]);
      Kokkos::deep_copy(v, host);
      out.push_back(v);
    }
    return out;
  }

  LbfgsOptions options_;
  std::size_t size_ = 0;
  long long n_iter_ = 0;
  long long func_evals_ = 0;
  double t_ = 0;
  double h_diag_ = 1;
  double prev_loss_ = 0;
  double last_loss_ = 0;
  bool in_iteration_ = false;
  Vector<T> d_, prev_flat_grad_, spare_;
  std::vector<Vector<T>> old_dirs_, old_stps_;
  std::vector<double> ro_;
};

}  // namespace tessera::optim
