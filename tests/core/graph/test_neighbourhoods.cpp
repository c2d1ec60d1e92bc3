#include "core/graph/neighbourhoods.hpp"

#include <set>

#include "tests/support/catch.hpp"

using namespace tessera::graph;

namespace {

// A path 0 - 1 - 2 - 3 - 4 - 5 (no self-loops).
HostCsr path_graph(int n) {
  HostCsr g;
  g.row_ptr.push_back(0);
  for (int i = 0; i < n; ++i) {
    if (i > 0) g.col_idx.push_back(i - 1);
    if (i + 1 < n) g.col_idx.push_back(i + 1);
    g.row_ptr.push_back(static_cast<Index>(g.col_idx.size()));
  }
  return g;
}

std::vector<Index> row(const HostCsr& g, int i) {
  return std::vector<Index>(g.col_idx.begin() + g.row_ptr[i], g.col_idx.begin() + g.row_ptr[i + 1]);
}

HostCsr mesh_graph(std::size_t nx, std::size_t ny) {
  const TriangleMesh mesh = grid_triangle_mesh(nx, ny);
  return to_host(csr_from_triangles(mesh.num_nodes(), mesh.triangles, false));
}

}  // namespace

TEST_CASE("k-hop neighbourhoods on a path", "[k_hop]") {
  const HostCsr g = path_graph(6);
  const HostCsr two = k_hop(g, 2);
  CHECK(row(two, 0) == std::vector<Index>{0, 1, 2});
  CHECK(row(two, 3) == std::vector<Index>{1, 2, 3, 4, 5});
  const HostCsr no_self = k_hop(g, 1, false);
  CHECK(row(no_self, 2) == std::vector<Index>{1, 3});
  CHECK(is_symmetric(two));
  CHECK_THROWS(k_hop(g, 0));
}

TEST_CASE("k-hop rows of a triangle mesh grow with k", "[k_hop]") {
  const HostCsr g = mesh_graph(9, 9);
  const HostCsr one = k_hop(g, 1, false);
  CHECK(one.col_idx == g.col_idx);  // one hop is the adjacency itself
  const HostCsr three = k_hop(g, 3);
  const int centre = 4 * 9 + 4;
  // A hexagonal-ish neighbourhood: 1 + 6 + 12 + 18 nodes within 3 hops in the interior.
  CHECK(row(three, centre).size() == 37);
  CHECK(is_symmetric(three));
}

TEST_CASE("dilated neighbourhoods keep hop distances d, 2d, ...", "[dilated]") {
  const HostCsr g = path_graph(9);
  const HostCsr d2 = dilated(g, 2, 2);
  CHECK(row(d2, 4) == std::vector<Index>{0, 2, 4, 6, 8});
  CHECK(row(dilated(g, 3, 1, false), 4) == std::vector<Index>{1, 7});
  CHECK(dilated(g, 1, 3).col_idx == k_hop(g, 3).col_idx);
}

TEST_CASE("global nodes link to every node", "[global_nodes]") {
  const HostCsr g = path_graph(4);
  const HostCsr aug = with_global_nodes(g, 2);
  CHECK(aug.num_nodes() == 6);
  CHECK(row(aug, 0) == std::vector<Index>{1, 4, 5});
  CHECK(row(aug, 4) == std::vector<Index>{0, 1, 2, 3, 4, 5});
  CHECK(is_symmetric(aug));
  // Valid CSR (sorted, in range).
  CHECK_NOTHROW(to_device(aug));
}

TEST_CASE("edge features are relative positions and distances", "[edge_features]") {
  const HostCsr g = path_graph(3);
  const std::vector<double> points = {0.0, 0.0, 3.0, 4.0, 3.0, 5.0};
  const auto f = edge_features(g, points, 2);
  // Edge 0 is 0 <- 1.
  CHECK(f[0] == 3.0);
  CHECK(f[1] == 4.0);
  CHECK(f[2] == 5.0);
  CHECK_THROWS(edge_features(g, {0.0}, 2));
}
