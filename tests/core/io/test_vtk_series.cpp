#include "core/io/vtk_series.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/runtime/runtime.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tessera;
namespace fs = std::filesystem;

namespace {
// `count` unit line cells starting at cell `first` (x = first * dx), as one rank's piece.
io::UnstructuredPiece line_cells(double dx, std::int64_t first, std::int64_t count) {
  io::UnstructuredPiece piece;
  for (std::int64_t i = 0; i <= count; ++i) {
    piece.points.insert(piece.points.end(), {static_cast<double>(first + i) * dx, 0.0, 0.0});
  }
  piece.cell_offsets.push_back(0);
  for (std::int64_t c = 0; c < count; ++c) {
    piece.connectivity.insert(piece.connectivity.end(), {c, c + 1});
    piece.cell_offsets.push_back(2 * (c + 1));
    piece.cell_types.push_back(io::CellType::kLine);
  }
  return piece;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}
}  // namespace

TEST_CASE("a VTK series has one piece per rank, one pvtu per step and a pvd", "[vtk_series]") {
  const int rank = runtime::comm_rank(MPI_COMM_WORLD);
  const int size = runtime::comm_size(MPI_COMM_WORLD);
  const std::string dir = testing::shared_temp_dir("vtk");
  {
    io::VtkSeries series(MPI_COMM_WORLD, dir, "density");
    const std::int64_t per_rank = 4;
    for (int step = 0; step < 2; ++step) {
      io::UnstructuredPiece piece = line_cells(0.25, rank * per_rank, per_rank);
      std::vector<double> values(per_rank, rank + 10.0 * step);
      piece.cell_data.push_back({"density", 1, values});
      series.write_step(0.1 * step, piece);
    }
    CHECK(series.steps_written() == 2);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    const std::string pvd = read_text(fs::path(dir) / "density.pvd");
    CHECK_THAT(pvd, Catch::Matchers::Contains("density_000000.pvtu") &&
                        Catch::Matchers::Contains("density_000001.pvtu") &&
                        Catch::Matchers::Contains("timestep=\"0.10000000000000001\""));
    const std::string pvtu = read_text(fs::path(dir) / "density_000001.pvtu");
    int pieces = 0;
    for (std::size_t pos = pvtu.find("<Piece"); pos != std::string::npos;
         pos = pvtu.find("<Piece", pos + 1)) {
      ++pieces;
    }
    CHECK(pieces == size);
    CHECK_THAT(pvtu, Catch::Matchers::Contains("Name=\"density\""));
    std::size_t vtu_files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (entry.path().extension() == ".vtu") ++vtu_files;
    }
    CHECK(vtu_files == static_cast<std::size_t>(2 * size));
    fs::remove_all(dir);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST_CASE("inconsistent VTK pieces are rejected", "[vtk_series]") {
  io::UnstructuredPiece piece = line_cells(1.0, 0, 2);
  piece.cell_data.push_back({"density", 1, {1.0}});
  CHECK_THROWS_WITH(piece.check(), Catch::Matchers::Contains("density"));
}
