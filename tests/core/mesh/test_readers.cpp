// VTU and XDMF readers on the shared CylinderFlow files (the same mesh and six steps in
// both formats), inline XDMF, and the errors a user sees for broken files.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/mesh/channel_node_types.hpp"
#include "core/mesh/read_mesh.hpp"
#include "core/mesh/vtu_reader.hpp"
#include "core/mesh/xdmf_reader.hpp"
#include "core/runtime/error.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/shared_data.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tessera;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

int count_of(const mesh::Mesh& m, mesh::NodeType type) {
  return static_cast<int>(mesh::count_node_types(m.node_types)[static_cast<int>(type)]);
}

}  // namespace

TEST_CASE("cylinder_0.vtu loads with node types derived from the channel", "[vtu]") {
  const auto path = testing::shared_data_file("mesh/cylinder_vtu/cylinder_0.vtu");
  if (!path) return;
  mesh::Mesh m = mesh::read_vtu(*path);
  CHECK(m.dimension == 2);
  CHECK(m.num_points() == 1923);
  CHECK(m.num_cells() == 3612);
  REQUIRE(m.steps.size() == 1);
  REQUIRE(m.steps[0].fields.size() == 2);
  CHECK(m.field(0, "velocity_x").components == 1);
  CHECK(m.field(0, "velocity_y").values.size() == 1923);
  CHECK(m.node_types.empty());
  CHECK(m.num_boundary_facets() == 234);

  mesh::derive_node_types(m);
  // Channel [0, 1.6] x [0, 0.41]: 19 nodes on each end, 88 on each wall (corners
  // included), 24 on the cylinder; the walls take the 4 corners.
  CHECK(count_of(m, mesh::NodeType::kInflow) == 17);
  CHECK(count_of(m, mesh::NodeType::kOutflow) == 17);
  CHECK(count_of(m, mesh::NodeType::kWallBoundary) == 176);
  CHECK(count_of(m, mesh::NodeType::kObstacle) == 24);
  CHECK(count_of(m, mesh::NodeType::kNormal) == 1923 - 234);
  std::vector<std::size_t> obstacle;
  for (std::size_t p = 0; p < m.num_points(); ++p) {
    const double x = m.coordinate(p, 0), y = m.coordinate(p, 1);
    if (m.node_types[p] == mesh::NodeType::kInflow) CHECK(x == 0.0);
    if (m.node_types[p] == mesh::NodeType::kOutflow) CHECK(x == Approx(1.6));
    if (m.node_types[p] == mesh::NodeType::kWallBoundary) {
      CHECK((y == 0.0 || y == Approx(0.41)));
    }
    if (m.node_types[p] == mesh::NodeType::kObstacle) obstacle.push_back(p);
  }
  // The obstacle nodes lie on one circle (CylinderFlow moves the cylinder between
  // trajectories: here it is at about (0.41, 0.198) with radius 0.0456).
  double cx = 0, cy = 0;
  for (std::size_t p : obstacle) {
    cx += m.coordinate(p, 0) / obstacle.size();
    cy += m.coordinate(p, 1) / obstacle.size();
  }
  CHECK(cx == Approx(0.4106).margin(1e-3));
  CHECK(cy == Approx(0.1978).margin(1e-3));
  for (std::size_t p : obstacle) {
    CHECK(std::hypot(m.coordinate(p, 0) - cx, m.coordinate(p, 1) - cy) ==
          Approx(0.04559).epsilon(1e-3));
  }

  // MeshGraphNets' convention: the cylinder is a wall, inflow/outflow take the corners.
  mesh::ChannelGeometry mgn;
  mgn.obstacle_type = mesh::NodeType::kWallBoundary;
  mgn.corners = mesh::CornerRule::kInflowOutflow;
  mesh::derive_node_types(m, mgn);
  CHECK(count_of(m, mesh::NodeType::kInflow) == 19);
  CHECK(count_of(m, mesh::NodeType::kOutflow) == 19);
  CHECK(count_of(m, mesh::NodeType::kWallBoundary) == 172 + 24);
  CHECK(count_of(m, mesh::NodeType::kObstacle) == 0);
}

