#pragma once
// Quadrature data of isoparametric 6-node triangles: for each element and quadrature
// point the weight times |det J| and the physical gradients of the six P2 (velocity) and
// three P1 (pressure) basis functions. Computed once per element, since the geometry
// never changes, so that each time step's assembly is a few multiply-adds per entry.
// The 7-point rule is exact to degree 5: mass, stiffness and the convection term
// (u . grad u, v) are integrated exactly on straight elements.
#include <array>
#include <vector>

#include "solvers/flow/p2_mesh.hpp"

namespace tessera::solvers::flow {

inline constexpr int kQuadPoints = 7;

// Values on the reference triangle (0,0), (1,0), (0,1).
struct ReferenceTriangle {
  std::array<double, kQuadPoints> weight;              // summing to 1/2, the reference area
  std::array<std::array<double, 6>, kQuadPoints> phi;  // P2 basis
  std::array<std::array<double, 3>, kQuadPoints> psi;  // P1 basis
  std::array<std::array<std::array<double, 2>, 6>, kQuadPoints> dphi;
  std::array<std::array<double, 2>, 3> dpsi;  // constant
};
const ReferenceTriangle& reference_triangle();

// P2 basis values at reference point (xi, eta), for point evaluation.
std::array<double, 6> p2_basis(double xi, double eta);

struct ElementValues {
  std::vector<Index> elements;   // which elements of the P2 mesh, in this order
  std::vector<double> wdet;      // E x Q
  std::vector<double> grad_phi;  // E x Q x 6 x 2
  std::vector<double> grad_psi;  // E x Q x 3 x 2
  double wdet_at(std::size_t e, int q) const { return wdet[e * kQuadPoints + q]; }
  const double* grad_phi_at(std::size_t e, int q) const {
    return &grad_phi[(e * kQuadPoints + q) * 12];
  }
  const double* grad_psi_at(std::size_t e, int q) const {
    return &grad_psi[(e * kQuadPoints + q) * 6];
  }
};

// InputError naming the element when its map folds (det J <= 0 at a quadrature point,
// e.g. a snapped midpoint pushed through a thin element).
ElementValues compute_element_values(const P2Mesh& mesh, const std::vector<Index>& elements);

}  // namespace tessera::solvers::flow
