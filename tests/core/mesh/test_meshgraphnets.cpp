// The MeshGraphNets HDF5 reader. No such file is in the shared data, so the test writes
// one with plain HDF5 calls in the layout of cylinder_flow's meta.json (shapes and dtypes
// taken from the shared copy of it), from the CylinderFlow VTU steps, and reads it back.
#include <hdf5.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>

#include "core/io/hdf5_reader.hpp"
#include "core/mesh/channel_generator.hpp"
#include "core/mesh/channel_node_types.hpp"
#include "core/mesh/meshgraphnets_reader.hpp"
#include "core/mesh/read_mesh.hpp"
#include "core/mesh/vtu_reader.hpp"
#include "core/runtime/error.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/shared_data.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tessera;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// Writes `data` (converted to `type` in the file) at `dataset`, making groups as needed.
void write_dataset(hid_t file, const std::string& dataset, const std::vector<hsize_t>& dims,
                   const std::vector<double>& data, hid_t type) {
  hid_t links = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(links, 1);
  hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  hid_t set = H5Dcreate2(file, dataset.c_str(), type, space, links, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(set >= 0);
  REQUIRE(H5Dwrite(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) >= 0);
  H5Dclose(set);
  H5Sclose(space);
  H5Pclose(links);
}

void write_attribute(hid_t file, const std::string& name, double value) {
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t attribute =
      H5Acreate2(file, name.c_str(), H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attribute, H5T_NATIVE_DOUBLE, &value);
  H5Aclose(attribute);
  H5Sclose(space);
}

// A feature's entry in meta.json: its shape (with -1 for the point or cell count) and dtype.
struct MetaFeature {
  std::vector<long> shape;
  std::string dtype;
};

MetaFeature meta_feature(const std::string& json, const std::string& name) {
  const std::regex pattern("\"" + name +
                           "\"\\s*:\\s*\\{[^}]*\"shape\"\\s*:\\s*\\[([^\\]]*)\\][^}]*\"dtype\"\\s*:"
                           "\\s*\"(\\w+)\"");
  std::smatch match;
  REQUIRE(std::regex_search(json, match, pattern));
  MetaFeature feature;
  std::istringstream numbers(std::regex_replace(match[1].str(), std::regex(","), " "));
  for (long value; numbers >> value;) feature.shape.push_back(value);
  feature.dtype = match[2];
  return feature;
}

// The dims of a feature with -1 replaced by `count`, and at most `steps` leading frames.
std::vector<hsize_t> dims_of(const MetaFeature& feature, std::size_t count, std::size_t steps) {
  std::vector<hsize_t> dims;
  for (std::size_t i = 0; i < feature.shape.size(); ++i) {
    const long d = feature.shape[i];
    dims.push_back(d < 0 ? count : (i == 0 ? std::min<hsize_t>(d, steps) : d));
  }
  return dims;
}

hid_t file_type(const MetaFeature& feature) {
  return feature.dtype == "int32" ? H5T_STD_I32LE : H5T_IEEE_F32LE;
}

}  // namespace

