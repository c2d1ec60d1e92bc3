// A mesh written through io::VtkSeries (the run's ParaView output) reads back equal, and
// the parts of a mesh (what ranks hold after a partition) map back to the whole.
#include <algorithm>
#include <filesystem>

#include "core/io/vtk_series.hpp"
#include "core/mesh/channel_generator.hpp"
#include "core/mesh/check_mesh.hpp"
#include "core/mesh/submesh.hpp"
#include "core/mesh/vtk_piece.hpp"
#include "core/mesh/vtu_reader.hpp"
#include "core/runtime/error.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tessera;
namespace fs = std::filesystem;

TEST_CASE("a mesh written with VtkSeries reads back with read_vtu", "[vtk_roundtrip]") {
  mesh::ChannelSpec spec;
  spec.mesh_size = 0.08;
  spec.cylinder_mesh_size = 0.02;
  mesh::Mesh m = mesh::generate_channel_mesh(spec);
  mesh::FieldStep step;
  step.time = 0.5;
  mesh::Field pressure{"pressure", 1, {}}, velocity{"velocity", 2, {}};
  for (std::size_t p = 0; p < m.num_points(); ++p) {
    pressure.values.push_back(m.coordinate(p, 0) * m.coordinate(p, 1));
    velocity.values.push_back(1.0 / 3.0 + p);
    velocity.values.push_back(-static_cast<double>(p));
  }
  step.fields = {pressure, velocity};
  m.steps.push_back(step);

  const std::string dir = testing::shared_temp_dir("mesh_vtk");
  {
    io::VtkSeries series(MPI_COMM_SELF, dir, "mesh");
    series.write_step(step.time, mesh::to_vtk_piece(m, m.steps[0].fields));
  }
  std::vector<fs::path> pieces;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.path().extension() == ".vtu") pieces.push_back(entry.path());
  }
  REQUIRE(pieces.size() == 1);
  const mesh::Mesh back = mesh::read_vtu(pieces.front().string());
  CHECK(back.dimension == 2);
  CHECK(back.points == m.points);
  CHECK(back.cells == m.cells);
  CHECK(back.node_types == m.node_types);
  CHECK(back.boundary_facets == m.boundary_facets);
  REQUIRE(back.steps.size() == 1);
  CHECK(back.field(0, "pressure").values == pressure.values);
  CHECK(back.field(0, "velocity").components == 2);
  CHECK(back.field(0, "velocity").values == velocity.values);

  mesh::Field wrong{"wrong", 2, {1.0}};
  CHECK_THROWS_AS(mesh::to_vtk_piece(m, {wrong}), InputError);
  fs::remove_all(dir);
}

TEST_CASE("two parts of a mesh map back to the whole and keep its boundary tags", "[submesh]") {
  mesh::ChannelSpec spec;
  spec.mesh_size = 0.08;
  spec.cylinder_mesh_size = 0.02;
  mesh::Mesh whole = mesh::generate_channel_mesh(spec);
  mesh::Field x{"x", 1, {}};
  for (std::size_t p = 0; p < whole.num_points(); ++p) x.values.push_back(whole.coordinate(p, 0));
  whole.steps.push_back({0.0, {x}});

  std::vector<mesh::Index> left, right;
  for (std::size_t c = 0; c < whole.num_cells(); ++c) {
    double cx = 0;
    for (int k = 0; k < 3; ++k) cx += whole.coordinate(whole.cells[3 * c + k], 0) / 3;
    (cx < 0.5 ? left : right).push_back(static_cast<mesh::Index>(c));
  }
  std::size_t tagged = 0, cut = 0;
  for (const auto* cells : {&left, &right}) {
    const mesh::Submesh part = mesh::extract_cells(whole, *cells);
    CHECK_NOTHROW(mesh::check_mesh(part.mesh, "part"));
    CHECK(std::is_sorted(part.global_points.begin(), part.global_points.end()));
    CHECK(part.global_cells == *cells);
    for (std::size_t p = 0; p < part.mesh.num_points(); ++p) {
      const mesh::Index g = part.global_points[p];
      CHECK(part.mesh.coordinate(p, 1) == whole.coordinate(g, 1));
      CHECK(part.mesh.node_types[p] == whole.node_types[g]);
      CHECK(part.mesh.field(0, "x").values[p] == whole.coordinate(g, 0));
    }
    for (std::size_t c = 0; c < part.mesh.num_cells(); ++c) {
      for (int k = 0; k < 3; ++k) {
        CHECK(part.global_points[part.mesh.cells[3 * c + k]] ==
              whole.cells[3 * part.global_cells[c] + k]);
      }
    }
    for (mesh::BoundaryTag tag : part.mesh.boundary_tags) {
      (tag == mesh::BoundaryTag::kUntagged ? cut : tagged) += 1;
    }
  }
  CHECK(tagged == whole.num_boundary_facets());
  CHECK(cut > 0);
  CHECK(cut % 2 == 0);  // each cut edge seen from both sides
  CHECK_THROWS_WITH(mesh::extract_cells(whole, {0, 0}), Catch::Matchers::Contains("given twice"));
}