TEST_CASE("mock.xdmf has the six VTU steps, to float precision", "[xdmf]") {
  const auto xdmf = testing::shared_data_file("mesh/cylinder_xdmf/mock.xdmf");
  if (!xdmf) return;
  const mesh::Mesh m = mesh::read_mesh(*xdmf);
  CHECK(m.num_points() == 1923);
  CHECK(m.num_cells() == 3612);
  REQUIRE(m.steps.size() == 6);
  for (std::size_t k = 0; k < 6; ++k) {
    INFO("step " << k);
    CHECK(m.steps[k].time == static_cast<double>(k));
    const mesh::Mesh vtu = mesh::read_mesh(
        *testing::shared_data_file("mesh/cylinder_vtu/cylinder_" + std::to_string(k) + ".vtu"));
    if (k == 0) {
      CHECK(vtu.points == m.points);
      CHECK(vtu.cells == m.cells);
      CHECK(vtu.boundary_facets == m.boundary_facets);
    }
    for (const char* name : {"velocity_x", "velocity_y"}) {
      const auto& a = m.field(k, name).values;
      const auto& b = vtu.field(0, name).values;
      REQUIRE(a.size() == b.size());
      double worst = 0;
      for (std::size_t i = 0; i < a.size(); ++i) {
        worst = std::max(worst, std::abs(a[i] - b[i]) / (1.0 + std::abs(b[i])));
      }
      CHECK(worst <= 1.2e-7);  // float32 in both files
    }
  }
  // Consecutive steps differ: the fields do move.
  CHECK(m.field(0, "velocity_x").values != m.field(5, "velocity_x").values);
}

TEST_CASE("inline XDMF with XY geometry and a clockwise file", "[xdmf]") {
  const std::string dir = testing::shared_temp_dir("xdmf_inline");
  const fs::path path = fs::path(dir) / "square.xdmf";
  // Two clockwise triangles: the reader turns them round.
  write_text(path, R"(<?xml version="1.0"?>
<Xdmf Version="3.0"><Domain>
  <Grid Name="square" GridType="Uniform">
    <Topology TopologyType="Triangle" NumberOfElements="2">
      <DataItem Dimensions="2 3" NumberType="Int" Format="XML">0 2 1  0 3 2</DataItem>
    </Topology>
    <Geometry GeometryType="XY">
      <DataItem Dimensions="4 2" Format="XML">0 0  1 0  1 1  0 1</DataItem>
    </Geometry>
    <Attribute Name="u" AttributeType="Vector" Center="Node">
      <DataItem Dimensions="4 2" Format="XML">1 2 3 4 5 6 7 8</DataItem>
    </Attribute>
    <Attribute Name="area" Center="Cell"><DataItem Dimensions="2">0.5 0.5</DataItem></Attribute>
  </Grid>
</Domain></Xdmf>)");
  const mesh::Mesh m = mesh::read_xdmf(path.string());
  CHECK(m.num_points() == 4);
  CHECK(m.cells == std::vector<mesh::Index>{0, 1, 2, 0, 2, 3});
  REQUIRE(m.steps.size() == 1);
  CHECK(m.steps[0].time == 0.0);
  REQUIRE(m.steps[0].fields.size() == 1);  // the cell attribute is skipped
  CHECK(m.field(0, "u").components == 2);
  CHECK(m.field(0, "u").values[7] == 8.0);
  fs::remove_all(dir);
}

TEST_CASE("an inline XDMF time series with HyperSlab times; meshes may not move", "[xdmf]") {
  const std::string dir = testing::shared_temp_dir("xdmf_series");
  const fs::path path = fs::path(dir) / "series.xdmf";
  const auto grid = [](const std::string& geometry, const std::string& values) {
    return "<Grid GridType=\"Uniform\"><Topology TopologyType=\"Triangle\">"
           "<DataItem Dimensions=\"2 3\">0 1 2 0 2 3</DataItem></Topology>"
           "<Geometry GeometryType=\"XY\"><DataItem Dimensions=\"4 2\">" +
           geometry + "</DataItem></Geometry><Attribute Name=\"p\"><DataItem Dimensions=\"4\">" +
           values + "</DataItem></Attribute></Grid>";
  };
  const auto series = [&](const std::string& second_geometry) {
    return "<Xdmf Version=\"3.0\"><Domain><Grid GridType=\"Collection\" "
           "CollectionType=\"Temporal\"><Time TimeType=\"HyperSlab\"><DataItem "
           "Dimensions=\"3\">0.5 0.25 2</DataItem></Time>" +
           grid("0 0 1 0 1 1 0 1", "1 2 3 4") + grid(second_geometry, "5 6 7 8") +
           "</Grid></Domain></Xdmf>";
  };
  write_text(path, series("0 0 1 0 1 1 0 1"));
  const mesh::Mesh m = mesh::read_xdmf(path.string());
  REQUIRE(m.steps.size() == 2);
  CHECK(m.steps[0].time == 0.5);
  CHECK(m.steps[1].time == 0.75);
  CHECK(m.field(1, "p").values == std::vector<double>{5, 6, 7, 8});
  write_text(path, series("0 0 2 0 2 2 0 2"));
  CHECK_THROWS_WITH(mesh::read_xdmf(path.string()),
                    Contains("step 1 has a different Topology or Geometry from step 0"));
  fs::remove_all(dir);
}

