#include "models/pinn_traffic/pinn_task.hpp"
#include "core/tensor/host_copy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/optim/clip.hpp"
#include "core/optim/lbfgs.hpp"
#include "core/runtime/error.hpp"
#include "core/tensor/random.hpp"
#include "core/tensor/reduce.hpp"
#include "models/pinn_traffic/collocation.hpp"
#include "models/pinn_traffic/periodic_loss.hpp"
#include "models/pinn_traffic/speed_loss.hpp"

namespace tessera::models::pinn_traffic {

using tensor::Matrix;

namespace {

// The periodic pairs of the boundary times [first, first + count): the left ends (-1, t)
// first, then the right ends (1, t), as periodic_boundary_loss expects.
std::vector<double> boundary_pairs(const std::vector<double>& times, std::size_t first,
                                   std::size_t count) {
  std::vector<double> points(4 * count);
  for (std::size_t j = 0; j < count; ++j) {
    points[2 * j] = -1.0;
    points[2 * j + 1] = times[first + j];
    points[2 * (count + j)] = 1.0;
    points[2 * (count + j) + 1] = times[first + j];
  }
  return points;
}

double weighted_total(const LossTerms& terms, const LossWeights& w) {
  return w.data * terms.data + w.residual * terms.residual + w.initial * terms.initial +
         w.boundary * terms.boundary + w.speed * terms.speed;
}

// Stream of the refinement candidates: apart from every task's collocation streams.
constexpr std::uint64_t kRefinementStream = 0x4a4;

// The residual coefficients of a learned diagram with ratios {a, b} to the configured one
// (normalised: v_max' scales by a, rho_max' = b).
LwrResidualCoefficients scaled(LwrResidualCoefficients lwr, const std::array<double, 2>& ratios) {
  lwr.v_max *= ratios[0];
  lwr.rho_max *= ratios[1];
  return lwr;
}

// The density misfit (the network's first output) and the speed term of either model, for
// the task's gradient and the validator alike. `g` gets the learned diagram's gradient
// (LWR; the ARZ model fits its second output instead and leaves g alone).
template <class T>
double density_misfit(const Matrix<T>& out, const Matrix<T>& values, Matrix<T>& seed,
                      double weight) {
  return out.extent(1) == 1 ? nn::data_misfit_loss(out, values, seed, weight)
                            : column_misfit_loss(out, values, 0, seed, weight);
}

template <class T>
double speed_term(bool arz, const Matrix<T>& out, const Matrix<T>& values,
                  const std::array<double, 2>& ratio, Matrix<T>& seed, double weight,
                  std::array<double, 2>& g) {
  return arz ? column_misfit_loss(out, values, 1, seed, weight)
             : speed_misfit_loss(out, values, ratio[0], ratio[1], seed, weight, g);
}

}  // namespace

template <class T>
int declare_pinn_model(nn::ParameterStore<T>& store, nn::JetMlp<T>& net,
                       const NetworkSpec& network) {
  net.declare(store, "pinn", network.sizes(), network.activation);
  const int slice = network.learn_diagram ? store.add("pinn.diagram", {2}) : -1;
  store.finalize();  // zero-initialised: the learned diagram starts at the configured one
  return slice;
}

std::array<double, 2> diagram_ratios(const std::vector<double>& parameters,
                                     const NetworkSpec& network) {
  if (!network.learn_diagram) return {1.0, 1.0};
  const std::size_t n = parameters.size();
  return {std::exp(parameters.at(n - 2)), std::exp(parameters.at(n - 1))};
}

optim::Schedule OptimiserSpec::make_schedule(long long steps) const {
  if (schedule == "constant") return optim::Schedule::constant(lr);
  if (schedule == "warmup_cosine") {
    const long long total = steps > 1 ? steps : 1;
    return optim::Schedule::warmup_cosine(lr, warmup_steps < total ? warmup_steps : total, total,
                                          min_lr);
  }
  if (schedule == "step_decay") return optim::Schedule::step_decay(lr, decay_every, decay_gamma);
  throw InputError(str("train.schedule = \"", schedule,
                       "\" is not a schedule: expected constant, warmup_cosine or step_decay"));
}

template <class T>
PinnTask<T>::PinnTask(MPI_Comm comm, const PinnProblem& problem, const NetworkSpec& network,
                      const TaskSpec& spec, const TrainingData& data, std::uint64_t seed,
                      const OptimiserSpec& optimiser, long long adam_steps)
    : comm_(comm),
      problem_(problem),
      spec_(spec),
      seed_(seed),
      clip_norm_(optimiser.clip_norm),
      lbfgs_history_(optimiser.lbfgs_history),
      lbfgs_tolerance_change_(optimiser.lbfgs_tolerance_change),
      allreduce_(comm) {
  MPI_Comm_rank(comm, &rank_);
  MPI_Comm_size(comm, &ranks_);
  problem.validate();
  if (spec.collocation.points == 0) {
    throw InputError("collocation.points = 0: the PDE residual needs collocation points");
  }
  if (!(spec.collocation.time_fraction > 0 && spec.collocation.time_fraction <= 1)) {
    throw InputError(str("task '", spec.name, "': time fraction ", spec.collocation.time_fraction,
                         " of the collocation sub-domain must be in (0, 1]"));
  }
  lwr_ = problem.residual_parameters();
  arz_ = problem.arz_parameters();
  if (network.outputs != (problem.arz ? 2u : 1u)) {
    throw std::invalid_argument(str("PinnTask: a network of ", network.outputs, " outputs for the ",
                                    problem.arz ? "ARZ (2: u, w)" : "LWR (1: u)", " model"));
  }
  if (problem.arz && network.learn_diagram) {
    throw InputError(
        "model.learn_diagram is for the LWR residual; the ARZ model (model.pde = \"arz\") "
        "fits the speed as an output instead");
  }
  diagram_slice_ = declare_pinn_model(store_, net_, network);
  weights_ = spec.weights;
  // Tasks with init_stream 0 start from the run's seed alike (blends stay in one basin).
  net_.init(store_, spec.init_stream == 0 ? seed : tensor::counter_hash(seed, spec.init_stream, 0));
  if (network.space_frequency != 1.0 || network.time_frequency != 1.0) {
    const tensor::Matrix<T> first = store_.param_matrix(store_.find("pinn.linear0.weight"));
    auto host = Kokkos::create_mirror_view(first);
    Kokkos::deep_copy(host, first);
    for (std::size_t j = 0; j < first.extent(0); ++j) {
      host(j, 0) = static_cast<T>(host(j, 0) * network.space_frequency);
      host(j, 1) = static_cast<T>(host(j, 1) * network.time_frequency);
    }
    Kokkos::deep_copy(first, host);
  }
  optim::AdamOptions adam;
  adam.lr = optimiser.lr;
  adam_ = std::make_unique<optim::Adam<T>>(store_, adam);
  schedule_ = optimiser.make_schedule(adam_steps);

  observation_total_ = data.observation_count();
  upload_shard(data.observation_points, data.observation_values, observation_total_,
               observation_points_, observation_values_);
  initial_total_ = data.initial_count();
  upload_shard(data.initial_points, data.initial_values, initial_total_, initial_points_,
               initial_values_);
  speed_total_ = data.speed_count();
  upload_shard(data.speed_points, data.speed_values, speed_total_, speed_points_, speed_values_);
  boundary_total_ = data.boundary_times.size();
  const Shard b = shard_of(boundary_total_, rank_, ranks_);
  boundary_points_ = tensor::from_host<T>(boundary_pairs(data.boundary_times, b.first, b.count), 2,
                                          0, 2 * b.count, "pinn::boundary_points");
  set_epoch(0);
}

template <class T>
void PinnTask<T>::upload_shard(const std::vector<double>& points, const std::vector<double>& values,
                               std::size_t total, Matrix<T>& device_points,
                               Matrix<T>& device_values) {
  const Shard s = shard_of(total, rank_, ranks_);
  device_points = tensor::from_host<T>(points, 2, s.first, s.count, "pinn::points");
  device_values = tensor::from_host<T>(values, 1, s.first, s.count, "pinn::values");
}

template <class T>
void PinnTask<T>::set_epoch(std::uint64_t epoch) {
  Box box;
  box.t_high = -1.0 + 2.0 * spec_.collocation.time_fraction;
  std::vector<double> points = sample_points(spec_.collocation.sampler, spec_.collocation.points,
                                             box, seed_, spec_.stream, epoch);
  points.insert(points.end(), refined_.begin(), refined_.end());
  collocation_total_ = points.size() / 2;
  const Shard s = shard_of(collocation_total_, rank_, ranks_);
  collocation_ = tensor::from_host<T>(points, 2, s.first, s.count, "pinn::collocation");
  epoch_ = epoch;
}

template <class T>
std::array<double, 2> PinnTask<T>::ratios() const {
  if (diagram_slice_ < 0) return {1.0, 1.0};
  const std::vector<double> theta = tensor::to_host(store_.param_vector(diagram_slice_));
  return {std::exp(theta[0]), std::exp(theta[1])};
}

template <class T>
LwrResidualCoefficients PinnTask<T>::coefficients() const {
  return scaled(lwr_, ratios());
}

template <class T>
std::array<double, 2> PinnTask<T>::diagram() const {
  const std::array<double, 2> r = ratios();
  return {problem_.v_max * r[0], problem_.rho_max * r[1]};
}

template <class T>
LossTerms PinnTask<T>::gradient() {
  return gradient_with(weights_);
}

template <class T>
LossTerms PinnTask<T>::gradient_with(const LossWeights& w) {
  store_.zero_grad();
  const double ranks = static_cast<double>(ranks_);
  const std::array<double, 2> ratio = ratios();
  const LwrResidualCoefficients lwr = scaled(lwr_, ratio);
  const bool learning = diagram_slice_ >= 0;
  std::array<double, 2> diagram_gradient{0.0, 0.0};
  // Per term: this rank's sum of squares over its points. The gradient of each term is
  // scaled by ranks x (local points / global points), so that the all-reduce average
  // (sum / ranks) is the gradient of the global mean.
  double sums[5] = {0, 0, 0, 0, 0};  // data, residual, initial, boundary, speed
  const std::size_t n_colloc = collocation_.extent(0);
  if (w.residual > 0 && n_colloc > 0) {
    const double scale = w.residual * ranks * static_cast<double>(n_colloc) /
                         static_cast<double>(collocation_total_);
    const double mean = net_.forward_backward(
        store_, collocation_, [&](const Matrix<T>& jet, Matrix<T>& seed, double weight) {
          if (problem_.arz) return arz_residual_loss(jet, arz_, seed, weight * scale);
          const double loss = lwr_residual_loss(jet, lwr, seed, weight * scale);
          if (learning) {
            const std::array<double, 2> g = lwr_diagram_gradient(jet, seed, lwr);
            diagram_gradient[0] += g[0];
            diagram_gradient[1] += g[1];
          }
          return loss;
        });
    sums[1] = mean * static_cast<double>(n_colloc);
  }
  auto misfit = [&](double weight, const Matrix<T>& points, const Matrix<T>& values,
                    std::size_t total, double& sum) {
    const std::size_t n = points.extent(0);
    if (!(weight > 0) || n == 0) return;
    const double scale = weight * ranks * static_cast<double>(n) / static_cast<double>(total);
    const Matrix<T>& out = net_.forward_values(store_, points);
    sum = density_misfit(out, values, seed_buffer_, scale) * static_cast<double>(n);
    net_.backward(store_, seed_buffer_);
  };
  misfit(w.data, observation_points_, observation_values_, observation_total_, sums[0]);
  misfit(w.initial, initial_points_, initial_values_, initial_total_, sums[2]);
  const std::size_t pairs = boundary_points_.extent(0) / 2;
  if (w.boundary > 0 && pairs > 0) {
    const double scale =
        w.boundary * ranks * static_cast<double>(pairs) / static_cast<double>(boundary_total_);
    const Matrix<T>& jet = net_.forward(store_, boundary_points_);
    sums[3] = periodic_boundary_loss(jet, seed_buffer_, scale) * static_cast<double>(pairs);
    net_.backward(store_, seed_buffer_);
  }
  const std::size_t n_speed = speed_points_.extent(0);
  if (w.speed > 0 && n_speed > 0) {
    const double scale =
        w.speed * ranks * static_cast<double>(n_speed) / static_cast<double>(speed_total_);
    std::array<double, 2> g{0.0, 0.0};
    const Matrix<T>& out = net_.forward_values(store_, speed_points_);
    sums[4] = speed_term(problem_.arz, out, speed_values_, ratio, seed_buffer_, scale, g) *
              static_cast<double>(n_speed);
    net_.backward(store_, seed_buffer_);
    if (learning) {
      diagram_gradient[0] += g[0];
      diagram_gradient[1] += g[1];
    }
  }
  if (learning) {
    const tensor::Vector<T> grad = store_.grad_vector(diagram_slice_);
    auto host = Kokkos::create_mirror_view(grad);
    host(0) = static_cast<T>(diagram_gradient[0]);
    host(1) = static_cast<T>(diagram_gradient[1]);
    Kokkos::deep_copy(grad, host);
  }
  allreduce_.average(store_);
  MPI_Allreduce(MPI_IN_PLACE, sums, 5, MPI_DOUBLE, MPI_SUM, comm_);
  auto mean_of = [](double sum, std::size_t total) {
    return total > 0 ? sum / static_cast<double>(total) : 0.0;
  };
  LossTerms terms;
  terms.data = mean_of(sums[0], observation_total_);
  terms.residual = mean_of(sums[1], collocation_total_);
  terms.initial = mean_of(sums[2], initial_total_);
  terms.boundary = mean_of(sums[3], boundary_total_);
  terms.speed = mean_of(sums[4], speed_total_);
  terms.total = weighted_total(terms, w);
  ++evaluations_;
  last_ = terms;
  return terms;
}

template <class T>
void PinnTask<T>::adapt_weights() {
  // Statistics over the network's parameters (the learned diagram's two are not weights
  // of the layers whose gradient magnitudes the method balances).
  const std::size_t n = store_.size() - (diagram_slice_ >= 0 ? 2 : 0);
  const tensor::Vector<T> network_grads =
      Kokkos::subview(store_.grads(), std::make_pair(std::size_t(0), n));
  LossWeights residual_only{0, weights_.residual, 0, 0, 0};
  gradient_with(residual_only);
  const double reference = tensor::max_abs(network_grads);
  const auto adapt = [&](double LossWeights::*term, std::size_t points) {
    if (!(spec_.weights.*term > 0) || points == 0) return;
    LossWeights one{0, 0, 0, 0, 0};
    one.*term = 1.0;
    gradient_with(one);
    const double mean = tensor::abs_sum(network_grads) / static_cast<double>(n);
    if (!(mean > 0) || !(reference > 0)) return;
    const double alpha = spec_.adaptive.alpha;
    weights_.*term = (1 - alpha) * weights_.*term + alpha * reference / mean;
  };
  adapt(&LossWeights::data, observation_total_);
  adapt(&LossWeights::initial, initial_total_);
  adapt(&LossWeights::boundary, boundary_total_);
  adapt(&LossWeights::speed, speed_total_);
}

template <class T>
void PinnTask<T>::refine_collocation() {
  const ResidualRefinement& r = spec_.collocation.refinement;
  Box box;
  box.t_high = -1.0 + 2.0 * spec_.collocation.time_fraction;
  // Every rank scores the whole candidate set alike, so all pick the same points.
  const std::vector<double> candidates =
      sample_points(SamplerKind::kSobol, r.candidates, box, seed_, kRefinementStream + spec_.stream,
                    ++refinement_round_);
  const Matrix<T> points = tensor::from_host<T>(candidates, 2, 0, r.candidates, "pinn::rar");
  const Matrix<T>& jet_device = net_.forward(store_, points);
  auto jet = Kokkos::create_mirror_view(jet_device);
  Kokkos::deep_copy(jet, jet_device);
  const LwrResidualCoefficients lwr = coefficients();
  const std::size_t n = r.candidates;
  std::vector<double> residual(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (problem_.arz) {
      const ArzPoint p{jet(i, 0),         jet(i, 1),         jet(n + i, 0),    jet(n + i, 1),
                       jet(2 * n + i, 0), jet(2 * n + i, 1), jet(3 * n + i, 0)};
      residual[i] = std::hypot(p.r1(arz_), p.r2(arz_));
      continue;
    }
    const double u = jet(i, 0), u_x = jet(n + i, 0), u_t = jet(2 * n + i, 0);
    const double u_xx = jet(3 * n + i, 0);
    const double speed = lwr.v_max * (1.0 - 2.0 * u / lwr.rho_max);
    residual[i] = std::abs(u_t + speed * u_x - lwr.viscosity * u_xx);
  }
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  const std::size_t keep = std::min(r.points, n);
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                    [&](std::size_t a, std::size_t b) {
                      return residual[a] > residual[b] || (residual[a] == residual[b] && a < b);
                    });
  for (std::size_t k = 0; k < keep; ++k) {
    refined_.push_back(candidates[2 * order[k]]);
    refined_.push_back(candidates[2 * order[k] + 1]);
  }
  set_epoch(epoch_);
}

