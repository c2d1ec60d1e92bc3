// The mesh type, its checks (one per kind of bad input, each naming what is wrong),
// orientation, boundary facets and node-type helpers, on meshes small enough to see.
#include <chrono>

#include "core/mesh/channel_node_types.hpp"
#include "core/mesh/check_mesh.hpp"
#include "core/mesh/mesh.hpp"
#include "core/runtime/error.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using Catch::Matchers::Contains;

namespace {

// The unit square as two counter-clockwise triangles.
mesh::Mesh unit_square() {
  mesh::Mesh m;
  m.points = {0, 0, 1, 0, 1, 1, 0, 1};
  m.cells = {0, 1, 2, 0, 2, 3};
  return m;
}

// An nx x ny grid of squares over [0, nx] x [0, ny], two triangles each.
mesh::Mesh grid(int nx, int ny) {
  mesh::Mesh m;
  for (int j = 0; j <= ny; ++j) {
    for (int i = 0; i <= nx; ++i) {
      m.points.push_back(i);
      m.points.push_back(j);
    }
  }
  for (int j = 0; j < ny; ++j) {
    for (int i = 0; i < nx; ++i) {
      const mesh::Index a = j * (nx + 1) + i, b = a + 1, c = a + nx + 2, d = a + nx + 1;
      m.cells.insert(m.cells.end(), {a, b, c, a, c, d});
    }
  }
  return m;
}

}  // namespace

TEST_CASE("a valid mesh passes and gets its boundary with the cell on the left", "[checks]") {
  mesh::Mesh m = unit_square();
  REQUIRE_NOTHROW(mesh::check_mesh(m, "square"));
  CHECK(m.num_points() == 4);
  CHECK(m.num_cells() == 2);
  CHECK(mesh::signed_measure(m, 0) == Approx(0.5));
  mesh::compute_boundary_facets(m, "square");
  REQUIRE(m.num_boundary_facets() == 4);
  CHECK(m.boundary_tags.size() == 4);
  for (std::size_t f = 0; f < 4; ++f) {
    const auto a = m.boundary_facets[2 * f], b = m.boundary_facets[2 * f + 1];
    // Outward normal (dy, -dx) points away from the centre (0.5, 0.5).
    const double nx = m.coordinate(b, 1) - m.coordinate(a, 1);
    const double ny = -(m.coordinate(b, 0) - m.coordinate(a, 0));
    const double mx = 0.5 * (m.coordinate(a, 0) + m.coordinate(b, 0)) - 0.5;
    const double my = 0.5 * (m.coordinate(a, 1) + m.coordinate(b, 1)) - 0.5;
    CHECK(nx * mx + ny * my > 0);
  }
  CHECK(mesh::boundary_points(m) == std::vector<mesh::Index>{0, 1, 2, 3});
}

TEST_CASE("inverted cells are named, and orient turns a clockwise file round", "[checks]") {
  mesh::Mesh m = unit_square();
  std::swap(m.cells[4], m.cells[5]);  // cell 1 clockwise
  CHECK(mesh::count_inverted(m) == 1);
  CHECK_THROWS_WITH(mesh::check_mesh(m, "square.vtu"),
                    Contains("square.vtu") && Contains("cell 1 (points 0, 3, 2) is inverted") &&
                        Contains("-0.5") && Contains("1 of 2 cells"));
  // Mixed orientation is left for check_mesh; all clockwise is turned round.
  CHECK_FALSE(mesh::orient_if_all_inverted(m));
  std::swap(m.cells[1], m.cells[2]);
  CHECK(mesh::orient_if_all_inverted(m));
  CHECK(mesh::count_inverted(m) == 0);
  CHECK_NOTHROW(mesh::check_mesh(m, "square.vtu"));
  CHECK(m.cells[0] == 0);  // orient keeps the first point of each cell
}