TEST_CASE("broken XDMF files name the file and what is wrong", "[xdmf]") {
  const auto xdmf = testing::shared_data_file("mesh/cylinder_xdmf/mock.xdmf");
  if (!xdmf) return;
  const std::string h5 = fs::absolute(fs::path(*xdmf).parent_path() / "mock.h5").string();
  const std::string original = read_text(*xdmf);
  const std::string dir = testing::shared_temp_dir("xdmf_errors");
  const fs::path path = fs::path(dir) / "broken.xdmf";
  const auto fails_with = [&](const std::string& text, const std::string& message) {
    write_text(path, text);
    INFO(message);
    CHECK_THROWS_WITH(mesh::read_xdmf(path.string()), Contains(path.string()) && Contains(message));
  };
  const std::string absolute = replace_all(original, "mock.h5:", h5 + ":");
  // The copy refers to mock.h5 beside itself, which is not there.
  fails_with(original, "names HDF5 file");
  fails_with(replace_all(absolute, ":/data5<", ":/data99<"),
             "step 1 Attribute 'velocity_y': DataItem names dataset /data99, which is not in");
  fails_with(replace_all(absolute, "TopologyType=\"Triangle\"", "TopologyType=\"Quadrilateral\""),
             "TopologyType=\"Quadrilateral\" is not supported");
  fails_with(replace_all(absolute, "Dimensions=\"1923 3\"", "Dimensions=\"1900 3\""),
             "Dimensions=\"1900 3\" but /data0");
  fails_with(replace_all(absolute, "Format=\"HDF\" Precision=\"4\">" + h5 + ":/data12",
                         "Format=\"Binary\" Precision=\"4\">" + h5 + ":/data12"),
             "Format=\"Binary\" is not supported");
  fails_with(replace_all(absolute, "Name=\"mesh\"", "Name=\"other\""),
             "names Grid \"mesh\", which is not in the file");
  fails_with("<Xdmf><Domain><Grid", "not readable as XML");
  fails_with("<Xdmf Version=\"3.0\"></Xdmf>", "no <Domain>");
  CHECK_THROWS_WITH(mesh::read_xdmf(dir + "/absent.xdmf"), Contains("no such file"));
  CHECK_THROWS_WITH(mesh::read_mesh(dir + "/mesh.msh"), Contains("unknown mesh format '.msh'"));
  fs::remove_all(dir);
}

TEST_CASE("broken VTU files name the file", "[vtu]") {
  const std::string dir = testing::shared_temp_dir("vtu_errors");
  const fs::path path = fs::path(dir) / "broken.vtu";
  write_text(path, "this is not XML");
  CHECK_THROWS_WITH(mesh::read_vtu(path.string()), Contains(path.string()));
  // A quad mesh is a valid VTU file but not a mesh we take.
  write_text(path, R"(<?xml version="1.0"?>
<VTKFile type="UnstructuredGrid" version="0.1" byte_order="LittleEndian">
<UnstructuredGrid><Piece NumberOfPoints="4" NumberOfCells="1">
<Points><DataArray type="Float64" NumberOfComponents="3" format="ascii">
0 0 0 1 0 0 1 1 0 0 1 0</DataArray></Points>
<Cells><DataArray type="Int64" Name="connectivity" format="ascii">0 1 2 3</DataArray>
<DataArray type="Int64" Name="offsets" format="ascii">4</DataArray>
<DataArray type="UInt8" Name="types" format="ascii">9</DataArray></Cells>
</Piece></UnstructuredGrid></VTKFile>)");
  CHECK_THROWS_WITH(mesh::read_vtu(path.string()),
                    Contains(path.string()) && Contains("cell 0 is a vtkQuad"));
  CHECK_THROWS_WITH(mesh::read_vtu(dir + "/absent.vtu"), Contains("no such file"));
  // Connectivity VTK takes as written (found by fuzzing: read past the points).
  const auto triangles = [](const std::string& connectivity, const std::string& velocity) {
    return R"(<?xml version="1.0"?>
<VTKFile type="UnstructuredGrid" version="0.1" byte_order="LittleEndian">
<UnstructuredGrid><Piece NumberOfPoints="4" NumberOfCells="2">
<Points><DataArray type="Float64" NumberOfComponents="3" format="ascii">
0 0 0 1 0 0 1 1 0 0 1 0</DataArray></Points>
<Cells><DataArray type="Int64" Name="connectivity" format="ascii">)" +
           connectivity + R"(</DataArray>
<DataArray type="Int64" Name="offsets" format="ascii">3 6</DataArray>
<DataArray type="UInt8" Name="types" format="ascii">5 5</DataArray></Cells>
<PointData><DataArray type="Float64" Name="velocity" NumberOfComponents="2" format="ascii">)" +
           velocity + R"(</DataArray></PointData>
