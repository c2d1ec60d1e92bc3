#include <algorithm>

#include "core/graph/csr_graph.hpp"
#include "core/runtime/error.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using namespace tessera::graph;

namespace {

bool contains(const std::vector<Index>& row_ptr, const std::vector<Index>& col_idx, Index i,
              Index j) {
  return std::binary_search(col_idx.begin() + row_ptr[i], col_idx.begin() + row_ptr[i + 1], j);
}

}  // namespace

TEST_CASE("grid triangle mesh has the expected points and triangles", "[csr]") {
  const TriangleMesh mesh = grid_triangle_mesh(4, 3);
  CHECK(mesh.num_nodes() == 12);
  CHECK(mesh.triangles.size() == 2 * 3 * 2);
  CHECK(mesh.points[5][0] == Approx(1.0 / 3.0));
  CHECK(mesh.points[5][1] == Approx(0.5));
  // Counter-clockwise: positive signed area for every triangle.
  for (const auto& t : mesh.triangles) {
    const auto& a = mesh.points[t[0]];
    const auto& b = mesh.points[t[1]];
    const auto& c = mesh.points[t[2]];
    CHECK((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]) > 0);
  }
  CHECK_THROWS_AS(grid_triangle_mesh(1, 5), InputError);
}

TEST_CASE("triangle adjacency is symmetric, sorted, without duplicates", "[csr]") {
  const std::size_t nx = 4, ny = 3;
  const TriangleMesh mesh = grid_triangle_mesh(nx, ny);
  for (bool self_loops : {true, false}) {
    INFO("self loops " << self_loops);
    const CsrGraph g = csr_from_triangles(mesh.num_nodes(), mesh.triangles, self_loops);
    const auto row_ptr = host_vector(g.row_ptr);
    const auto col_idx = host_vector(g.col_idx);
    // 9 horizontal + 8 vertical + 6 diagonal undirected edges, both directions.
    const std::size_t undirected = (nx - 1) * ny + nx * (ny - 1) + (nx - 1) * (ny - 1);
    CHECK(g.num_nodes() == 12);
    CHECK(g.num_edges() == 2 * undirected + (self_loops ? 12 : 0));
    for (Index i = 0; i < 12; ++i) {
      CHECK(contains(row_ptr, col_idx, i, i) == self_loops);
      for (Index e = row_ptr[i]; e < row_ptr[i + 1]; ++e) {
        if (e > row_ptr[i]) CHECK(col_idx[e - 1] < col_idx[e]);
        CHECK(contains(row_ptr, col_idx, col_idx[e], i));
      }
    }
    // Interior node (1, 1) = 5 has six mesh neighbours; corner 0 has (1, 0), (0, 1), (1, 1).
    CHECK(row_ptr[6] - row_ptr[5] == 6 + (self_loops ? 1 : 0));
    CHECK(row_ptr[1] - row_ptr[0] == 3 + (self_loops ? 1 : 0));
    CHECK(contains(row_ptr, col_idx, 0, 5));
    CHECK_FALSE(contains(row_ptr, col_idx, 1, 4));  // the other diagonal is not an edge
  }
}

TEST_CASE("transpose maps every edge to its reverse position", "[csr]") {
  // A directed graph with an isolated node (3) and a node nobody points to (0).
  const CsrGraph g = csr_from_host({0, 2, 3, 5, 5, 7}, {1, 2, 4, 1, 4, 0, 1});
  const auto row_ptr = host_vector(g.row_ptr);
  const auto col_idx = host_vector(g.col_idx);
  const CsrTranspose t = csr_transpose(g);
  const auto t_row_ptr = host_vector(t.row_ptr);
  const auto t_col_idx = host_vector(t.col_idx);
  const auto t_edge = host_vector(t.edge_id);
  CHECK(t.num_nodes() == 5);
  CHECK(t.num_edges() == 7);
  CHECK(t_row_ptr == std::vector<Index>{0, 1, 4, 5, 5, 7});
  for (Index j = 0; j < 5; ++j) {
    for (Index s = t_row_ptr[j]; s < t_row_ptr[j + 1]; ++s) {
      const Index i = t_col_idx[s];
      const Index e = t_edge[s];
      CHECK(e >= row_ptr[i]);
      CHECK(e < row_ptr[i + 1]);
      CHECK(col_idx[e] == j);
      if (s > t_row_ptr[j]) CHECK(t_col_idx[s - 1] < i);
    }
  }
}

TEST_CASE("bad graphs are refused with messages that say what is wrong", "[csr]") {
  const std::vector<std::array<Index, 3>> triangles{{0, 1, 2}, {1, 2, 7}};
  CHECK_THROWS_WITH(csr_from_triangles(4, triangles),
                    Catch::Matchers::Contains("triangle 1") && Catch::Matchers::Contains("7"));
  CHECK_THROWS_WITH(csr_from_host({0, 2, 3}, {1, 0, 1}),
                    Catch::Matchers::Contains("not sorted") && Catch::Matchers::Contains("node 0"));
  CHECK_THROWS_WITH(csr_from_host({0, 1, 2}, {1, 2}), Catch::Matchers::Contains("neighbour 2"));
  CHECK_THROWS_WITH(csr_from_host({0, 1, 3}, {1, 0}), Catch::Matchers::Contains("col_idx has 2"));
  CHECK_THROWS_AS(csr_from_host({}, {}), InputError);
  // A degenerate triangle adds no self loop by itself.
  const CsrGraph g = csr_from_triangles(3, {{0, 0, 1}}, false);
  CHECK(host_vector(g.row_ptr) == std::vector<Index>{0, 1, 2, 2});
}

TEST_CASE("tetrahedron adjacency: every vertex pair of a cell, both directions", "[csr]") {
  // Two tetrahedra sharing the face (1, 2, 3): 9 distinct edges (6 + 3 new through node 4),
  // none between 0 and 4.
  const std::vector<Index> cells{0, 1, 2, 3, 1, 2, 3, 4};
  const CsrGraph g = csr_from_cells(5, cells, 4, /*self_loops=*/false);
  CHECK(host_vector(g.row_ptr) == std::vector<Index>{0, 3, 7, 11, 15, 18});
  CHECK(host_vector(g.col_idx) ==
        std::vector<Index>{1, 2, 3, 0, 2, 3, 4, 0, 1, 3, 4, 0, 1, 2, 4, 1, 2, 3});
  const CsrGraph with_self = csr_from_cells(5, cells, 4, true);
  CHECK(with_self.num_edges() == g.num_edges() + 5);
  // Triangles through the same function give csr_from_triangles' graph.
  const auto mesh = grid_triangle_mesh(4, 3);
  std::vector<Index> flat;
  for (const auto& t : mesh.triangles) flat.insert(flat.end(), t.begin(), t.end());
  CHECK(host_vector(csr_from_cells(mesh.num_nodes(), flat, 3, false).col_idx) ==
        host_vector(csr_from_triangles(mesh.num_nodes(), mesh.triangles, false).col_idx));
  CHECK_THROWS_WITH(csr_from_cells(5, {0, 1, 2, 9}, 4),
                    Catch::Matchers::Contains("tetrahedron 0 has vertex 9"));
  CHECK_THROWS_AS(csr_from_cells(5, {0, 1, 2}, 4), std::invalid_argument);
}
