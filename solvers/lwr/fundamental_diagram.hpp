#pragma once
// The fundamental diagram of LWR traffic flow: flow f as a function of density rho,
// with the Godunov demand (what a cell can send) and supply (what it can receive).
// Every member is KOKKOS_INLINE_FUNCTION so that kernels can take the struct by value.
#include <Kokkos_Core.hpp>

namespace tessera::solvers::lwr {

enum class FluxKind { kGreenshields, kTriangular };

struct FundamentalDiagram {
  FluxKind kind = FluxKind::kGreenshields;
  double v_max = 1.0;       // free-flow speed
  double rho_max = 1.0;     // jam density
  double wave_speed = 1.0;  // congested backward wave speed w (triangular only)

  // Greenshields: v_max rho (1 - rho/rho_max). Triangular: min(v_max rho, w (rho_max - rho)).
  KOKKOS_INLINE_FUNCTION double flux(double rho) const {
    if (kind == FluxKind::kGreenshields) return v_max * rho * (1.0 - rho / rho_max);
    const double free_flow = v_max * rho;
    const double congested = wave_speed * (rho_max - rho);
    return free_flow < congested ? free_flow : congested;
  }

  // Vehicle speed f/rho, written without the division so that rho = 0 gives v_max.
  KOKKOS_INLINE_FUNCTION double speed(double rho) const {
    if (kind == FluxKind::kGreenshields) return v_max * (1.0 - rho / rho_max);
    if (rho <= critical_density()) return v_max;
    return wave_speed * (rho_max - rho) / rho;
  }

  // Density of maximal flow (capacity).
  KOKKOS_INLINE_FUNCTION double critical_density() const {
    if (kind == FluxKind::kGreenshields) return 0.5 * rho_max;
    return wave_speed * rho_max / (v_max + wave_speed);
  }

  KOKKOS_INLINE_FUNCTION double capacity() const { return flux(critical_density()); }

  // f'(rho). At the kink of the triangular diagram the free-flow slope is returned.
  KOKKOS_INLINE_FUNCTION double characteristic_speed(double rho) const {
    if (kind == FluxKind::kGreenshields) return v_max * (1.0 - 2.0 * rho / rho_max);
    return rho <= critical_density() ? v_max : -wave_speed;
  }

  // Demand: f up to the critical density, capacity beyond (a congested cell still
  // pushes out at capacity).
  KOKKOS_INLINE_FUNCTION double demand(double rho) const {
    const double rho_c = critical_density();
    return rho < rho_c ? flux(rho) : flux(rho_c);
  }

  // Supply: capacity up to the critical density, f beyond (a jam admits less).
  KOKKOS_INLINE_FUNCTION double supply(double rho) const {
    const double rho_c = critical_density();
    return rho > rho_c ? flux(rho) : flux(rho_c);
  }

  // Godunov flux between a left state a and a right state b; exact for concave f.
  KOKKOS_INLINE_FUNCTION double godunov_flux(double a, double b) const {
    const double d = demand(a);
    const double s = supply(b);
    return d < s ? d : s;
  }

  // Bound on |f'| over [0, rho_max], for the CFL condition.
  KOKKOS_INLINE_FUNCTION double max_characteristic_speed() const {
    if (kind == FluxKind::kGreenshields) return v_max;
    return v_max > wave_speed ? v_max : wave_speed;
  }
};

}  // namespace tessera::solvers::lwr