template <class T>
void PinnTask<T>::set_refined_points(const std::vector<double>& points) {
  refined_ = points;
  set_epoch(epoch_);
}

template <class T>
LossTerms PinnTask<T>::adam_step() {
  const long long every = spec_.collocation.resample_every;
  if (every > 0 && step_ > 0 && step_ % every == 0) {
    set_epoch(static_cast<std::uint64_t>(step_ / every));
  }
  const long long refine = spec_.collocation.refinement.every;
  if (refine > 0 && step_ > 0 && step_ % refine == 0) refine_collocation();
  const long long adapt = spec_.adaptive.every;
  if (adapt > 0 && step_ % adapt == 0) adapt_weights();
  adam_->set_lr(schedule_.lr(step_));
  const LossTerms terms = gradient();
  // After the all-reduce every rank holds the same gradient: clip without a communicator.
  if (clip_norm_ > 0) optim::clip_grad_norm(store_, clip_norm_);
  adam_->step(store_);
  ++step_;
  return terms;
}

template <class T>
long long PinnTask<T>::lbfgs(long long budget, long long chunk,
                             const std::function<void(long long, const LossTerms&)>& after_chunk,
                             const std::function<void(long long)>& boundary) {
  if (budget <= 0) return 0;
  optim::LbfgsOptions options;
  options.max_iter = static_cast<int>(chunk > 0 ? chunk : budget);
  options.max_eval = options.max_iter;
  options.history_size = lbfgs_history_;
  options.tolerance_change = lbfgs_tolerance_change_;
  if (lbfgs_resumed_) {
    // A checkpoint of this run: the same chunks (the configuration is the checkpoint's).
    if (lbfgs_->options().max_iter != options.max_iter ||
        lbfgs_->options().max_eval != options.max_eval) {
      throw InputError(str("resumed L-BFGS: the checkpoint's chunks of ",
                           lbfgs_->options().max_iter,
                           " evaluations differ from train.log_every = ", options.max_iter));
    }
    lbfgs_resumed_ = false;
  } else {
    lbfgs_ = std::make_unique<optim::Lbfgs<T>>(store_, options);
    lbfgs_run_ = LbfgsRun{};
  }
  optim::Lbfgs<T>& lbfgs = *lbfgs_;
  LbfgsRun& run = lbfgs_run_;
  // The budget is exact: once it is spent, the next closure call leaves the step (a line
  // search cannot be cut short otherwise) and the task keeps the best point it evaluated.
  struct BudgetSpent {};
  auto closure = [&](nn::ParameterStore<T>&) {
    if (run.used >= budget) throw BudgetSpent{};
    ++run.used;
    const LossTerms terms = gradient();
    if (terms.total < run.best) {
      run.best = terms.total;
      run.best_parameters = parameters();
      run.best_terms = terms;
    }
    return terms.total;
  };
  try {
    while (run.used < budget) {
      const long long before = run.used;
      const long long iterations = lbfgs.iterations();
      lbfgs.step(store_, closure);
      if (after_chunk) after_chunk(run.used, last_);
      // Converged (torch's tests on the gradient, the step or the loss change): a call
      // that takes no step, or evaluates once and stops, would only repeat itself.
      if (lbfgs.iterations() == iterations || run.used - before <= 1) break;
      // Between step() calls the state is whole: the next call starts by evaluating the
      // closure at the parameters the last one left.
      if (boundary && run.used < budget) boundary(run.used);
    }
  } catch (const BudgetSpent&) {
    set_parameters(run.best_parameters);
    last_ = run.best_terms;
    if (after_chunk) after_chunk(run.used, last_);
  }
  return run.used;
}