</Piece></UnstructuredGrid></VTKFile>)";
  };
  const std::string still = "1 0 1 0 1 0 1 0";
  write_text(path, triangles("0 1 2 0 2 3", still));
  CHECK(mesh::read_vtu(path.string()).num_cells() == 2);
  write_text(path, triangles("0 1 2 0 2 7", still));
  CHECK_THROWS_WITH(mesh::read_vtu(path.string()),
                    Contains("cell 1 refers to point 7; the file has 4 points"));
  // NaN in a field is refused where it is read, not found later as a NaN loss.
  write_text(path, triangles("0 1 2 0 2 3", "1 0 1 0 nan 0 1 0"));
  CHECK_THROWS_WITH(mesh::read_vtu(path.string()), Contains("field 'velocity' at step 0") &&
                                                       Contains("at point 2") &&
                                                       Contains("fields must be finite"));
  // A component count VTK would take as written (it looped for minutes on this one).
  write_text(path, triangles("0 1 2 0 2 3", still));
  {
    std::string text = read_text(path);
    const std::string components = "NumberOfComponents=\"2\"";
    text.replace(text.find(components), components.size(),
                 "NumberOfComponents=\"26666666666\"");
    write_text(path, text);
  }
  CHECK_THROWS_WITH(mesh::read_vtu(path.string()),
                    Contains(path.string() + ": <DataArray Name=\"velocity\">") &&
                        Contains("NumberOfComponents=\"26666666666\" is not a count from 1 to 64"));
  // Sizes VTK would allocate as declared, before reading the data (found by fuzzing):
  // a piece's point count, the block count of a compressed array's header, the byte count
  // of an appended array's header.
  {
    const auto replace_once = [](std::string& text, const std::string& from, const std::string& to) {
      REQUIRE(text.find(from) != std::string::npos);
      text.replace(text.find(from), from.size(), to);
    };
    std::string text = triangles("0 1 2 0 2 3", still);
    replace_once(text, "NumberOfPoints=\"4\"", "NumberOfPoints=\"9999999999\"");
    write_text(path, text);
    CHECK_THROWS_WITH(mesh::read_vtu(path.string()),
                      Contains("<Piece NumberOfPoints=\"9999999999\"> declares more than a file of"));
    // 2147483647 blocks of 32768 bytes (header ff ff ff 7f 00 80 00 00 00 00 00 00).
    text = triangles("0 1 2 0 2 3", still);
    replace_once(text, "byte_order=\"LittleEndian\"",
                 "byte_order=\"LittleEndian\" compressor=\"vtkZLibDataCompressor\"");
    const std::string ascii_velocity = "format=\"ascii\">1 0 1 0 1 0 1 0";
    replace_once(text, ascii_velocity, "format=\"binary\">////fwCAAAAAAAAAAAAAAA==eJxjYAAAAAQAAQ==");
    write_text(path, text);
    CHECK_THROWS_WITH(mesh::read_vtu(path.string()),
                      Contains("<DataArray Name=\"velocity\">: its header declares 2147483647 "
                               "compressed blocks"));
    // Appended raw data whose size word says 1000000000 bytes (00 ca 9a 3b).
    text = triangles("0 1 2 0 2 3", still);
    replace_once(text, ascii_velocity, "format=\"appended\" offset=\"0\">");
    replace_once(text, "</UnstructuredGrid>",
                 std::string("</UnstructuredGrid>\n<AppendedData encoding=\"raw\">_") +
                     std::string("\x00\xca\x9a\x3b", 4) + std::string(64, '\0') +
                     "\n</AppendedData>");
    write_text(path, text);
    CHECK_THROWS_WITH(mesh::read_vtu(path.string()),
                      Contains("<DataArray Name=\"velocity\">: its header declares 1000000000 "
                               "bytes of data; the file holds"));
  }
  // A file cut short: the XML parser's complaint, with where the file ends, without VTK's
  // source-file preamble.
  if (const auto vtu = testing::shared_data_file("mesh/cylinder_vtu/cylinder_0.vtu")) {
    const std::string whole = read_text(*vtu);
    write_text(path, whole.substr(0, whole.size() / 2));
    CHECK_THROWS_WITH(mesh::read_vtu(path.string()),
                      Contains(path.string() + ": not readable as XML: ") &&
                          Contains("no element found") &&
                          !Contains("vtkXMLUnstructuredGridReader.cxx"));
  }
  fs::remove_all(dir);
}

