#include "solvers/flow/krylov.hpp"

#include <cmath>

namespace tessera::solvers::flow {
namespace {

using Range = Kokkos::RangePolicy<tensor::ExecSpace>;

// y = a x + b y over owned rows.
void axpby(std::size_t n, double a, const Vec& x, double b, const Vec& y) {
  Kokkos::parallel_for(
      "flow::axpby", Range(0, n),
      KOKKOS_LAMBDA(const int i) { y(i, 0) = a * x(i, 0) + b * y(i, 0); });
}

// z = r / diag
void jacobi(std::size_t n, const Kokkos::View<double*, tensor::MemSpace>& inv_diag, const Vec& r,
            const Vec& z) {
  Kokkos::parallel_for(
      "flow::jacobi", Range(0, n), KOKKOS_LAMBDA(const int i) { z(i, 0) = inv_diag(i) * r(i, 0); });
}

Kokkos::View<double*, tensor::MemSpace> inverse_diagonal(const DistributedCsr& a,
                                                         KrylovWorkspace* workspace) {
  Kokkos::View<double*, tensor::MemSpace> d;
  if (workspace != nullptr) {
    auto& kept = workspace->inverse_diagonal;
    if (kept.extent(0) != a.pattern->rows || kept.data() == nullptr) {
      kept = Kokkos::View<double*, tensor::MemSpace>("krylov::inverse_diagonal", a.pattern->rows);
    }
    d = kept;
  } else {
    d = Kokkos::View<double*, tensor::MemSpace>("krylov::inverse_diagonal", a.pattern->rows);
  }
  a.diagonal(d);
  Kokkos::parallel_for(
      "flow::invert_diagonal", Range(0, d.extent(0)),
      KOKKOS_LAMBDA(const int i) { d(i) = d(i) != 0.0 ? 1.0 / d(i) : 1.0; });
  return d;
}

// CG's update after the step length, four kernels and two dot products in one pass:
// x += alpha p, r -= alpha q, z = r / diag, and this rank's sums r.r and r.z (the next
// residual norm and the next rz). Each value is computed as the separate kernels did.
struct CgUpdate {
  using value_type = double[];
  const unsigned value_count = 2;
  double alpha;
  Vec p, q, x, r, z;
  Kokkos::View<double*, tensor::MemSpace> inv_diag;