namespace {
std::vector<double> terms_vector(const LossTerms& t) {
  return {t.data, t.residual, t.initial, t.boundary, t.speed, t.total};
}
LossTerms terms_of(const std::vector<double>& v, std::size_t at) {
  return LossTerms{v.at(at), v.at(at + 1), v.at(at + 2), v.at(at + 3), v.at(at + 4), v.at(at + 5)};
}
}  // namespace

template <class T>
void PinnTask<T>::save_state(io::ResultsFile& file, const std::string& group) const {
  store_.save(file, group + "/parameters");
  adam_->save(file, group + "/adam");
  // Counters, loss weights and last terms: 4 + 5 + 6 values.
  std::vector<double> scalars = {static_cast<double>(step_),
                                 static_cast<double>(evaluations_),
                                 static_cast<double>(epoch_),
                                 static_cast<double>(refinement_round_),
                                 weights_.data,
                                 weights_.residual,
                                 weights_.initial,
                                 weights_.boundary,
                                 weights_.speed};
  const std::vector<double> last = terms_vector(last_);
  scalars.insert(scalars.end(), last.begin(), last.end());
  file.write_root_array(group + "/scalars", {scalars.size()}, scalars);
  file.write_root_array(group + "/refined", {refined_.size()}, refined_);
  if (lbfgs_) {
    lbfgs_->save(file, group + "/lbfgs");
    // [used, best, max_iter, max_eval] and the best point's loss terms.
    std::vector<double> run = {static_cast<double>(lbfgs_run_.used), lbfgs_run_.best,
                               static_cast<double>(lbfgs_->options().max_iter),
                               static_cast<double>(lbfgs_->options().max_eval)};
    const std::vector<double> best = terms_vector(lbfgs_run_.best_terms);
    run.insert(run.end(), best.begin(), best.end());
    file.write_root_array(group + "/lbfgs_run", {run.size()}, run);
    // The dimensions named as a vector: nvcc's front end turns a braced size() of a
    // member here into a plain size_t and the call no longer compiles.
    const std::vector<std::uint64_t> best_dims = {lbfgs_run_.best_parameters.size()};
    file.write_root_array(group + "/lbfgs_best_parameters", best_dims, lbfgs_run_.best_parameters);
  }
}

