#include "tests/fuzz/fuzz_targets.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <typeinfo>

#include "core/config/toml.hpp"
#include "core/io/text_readers.hpp"
#include "core/mesh/meshgraphnets_reader.hpp"
#include "core/mesh/vtu_reader.hpp"
#include "core/mesh/xdmf_reader.hpp"
#include "core/runtime/error.hpp"
#include "models/hopfield/idx_reader.hpp"

namespace tessera::fuzz {

namespace {

namespace fs = std::filesystem;

// A valid two-triangle piece, for PVTU inputs that name "piece_0.vtu".
constexpr const char* kPieceVtu = R"(<?xml version="1.0"?>
<VTKFile type="UnstructuredGrid" version="0.1" byte_order="LittleEndian">
<UnstructuredGrid><Piece NumberOfPoints="4" NumberOfCells="2">
<Points><DataArray type="Float64" NumberOfComponents="3" format="ascii">
0 0 0 1 0 0 1 1 0 0 1 0</DataArray></Points>
<Cells><DataArray type="Int64" Name="connectivity" format="ascii">0 1 2 0 2 3</DataArray>
<DataArray type="Int64" Name="offsets" format="ascii">3 6</DataArray>
<DataArray type="UInt8" Name="types" format="ascii">5 5</DataArray></Cells>
<PointData><DataArray type="Float64" Name="velocity" NumberOfComponents="2" format="ascii">
1 0 1 0 1 0 1 0</DataArray></PointData>
</Piece></UnstructuredGrid></VTKFile>
)";

void write_dataset(hid_t location, const std::string& name, hid_t file_type,
                   const std::vector<hsize_t>& dims, const std::vector<double>& values) {
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t set =
      H5Dcreate2(location, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (set >= 0) {
    if (!values.empty())
      H5Dwrite(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    H5Dclose(set);
  }
  H5Sclose(space);
}

void write_attribute(hid_t location, const char* name, double value) {
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attribute =
      H5Acreate2(location, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  if (attribute >= 0) {
    H5Awrite(attribute, H5T_NATIVE_DOUBLE, &value);
    H5Aclose(attribute);
  }
  H5Sclose(space);
}

// The readers take paths: every input is written to a file in one folder per process,
// made on first use and removed at exit (a crashing input leaves it behind, with the
// input the crash needs). The folder also holds the files inputs may refer to: a VTU
// piece and an HDF5 file for XDMF heavy data (/points 4x3, /cells 2x3, /u 4).
class Scratch {
 public:
  Scratch() {
    const char* tmp = std::getenv("TMPDIR");
    directory_ =
        fs::path(tmp && *tmp ? tmp : "/tmp") / ("tessera_fuzz_" + std::to_string(getpid()));
    fs::create_directories(directory_);
    std::ofstream(directory_ / "piece_0.vtu") << kPieceVtu;
    H5Eset_auto(H5E_DEFAULT, nullptr, nullptr);
    const hid_t file =
        H5Fcreate((directory_ / "heavy.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    write_dataset(file, "points", H5T_IEEE_F64LE, {4, 3}, {0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0});
    write_dataset(file, "cells", H5T_STD_I32LE, {2, 3}, {0, 1, 2, 0, 2, 3});
    write_dataset(file, "u", H5T_IEEE_F32LE, {4}, {1, 2, 3, 4});
    H5Fclose(file);
  }
  ~Scratch() {
    std::error_code ignored;
    fs::remove_all(directory_, ignored);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  std::string write(const std::string& name, const std::uint8_t* data, std::size_t size) const {
    const fs::path path = directory_ / name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    return path.string();
  }
  std::string path(const std::string& name) const { return (directory_ / name).string(); }

 private:
  fs::path directory_;
};

const Scratch& scratch() {
  static const Scratch instance;
  return instance;
}

std::string& refusal() {
  static std::string message;
  return message;
}

// Runs a reader: an InputError is the expected refusal; any other exception is a bug.
template <typename Body>
void refuse_only_with_input_error(const char* target, Body body) {
  try {
    body();
  } catch (const InputError& error) {
    refusal() = error.what();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "fuzz target %s: %s escaped the reader: %s\n", target,
                 typeid(error).name(), error.what());
    std::abort();
  }
}

// Equal values (NaN equals NaN: the text "nan" reads back as a NaN).
bool same_value(const config::TomlValue& a, const config::TomlValue& b) {
  if (a.data.index() != b.data.index()) return false;
  if (a.is_real()) {
    const double x = std::get<double>(a.data), y = std::get<double>(b.data);
    return (std::isnan(x) && std::isnan(y)) || x == y;
  }
  if (a.is_bool()) return std::get<bool>(a.data) == std::get<bool>(b.data);
  if (a.is_int()) return std::get<std::int64_t>(a.data) == std::get<std::int64_t>(b.data);
  if (a.is_string()) return std::get<std::string>(a.data) == std::get<std::string>(b.data);
  const auto& xs = std::get<config::TomlArray>(a.data);
  const auto& ys = std::get<config::TomlArray>(b.data);
  if (xs.size() != ys.size()) return false;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (!same_value(xs[i], ys[i])) return false;
  }
  return true;
}

void fuzz_toml(const std::uint8_t* data, std::size_t size) {
  refusal().clear();
  const std::string text(reinterpret_cast<const char*>(data), size);
  refuse_only_with_input_error("toml", [&] {
    const config::TomlDocument document = config::parse_toml(text, "fuzz.toml");
    // Every value written back as TOML must read again as the same value (checkpoints
    // store their configuration this way).
    for (const auto& [key, value] : document.values) {
      const config::TomlValue again = config::parse_toml_value(value.to_toml(), key);
      if (!same_value(again, value)) {
        std::fprintf(stderr, "fuzz target toml: %s = %s reads back as %s\n", key.c_str(),
                     value.to_toml().c_str(), again.to_toml().c_str());
        std::abort();
      }
    }
  });
}

// The first byte picks the reader (and, for CSV, the header mode and the delimiter).
void fuzz_text(const std::uint8_t* data, std::size_t size) {
  refusal().clear();
  if (size == 0) return;
  const std::uint8_t choice = data[0];
  const std::string path = scratch().write("input.txt", data + 1, size - 1);
  refuse_only_with_input_error("text", [&] {
    switch (choice % 4) {
      case 0:
        io::read_text_grid(path);
        break;
      case 1: {
        const io::CsvHeader modes[] = {io::CsvHeader::kAuto, io::CsvHeader::kPresent,
                                       io::CsvHeader::kAbsent};
        const io::CsvTable table =
            io::read_csv(path, modes[(choice / 4) % 3], (choice / 12) % 2 ? ';' : ',');
        for (std::size_t c = 0; c < table.column_count(); ++c) {
          table.text_column(c);
          refuse_only_with_input_error("text", [&] { table.numeric_column(c); });
        }
        refuse_only_with_input_error("text", [&] { table.column_index("speed"); });
        break;
      }
      case 2:
        io::read_csv_matrix(path);
        break;
      default:
        io::read_edge_list(path);
    }
  });
}

void fuzz_vtu(const std::uint8_t* data, std::size_t size) {
  refusal().clear();
  const std::string path = scratch().write("input.vtu", data, size);
  refuse_only_with_input_error("vtu", [&] { mesh::read_vtu(path); });
}

void fuzz_pvtu(const std::uint8_t* data, std::size_t size) {
  refusal().clear();
  const std::string path = scratch().write("input.pvtu", data, size);
  refuse_only_with_input_error("pvtu", [&] { mesh::read_pvtu(path); });
}

void fuzz_xdmf(const std::uint8_t* data, std::size_t size) {
  refusal().clear();
  const std::string path = scratch().write("input.xdmf", data, size);
  refuse_only_with_input_error("xdmf", [&] { mesh::read_xdmf(path); });
}

void fuzz_idx(const std::uint8_t* data, std::size_t size) {
  refusal().clear();
  const std::string path = scratch().write("input.idx", data, size);
  refuse_only_with_input_error("idx", [&] { models::hopfield::read_idx(path); });
}

// Bytes consumed one at a time; zeros once they run out.
class ByteStream {
 public:
  ByteStream(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t next() { return used_ < size_ ? data_[used_++] : 0; }

  // Values a mesh file holds: small indices (valid and not), reals, and the special ones.
  double value() {
    const std::uint8_t b = next();
    constexpr double kSpecial[] = {std::numeric_limits<double>::quiet_NaN(),
                                   std::numeric_limits<double>::infinity(),
                                   -std::numeric_limits<double>::infinity(),
                                   -1.0,
                                   1e30,
                                   -1e30,
                                   0.5,
                                   2147483648.0};
    if (b < 8) return kSpecial[b];
    if (b < 128) return b - 8;  // 0 .. 119
    return (b - 128) * 0.05 - 1.0;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_, used_ = 0;
};

// Structure-aware: the bytes describe a MeshGraphNets-style HDF5 file (which groups,
// datasets, shapes, types and values, and a dt attribute), written with the HDF5 library
// and then read. Raw-byte mutations of HDF5 files would mostly exercise the HDF5
// library's own format parser (fuzzed by its maintainers), not Tessera's checks.
void fuzz_meshgraphnets(const std::uint8_t* data, std::size_t size) {
  refusal().clear();
  ByteStream bytes(data, size);
  const std::string path = scratch().path("input.h5");
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) return;
  const std::uint8_t where_dt = bytes.next() % 4;
  if (where_dt & 1) write_attribute(file, "dt", bytes.value());
  const char* group_names[] = {"0", "1", "trajectory"};
  const hid_t group =
      H5Gcreate2(file, group_names[bytes.next() % 3], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (where_dt & 2) write_attribute(group, "dt", bytes.value());
  const char* names[] = {"cells", "mesh_pos", "node_type", "velocity", "pressure", "density"};
  const hid_t types[] = {H5T_STD_I32LE, H5T_IEEE_F32LE, H5T_IEEE_F64LE, H5T_STD_I64LE,
                         H5T_STD_U8LE};
  std::set<std::string> written;
  const int datasets = bytes.next() % 8;
  for (int d = 0; d < datasets; ++d) {
    const std::string name = names[bytes.next() % 6];
    const int rank = 1 + bytes.next() % 3;
    std::vector<hsize_t> dims(rank);
    std::size_t count = 1;
    for (hsize_t& extent : dims) {
      extent = bytes.next() % 8;
      count *= extent;
    }
    const hid_t type = types[bytes.next() % 5];
    std::vector<double> values(count);
    for (double& v : values) v = bytes.value();
    if (written.insert(name).second) write_dataset(group, name, type, dims, values);
  }
  const int trajectory = bytes.next() % 2;
  H5Gclose(group);
  H5Fclose(file);
  refuse_only_with_input_error("meshgraphnets_h5",
                               [&] { mesh::read_meshgraphnets_h5(path, trajectory); });
}

}  // namespace

const std::vector<Target>& targets() {
  static const std::vector<Target> all = {
      {"toml", fuzz_toml, "config::parse_toml (experiment files, checkpoint configs)"},
      {"text", fuzz_text,
       "io::read_text_grid, read_csv, read_csv_matrix, read_edge_list (first byte picks)"},
      {"vtu", fuzz_vtu, "mesh::read_vtu"},
      {"pvtu", fuzz_pvtu, "mesh::read_pvtu (piece_0.vtu next to the input is valid)"},
      {"xdmf", fuzz_xdmf, "mesh::read_xdmf (heavy.h5 next to the input: /points, /cells, /u)"},
      {"meshgraphnets_h5", fuzz_meshgraphnets,
       "mesh::read_meshgraphnets_h5 (structure-aware: bytes describe the HDF5 file)"},
      {"idx", fuzz_idx, "hopfield::read_idx (plain or gzip)"},
  };
  return all;
}

const std::string& last_refusal() {
  return refusal();
}

const Target* find_target(const std::string& name) {
  for (const Target& target : targets()) {
    if (name == target.name) return &target;
  }
  return nullptr;
}

}  // namespace tessera::fuzz
