#pragma once
// The speed term of the traffic PINN: detectors measure speed as well as density, and the
// Greenshields diagram ties the two, v = v_max (1 - rho / rho_max). In the network's
// variables (u = rho / rho_max0, speeds / v_max0) the predicted speed is
//   a (1 - u / b),   a = v_max / v_max0 = exp(theta_v),   b = rho_max / rho_max0 = exp(theta_r),
// with theta = 0 for the configured diagram and trainable theta for a learned one.
#include <array>
#include <cmath>

#include "core/nn/jet_mlp.hpp"
#include "core/runtime/error.hpp"

namespace tessera::models::pinn_traffic {

// Mean over the n observations of e^2, e = a (1 - u_i / b) - v_i, from the network values
// u (n x 1, forward_values) and the measured v (n x 1). Writes seed = weight dL/du (n x 1)
// for JetMlp::backward and returns weight x {dL/dtheta_v, dL/dtheta_r}.
template <class T>
double speed_misfit_loss(const tensor::Matrix<T>& u, const tensor::Matrix<T>& v, double a, double b,
                         tensor::Matrix<T>& seed, double weight,
                         std::array<double, 2>& diagram_gradient) {
  const std::size_t n = v.extent(0);
  if (n == 0 || u.extent(0) != n || u.extent(1) != 1 || v.extent(1) != 1) {
    throw std::invalid_argument(str("speed_misfit_loss: values ", tensor::shape_text(u),
                                    " and speeds ", tensor::shape_text(v),
                                    " must both be (n x 1) with n > 0"));
  }
  tensor::ensure_shape(seed, "pinn_traffic::speed_seed", n, std::size_t(1));
  const tensor::Matrix<T> g = seed;
  const double scale = 2.0 * weight / static_cast<double>(n);
  double squares = 0, by_a = 0, by_b = 0;
  Kokkos::parallel_reduce(
      "pinn_traffic::speed_misfit_loss", Kokkos::RangePolicy<tensor::ExecSpace>(0, n),
      KOKKOS_LAMBDA(const int i, double& acc) {
        const double ui = static_cast<double>(u(i, 0));
        const double e = a * (1.0 - ui / b) - static_cast<double>(v(i, 0));
        acc += e * e;
        g(i, 0) = static_cast<T>(-scale * e * a / b);
      },
      squares);
  Kokkos::parallel_reduce(
      "pinn_traffic::speed_misfit_dtheta_v", Kokkos::RangePolicy<tensor::ExecSpace>(0, n),
      KOKKOS_LAMBDA(const int i, double& acc) {
        const double ui = static_cast<double>(u(i, 0));
        const double predicted = a * (1.0 - ui / b);
        acc += (predicted - static_cast<double>(v(i, 0))) * predicted;  // e dpred/dtheta_v
      },
      by_a);
  Kokkos::parallel_reduce(
      "pinn_traffic::speed_misfit_dtheta_r", Kokkos::RangePolicy<tensor::ExecSpace>(0, n),
      KOKKOS_LAMBDA(const int i, double& acc) {
        const double ui = static_cast<double>(u(i, 0));
        const double e = a * (1.0 - ui / b) - static_cast<double>(v(i, 0));
        acc += e * a * ui / b;  // e dpred/dtheta_r
      },
      by_b);
  diagram_gradient = {scale * by_a, scale * by_b};
  return squares / static_cast<double>(n);
}

}  // namespace tessera::models::pinn_traffic