template <class T>
void PinnTask<T>::load_state(const io::Hdf5Reader& file, const std::string& group) {
  store_.load(file, group + "/parameters");
  adam_->load(file, group + "/adam");
  const std::vector<double> scalars = file.read(group + "/scalars");
  if (scalars.size() != 15) {
    throw InputError(str(file.path(), ": ", group, "/scalars holds ", scalars.size(),
                         " values, expected 15 (a checkpoint of another version)"));
  }
  step_ = static_cast<long long>(scalars[0]);
  evaluations_ = static_cast<long long>(scalars[1]);
  refinement_round_ = static_cast<std::uint64_t>(scalars[3]);
  weights_ = LossWeights{scalars[4], scalars[5], scalars[6], scalars[7], scalars[8]};
  last_ = terms_of(scalars, 9);
  refined_ = file.read(group + "/refined");
  set_epoch(static_cast<std::uint64_t>(scalars[2]));  // the epoch's points, then refined_
  lbfgs_.reset();
  lbfgs_resumed_ = false;
  if (file.has(group + "/lbfgs_run")) {
    const std::vector<double> run = file.read(group + "/lbfgs_run");
    if (run.size() != 10) {
      throw InputError(str(file.path(), ": ", group, "/lbfgs_run holds ", run.size(),
                           " values, expected 10 (a checkpoint of another version)"));
    }
    optim::LbfgsOptions options;
    options.max_iter = static_cast<int>(run[2]);
    options.max_eval = static_cast<int>(run[3]);
    options.history_size = lbfgs_history_;
    options.tolerance_change = lbfgs_tolerance_change_;
    lbfgs_ = std::make_unique<optim::Lbfgs<T>>(store_, options);
    lbfgs_->load(file, group + "/lbfgs");
    lbfgs_run_.used = static_cast<long long>(run[0]);
    lbfgs_run_.best = run[1];
    lbfgs_run_.best_terms = terms_of(run, 4);
    lbfgs_run_.best_parameters = file.read(group + "/lbfgs_best_parameters");
    lbfgs_resumed_ = true;
  }
}