TEST_CASE("degenerate, duplicate and unused points and bad indices are named", "[checks]") {
  SECTION("degenerate") {
    mesh::Mesh m = unit_square();
    m.points.insert(m.points.end(), {2, 0});
    m.cells.insert(m.cells.end(), {0, 1, 4});  // on the line y = 0
    CHECK_THROWS_WITH(mesh::check_mesh(m, "line.vtu"),
                      Contains("line.vtu") && Contains("cell 2 (points 0, 1, 4) is degenerate"));
  }
  SECTION("duplicate") {
    mesh::Mesh m = unit_square();
    m.points.insert(m.points.end(), {1 + 1e-13, 1});
    m.cells = {0, 1, 2, 0, 4, 3};
    CHECK_THROWS_WITH(mesh::check_mesh(m, "dup.xdmf"),
                      Contains("dup.xdmf") && Contains("point 4 at (1, 1) duplicates point 2"));
  }
  SECTION("unused") {
    mesh::Mesh m = unit_square();
    m.points.insert(m.points.end(), {5, 5});
    CHECK_THROWS_WITH(mesh::check_mesh(m, "u.vtu"),
                      Contains("point 4 at (5, 5) is used by no cell (1 unused points)"));
  }
  SECTION("out of range") {
    mesh::Mesh m = unit_square();
    m.cells[5] = 7;
    CHECK_THROWS_WITH(mesh::check_mesh(m, "r.vtu"),
                      Contains("cell 1 (points 0, 2, 7) refers to a point outside 0..3"));
    m.cells[5] = -1;
    CHECK_THROWS_WITH(mesh::check_mesh(m, "r.vtu"), Contains("outside 0..3"));
  }
  SECTION("repeated point in a cell") {
    mesh::Mesh m = unit_square();
    m.cells[5] = 2;
    CHECK_THROWS_WITH(mesh::check_mesh(m, "r.vtu"), Contains("uses a point twice"));
  }
  SECTION("array lengths") {
    mesh::Mesh m = unit_square();
    m.steps.push_back({0.5, {{"pressure", 1, {1, 2, 3}}}});
    CHECK_THROWS_WITH(mesh::check_mesh(m, "f.h5"),
                      Contains("field 'pressure' at step 0 (time 0.5) has 3 values; 4 points"));
    m.steps.clear();
    m.node_types.assign(3, mesh::NodeType::kNormal);
    CHECK_THROWS_WITH(mesh::check_mesh(m, "f.h5"), Contains("3 node types for 4 points"));
    m.node_types.clear();
    m.cells.pop_back();
    CHECK_THROWS_WITH(mesh::check_mesh(m, "f.h5"), Contains("5 cell indices"));
    m = unit_square();
    m.points.push_back(0.5);
    CHECK_THROWS_WITH(mesh::check_mesh(m, "f.h5"), Contains("9 point coordinates"));
  }
  SECTION("non-manifold") {
    mesh::Mesh m = unit_square();
    m.points.insert(m.points.end(), {0.5, -1});
    m.cells.insert(m.cells.end(), {0, 4, 2});  // a third cell on edge (0, 2)
    CHECK_THROWS_WITH(mesh::compute_boundary_facets(m, "nm.vtu"),
                      Contains("nm.vtu") && Contains("shared by 3 cells"));
  }
}

TEST_CASE("the duplicate-point check is linear, not quadratic", "[checks]") {
  // 250k points in a regular grid: a pairwise check would take minutes.
  mesh::Mesh m = grid(499, 499);
  const auto start = std::chrono::steady_clock::now();
  mesh::check_mesh(m, "grid");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(seconds < 2.0);
  mesh::compute_boundary_facets(m, "grid");
  CHECK(m.num_boundary_facets() == 4 * 499);
}

