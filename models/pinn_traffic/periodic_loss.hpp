#pragma once
// The periodic boundary term of a ring road: the density and its slope must agree at
// both ends, u(-1, t) = u(1, t) and u_x(-1, t) = u_x(1, t), enforced softly as
//   mean over pairs of (u(-1, t) - u(1, t))^2 + (u_x(-1, t) - u_x(1, t))^2.
// The slope matters: matching values alone lets a kink sit at the seam.
#include "core/nn/jet_mlp.hpp"

namespace tessera::models::pinn_traffic {

// jet: JetMlp::forward on 2m points, the m left ends (-1, t_j) first, then the m right
// ends (1, t_j) in the same order (a stacked 4 * 2m x 1 jet). Returns the mean over the m
// pairs and writes seed = weight * dL/d(jet) for JetMlp::backward.
template <class T>
double periodic_boundary_loss(const nn::Matrix<T>& jet, nn::Matrix<T>& seed, double weight = 1.0) {
  const std::size_t n = jet.extent(0) / nn::kJetParts;
  if (jet.extent(1) != 1 || jet.extent(0) % nn::kJetParts != 0 || n == 0 || n % 2 != 0) {
    throw std::invalid_argument(
        str("periodic_boundary_loss: jet ", tensor::shape_text(jet),
            " is not the stacked jet of an even number of points (left ends, then right ends)"));
  }
  const std::size_t m = n / 2;
  tensor::ensure_shape(seed, "pinn::periodic_seed", jet.extent(0), std::size_t(1));
  Kokkos::deep_copy(seed, T(0));
  const nn::Matrix<T> g = seed;
  const double scale = 2.0 * weight / static_cast<double>(m);
  double total = 0;
  Kokkos::parallel_reduce(
      "pinn::periodic_boundary_loss", Kokkos::RangePolicy<tensor::ExecSpace>(0, m),
      KOKKOS_LAMBDA(const int j, double& acc) {
        const double du = static_cast<double>(jet(j, 0)) - static_cast<double>(jet(m + j, 0));
        const double dux =
            static_cast<double>(jet(n + j, 0)) - static_cast<double>(jet(n + m + j, 0));
        acc += du * du + dux * dux;
        g(j, 0) = static_cast<T>(scale * du);
        g(m + j, 0) = static_cast<T>(-scale * du);
        g(n + j, 0) = static_cast<T>(scale * dux);
        g(n + m + j, 0) = static_cast<T>(-scale * dux);
      },
      total);
  return total / static_cast<double>(m);
}

}  // namespace tessera::models::pinn_traffic
