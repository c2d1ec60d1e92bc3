#pragma once
// The PDE residual of the traffic PINN: the LWR equation u_t + f(u)_x = eps u_xx with
// Greenshields' flux, evaluated on the jets (u, u_x, u_t, u_xx) that nn::JetMlp carries,
// with the seed of its reverse sweep. Domain code: it lives with the model, not in core/nn.
#include <array>
#include <cstddef>
#include <stdexcept>

#include "core/nn/jet_mlp.hpp"
#include "core/runtime/error.hpp"

namespace tessera::models::pinn_traffic {

using tensor::Matrix;

// Parameters of the LWR equation u_t + f(u)_x = eps u_xx with Greenshields' flux
// f(u) = v_max u (1 - u / rho_max) (normalised: v_max = rho_max = 1).
struct LwrResidualCoefficients {
  double v_max = 1.0;
  double rho_max = 1.0;
  double viscosity = 0.0;  // eps
  // The residual is multiplied by it: 1 / v_max' measures time in the time a wave at the
  // free speed takes to cross the (normalised) road, so that r is on the data's scale
  // however long the time window (PinnProblem::residual_parameters).
  double residual_scale = 1.0;
};

// Mean over the n points of r^2, r = s (u_t + f'(u) u_x - eps u_xx), f'(u) = v_max (1 -
// 2 u / rho_max), s = residual_scale, from a stacked jet (4n x 1) as JetMlp::forward returns.
// Writes seed = weight * dL/d(jet) (same shape; resized if needed) for JetMlp::backward. Use
// `weight` for loss weights and for a global mean over sharded points (n_local / n_total).
template <class T>
double lwr_residual_loss(const Matrix<T>& jet, const LwrResidualCoefficients& lwr, Matrix<T>& seed,
                         double weight = 1.0) {
  if (jet.extent(1) != 1 || jet.extent(0) % nn::kJetParts != 0 || jet.extent(0) == 0) {
    throw std::invalid_argument(
        str("lwr_residual_loss: jet ", tensor::shape_text(jet),
            " is not a stacked (4n x 1) jet of a scalar u; use "
            "nn::JetMlp::forward (not forward_values) with output width 1"));
  }
  if (!(lwr.rho_max > 0)) {
    throw InputError(str("LWR: rho_max = ", lwr.rho_max, " must be positive"));
  }
  const std::size_t n = jet.extent(0) / nn::kJetParts;
  tensor::ensure_shape(seed, "pinn_traffic::lwr_residual_seed", jet.extent(0), std::size_t(1));
  const Matrix<T> g = seed;
  const double v_max = lwr.v_max;
  const double slope_u = -2.0 * lwr.v_max / lwr.rho_max;  // f''(u)
  const double eps = lwr.viscosity;
  const double s = lwr.residual_scale;
  const double scale = 2.0 * weight / static_cast<double>(n);
  double total = 0;
  Kokkos::parallel_reduce(
      "pinn_traffic::lwr_residual_loss", Kokkos::RangePolicy<tensor::ExecSpace>(0, n),
      KOKKOS_LAMBDA(const int i, double& acc) {
        const double u = jet(i, 0);
        const double u_x = jet(n + i, 0);
        const double u_t = jet(2 * n + i, 0);
        const double u_xx = jet(3 * n + i, 0);
        const double speed = v_max + slope_u * u;  // f'(u)
        const double r = s * (u_t + speed * u_x - eps * u_xx);
        acc += r * r;
        const double dr = scale * r * s;
        g(i, 0) = static_cast<T>(dr * slope_u * u_x);
        g(n + i, 0) = static_cast<T>(dr * speed);
        g(2 * n + i, 0) = static_cast<T>(dr);
        g(3 * n + i, 0) = static_cast<T>(-dr * eps);
      },
      total);
  return total / static_cast<double>(n);
}

// Gradients of the loss whose seed lwr_residual_loss wrote for `jet` with respect to the
// logarithms of the diagram's v_max and rho_max (a learned fundamental diagram):
//   d/d(log v_max)   = sum_i dr_i f'(u_i) u_x,i       = sum_i seed(n+i) u_x,i
//   d/d(log rho_max) = sum_i dr_i 2 v_max u_i / rho_max u_x,i
//                    = v_max sum_i seed(2n+i) u_x,i - d/d(log v_max)
// (dr_i = seed(2n+i), the loss derivative by u_t). Returns {d log v_max, d log rho_max}.
template <class T>
std::array<double, 2> lwr_diagram_gradient(const Matrix<T>& jet, const Matrix<T>& seed,
                                           const LwrResidualCoefficients& lwr) {
  const std::size_t n = jet.extent(0) / nn::kJetParts;
  double by_speed = 0, by_rate = 0;
  Kokkos::parallel_reduce(
      "pinn_traffic::lwr_diagram_gradient_v", Kokkos::RangePolicy<tensor::ExecSpace>(0, n),
      KOKKOS_LAMBDA(const int i, double& acc) {
        acc += static_cast<double>(seed(n + i, 0)) * static_cast<double>(jet(n + i, 0));
      },
      by_speed);
  Kokkos::parallel_reduce(
      "pinn_traffic::lwr_diagram_gradient_r", Kokkos::RangePolicy<tensor::ExecSpace>(0, n),
      KOKKOS_LAMBDA(const int i, double& acc) {
        acc += static_cast<double>(seed(2 * n + i, 0)) * static_cast<double>(jet(n + i, 0));
      },
      by_rate);
  return {by_speed, lwr.v_max * by_rate - by_speed};
}

}  // namespace tessera::models::pinn_traffic
