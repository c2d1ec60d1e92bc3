#pragma once
// Meshes and exact solutions shared by the flow tests.
#include <array>
#include <cmath>

#include "core/graph/csr_graph.hpp"
#include "core/mesh/channel_generator.hpp"
#include "core/mesh/channel_node_types.hpp"
#include "core/mesh/check_mesh.hpp"
#include "core/mesh/mesh.hpp"

namespace tessera::testing {

// nx x ny grid cells on [x0, x1] x [y0, y1], two triangles each; inflow at x0, outflow at
// x1, walls at y0 and y1.
inline mesh::Mesh rectangle_mesh(std::size_t nx, std::size_t ny, double x0, double x1, double y0,
                                 double y1) {
  const graph::TriangleMesh grid = graph::grid_triangle_mesh(nx + 1, ny + 1);
  mesh::Mesh m;
  for (const auto& p : grid.points) {
    m.points.push_back(x0 + p[0] * (x1 - x0));
    m.points.push_back(y0 + p[1] * (y1 - y0));
  }
  for (const auto& t : grid.triangles) {
    for (int k = 0; k < 3; ++k) m.cells.push_back(t[k]);
  }
  mesh::finish_mesh(m, "rectangle");
  mesh::derive_node_types(m);
  return m;
}

// Kovasznay flow (an exact steady Navier-Stokes solution behind a grid) for nu = 1/Re.
struct Kovasznay {
  double nu = 1.0 / 40;
  double lambda() const {
    const double re = 1 / nu;
    return re / 2 - std::sqrt(re * re / 4 + 4 * M_PI * M_PI);
  }
  std::array<double, 3> operator()(double x, double y) const {
    const double l = lambda();
    return {1 - std::exp(l * x) * std::cos(2 * M_PI * y),
            l / (2 * M_PI) * std::exp(l * x) * std::sin(2 * M_PI * y),
            0.5 * (1 - std::exp(2 * l * x))};
  }
};

// The DFG channel, coarse (mesh size 0.08, 0.02 on the cylinder): a few hundred vertices.
inline mesh::Mesh small_channel() {
  mesh::ChannelSpec spec;
  spec.mesh_size = 0.08;
  spec.cylinder_mesh_size = 0.02;
  return mesh::generate_channel_mesh(spec);
}

}  // namespace tessera::testing