TEST_CASE("tetrahedra: signed volume, orientation and outward boundary faces", "[checks]") {
  mesh::Mesh m;
  m.dimension = 3;
  m.cell_kind = mesh::CellKind::kTetrahedron;
  m.points = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
  m.cells = {0, 2, 1, 3};  // left-handed
  CHECK(mesh::signed_measure(m, 0) == Approx(-1.0 / 6));
  mesh::finish_mesh(m, "tet");
  CHECK(mesh::signed_measure(m, 0) == Approx(1.0 / 6));
  REQUIRE(m.num_boundary_facets() == 4);
  for (std::size_t f = 0; f < 4; ++f) {
    const mesh::Index* ids = &m.boundary_facets[3 * f];
    double e[2][3], centre[3] = {0, 0, 0};
    for (int k = 0; k < 2; ++k) {
      for (int a = 0; a < 3; ++a) e[k][a] = m.coordinate(ids[k + 1], a) - m.coordinate(ids[0], a);
    }
    // From the tetrahedron's centroid (1/4, 1/4, 1/4) to the face's.
    for (int k = 0; k < 3; ++k) {
      for (int a = 0; a < 3; ++a) centre[a] += m.coordinate(ids[k], a) / 3;
    }
    for (double& c : centre) c -= 0.25;
    const double normal[3] = {e[0][1] * e[1][2] - e[0][2] * e[1][1],
                              e[0][2] * e[1][0] - e[0][0] * e[1][2],
                              e[0][0] * e[1][1] - e[0][1] * e[1][0]};
    CHECK(normal[0] * centre[0] + normal[1] * centre[1] + normal[2] * centre[2] > 0);
  }
  mesh::Mesh flat = m;
  flat.dimension = 2;
  CHECK_THROWS_WITH(mesh::check_mesh(flat, "tet"), Contains("need 3-D points"));
}

TEST_CASE("node types: names, codes from files, counts and one-hot rows", "[node_types]") {
  CHECK(mesh::to_string(mesh::NodeType::kWallBoundary) == "WALL_BOUNDARY");
  CHECK(mesh::node_type_from_code(4, "f") == mesh::NodeType::kInflow);
  CHECK_THROWS_WITH(mesh::node_type_from_code(9, "f.h5: node_type"),
                    Contains("f.h5: node_type") && Contains("0 to 8"));
  CHECK_THROWS_AS(mesh::node_type_from_code(1.5, "f"), InputError);
  const std::vector<mesh::NodeType> types = {mesh::NodeType::kNormal, mesh::NodeType::kOutflow,
                                             mesh::NodeType::kOutflow};
  const auto counts = mesh::count_node_types(types);
  CHECK(counts[0] == 1);
  CHECK(counts[5] == 2);
  const std::vector<float> rows = mesh::one_hot(types);
  REQUIRE(rows.size() == 3 * 9);
  CHECK(rows[0] == 1.0f);
  CHECK(rows[9 + 5] == 1.0f);
  float total = 0;
  for (float v : rows) total += v;
  CHECK(total == 3.0f);
}

TEST_CASE("channel node types from geometry, with either corner rule", "[node_types]") {
  // A 4 x 2 grid: 12 boundary points of 15; corners at (0,0) (4,0) (4,2) (0,2).
  mesh::Mesh m = grid(4, 2);
  mesh::derive_node_types(m);
  auto counts = mesh::count_node_types(m.node_types);
  CHECK(counts[static_cast<int>(mesh::NodeType::kNormal)] == 3);
  CHECK(counts[static_cast<int>(mesh::NodeType::kInflow)] == 1);
  CHECK(counts[static_cast<int>(mesh::NodeType::kOutflow)] == 1);
  CHECK(counts[static_cast<int>(mesh::NodeType::kWallBoundary)] == 10);
  CHECK(m.node_types[0] == mesh::NodeType::kWallBoundary);  // corner
  mesh::ChannelGeometry geometry;
  geometry.corners = mesh::CornerRule::kInflowOutflow;
  mesh::derive_node_types(m, geometry);
  counts = mesh::count_node_types(m.node_types);
  CHECK(counts[static_cast<int>(mesh::NodeType::kInflow)] == 3);
  CHECK(counts[static_cast<int>(mesh::NodeType::kOutflow)] == 3);
  CHECK(counts[static_cast<int>(mesh::NodeType::kWallBoundary)] == 6);
  // A wider box given by the caller: the right side is then an obstacle, not an outflow.
  geometry.x_max = 10.0;
  mesh::derive_node_types(m, geometry);
  counts = mesh::count_node_types(m.node_types);
  CHECK(counts[static_cast<int>(mesh::NodeType::kOutflow)] == 0);
  CHECK(counts[static_cast<int>(mesh::NodeType::kObstacle)] == 1);
}