TEST_CASE("a MeshGraphNets file in cylinder_flow's layout reads back", "[meshgraphnets]") {
  const auto meta_path = testing::shared_data_file("mesh/cylinder_flow_meta.json");
  if (!meta_path) return;
  std::ifstream meta_in(*meta_path);
  std::stringstream buffer;
  buffer << meta_in.rdbuf();
  const std::string meta = buffer.str();
  const MetaFeature cells = meta_feature(meta, "cells");
  const MetaFeature mesh_pos = meta_feature(meta, "mesh_pos");
  const MetaFeature node_type = meta_feature(meta, "node_type");
  const MetaFeature velocity = meta_feature(meta, "velocity");
  const MetaFeature pressure = meta_feature(meta, "pressure");
  CHECK(cells.shape == std::vector<long>{1, -1, 3});
  CHECK(velocity.shape == std::vector<long>{600, -1, 2});
  CHECK(cells.dtype == "int32");

  // Trajectory 1 of a file: the CylinderFlow mesh, three of its VTU steps as velocity.
  const std::size_t steps = 3;
  mesh::Mesh source =
      mesh::read_vtu(*testing::shared_data_file("mesh/cylinder_vtu/cylinder_0.vtu"));
  mesh::ChannelGeometry mgn;
  mgn.obstacle_type = mesh::NodeType::kWallBoundary;
  mesh::derive_node_types(source, mgn);
  const std::size_t n = source.num_points();
  std::vector<double> velocities, pressures;
  for (std::size_t k = 0; k < steps; ++k) {
    const mesh::Mesh step = mesh::read_vtu(
        *testing::shared_data_file("mesh/cylinder_vtu/cylinder_" + std::to_string(k) + ".vtu"));
    for (std::size_t p = 0; p < n; ++p) {
      velocities.push_back(step.field(0, "velocity_x").values[p]);
      velocities.push_back(step.field(0, "velocity_y").values[p]);
      pressures.push_back(static_cast<float>(0.25 * k + source.coordinate(p, 0)));
    }
  }
  std::vector<double> types;
  for (mesh::NodeType type : source.node_types) types.push_back(static_cast<double>(type));

  const std::string dir = testing::shared_temp_dir("mgn");
  const std::string path = dir + "/cylinder_flow.h5";
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(file >= 0);
  write_dataset(file, "/0/cells", {1, 2, 3}, {0, 1, 2, 0, 2, 3}, H5T_STD_I32LE);  // another one
  write_dataset(file, "/1/cells", dims_of(cells, source.num_cells(), steps),
                std::vector<double>(source.cells.begin(), source.cells.end()), file_type(cells));
  write_dataset(file, "/1/mesh_pos", dims_of(mesh_pos, n, steps), source.points,
                file_type(mesh_pos));
  write_dataset(file, "/1/node_type", dims_of(node_type, n, steps), types, file_type(node_type));
  write_dataset(file, "/1/velocity", dims_of(velocity, n, steps), velocities, file_type(velocity));
  write_dataset(file, "/1/pressure", dims_of(pressure, n, steps), pressures, file_type(pressure));
  write_attribute(file, "dt", 0.01);
  H5Fclose(file);

  const mesh::Mesh m = mesh::read_meshgraphnets_h5(path, 1);
  CHECK(m.points == source.points);  // float32 coordinates survive a float32 file
  CHECK(m.cells == source.cells);
  CHECK(m.node_types == source.node_types);
  REQUIRE(m.steps.size() == steps);
  for (std::size_t k = 0; k < steps; ++k) {
    CHECK(m.steps[k].time == Approx(0.01 * k));
    const mesh::Field& v = m.field(k, "velocity");
    CHECK(v.components == 2);
    CHECK(v.values == std::vector<double>(velocities.begin() + k * 2 * n,
                                          velocities.begin() + (k + 1) * 2 * n));
    CHECK(m.field(k, "pressure").components == 1);
    CHECK(m.field(k, "pressure").values[7] ==
          static_cast<double>(static_cast<float>(0.25 * k + source.coordinate(7, 0))));
  }
  const auto counts = mesh::count_node_types(m.node_types);
  CHECK(counts[static_cast<int>(mesh::NodeType::kObstacle)] == 0);
  CHECK(counts[static_cast<int>(mesh::NodeType::kWallBoundary)] == 176 + 24);
  CHECK(mesh::read_mesh(path, 1).num_cells() == 3612);

  CHECK_THROWS_WITH(mesh::read_meshgraphnets_h5(path, 7),
                    Contains(path) && Contains("no trajectory group /7 (groups there: 0, 1)"));
  CHECK_THROWS_WITH(mesh::read_meshgraphnets_h5(path, 0),
                    Contains("trajectory /0 has no dataset 'mesh_pos'"));

  // Without the fields: the same mesh and steps, no values; then some points' frames,
  // one frame at a time, equal to those of the whole read.
  const mesh::Mesh bare = mesh::read_meshgraphnets_h5(path, 1, false);
  CHECK(bare.points == m.points);
  CHECK(bare.node_types == m.node_types);
  REQUIRE(bare.steps.size() == steps);
  CHECK(bare.steps[2].time == Approx(0.02));
  CHECK(bare.steps[1].fields.empty());
  const std::vector<long long> points = {5, 0, static_cast<long long>(n) - 1};
  const auto frames = mesh::read_meshgraphnets_frames(path, 1, "velocity", points, 2);
  REQUIRE(frames.size() == 2);
  for (std::size_t k = 0; k < 2; ++k) {
    const mesh::Field& v = m.field(k, "velocity");
    for (std::size_t r = 0; r < points.size(); ++r) {
      for (std::size_t c = 0; c < 2; ++c) {
        CHECK(frames[k][r * 2 + c] == v.values[static_cast<std::size_t>(points[r]) * 2 + c]);
      }
    }
  }
  CHECK_THROWS_WITH(
      mesh::read_meshgraphnets_frames(path, 1, "velocity", points, 4),
      Contains(path) && Contains("/1/velocity has 3 frames") && Contains("expected at least 4"));
  CHECK_THROWS_WITH(mesh::read_meshgraphnets_frames(path, 1, "vorticity", points, 2),
                    Contains("no dataset /1/vorticity"));

  // Static features a block at a time (a rank reading its part of a mesh): the shape, the
  // cells in blocks of 1,000, some points' positions and node types, as the whole read.
  const mesh::MeshgraphnetsShape shape = mesh::read_meshgraphnets_shape(path, 1);
  CHECK(shape.dimension == 2);
  CHECK(shape.points == n);
  CHECK(shape.cells == m.num_cells());
  CHECK(shape.node_types);
  std::vector<double> streamed;
  std::uint64_t next = 0;
  mesh::for_each_meshgraphnets_block(
      path, 1, "cells", 1000,
      [&](std::uint64_t first, std::uint64_t rows, const std::vector<double>& values) {
        CHECK(first == next);
        CHECK(rows <= 1000);
        CHECK(values.size() == rows * 3);
        next += rows;
        streamed.insert(streamed.end(), values.begin(), values.end());
      });
  CHECK(streamed == std::vector<double>(m.cells.begin(), m.cells.end()));
  const std::vector<long long> some = {0, 5, 1500, static_cast<long long>(n) - 1};
  const std::vector<double> positions = mesh::read_meshgraphnets_rows(path, 1, "mesh_pos", some);
  const std::vector<double> codes = mesh::read_meshgraphnets_rows(path, 1, "node_type", some);
  REQUIRE(positions.size() == 2 * some.size());
  REQUIRE(codes.size() == some.size());
  for (std::size_t r = 0; r < some.size(); ++r) {
    const auto p = static_cast<std::size_t>(some[r]);
    CHECK(positions[2 * r] == m.points[2 * p]);
    CHECK(positions[2 * r + 1] == m.points[2 * p + 1]);
    CHECK(codes[r] == static_cast<double>(m.node_types[p]));
  }
  CHECK_THROWS_WITH(io::Hdf5Reader(path).read_block("/1/mesh_pos", {0, 0, 0}, {1, n + 1, 2}),
                    Contains("/1/mesh_pos (1 x " + std::to_string(n) + " x 2) does not hold"));
  fs::remove_all(dir);
}