template <class T>
void PinnTask<T>::prepare_evaluation(const EvaluationSet& set) {
  if (evaluation_set_ == &set &&
      evaluation_points_.extent(0) == shard_of(set.size(), rank_, ranks_).count) {
    return;
  }
  const Shard s = shard_of(set.size(), rank_, ranks_);
  evaluation_points_ =
      tensor::from_host<T>(set.points, 2, s.first, s.count, "pinn::evaluation_points");
  evaluation_first_ = s.first;
  evaluation_set_ = &set;
}

template <class T>
EvaluationMetrics PinnTask<T>::evaluate(const EvaluationSet& set) {
  prepare_evaluation(set);
  // Sums of squared errors and of squared truths: over the counted cells, over all, over
  // the validation rows.
  double sums[6] = {0, 0, 0, 0, 0, 0};
  const std::size_t n = evaluation_points_.extent(0);
  if (n > 0) {
    const Matrix<T>& out = net_.forward_values(store_, evaluation_points_);
    auto host = Kokkos::create_mirror_view(out);
    Kokkos::deep_copy(host, out);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t k = evaluation_first_ + i;
      const double truth = set.truth[k];
      const double error = problem_.rho_of(static_cast<double>(host(i, 0))) - truth;
      if (set.in_metric[k]) {
        sums[0] += error * error;
        sums[1] += truth * truth;
      }
      sums[2] += error * error;
      sums[3] += truth * truth;
      if (set.in_validation[k]) {
        sums[4] += error * error;
        sums[5] += truth * truth;
      }
    }
  }
  MPI_Allreduce(MPI_IN_PLACE, sums, 6, MPI_DOUBLE, MPI_SUM, comm_);
  auto relative = [](double error, double norm) {
    return norm > 0 ? std::sqrt(error / norm) : std::sqrt(error);
  };
  EvaluationMetrics metrics;
  metrics.relative_l2 = relative(sums[0], sums[1]);
  metrics.relative_l2_all = relative(sums[2], sums[3]);
  metrics.relative_l2_validation = relative(sums[4], sums[5]);
  return metrics;
}

