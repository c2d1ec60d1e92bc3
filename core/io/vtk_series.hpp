#pragma once
// Fields for ParaView: a time series of VTK XML unstructured grids written with VTK's
// parallel writer. Every output step is one .pvtu naming one .vtu piece per rank; the
// run's .pvd lists the steps with their times and is rewritten (atomically) after each
// step, so that an interrupted run still opens as the steps it finished.
// VTK headers stay in vtk_series.cpp: they are slow to compile.
#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tessera::io {

struct NamedArray {
  std::string name;
  int components = 1;
  std::vector<double> values;  // (count x components), row-major
};

// VTK cell type ids of the cells we write.
enum class CellType : std::uint8_t { kLine = 3, kTriangle = 5, kQuad = 9, kTetra = 10 };

// This rank's piece: its points (x, y, z each), cells as point indices into them.
struct UnstructuredPiece {
  std::vector<double> points;
  std::vector<std::int64_t> connectivity;
  std::vector<std::int64_t>
      cell_offsets;  // cell c uses connectivity[cell_offsets[c], cell_offsets[c+1])
  std::vector<CellType> cell_types;
  std::vector<NamedArray> point_data;
  std::vector<NamedArray> cell_data;

  std::size_t point_count() const { return points.size() / 3; }
  std::size_t cell_count() const { return cell_types.size(); }
  // Throws std::logic_error when sizes do not agree.
  void check() const;
};

class VtkSeries {
 public:
  // Writes <directory>/<basename>.pvd and <directory>/<basename>_NNNNNN.pvtu with pieces.
  VtkSeries(MPI_Comm comm, std::string directory, std::string basename);
  ~VtkSeries();
  VtkSeries(const VtkSeries&) = delete;
  VtkSeries& operator=(const VtkSeries&) = delete;

  // Collective.
  void write_step(double time, const UnstructuredPiece& piece);
  std::string pvd_path() const;
  int steps_written() const { return static_cast<int>(times_.size()); }
  const std::vector<double>& times() const { return times_; }
  // A resumed run: the steps written before its checkpoint (their files are on disk),
  // so that the .pvd lists them and the next step continues the numbering. Collective.
  void restore(const std::vector<double>& times);

 private:
  void write_pvd() const;

  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  std::string directory_;
  std::string basename_;
  std::vector<double> times_;
  std::vector<std::string> step_files_;
  struct Impl;
  std::unique_ptr<Impl> impl_;  // owns the VTK controller
};

std::string vtk_version();

}  // namespace tessera::io