TEST_CASE("a .pvtu whose summary disagrees with a piece is refused before VTK reads it", "[vtu]") {
  // VTK's parallel reader sizes arrays from the summary and copies the pieces' arrays
  // into them unchecked: these files made it write out of bounds (found by fuzzing).
  const std::string dir = testing::shared_temp_dir("pvtu_errors");
  write_text(fs::path(dir) / "piece_0.vtu", R"(<?xml version="1.0"?>
<VTKFile type="UnstructuredGrid" version="0.1" byte_order="LittleEndian">
<UnstructuredGrid><Piece NumberOfPoints="3" NumberOfCells="1">
<Points><DataArray type="Float64" NumberOfComponents="3" format="ascii">
0 0 0 1 0 0 0 1 0</DataArray></Points>
<Cells><DataArray type="Int64" Name="connectivity" format="ascii">0 1 2</DataArray>
<DataArray type="Int64" Name="offsets" format="ascii">3</DataArray>
<DataArray type="UInt8" Name="types" format="ascii">5</DataArray></Cells>
<PointData><DataArray type="Float64" Name="velocity" NumberOfComponents="2" format="ascii">
1 0 1 0 1 0</DataArray></PointData>
</Piece></UnstructuredGrid></VTKFile>)");
  const fs::path path = fs::path(dir) / "mesh.pvtu";
  const auto summary = [](const std::string& points, const std::string& arrays,
                          const std::string& source) {
    return R"(<?xml version="1.0"?>
<VTKFile type="PUnstructuredGrid" version="0.1" byte_order="LittleEndian">
<PUnstructuredGrid GhostLevel="0"><PPoints>)" +
           points + "</PPoints><PPointData>" + arrays + R"(</PPointData>
<Piece Source=")" +
           source + R"("/></PUnstructuredGrid></VTKFile>)";
  };
  const std::string points = R"(<PDataArray type="Float64" NumberOfComponents="3"/>)";
  const std::string velocity =
      R"(<PDataArray type="Float64" Name="velocity" NumberOfComponents="2"/>)";
  write_text(path, summary(points, velocity, "piece_0.vtu"));
  CHECK(mesh::read_pvtu(path.string()).num_points() == 3);
  const auto fails_with = [&](const std::string& text, const std::string& message) {
    write_text(path, text);
    INFO(message);
    CHECK_THROWS_WITH(mesh::read_pvtu(path.string()), Contains(message));
  };
  fails_with(summary(R"(<PDataArray type="Float64"/>)", velocity, "piece_0.vtu"),
             "PPoints declare 1 components; VTK points have 3");
  fails_with(
      summary(points, R"(<PDataArray type="Float64" Name="velocity" NumberOfComponents="8"/>)",
              "piece_0.vtu"),
      "piece_0.vtu: point array 'velocity' is Float64 x 2; " + path.string() +
          " declares Float64 x 8");
  fails_with(
      summary(points, R"(<PDataArrIy type="Float32" Name="velocity" NumberOfComponents="2"/>)",
              "piece_0.vtu"),
      "point array 'velocity' is Float64 x 2");
  fails_with(summary(points, R"(<PDataArray type="Float64" Name="pressure"/>)", "piece_0.vtu"),
             "point array 'pressure' is missing");
  fails_with(summary(points, velocity, "piece_9.vtu"), "piece 'piece_9.vtu' is not a file");
  fails_with(summary(points, R"(<PDataArray Name="v" NumberOfComponents="x"/>)", "piece_0.vtu"),
             "NumberOfComponents=\"x\" is not a count from 1 to 64");
  fs::remove_all(dir);
}
