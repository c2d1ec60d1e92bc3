#pragma once
// A small trajectory file the mesh models can learn in seconds: a grid of triangles on
// the unit square (left column INFLOW, right column OUTFLOW, top and bottom rows
// WALL_BOUNDARY, the rest NORMAL) whose velocity relaxes towards the mean of its mesh
// neighbours each frame (graph diffusion, v <- v + 0.2 (mean of neighbours - v)), from a
// random smooth start per trajectory. The change of a node depends only on its
// neighbourhood, which is what both models see.
#include <cmath>
#include <string>
#include <vector>

#include "core/graph/csr_graph.hpp"
#include "core/graph/neighbourhoods.hpp"
#include "core/mesh/mesh.hpp"
#include "solvers/flow/trajectory_file.hpp"

namespace tessera::testing {

inline mesh::Mesh synthetic_grid_mesh(std::size_t nx, std::size_t ny) {
  const auto grid = graph::grid_triangle_mesh(nx, ny);
  mesh::Mesh m;
  m.dimension = 2;
  for (std::size_t iy = 0; iy < ny; ++iy) {
    for (std::size_t ix = 0; ix < nx; ++ix) {
      m.points.push_back(static_cast<double>(ix) / static_cast<double>(nx - 1));
      m.points.push_back(static_cast<double>(iy) / static_cast<double>(ny - 1));
      m.node_types.push_back(ix == 0                   ? mesh::NodeType::kInflow
                             : ix + 1 == nx            ? mesh::NodeType::kOutflow
                             : iy == 0 || iy + 1 == ny ? mesh::NodeType::kWallBoundary
                                                       : mesh::NodeType::kNormal);
    }
  }
  for (const auto& t : grid.triangles) m.cells.insert(m.cells.end(), t.begin(), t.end());
  return m;
}

// `trajectories` trajectories of `frames` frames on an nx x ny grid, written to `path`.
inline void write_synthetic_trajectories(const std::string& path, int trajectories,
                                         std::size_t frames, std::size_t nx = 6,
                                         std::size_t ny = 5) {
  const mesh::Mesh m = synthetic_grid_mesh(nx, ny);
  const std::size_t n = m.num_points();
  std::vector<std::array<graph::Index, 3>> triangles(m.num_cells());
  for (std::size_t c = 0; c < m.num_cells(); ++c) {
    for (int k = 0; k < 3; ++k) triangles[c][k] = static_cast<graph::Index>(m.cells[3 * c + k]);
  }
  const graph::HostCsr g = graph::to_host(graph::csr_from_triangles(n, triangles, false));
  solvers::flow::TrajectoryFile file(path);
  for (int k = 0; k < trajectories; ++k) {
    std::vector<double> v(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
      const double x = m.points[2 * i], y = m.points[2 * i + 1];
      v[2 * i] = std::sin(3.0 * x + 1.7 * k) * std::cos(2.0 * y - 0.3 * k);
      v[2 * i + 1] = 0.5 * std::cos(2.5 * x * y + 0.9 * k);
    }
    std::vector<std::vector<double>> velocity, pressure;
    for (std::size_t f = 0; f < frames; ++f) {
      velocity.push_back(v);
      pressure.emplace_back(n, 0.0);
      std::vector<double> next = v;
      for (std::size_t i = 0; i < n; ++i) {
        for (int c = 0; c < 2; ++c) {
          double mean = 0;
          for (graph::Index e = g.row_ptr[i]; e < g.row_ptr[i + 1]; ++e)
            mean += v[2 * g.col_idx[e] + c];
          mean /= static_cast<double>(g.row_ptr[i + 1] - g.row_ptr[i]);
          next[2 * i + c] = v[2 * i + c] + 0.2 * (mean - v[2 * i + c]);
        }
      }
      v = next;
    }
    file.write_trajectory(k, m, velocity, pressure, 0.01, {{"case", static_cast<double>(k)}});
  }
  file.close();
}

}  // namespace tessera::testing