template <class T>
std::vector<double> PinnTask<T>::predict(const EvaluationSet& set) {
  prepare_evaluation(set);
  const std::size_t n = evaluation_points_.extent(0);
  std::vector<double> local(n);
  if (n > 0) {
    const Matrix<T>& out = net_.forward_values(store_, evaluation_points_);
    auto host = Kokkos::create_mirror_view(out);
    Kokkos::deep_copy(host, out);
    for (std::size_t i = 0; i < n; ++i) local[i] = problem_.rho_of(static_cast<double>(host(i, 0)));
  }
  std::vector<int> counts(ranks_), offsets(ranks_);
  for (int r = 0; r < ranks_; ++r) {
    const Shard s = shard_of(set.size(), r, ranks_);
    counts[r] = static_cast<int>(s.count);
    offsets[r] = static_cast<int>(s.first);
  }
  std::vector<double> all(set.size());
  MPI_Allgatherv(local.data(), static_cast<int>(n), MPI_DOUBLE, all.data(), counts.data(),
                 offsets.data(), MPI_DOUBLE, comm_);
  return all;
}

template <class T>
std::vector<double> PinnTask<T>::parameters() const {
  return tensor::to_host(store_.params());
}

template <class T>
void PinnTask<T>::set_parameters(const std::vector<double>& values) {
  if (values.size() != store_.size()) {
    throw std::invalid_argument(str("PinnTask::set_parameters: ", values.size(),
                                    " values for a network of ", store_.size(), " parameters"));
  }
  auto mirror = Kokkos::create_mirror_view(store_.params());
  for (std::size_t i = 0; i < values.size(); ++i) mirror(i) = static_cast<T>(values[i]);
  Kokkos::deep_copy(store_.params(), mirror);
}

