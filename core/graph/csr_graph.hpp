#pragma once
// Compressed sparse row graphs: row i lists the neighbours N(i) of node i in
// col_idx[row_ptr[i] .. row_ptr[i+1]), sorted and without duplicates. For message
// passing and graph attention, row i is the receiving node and its columns the nodes
// it gathers from. Also the node adjacency of a triangle mesh, the transposed graph
// (who gathers from me, and through which edge) for backward passes without atomics,
// and a small structured triangle mesh for tests and benchmarks until core/mesh/ has
// real meshes.
#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/runtime/error.hpp"
#include "core/tensor/host_copy.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::graph {

// 32-bit indices: a 2-billion-edge graph does not fit one rank's memory anyway, and
// half-width indices halve the index traffic of the edge kernels.
using Index = int;
using IndexView = Kokkos::View<Index*, Kokkos::LayoutRight, tensor::MemSpace>;

struct CsrGraph {
  IndexView row_ptr;  // num_nodes + 1 offsets into col_idx
  IndexView col_idx;  // num_edges neighbour ids, sorted within each row

  std::size_t num_nodes() const { return row_ptr.extent(0) > 0 ? row_ptr.extent(0) - 1 : 0; }
  std::size_t num_edges() const { return col_idx.extent(0); }
};

// The transpose of a CsrGraph with, for each of its entries, the position of the same
// edge in the original graph, so that per-edge values (attention probabilities, say)
// stored in the original order can be gathered by the other end of the edge.
struct CsrTranspose {
  IndexView row_ptr;  // num_nodes + 1
  IndexView col_idx;  // row j lists the nodes i with j in N(i), sorted
  IndexView edge_id;  // position of edge (i -> j) in the original col_idx

  std::size_t num_nodes() const { return row_ptr.extent(0) > 0 ? row_ptr.extent(0) - 1 : 0; }
  std::size_t num_edges() const { return col_idx.extent(0); }
};

// A host copy of an index view (for tests, partitioners and file writers).
inline std::vector<Index> host_vector(const IndexView& view) {
  auto host = Kokkos::create_mirror_view(view);
  Kokkos::deep_copy(host, view);
  return std::vector<Index>(host.data(), host.data() + host.extent(0));
}

// Copies host arrays into a CsrGraph after checking that they form one: InputError
// saying which offset or column is wrong (graphs often come from files).
inline CsrGraph csr_from_host(const std::vector<Index>& row_ptr,
                              const std::vector<Index>& col_idx) {
  if (row_ptr.empty() || row_ptr.front() != 0) {
    throw InputError("CSR graph: row_ptr must start with 0 and have num_nodes + 1 entries");
  }
  const Index nodes = static_cast<Index>(row_ptr.size() - 1);
  if (static_cast<std::size_t>(row_ptr.back()) != col_idx.size()) {
    throw InputError(str("CSR graph: row_ptr ends at ", row_ptr.back(), " but col_idx has ",
                         col_idx.size(), " entries"));
  }
  for (Index i = 0; i < nodes; ++i) {
    if (row_ptr[i + 1] < row_ptr[i]) {
      throw InputError(str("CSR graph: row_ptr decreases at node ", i, " (", row_ptr[i], " then ",
                           row_ptr[i + 1], ")"));
    }
    for (Index e = row_ptr[i]; e < row_ptr[i + 1]; ++e) {
      if (col_idx[e] < 0 || col_idx[e] >= nodes) {
        throw InputError(str("CSR graph: node ", i, " has neighbour ", col_idx[e], ", outside [0, ",
                             nodes, ")"));
      }
      if (e > row_ptr[i] && col_idx[e] <= col_idx[e - 1]) {
        throw InputError(str("CSR graph: the neighbours of node ", i,
                             " are not sorted and distinct (", col_idx[e - 1], " then ", col_idx[e],
                             ")"));
      }
    }
  }
  return CsrGraph{tensor::to_device(row_ptr, "graph::row_ptr"),
                  tensor::to_device(col_idx, "graph::col_idx")};
}

