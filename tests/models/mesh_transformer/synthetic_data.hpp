#pragma once
// Small trajectory files the mesh models can learn in seconds: a grid of triangles on the
// unit square, or of tetrahedra in the unit cube (x = 0 INFLOW, x = 1 OUTFLOW, the other
// boundary nodes WALL_BOUNDARY, the rest NORMAL), whose velocity relaxes towards the mean
// of its mesh neighbours each frame (graph diffusion, v <- v + 0.2 (mean of neighbours -
// v)), from a random smooth start per trajectory. The change of a node depends only on
// its neighbourhood, which is what both models see.
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "core/graph/csr_graph.hpp"
#include "core/mesh/check_mesh.hpp"
#include "core/mesh/node_graph.hpp"
#include "solvers/flow/trajectory_file.hpp"

namespace tessera::testing {

inline mesh::NodeType synthetic_node_type(bool inflow, bool outflow, bool wall) {
  return inflow ? mesh::NodeType::kInflow
         : outflow ? mesh::NodeType::kOutflow
         : wall    ? mesh::NodeType::kWallBoundary
                   : mesh::NodeType::kNormal;
}

inline mesh::Mesh synthetic_grid_mesh(std::size_t nx, std::size_t ny) {
  const auto grid = graph::grid_triangle_mesh(nx, ny);
  mesh::Mesh m;
  m.dimension = 2;
  for (std::size_t iy = 0; iy < ny; ++iy) {
    for (std::size_t ix = 0; ix < nx; ++ix) {
      m.points.push_back(static_cast<double>(ix) / static_cast<double>(nx - 1));
      m.points.push_back(static_cast<double>(iy) / static_cast<double>(ny - 1));
      m.node_types.push_back(
          synthetic_node_type(ix == 0, ix + 1 == nx, iy == 0 || iy + 1 == ny));
    }
  }
  for (const auto& t : grid.triangles) m.cells.insert(m.cells.end(), t.begin(), t.end());
  return m;
}

// nx x ny x nz points in the unit cube, each grid cube cut into 6 tetrahedra along its
// main diagonal (Kuhn's triangulation: neighbouring cubes share their faces' diagonals,
// so the mesh is conforming), oriented positively.
inline mesh::Mesh synthetic_box_mesh(std::size_t nx, std::size_t ny, std::size_t nz) {
  mesh::Mesh m;
  m.dimension = 3;
  m.cell_kind = mesh::CellKind::kTetrahedron;
  const auto id = [&](std::size_t ix, std::size_t iy, std::size_t iz) {
    return static_cast<mesh::Index>((iz * ny + iy) * nx + ix);
  };
  for (std::size_t iz = 0; iz < nz; ++iz) {
    for (std::size_t iy = 0; iy < ny; ++iy) {
      for (std::size_t ix = 0; ix < nx; ++ix) {
        m.points.push_back(static_cast<double>(ix) / static_cast<double>(nx - 1));
        m.points.push_back(static_cast<double>(iy) / static_cast<double>(ny - 1));
        m.points.push_back(static_cast<double>(iz) / static_cast<double>(nz - 1));
        m.node_types.push_back(synthetic_node_type(
            ix == 0, ix + 1 == nx, iy == 0 || iy + 1 == ny || iz == 0 || iz + 1 == nz));
      }
    }
  }
  // The 6 paths from corner (0,0,0) to (1,1,1) along the axes, one tetrahedron each.
  const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  for (std::size_t iz = 0; iz + 1 < nz; ++iz) {
    for (std::size_t iy = 0; iy + 1 < ny; ++iy) {
      for (std::size_t ix = 0; ix + 1 < nx; ++ix) {
        for (const auto& order : orders) {
          std::array<std::size_t, 3> corner = {ix, iy, iz};
          m.cells.push_back(id(corner[0], corner[1], corner[2]));
          for (int axis : order) {
            ++corner[axis];
            m.cells.push_back(id(corner[0], corner[1], corner[2]));
          }
        }
      }
    }
  }
  mesh::orient(m);
  return m;
}

// `trajectories` trajectories of `frames` frames of graph diffusion on mesh `m`, written
// to `path`.
inline void write_synthetic_trajectories(const std::string& path, const mesh::Mesh& m,
                                         int trajectories, std::size_t frames) {
  const std::size_t n = m.num_points(), d = static_cast<std::size_t>(m.dimension);
  const graph::HostCsr g = mesh::node_graph(m, "synthetic mesh");
  solvers::flow::TrajectoryFile file(path);
  for (int k = 0; k < trajectories; ++k) {
    std::vector<double> v(d * n);
    for (std::size_t i = 0; i < n; ++i) {
      const double x = m.points[d * i], y = m.points[d * i + 1];
      const double z = d == 3 ? m.points[d * i + 2] : 0.0;
      v[d * i] = std::sin(3.0 * x + 1.7 * k) * std::cos(2.0 * y - 0.3 * k + z);
      v[d * i + 1] = 0.5 * std::cos(2.5 * x * y + 0.9 * k);
      if (d == 3) v[d * i + 2] = 0.4 * std::sin(2.0 * z - x + 0.5 * k);
    }
    std::vector<std::vector<double>> velocity, pressure;
    for (std::size_t f = 0; f < frames; ++f) {
      velocity.push_back(v);
      pressure.emplace_back(n, 0.0);
      std::vector<double> next = v;
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t c = 0; c < d; ++c) {
          double mean = 0;
          for (graph::Index e = g.row_ptr[i]; e < g.row_ptr[i + 1]; ++e)
            mean += v[d * g.col_idx[e] + c];
          mean /= static_cast<double>(g.row_ptr[i + 1] - g.row_ptr[i]);
          next[d * i + c] = v[d * i + c] + 0.2 * (mean - v[d * i + c]);
        }
      }
      v = next;
    }
    file.write_trajectory(k, m, velocity, pressure, 0.01, {{"case", static_cast<double>(k)}});
  }
  file.close();
}

// On the 2-D grid (nx x ny points), as most tests use.
inline void write_synthetic_trajectories(const std::string& path, int trajectories,
                                         std::size_t frames, std::size_t nx = 6,
                                         std::size_t ny = 5) {
  write_synthetic_trajectories(path, synthetic_grid_mesh(nx, ny), trajectories, frames);
}

}  // namespace tessera::testing