TEST_CASE("MeshGraphNets files with mismatched arrays are refused", "[meshgraphnets]") {
  mesh::ChannelSpec spec;
  spec.mesh_size = 0.1;
  spec.cylinder_mesh_size = 0.02;
  const mesh::Mesh m = mesh::generate_channel_mesh(spec);
  const hsize_t n = m.num_points(), c = m.num_cells();
  const std::vector<double> cells(m.cells.begin(), m.cells.end());
  const std::string dir = testing::shared_temp_dir("mgn_errors");
  const std::string path = dir + "/bad.h5";
  const auto write = [&](const std::function<void(hid_t)>& extra) {
    hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    write_dataset(file, "/0/cells", {c, 3}, cells, H5T_STD_I64LE);
    write_dataset(file, "/0/mesh_pos", {n, 2}, m.points, H5T_IEEE_F64LE);
    extra(file);
    H5Fclose(file);
  };

  write([&](hid_t file) {
    // Pressure as [T, N] without a component axis is fine.
    write_dataset(file, "/0/pressure", {4, n}, std::vector<double>(4 * n, 1.0), H5T_IEEE_F32LE);
  });
  const mesh::Mesh ok = mesh::read_meshgraphnets_h5(path);
  CHECK(ok.steps.size() == 4);
  CHECK(ok.steps[3].time == 3.0);  // no dt: step numbers
  CHECK(ok.node_types.empty());

  write([&](hid_t file) {
    write_dataset(file, "/0/velocity", {2, n - 1, 2}, std::vector<double>(4 * (n - 1)),
                  H5T_IEEE_F32LE);
  });
  CHECK_THROWS_WITH(
      mesh::read_meshgraphnets_h5(path),
      Contains(path) && Contains("/0/velocity has " + std::to_string(n - 1) +
                                 " points per frame, but /0/mesh_pos has " + std::to_string(n)));
  write([&](hid_t file) {
    write_dataset(file, "/0/velocity", {3, n, 2}, std::vector<double>(6 * n), H5T_IEEE_F32LE);
    write_dataset(file, "/0/pressure", {2, n, 1}, std::vector<double>(2 * n), H5T_IEEE_F32LE);
  });
  CHECK_THROWS_WITH(mesh::read_meshgraphnets_h5(path),
                    Contains("/0/velocity has 3 steps but /0/pressure has 2"));
  write([&](hid_t file) {
    write_dataset(file, "/0/node_type", {n}, std::vector<double>(n, 12.0), H5T_STD_I32LE);
  });
  CHECK_THROWS_WITH(mesh::read_meshgraphnets_h5(path),
                    Contains("/0/node_type") && Contains("not a MeshGraphNets node type"));
  fs::remove_all(dir);
}