// Symmetric node adjacency of a simplex mesh: `cells` holds `nodes_per_cell` vertex ids
// per cell (3: triangles, 4: tetrahedra), and i and j are neighbours when they share a
// cell (in a simplex every vertex pair is an edge: 3 per triangle, 6 per tetrahedron).
// Each node also lists itself when `self_loops` (what attention over a neighbourhood
// wants: a node attends to itself too). Nodes in no cell have no neighbours (or only
// themselves). InputError naming the cell when a vertex id is outside [0, num_nodes).
inline CsrGraph csr_from_cells(std::size_t num_nodes, const std::vector<Index>& cells,
                               int nodes_per_cell, bool self_loops = true) {
  const char* cell_name = nodes_per_cell == 3   ? "triangle"
                          : nodes_per_cell == 4 ? "tetrahedron"
                                                : "cell";
  if (nodes_per_cell < 2 || cells.size() % static_cast<std::size_t>(nodes_per_cell) != 0) {
    throw std::invalid_argument(str("csr_from_cells: ", cells.size(), " vertex ids are not cells of ",
                                    nodes_per_cell, " vertices"));
  }
  if (num_nodes >= static_cast<std::size_t>(std::numeric_limits<Index>::max())) {
    throw InputError(str("csr_from_cells: ", num_nodes, " nodes do not fit 32-bit node ids; ",
                         "partition the mesh over more ranks"));
  }
  const std::size_t per_cell = static_cast<std::size_t>(nodes_per_cell);
  std::vector<std::vector<Index>> neighbours(num_nodes);
  for (std::size_t c = 0; c < cells.size() / per_cell; ++c) {
    const Index* cell = cells.data() + c * per_cell;
    for (std::size_t a = 0; a < per_cell; ++a) {
      if (cell[a] < 0 || static_cast<std::size_t>(cell[a]) >= num_nodes) {
        throw InputError(str(cell_name, " ", c, " has vertex ", cell[a], ", outside [0, ",
                             num_nodes, "): the ", cell_name, "s do not belong to a mesh of ",
                             num_nodes, " nodes"));
      }
    }
    for (std::size_t a = 0; a < per_cell; ++a) {
      for (std::size_t b = a + 1; b < per_cell; ++b) {
        if (cell[a] == cell[b]) continue;  // degenerate cell
        neighbours[cell[a]].push_back(cell[b]);
        neighbours[cell[b]].push_back(cell[a]);
      }
    }
  }
  std::vector<Index> row_ptr(num_nodes + 1, 0);
  std::vector<Index> col_idx;
  for (std::size_t i = 0; i < num_nodes; ++i) {
    auto& row = neighbours[i];
    if (self_loops) row.push_back(static_cast<Index>(i));
    std::sort(row.begin(), row.end());
    row.erase(std::unique(row.begin(), row.end()), row.end());
    col_idx.insert(col_idx.end(), row.begin(), row.end());
    if (col_idx.size() >= static_cast<std::size_t>(std::numeric_limits<Index>::max())) {
      throw InputError(
          "csr_from_cells: the adjacency has more edges than 32-bit offsets "
          "hold; partition the mesh over more ranks");
    }
    row_ptr[i + 1] = static_cast<Index>(col_idx.size());
  }
  return CsrGraph{tensor::to_device(row_ptr, "graph::row_ptr"),
                  tensor::to_device(col_idx, "graph::col_idx")};
}

// The same for triangles given as vertex triples.
inline CsrGraph csr_from_triangles(std::size_t num_nodes,
                                   const std::vector<std::array<Index, 3>>& triangles,
                                   bool self_loops = true) {
  std::vector<Index> cells;
  cells.reserve(3 * triangles.size());
  for (const auto& t : triangles) cells.insert(cells.end(), t.begin(), t.end());
  return csr_from_cells(num_nodes, cells, 3, self_loops);
}

// Built on the host (once per graph): a counting sort of the edges by column.
inline CsrTranspose csr_transpose(const CsrGraph& graph) {
  const std::vector<Index> row_ptr = host_vector(graph.row_ptr);
  const std::vector<Index> col_idx = host_vector(graph.col_idx);
  const std::size_t nodes = graph.num_nodes();
  std::vector<Index> t_row_ptr(nodes + 1, 0);
  for (Index j : col_idx) ++t_row_ptr[j + 1];
  for (std::size_t j = 0; j < nodes; ++j) t_row_ptr[j + 1] += t_row_ptr[j];
  std::vector<Index> next(t_row_ptr.begin(), t_row_ptr.end() - 1);
  std::vector<Index> t_col_idx(col_idx.size()), t_edge(col_idx.size());
  // Rows are visited in increasing i, so each transposed row comes out sorted.
  for (std::size_t i = 0; i < nodes; ++i) {
    for (Index e = row_ptr[i]; e < row_ptr[i + 1]; ++e) {
      const Index slot = next[col_idx[e]]++;
      t_col_idx[slot] = static_cast<Index>(i);
      t_edge[slot] = e;
    }
  }
  return CsrTranspose{tensor::to_device(t_row_ptr, "graph::transpose_row_ptr"),
                      tensor::to_device(t_col_idx, "graph::transpose_col_idx"),
                      tensor::to_device(t_edge, "graph::transpose_edge_id")};
}

// A triangle mesh on the host: points (x, y) and counter-clockwise triangles.
struct TriangleMesh {
  std::vector<std::array<double, 2>> points;
  std::vector<std::array<Index, 3>> triangles;
  std::size_t num_nodes() const { return points.size(); }
};

// nx x ny points on the unit square (node id = iy * nx + ix), each grid cell cut into
// two triangles along the diagonal from (ix, iy) to (ix + 1, iy + 1); interior nodes
// then have six neighbours, as in a typical unstructured 2-D mesh.
inline TriangleMesh grid_triangle_mesh(std::size_t nx, std::size_t ny) {
  if (nx < 2 || ny < 2) {
    throw InputError(str("grid_triangle_mesh: needs at least 2 x 2 points, got ", nx, " x ", ny));
  }
  TriangleMesh mesh;
  mesh.points.reserve(nx * ny);
  for (std::size_t iy = 0; iy < ny; ++iy) {
    for (std::size_t ix = 0; ix < nx; ++ix) {
      mesh.points.push_back({static_cast<double>(ix) / static_cast<double>(nx - 1),
                             static_cast<double>(iy) / static_cast<double>(ny - 1)});
    }
  }
  const auto id = [nx](std::size_t ix, std::size_t iy) { return static_cast<Index>(iy * nx + ix); };
  mesh.triangles.reserve(2 * (nx - 1) * (ny - 1));
  for (std::size_t iy = 0; iy + 1 < ny; ++iy) {
    for (std::size_t ix = 0; ix + 1 < nx; ++ix) {
      mesh.triangles.push_back({id(ix, iy), id(ix + 1, iy), id(ix + 1, iy + 1)});
      mesh.triangles.push_back({id(ix, iy), id(ix + 1, iy + 1), id(ix, iy + 1)});
    }
  }
  return mesh;
}

}  // namespace tessera::graph