  KOKKOS_INLINE_FUNCTION void operator()(const int i, value_type sums) const {
    x(i, 0) = alpha * p(i, 0) + 1.0 * x(i, 0);
    r(i, 0) = -alpha * q(i, 0) + 1.0 * r(i, 0);
    z(i, 0) = inv_diag(i) * r(i, 0);
    sums[0] += r(i, 0) * r(i, 0);
    sums[1] += r(i, 0) * z(i, 0);
  }
};

// `count` vectors of `local` rows for one solve: the workspace's (allocated once), or new
// ones. Their contents on entry are whatever the last solve left: the solvers write every
// owned row before reading it and gather ghosts before a product reads them.
std::vector<Vec> solve_vectors(KrylovWorkspace* workspace, std::size_t count, std::size_t local,
                               const char* label) {
  if (workspace == nullptr) {
    std::vector<Vec> fresh;
    for (std::size_t k = 0; k < count; ++k) fresh.push_back(Vec(std::string(label), local, 1));
    return fresh;
  }
  auto& kept = workspace->vectors;
  if (kept.size() < count) kept.resize(count);
  for (auto& v : kept) tensor::ensure_shape(v, "krylov::workspace", local, 1);
  return std::vector<Vec>(kept.begin(), kept.begin() + static_cast<long>(count));
}

}  // namespace

void residual(const parallel::HaloPlan& plan, const DistributedCsr& a, const Vec& b, const Vec& x,
              const Vec& r, runtime::Timers* timers) {
  timed_gather(plan, x, timers);
  a.apply(x, r);
  axpby(plan.owned_count(), 1.0, b, -1.0, r);
}

void timed_gather(const parallel::HaloPlan& plan, const Vec& v, runtime::Timers* timers) {
  if (timers == nullptr) {
    plan.gather(v);
    return;
  }
  Kokkos::fence();
  runtime::Timers::Scope scope(timers, kHaloExchangeRegion);
  plan.gather(v);
}

void timed_allreduce(const void* send, void* receive, int count, MPI_Datatype type, MPI_Op op,
                     MPI_Comm comm, runtime::Timers* timers) {
  if (timers == nullptr) {
    MPI_Allreduce(send, receive, count, type, op, comm);
    return;
  }
  runtime::Timers::Scope scope(timers, kAllreduceRegion);
  MPI_Allreduce(send, receive, count, type, op, comm);
}

double dot(MPI_Comm comm, std::size_t owned, const Vec& a, const Vec& b, runtime::Timers* timers) {
  double local = 0;
  Kokkos::parallel_reduce(
      "flow::dot", Range(0, owned),
      KOKKOS_LAMBDA(const int i, double& sum) { sum += a(i, 0) * b(i, 0); }, local);
  double global = 0;
  timed_allreduce(&local, &global, 1, MPI_DOUBLE, MPI_SUM, comm, timers);
  return global;
}

KrylovStats conjugate_gradient(MPI_Comm comm, const parallel::HaloPlan& plan,
                               const DistributedCsr& a, const Vec& b, const Vec& x,
                               const KrylovOptions& options, runtime::Timers* timers,
                               KrylovWorkspace* workspace) {
  const std::size_t n = plan.owned_count(), local = plan.local_count();
  const std::vector<Vec> vectors = solve_vectors(workspace, 4, local, "cg::vector");
  const Vec &r = vectors[0], &z = vectors[1], &p = vectors[2], &q = vectors[3];
  const auto inv_diag = inverse_diagonal(a, workspace);
  residual(plan, a, b, x, r, timers);
  KrylovStats stats;
  const double b_norm = std::sqrt(dot(comm, n, b, b, timers));
  double r_norm = std::sqrt(dot(comm, n, r, r, timers));
  stats.initial_residual = stats.final_residual = r_norm;
  const double target = std::max(options.relative_tolerance * b_norm, options.absolute_tolerance);
  if (r_norm <= target) {
    stats.converged = true;
    timed_gather(plan, x, timers);
    return stats;
  }
  jacobi(n, inv_diag, r, z);
  Kokkos::deep_copy(p, z);
  double rz = dot(comm, n, r, z, timers);
  // Three kernels and two all-reduces per iteration: the product with p.q, the fused
  // update with r.r and r.z (CgUpdate), and the new direction.
  for (int it = 1; it <= options.max_iterations; ++it) {
    timed_gather(plan, p, timers);
    const double pq_local = a.apply_and_dot(p, q);
    double pq = 0;
    timed_allreduce(&pq_local, &pq, 1, MPI_DOUBLE, MPI_SUM, comm, timers);
    const double alpha = rz / pq;
    double local_sums[2] = {0, 0}, sums[2] = {0, 0};
    Kokkos::parallel_reduce("flow::cg_update", Range(0, n),
                            CgUpdate{2, alpha, p, q, x, r, z, inv_diag}, local_sums);
    timed_allreduce(local_sums, sums, 2, MPI_DOUBLE, MPI_SUM, comm, timers);
    r_norm = std::sqrt(sums[0]);
    stats.iterations = it;
    stats.final_residual = r_norm;
    if (!(r_norm > target)) {  // also stops on NaN
      stats.converged = r_norm <= target;
      break;
    }
    const double rz_new = sums[1];
    axpby(n, 1.0, z, rz_new / rz, p);
    rz = rz_new;
  }
  timed_gather(plan, x, timers);
  return stats;
}

KrylovStats bicgstab(MPI_Comm comm, const parallel::HaloPlan& plan, const DistributedCsr& a,
                     const Vec& b, const Vec& x, const KrylovOptions& options,
                     runtime::Timers* timers, KrylovWorkspace* workspace) {
  const std::size_t n = plan.owned_count(), local = plan.local_count();
  const std::vector<Vec> vectors = solve_vectors(workspace, 8, local, "bicgstab::vector");
  const Vec &r = vectors[0], &r0 = vectors[1], &p = vectors[2], &v = vectors[3], &s = vectors[4],
            &t = vectors[5], &ph = vectors[6], &sh = vectors[7];
  const auto inv_diag = inverse_diagonal(a, workspace);
  residual(plan, a, b, x, r, timers);
  KrylovStats stats;
  const double b_norm = std::sqrt(dot(comm, n, b, b, timers));
  double r_norm = std::sqrt(dot(comm, n, r, r, timers));
  stats.initial_residual = stats.final_residual = r_norm;
  const double target = std::max(options.relative_tolerance * b_norm, options.absolute_tolerance);
  if (r_norm <= target) {
    stats.converged = true;
    timed_gather(plan, x, timers);
    return stats;
  }
  Kokkos::deep_copy(r0, r);
  double rho = 1, alpha = 1, omega = 1;
  for (int it = 1; it <= options.max_iterations; ++it) {
    const double rho_new = dot(comm, n, r0, r, timers);
    if (rho_new == 0.0) break;  // breakdown: return what we have
    if (it == 1) {
      Kokkos::deep_copy(p, r);
    } else {
      const double beta = (rho_new / rho) * (alpha / omega);
      // p = r + beta (p - omega v)
      axpby(n, -omega, v, 1.0, p);
      axpby(n, 1.0, r, beta, p);
    }
    rho = rho_new;
    jacobi(n, inv_diag, p, ph);
    timed_gather(plan, ph, timers);
    a.apply(ph, v);
    alpha = rho / dot(comm, n, r0, v, timers);
    Kokkos::deep_copy(s, r);
    axpby(n, -alpha, v, 1.0, s);
    stats.iterations = it;
    const double s_norm = std::sqrt(dot(comm, n, s, s, timers));
    if (!(s_norm > target)) {
      axpby(n, alpha, ph, 1.0, x);
      stats.final_residual = s_norm;
      stats.converged = s_norm <= target;
      break;
    }
    jacobi(n, inv_diag, s, sh);
    timed_gather(plan, sh, timers);
    a.apply(sh, t);
    const double tt = dot(comm, n, t, t, timers);
    omega = tt > 0 ? dot(comm, n, t, s, timers) / tt : 0.0;
    axpby(n, alpha, ph, 1.0, x);
    axpby(n, omega, sh, 1.0, x);
    Kokkos::deep_copy(r, s);
    axpby(n, -omega, t, 1.0, r);
    r_norm = std::sqrt(dot(comm, n, r, r, timers));
    stats.final_residual = r_norm;
    if (!(r_norm > target) || omega == 0.0) {
      stats.converged = r_norm <= target;
      break;
    }
  }
  timed_gather(plan, x, timers);
  return stats;
}

}  // namespace tessera::solvers::flow
