#pragma once
// The second-order traffic model of Aw, Rascle and Zhang (ARZ) with relaxation, as the
// PINN's residual (model.pde = "arz"; after Shi et al.'s physics-informed deep learning
// for traffic state estimation): density and speed are both outputs of the network,
//   rho_t + (rho v)_x = eps rho_xx
//   (v + h(rho))_t + v (v + h(rho))_x = (V(rho) - v) / tau,
// with Greenshields' equilibrium speed V(rho) = v_max (1 - rho / rho_max) and the
// "pressure" h(rho) = v_max - V(rho) = v_max rho / rho_max. In the network's variables
// (x^, t^ in [-1, 1], u = rho / rho_max, w = v / v_max), after dividing by rho_max 2/T and
// v_max 2/T,
//   r1 = s (u_t + v' (u w)_x - eps' u_xx)
//   r2 = s (w_t + u_t + v' w (w_x + u_x) - k (1 - u - w)),
// v' = v_max T / L, eps' = 2 eps T / L^2, k = T / (2 tau), s the residual scale.
#include <cstddef>
#include <stdexcept>

#include "core/nn/jet_mlp.hpp"
#include "core/runtime/error.hpp"

namespace tessera::models::pinn_traffic {

struct ArzResidualCoefficients {
  double v_max = 1.0;       // v'
  double viscosity = 0.0;   // eps'
  double relaxation = 1.0;  // k = T / (2 tau)
  double residual_scale = 1.0;
};

// The two residuals at one point from its jets (u, w and their derivatives).
struct ArzPoint {
  double u, w, u_x, w_x, u_t, w_t, u_xx;
  KOKKOS_INLINE_FUNCTION double r1(const ArzResidualCoefficients& c) const {
    return c.residual_scale * (u_t + c.v_max * (u_x * w + u * w_x) - c.viscosity * u_xx);
  }
  KOKKOS_INLINE_FUNCTION double r2(const ArzResidualCoefficients& c) const {
    return c.residual_scale *
           (w_t + u_t + c.v_max * w * (w_x + u_x) - c.relaxation * (1.0 - u - w));
  }
};

// Mean over the n points of r1^2 + r2^2 from a stacked jet (4n x 2: columns u and w) as
// JetMlp::forward returns for two outputs. Writes seed = weight dL/d(jet) (same shape).
template <class T>
double arz_residual_loss(const tensor::Matrix<T>& jet, const ArzResidualCoefficients& c,
                         tensor::Matrix<T>& seed, double weight = 1.0) {
  if (jet.extent(1) != 2 || jet.extent(0) % nn::kJetParts != 0 || jet.extent(0) == 0) {
    throw std::invalid_argument(str("arz_residual_loss: jet ", tensor::shape_text(jet),
                                    " is not a stacked (4n x 2) jet of (u, w); the ARZ model "
                                    "needs a network with two outputs"));
  }
  const std::size_t n = jet.extent(0) / nn::kJetParts;
  tensor::ensure_shape(seed, "pinn_traffic::arz_residual_seed", jet.extent(0), std::size_t(2));
  const tensor::Matrix<T> g = seed;
  const double scale = 2.0 * weight / static_cast<double>(n);
  const double s = c.residual_scale, v = c.v_max, eps = c.viscosity, k = c.relaxation;
  double total = 0;
  Kokkos::parallel_reduce(
      "pinn_traffic::arz_residual_loss", Kokkos::RangePolicy<tensor::ExecSpace>(0, n),
      KOKKOS_LAMBDA(const int i, double& acc) {
        const ArzPoint p{jet(i, 0),         jet(i, 1),         jet(n + i, 0),    jet(n + i, 1),
                         jet(2 * n + i, 0), jet(2 * n + i, 1), jet(3 * n + i, 0)};
        const double r1 = p.r1(c), r2 = p.r2(c);
        acc += r1 * r1 + r2 * r2;
        const double d1 = scale * r1 * s, d2 = scale * r2 * s;
        g(i, 0) = static_cast<T>(d1 * v * p.w_x + d2 * k);
        g(i, 1) = static_cast<T>(d1 * v * p.u_x + d2 * (v * (p.w_x + p.u_x) + k));
        g(n + i, 0) = static_cast<T>((d1 + d2) * v * p.w);
        g(n + i, 1) = static_cast<T>(d1 * v * p.u + d2 * v * p.w);
        g(2 * n + i, 0) = static_cast<T>(d1 + d2);
        g(2 * n + i, 1) = static_cast<T>(d2);
        g(3 * n + i, 0) = static_cast<T>(-d1 * eps);
        g(3 * n + i, 1) = static_cast<T>(0);
      },
      total);
  return total / static_cast<double>(n);
}

// Mean over the n rows of (out(i, column) - values(i))^2 for a network with several
// outputs (forward_values, n x m); seed = weight dL/d(out), zero in the other columns.
template <class T>
double column_misfit_loss(const tensor::Matrix<T>& out, const tensor::Matrix<T>& values,
                          std::size_t column, tensor::Matrix<T>& seed, double weight = 1.0) {
  const std::size_t n = values.extent(0), m = out.extent(1);
  if (n == 0 || out.extent(0) != n || column >= m || values.extent(1) != 1) {
    throw std::invalid_argument(str("column_misfit_loss: output ", tensor::shape_text(out),
                                    ", values ", tensor::shape_text(values), ", column ", column));
  }
  tensor::ensure_shape(seed, "pinn_traffic::column_misfit_seed", n, m);
  const tensor::Matrix<T> g = seed;
  const double scale = 2.0 * weight / static_cast<double>(n);
  double total = 0;
  Kokkos::parallel_reduce(
      "pinn_traffic::column_misfit_loss", Kokkos::RangePolicy<tensor::ExecSpace>(0, n),
      KOKKOS_LAMBDA(const int i, double& acc) {
        const double e = static_cast<double>(out(i, column)) - static_cast<double>(values(i, 0));
        acc += e * e;
        for (std::size_t j = 0; j < m; ++j) g(i, j) = static_cast<T>(j == column ? scale * e : 0.0);
      },
      total);
  return total / static_cast<double>(n);
}

}  // namespace tessera::models::pinn_traffic
