#include "solvers/lwr/lwr_solver.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"
#include "solvers/lwr/checks.hpp"

namespace tessera::solvers::lwr {
namespace {

// Tags of the halo messages, by direction of travel, so that the two messages between
// the same pair of ranks (a ring of 1 or 2 ranks) cannot be confused.
constexpr int kTagLeftward = 7101;
constexpr int kTagRightward = 7102;

}  // namespace

void validate_parameters(const LwrParameters& p) {
  require(p.cells >= 1, str("solver.cells = ", p.cells, " must be at least 1"));
  require(p.road_length > 0.0 && std::isfinite(p.road_length),
          str("solver.road_length = ", p.road_length, " must be a positive length"));
  require(p.cfl > 0.0 && p.cfl <= 1.0,
          str("solver.cfl = ", p.cfl,
              " is outside the allowed range (0, 1]: the explicit step is unstable beyond 1"));
  require(p.viscosity >= 0.0 && std::isfinite(p.viscosity),
          str("solver.viscosity = ", p.viscosity, " must be >= 0 (0 for the inviscid model)"));
  const FundamentalDiagram& d = p.diagram;
  require(d.v_max > 0.0 && std::isfinite(d.v_max),
          str("solver.v_max = ", d.v_max, " must be a positive speed"));
  require(d.rho_max > 0.0 && std::isfinite(d.rho_max),
          str("solver.rho_max = ", d.rho_max, " must be a positive density"));
  if (d.kind == FluxKind::kTriangular) {
    require(d.wave_speed > 0.0 && std::isfinite(d.wave_speed),
            str("solver.wave_speed = ", d.wave_speed,
                " must be a positive speed (the triangular diagram's backward wave speed)"));
  }
  require_density(p.upstream_density, d.rho_max, "solver.upstream_density");
  require_density(p.downstream_density, d.rho_max, "solver.downstream_density");
}

BlockDecomposition block_decomposition(long long cells, int ranks, int rank) {
  if (ranks < 1 || rank < 0 || rank >= ranks) {
    throw std::invalid_argument(
        str("block_decomposition: rank ", rank, " is not in a communicator of ", ranks));
  }
  if (ranks > cells) {
    throw InputError(str(ranks, " ranks for ", cells,
                         " cells: each rank needs at least one cell (solver.cells = ", cells,
                         "); run on at most ", cells < 1 ? 1 : cells,
                         " ranks or raise solver.cells"));
  }
  const long long base = cells / ranks;
  const long long extra = cells % ranks;
  BlockDecomposition block;
  block.count = base + (rank < extra ? 1 : 0);
  block.first = rank * base + (rank < extra ? rank : extra);
  return block;
}

LwrSolver::LwrSolver(MPI_Comm comm, const LwrParameters& p) : comm_(comm), params_(p) {
  validate_parameters(p);
  rank_ = runtime::comm_rank(comm);
  size_ = runtime::comm_size(comm);
  const BlockDecomposition block = block_decomposition(p.cells, size_, rank_);
  first_ = block.first;
  local_ = block.count;
  dx_ = p.road_length / static_cast<double>(p.cells);
  if (p.boundary == Boundary::kRing) {
    left_ = (rank_ + size_ - 1) % size_;
    right_ = (rank_ + 1) % size_;
  } else {
    left_ = rank_ > 0 ? rank_ - 1 : MPI_PROC_NULL;
    right_ = rank_ < size_ - 1 ? rank_ + 1 : MPI_PROC_NULL;
  }
  rho_ = Kokkos::View<double*>("lwr::density", local_ + 2);
  rho_next_ = Kokkos::View<double*>("lwr::density_next", local_ + 2);
  flux_ = Kokkos::View<double*>("lwr::flux", local_ + 1);
  send_ = Kokkos::View<double*>("lwr::halo_send", 2);
  recv_ = Kokkos::View<double*>("lwr::halo_recv", 2);
  send_host_ = Kokkos::create_mirror_view(send_);
  recv_host_ = Kokkos::create_mirror_view(recv_);
  rho_host_ = Kokkos::create_mirror_view(rho_);
}

double LwrSolver::cell_center(long long global_index) const {
  return (static_cast<double>(global_index) + 0.5) * dx_;
}

void LwrSolver::set_density(const std::vector<double>& owned) {
  if (static_cast<long long>(owned.size()) != local_) {
    throw std::invalid_argument(str("LwrSolver::set_density: got ", owned.size(),
                                    " values for the ", local_, " cells owned by rank ", rank_,
                                    " (cells ", first_, " to ", first_ + local_ - 1, ")"));
  }
  for (long long i = 0; i < local_; ++i) rho_host_(i + 1) = owned[i];
  // Only the owned range travels: the ghosts keep the values of the last exchange.
  const auto owned_range = std::make_pair(1LL, local_ + 1);
  Kokkos::deep_copy(Kokkos::subview(rho_, owned_range), Kokkos::subview(rho_host_, owned_range));
}

void LwrSolver::restore_clock(double time, long long steps) {
  time_ = time;
  steps_ = steps;
}

std::vector<double> LwrSolver::density_host() const {
  const auto owned_range = std::make_pair(1LL, local_ + 1);
  Kokkos::deep_copy(Kokkos::subview(rho_host_, owned_range), Kokkos::subview(rho_, owned_range));
  std::vector<double> owned(static_cast<std::size_t>(local_));
  for (long long i = 0; i < local_; ++i) owned[i] = rho_host_(i + 1);
  return owned;
}

double LwrSolver::stable_dt() const {
  const double a = params_.diagram.max_characteristic_speed();
  const double eps = params_.viscosity;
  if (eps == 0.0) return params_.cfl * dx_ / a;
  return params_.cfl / (a / dx_ + 2.0 * eps / (dx_ * dx_));
}

void LwrSolver::exchange_halo() {
  const auto rho = rho_;
  const auto send = send_;
  const long long n = local_;
  Kokkos::parallel_for(
      "lwr::pack_halo", Kokkos::RangePolicy<>(0, 2),
      KOKKOS_LAMBDA(const int k) { send(k) = k == 0 ? rho(1) : rho(n); });
  Kokkos::fence();
#ifdef TESSERA_GPU_AWARE_MPI
  double* send_ptr = send_.data();
  double* recv_ptr = recv_.data();
#else
  // Staged through host memory: Debian's Kokkos is Serial, but CUDA builds without a
  // GPU-aware MPI must not hand device pointers to MPI.
  Kokkos::deep_copy(send_host_, send_);
  double* send_ptr = send_host_.data();
  double* recv_ptr = recv_host_.data();
#endif
  MPI_Request requests[4];
  // Receives first, so that the sends never wait for a matching buffer.
  MPI_Irecv(recv_ptr + 0, 1, MPI_DOUBLE, left_, kTagRightward, comm_, &requests[0]);
  MPI_Irecv(recv_ptr + 1, 1, MPI_DOUBLE, right_, kTagLeftward, comm_, &requests[1]);
  MPI_Isend(send_ptr + 0, 1, MPI_DOUBLE, left_, kTagLeftward, comm_, &requests[2]);
  MPI_Isend(send_ptr + 1, 1, MPI_DOUBLE, right_, kTagRightward, comm_, &requests[3]);
  MPI_Waitall(4, requests, MPI_STATUSES_IGNORE);
#ifndef TESSERA_GPU_AWARE_MPI
  Kokkos::deep_copy(recv_, recv_host_);
#endif

  // At the ends of an open road the ghost is the road beyond: its density makes the
  // Godunov flux min(demand(upstream), supply(rho_0)) and feeds the viscous term.
  const bool left_is_road_end = left_ == MPI_PROC_NULL;
  const bool right_is_road_end = right_ == MPI_PROC_NULL;
  const double upstream = params_.upstream_density;
  const double downstream = params_.downstream_density;
  const auto recv = recv_;
  Kokkos::parallel_for(
      "lwr::unpack_halo", Kokkos::RangePolicy<>(0, 2), KOKKOS_LAMBDA(const int k) {
        if (k == 0) {
          rho(0) = left_is_road_end ? upstream : recv(0);
        } else {
          rho(n + 1) = right_is_road_end ? downstream : recv(1);
        }
      });
  Kokkos::fence();
}

void LwrSolver::set_boundary_densities(double upstream, double downstream) {
  const double rho_max = params_.diagram.rho_max;
  for (const double rho : {upstream, downstream}) {
    if (!(rho >= 0.0 && rho <= rho_max)) {
      throw std::invalid_argument(str("LwrSolver::set_boundary_densities: density ", rho,
                                      " is not in [0, rho_max = ", rho_max, "]"));
    }
  }
  params_.upstream_density = upstream;
  params_.downstream_density = downstream;
}

void LwrSolver::step(double dt) {
  const double limit = stable_dt();
  if (!(dt >= 0.0) || dt > limit * (1.0 + 1e-12)) {
    throw std::logic_error(str("LwrSolver::step: dt = ", dt, " is not in [0, stable_dt() = ", limit,
                               "] (solver.cfl = ", params_.cfl, ", solver.cells = ", params_.cells,
                               ")"));
  }
  exchange_halo();

  const auto rho = rho_;
  const auto rho_next = rho_next_;
  const auto flux = flux_;
  const FundamentalDiagram diagram = params_.diagram;
  const long long n = local_;
  // flux(j) is the interface between padded cells j and j + 1, so flux(0) and flux(n)
  // are this block's outer interfaces; both neighbours compute them from the same two
  // densities, which is what makes any rank count bitwise equal to one rank.
  Kokkos::parallel_for(
      "lwr::godunov_flux", Kokkos::RangePolicy<>(0, n + 1),
      KOKKOS_LAMBDA(const long long j) { flux(j) = diagram.godunov_flux(rho(j), rho(j + 1)); });

  const double ratio = dt / dx_;
  const double diffusion = params_.viscosity * dt / (dx_ * dx_);
  Kokkos::parallel_for(
      "lwr::update", Kokkos::RangePolicy<>(1, n + 1), KOKKOS_LAMBDA(const long long i) {
        rho_next(i) = rho(i) - ratio * (flux(i) - flux(i - 1)) +
                      diffusion * (rho(i + 1) - 2.0 * rho(i) + rho(i - 1));
      });
  Kokkos::fence();
  std::swap(rho_, rho_next_);
  time_ += dt;
  ++steps_;
}

void LwrSolver::advance_to(double t_target) {
  if (!(t_target >= time_)) {
    throw std::logic_error(str("LwrSolver::advance_to: target time ", t_target,
                               " is before the current time ", time_));
  }
  const double dt = stable_dt();
  while (time_ < t_target) {
    const double remaining = t_target - time_;
    if (remaining <= dt) {
      step(remaining);
      time_ = t_target;  // exact landing, whatever the rounding of the sum
    } else {
      if (time_ + dt == time_) {
        throw std::logic_error(
            str("LwrSolver::advance_to: dt = ", dt, " no longer advances the time ", time_));
      }
      step(dt);
    }
  }
}

double LwrSolver::total_mass() const {
  const auto rho = rho_;
  double local_sum = 0.0;
  Kokkos::parallel_reduce(
      "lwr::total_mass", Kokkos::RangePolicy<>(1, local_ + 1),
      KOKKOS_LAMBDA(const long long i, double& sum) { sum += rho(i); }, local_sum);
  double local_mass = local_sum * dx_;
  double mass = 0.0;
  MPI_Allreduce(&local_mass, &mass, 1, MPI_DOUBLE, MPI_SUM, comm_);
  return mass;
}

long long LwrSolver::cell_index(double x) const {
  const long long index = static_cast<long long>(std::floor(x / dx_));
  if (index < 0) return 0;
  if (index >= params_.cells) return params_.cells - 1;
  return index;
}

bool LwrSolver::owns_position(double x) const {
  if (!(x >= 0.0 && x <= params_.road_length)) return false;
  const long long index = cell_index(x);
  return index >= first_ && index < first_ + local_;
}

double LwrSolver::density_at(double x) const {
  if (!(x >= 0.0 && x <= params_.road_length)) {
    throw std::out_of_range(str("LwrSolver::density_at: x = ", x, " is outside the road [0, ",
                                params_.road_length, "]"));
  }
  if (!owns_position(x)) {
    throw std::logic_error(str("LwrSolver::density_at: x = ", x, " is in cell ", cell_index(x),
                               ", not owned by rank ", rank_, " (cells ", first_, " to ",
                               first_ + local_ - 1, "); ask owns_position() first"));
  }
  Kokkos::View<double, Kokkos::HostSpace> value("lwr::density_at");
  Kokkos::deep_copy(value, Kokkos::subview(rho_, cell_index(x) - first_ + 1));
  return value();
}

void LwrSolver::check_finite() const {
  const auto rho = rho_;
  const double rho_max = params_.diagram.rho_max;
  const double tol = 1e-9 * rho_max;
  const long long first = first_;
  const long long none = params_.cells;  // "no bad cell" sentinel, larger than any index
  long long local_bad = 0;
  long long local_first_bad = none;
  Kokkos::parallel_reduce(
      "lwr::count_bad_cells", Kokkos::RangePolicy<>(1, local_ + 1),
      KOKKOS_LAMBDA(const long long i, long long& count) {
        if (!(rho(i) >= -tol && rho(i) <= rho_max + tol)) ++count;
      },
      local_bad);
  Kokkos::parallel_reduce(
      "lwr::first_bad_cell", Kokkos::RangePolicy<>(1, local_ + 1),
      KOKKOS_LAMBDA(const long long i, long long& lowest) {
        const long long global = first + i - 1;
        if (!(rho(i) >= -tol && rho(i) <= rho_max + tol) && global < lowest) lowest = global;
      },
      Kokkos::Min<long long>(local_first_bad));
  long long bad = 0;
  long long first_bad = none;
  MPI_Allreduce(&local_bad, &bad, 1, MPI_LONG_LONG, MPI_SUM, comm_);
  MPI_Allreduce(&local_first_bad, &first_bad, 1, MPI_LONG_LONG, MPI_MIN, comm_);
  if (bad == 0) return;
  // Only the owner contributes a value; adding zeros keeps it exact (NaN stays NaN).
  double local_value = 0.0;
  if (first_bad >= first_ && first_bad < first_ + local_) {
    Kokkos::View<double, Kokkos::HostSpace> value("lwr::bad_value");
    Kokkos::deep_copy(value, Kokkos::subview(rho_, first_bad - first_ + 1));
    local_value = value();
  }
  double bad_value = 0.0;
  MPI_Allreduce(&local_value, &bad_value, 1, MPI_DOUBLE, MPI_SUM, comm_);
  throw std::runtime_error(
      str("LWR solver: ", bad, " cell(s) hold NaN/Inf or a density outside [0, rho_max = ", rho_max,
          "] at step ", steps_, ", time ", time_, "; the first is cell ", first_bad,
          " (x = ", cell_center(first_bad), ") with density ", bad_value,
          ". Check the initial condition and the boundary densities, or lower solver.cfl"));
}

}  // namespace tessera::solvers::lwr