template <class T>
Validator<T>::Validator(const PinnProblem& problem, const NetworkSpec& network,
                        const LossWeights& weights, const TrainingData& data,
                        const std::vector<double>& collocation)
    : network_(network),
      weights_(weights),
      arz_model_(problem.arz),
      arz_(problem.arz_parameters()),
      lwr_(problem.residual_parameters()) {
  declare_pinn_model(store_, net_, network);
  collocation_ =
      tensor::from_host<T>(collocation, 2, 0, collocation.size() / 2, "pinn::validation");
  observation_points_ = tensor::from_host<T>(
      data.observation_points, 2, 0, data.observation_count(), "pinn::validation_observations");
  observation_values_ = tensor::from_host<T>(data.observation_values, 1, 0,
                                             data.observation_count(), "pinn::validation_values");
  initial_points_ = tensor::from_host<T>(data.initial_points, 2, 0, data.initial_count(),
                                         "pinn::validation_initial");
  initial_values_ = tensor::from_host<T>(data.initial_values, 1, 0, data.initial_count(),
                                         "pinn::validation_initial_values");
  const std::size_t m = data.boundary_times.size();
  boundary_points_ = tensor::from_host<T>(boundary_pairs(data.boundary_times, 0, m), 2, 0, 2 * m,
                                          "pinn::validation_boundary");
  speed_points_ = tensor::from_host<T>(data.speed_points, 2, 0, data.speed_count(),
                                       "pinn::validation_speed_points");
  speed_values_ = tensor::from_host<T>(data.speed_values, 1, 0, data.speed_count(),
                                       "pinn::validation_speed_values");
}

