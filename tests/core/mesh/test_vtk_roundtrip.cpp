// A mesh written through io::VtkSeries (the run's ParaView output) reads back equal, as
// does one written by VTK's writer in each of its data modes, and the parts of a mesh
// (what ranks hold after a partition) map back to the whole.
#include <vtkCellType.h>
#include <vtkDoubleArray.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLUnstructuredGridWriter.h>

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

// read_vtu checks the sizes a file declares before VTK allocates them
// (core/mesh/vtk_data_headers.hpp): every way VTK's own writer stores data must pass.
TEST_CASE("every data mode of VTK's writer reads back through the size checks",
          "[vtk_roundtrip]") {
  mesh::ChannelSpec spec;
  spec.mesh_size = 0.1;
  spec.cylinder_mesh_size = 0.03;
  const mesh::Mesh m = mesh::generate_channel_mesh(spec);
  mesh::Field zeros{"still", 2, std::vector<double>(2 * m.num_points(), 0.0)};  // compresses ~1000:1
  mesh::Field ramp{"ramp", 1, {}};
  for (std::size_t p = 0; p < m.num_points(); ++p) ramp.values.push_back(0.25 * p);
  vtkNew<vtkUnstructuredGrid> grid;
  vtkNew<vtkPoints> points;
  for (std::size_t p = 0; p < m.num_points(); ++p) {
    points->InsertNextPoint(m.coordinate(p, 0), m.coordinate(p, 1), 0.0);
  }
  grid->SetPoints(points);
  for (std::size_t c = 0; c < m.num_cells(); ++c) {
    const vtkIdType ids[3] = {m.cells[3 * c], m.cells[3 * c + 1], m.cells[3 * c + 2]};
    grid->InsertNextCell(VTK_TRIANGLE, 3, ids);
  }
  for (const mesh::Field* field : {&zeros, &ramp}) {
    vtkNew<vtkDoubleArray> array;
    array->SetName(field->name.c_str());
    array->SetNumberOfComponents(field->components);
    for (double v : field->values) array->InsertNextValue(v);
    grid->GetPointData()->AddArray(array);
  }
  const std::string dir = testing::shared_temp_dir("mesh_vtk_modes");
  int written = 0;
  for (const int mode : {vtkXMLWriter::Ascii, vtkXMLWriter::Binary, vtkXMLWriter::Appended}) {
    for (const bool compressed : {false, true}) {
      for (const bool base64 : {false, true}) {
        for (const int header : {vtkXMLWriter::UInt32, vtkXMLWriter::UInt64}) {
          if (mode != vtkXMLWriter::Appended && !base64) continue;  // raw: appended only
          const std::string path = str(dir, "/mode_", written++, ".vtu");
          vtkNew<vtkXMLUnstructuredGridWriter> writer;
          writer->SetInputData(grid);
          writer->SetFileName(path.c_str());
          writer->SetDataMode(mode);
          writer->SetEncodeAppendedData(base64 ? 1 : 0);
          writer->SetHeaderType(header);
          writer->SetBlockSize(512);  // several blocks per array
          if (compressed) writer->SetCompressorTypeToZLib(); else writer->SetCompressorTypeToNone();
          REQUIRE(writer->Write() == 1);
          INFO(path << ": mode " << mode << (compressed ? ", zlib" : "") << (base64 ? ", base64" : ", raw")
                    << ", header " << header);
          const mesh::Mesh back = mesh::read_vtu(path);
          CHECK(back.cells == m.cells);
          CHECK(back.field(0, "ramp").values == ramp.values);
          CHECK(back.field(0, "still").values == zeros.values);
        }
      }
    }
  }
  CHECK(written == 16);
  fs::remove_all(dir);
}
