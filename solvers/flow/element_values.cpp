#include "solvers/flow/element_values.hpp"

#include "core/runtime/error.hpp"

namespace tessera::solvers::flow {
namespace {

std::array<std::array<double, 2>, 6> p2_gradients(double xi, double eta) {
  const double l[3] = {1 - xi - eta, xi, eta};
  const double dl[3][2] = {{-1, -1}, {1, 0}, {0, 1}};
  std::array<std::array<double, 2>, 6> g{};
  for (int k = 0; k < 3; ++k) {
    for (int d = 0; d < 2; ++d) g[k][d] = (4 * l[k] - 1) * dl[k][d];
    const int a = k, b = (k + 1) % 3;
    for (int d = 0; d < 2; ++d) g[3 + k][d] = 4 * (l[a] * dl[b][d] + l[b] * dl[a][d]);
  }
  return g;
}

ReferenceTriangle make_reference() {
  ReferenceTriangle r{};
  // Strang-Fix / Dunavant degree-5 rule in barycentric coordinates.
  const double a1 = 0.059715871789770, b1 = 0.470142064105115, w1 = 0.132394152788506;
  const double a2 = 0.797426985353087, b2 = 0.101286507323456, w2 = 0.125939180544827;
  const double bary[kQuadPoints][3] = {{1.0 / 3, 1.0 / 3, 1.0 / 3},
                                       {a1, b1, b1},
                                       {b1, a1, b1},
                                       {b1, b1, a1},
                                       {a2, b2, b2},
                                       {b2, a2, b2},
                                       {b2, b2, a2}};
  const double w[kQuadPoints] = {0.225, w1, w1, w1, w2, w2, w2};
  for (int q = 0; q < kQuadPoints; ++q) {
    const double xi = bary[q][1], eta = bary[q][2];
    r.weight[q] = 0.5 * w[q];
    r.phi[q] = p2_basis(xi, eta);
    r.psi[q] = {bary[q][0], xi, eta};
    const auto g = p2_gradients(xi, eta);
    for (int k = 0; k < 6; ++k) r.dphi[q][k] = g[k];
  }
  r.dpsi = {{{-1, -1}, {1, 0}, {0, 1}}};
  return r;
}

}  // namespace

std::array<double, 6> p2_basis(double xi, double eta) {
  const double l[3] = {1 - xi - eta, xi, eta};
  return {l[0] * (2 * l[0] - 1), l[1] * (2 * l[1] - 1), l[2] * (2 * l[2] - 1),
          4 * l[0] * l[1],       4 * l[1] * l[2],       4 * l[2] * l[0]};
}

const ReferenceTriangle& reference_triangle() {
  static const ReferenceTriangle r = make_reference();
  return r;
}

ElementValues compute_element_values(const P2Mesh& mesh, const std::vector<Index>& elements) {
  const ReferenceTriangle& ref = reference_triangle();
  ElementValues v;
  v.elements = elements;
  const std::size_t n = elements.size();
  v.wdet.resize(n * kQuadPoints);
  v.grad_phi.resize(n * kQuadPoints * 12);
  v.grad_psi.resize(n * kQuadPoints * 6);
  for (std::size_t e = 0; e < n; ++e) {
    const Index* nodes = &mesh.elements[static_cast<std::size_t>(elements[e]) * 6];
    for (int q = 0; q < kQuadPoints; ++q) {
      // J = d(x, y) / d(xi, eta) of the quadratic map.
      double j00 = 0, j01 = 0, j10 = 0, j11 = 0;
      for (int k = 0; k < 6; ++k) {
        const double x = mesh.points[2 * nodes[k]], y = mesh.points[2 * nodes[k] + 1];
        j00 += x * ref.dphi[q][k][0];
        j01 += x * ref.dphi[q][k][1];
        j10 += y * ref.dphi[q][k][0];
        j11 += y * ref.dphi[q][k][1];
      }
      const double det = j00 * j11 - j01 * j10;
      if (!(det > 0)) {
        throw InputError(str("flow mesh: element ", elements[e], " (vertices ", nodes[0], ", ",
                             nodes[1], ", ", nodes[2], ") is folded or clockwise (det J = ", det,
                             "); check the mesh and the obstacle circle"));
      }
      // Physical gradient = J^{-T} reference gradient.
      const double i00 = j11 / det, i01 = -j10 / det, i10 = -j01 / det, i11 = j00 / det;
      v.wdet[e * kQuadPoints + q] = ref.weight[q] * det;
      double* gp = &v.grad_phi[(e * kQuadPoints + q) * 12];
      for (int k = 0; k < 6; ++k) {
        gp[2 * k] = i00 * ref.dphi[q][k][0] + i01 * ref.dphi[q][k][1];
        gp[2 * k + 1] = i10 * ref.dphi[q][k][0] + i11 * ref.dphi[q][k][1];
      }
      double* gs = &v.grad_psi[(e * kQuadPoints + q) * 6];
      for (int k = 0; k < 3; ++k) {
        gs[2 * k] = i00 * ref.dpsi[k][0] + i01 * ref.dpsi[k][1];
        gs[2 * k + 1] = i10 * ref.dpsi[k][0] + i11 * ref.dpsi[k][1];
      }
    }
  }
  return v;
}

}  // namespace tessera::solvers::flow