template <class T>
LossTerms Validator<T>::objective(const std::vector<double>& parameters) {
  if (parameters.size() != store_.size()) {
    throw std::invalid_argument(str("Validator::objective: ", parameters.size(),
                                    " values for a network of ", store_.size(), " parameters"));
  }
  auto mirror = Kokkos::create_mirror_view(store_.params());
  for (std::size_t i = 0; i < parameters.size(); ++i) mirror(i) = static_cast<T>(parameters[i]);
  Kokkos::deep_copy(store_.params(), mirror);
  const std::array<double, 2> ratio = diagram_ratios(parameters, network_);
  LossTerms terms;
  if (weights_.residual > 0 && collocation_.extent(0) > 0) {
    const Matrix<T>& jet = net_.forward(store_, collocation_);
    terms.residual = arz_model_ ? arz_residual_loss(jet, arz_, seed_)
                                : lwr_residual_loss(jet, scaled(lwr_, ratio), seed_);
  }
  if (weights_.speed > 0 && speed_points_.extent(0) > 0) {
    std::array<double, 2> unused{0.0, 0.0};
    const Matrix<T>& out = net_.forward_values(store_, speed_points_);
    terms.speed = speed_term(arz_model_, out, speed_values_, ratio, seed_, 1.0, unused);
  }
  if (weights_.data > 0 && observation_points_.extent(0) > 0) {
    const Matrix<T>& out = net_.forward_values(store_, observation_points_);
    terms.data = density_misfit(out, observation_values_, seed_, 1.0);
  }
  if (weights_.initial > 0 && initial_points_.extent(0) > 0) {
    const Matrix<T>& out = net_.forward_values(store_, initial_points_);
    terms.initial = density_misfit(out, initial_values_, seed_, 1.0);
  }
  if (weights_.boundary > 0 && boundary_points_.extent(0) > 0) {
    terms.boundary = periodic_boundary_loss(net_.forward(store_, boundary_points_), seed_);
  }
  terms.total = weighted_total(terms, weights_);
  return terms;
}

template int declare_pinn_model(nn::ParameterStore<float>&, nn::JetMlp<float>&, const NetworkSpec&);
template int declare_pinn_model(nn::ParameterStore<double>&, nn::JetMlp<double>&,
                                const NetworkSpec&);
template class PinnTask<float>;
template class PinnTask<double>;
template class Validator<float>;
template class Validator<double>;

}  // namespace tessera::models::pinn_traffic
