#include "core/io/vtk_series.hpp"

#include <vtkCellArray.h>
#include <vtkCellData.h>
#include <vtkDoubleArray.h>
#include <vtkIdTypeArray.h>
#include <vtkMPI.h>
#include <vtkMPICommunicator.h>
#include <vtkMPIController.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkUnsignedCharArray.h>
#include <vtkUnstructuredGrid.h>
#include <vtkVersion.h>
#include <vtkXMLPUnstructuredGridWriter.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/runtime/error.hpp"

namespace tessera::io {
namespace fs = std::filesystem;

void UnstructuredPiece::check() const {
  if (points.size() % 3 != 0) throw std::logic_error("VTK piece: points are not triples");
  if (cell_offsets.size() != cell_types.size() + 1) {
    throw std::logic_error("VTK piece: need one offset per cell plus one");
  }
  if (!cell_offsets.empty() &&
      cell_offsets.back() != static_cast<std::int64_t>(connectivity.size())) {
    throw std::logic_error("VTK piece: last offset must equal the connectivity size");
  }
  for (auto index : connectivity) {
    if (index < 0 || index >= static_cast<std::int64_t>(point_count())) {
      throw std::logic_error("VTK piece: connectivity refers to a missing point");
    }
  }
  for (const auto& array : point_data) {
    if (array.values.size() != point_count() * array.components) {
      throw std::logic_error(str("VTK piece: point array ", array.name, " has the wrong size"));
    }
  }
  for (const auto& array : cell_data) {
    if (array.values.size() != cell_count() * array.components) {
      throw std::logic_error(str("VTK piece: cell array ", array.name, " has the wrong size"));
    }
  }
}

struct VtkSeries::Impl {
  vtkNew<vtkMPICommunicator> communicator;
  vtkNew<vtkMPIController> controller;
};

VtkSeries::VtkSeries(MPI_Comm comm, std::string directory, std::string basename)
    : comm_(comm),
      directory_(std::move(directory)),
      basename_(std::move(basename)),
      impl_(std::make_unique<Impl>()) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  // VTK's controller on our communicator (MPI is already initialised by Runtime).
  vtkMPICommunicatorOpaqueComm opaque(&comm_);
  impl_->communicator->InitializeExternal(&opaque);
  impl_->controller->SetCommunicator(impl_->communicator);
}

VtkSeries::~VtkSeries() = default;

std::string VtkSeries::pvd_path() const {
  return (fs::path(directory_) / (basename_ + ".pvd")).string();
}

namespace {

vtkSmartPointer<vtkDoubleArray> to_vtk(const NamedArray& array) {
  auto out = vtkSmartPointer<vtkDoubleArray>::New();
  out->SetName(array.name.c_str());
  out->SetNumberOfComponents(array.components);
  const vtkIdType tuples = static_cast<vtkIdType>(array.values.size() / array.components);
  out->SetNumberOfTuples(tuples);
  for (vtkIdType i = 0; i < tuples * array.components; ++i) out->SetValue(i, array.values[i]);
  return out;
}

// <basename>_NNNNNN.pvtu, step k counted from 0.
std::string step_file_name(const std::string& basename, int step) {
  char name[64];
  std::snprintf(name, sizeof(name), "_%06d.pvtu", step);
  return basename + name;
}

}  // namespace

void VtkSeries::write_step(double time, const UnstructuredPiece& piece) {
  piece.check();
  vtkNew<vtkPoints> points;
  points->SetDataTypeToDouble();
  points->SetNumberOfPoints(static_cast<vtkIdType>(piece.point_count()));
  for (std::size_t i = 0; i < piece.point_count(); ++i) {
    points->SetPoint(static_cast<vtkIdType>(i), piece.points[3 * i], piece.points[3 * i + 1],
                     piece.points[3 * i + 2]);
  }
  vtkNew<vtkIdTypeArray> offsets;
  offsets->SetNumberOfValues(static_cast<vtkIdType>(piece.cell_offsets.size()));
  for (std::size_t i = 0; i < piece.cell_offsets.size(); ++i) {
    offsets->SetValue(static_cast<vtkIdType>(i), piece.cell_offsets[i]);
  }
  vtkNew<vtkIdTypeArray> connectivity;
  connectivity->SetNumberOfValues(static_cast<vtkIdType>(piece.connectivity.size()));
  for (std::size_t i = 0; i < piece.connectivity.size(); ++i) {
    connectivity->SetValue(static_cast<vtkIdType>(i), piece.connectivity[i]);
  }
  vtkNew<vtkCellArray> cells;
  if (!piece.cell_offsets.empty()) cells->SetData(offsets, connectivity);
  vtkNew<vtkUnsignedCharArray> types;
  types->SetNumberOfValues(static_cast<vtkIdType>(piece.cell_count()));
  for (std::size_t i = 0; i < piece.cell_count(); ++i) {
    types->SetValue(static_cast<vtkIdType>(i), static_cast<unsigned char>(piece.cell_types[i]));
  }
  vtkNew<vtkUnstructuredGrid> grid;
  grid->SetPoints(points);
  grid->SetCells(types, cells);
  for (const auto& array : piece.point_data) grid->GetPointData()->AddArray(to_vtk(array));
  for (const auto& array : piece.cell_data) grid->GetCellData()->AddArray(to_vtk(array));

  const std::string file_name = step_file_name(basename_, steps_written());
  vtkNew<vtkXMLPUnstructuredGridWriter> writer;
  writer->SetController(impl_->controller);
  writer->SetFileName((fs::path(directory_) / file_name).string().c_str());
  writer->SetNumberOfPieces(size_);
  writer->SetStartPiece(rank_);
  writer->SetEndPiece(rank_);
  writer->SetInputData(grid);
  writer->SetDataModeToAppended();
  writer->SetCompressorTypeToZLib();
  const int ok = writer->Write();
  int all_ok = 0;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm_);
  if (!all_ok) {
    throw std::runtime_error(str("VTK: writing ", file_name, " in ", directory_, " failed"));
  }
  times_.push_back(time);
  step_files_.push_back(file_name);
  if (rank_ == 0) write_pvd();
}

void VtkSeries::restore(const std::vector<double>& times) {
  times_ = times;
  step_files_.clear();
  for (std::size_t k = 0; k < times_.size(); ++k) {
    step_files_.push_back(step_file_name(basename_, static_cast<int>(k)));
  }
  if (rank_ == 0) write_pvd();
}

void VtkSeries::write_pvd() const {
  // Temporary name, then rename: a reader never sees a half-written series.
  const std::string path = pvd_path();
  const std::string temporary = path + ".partial";
  {
    std::ofstream out(temporary);
    out.precision(17);
    out << "<?xml version=\"1.0\"?>\n"
        << "<VTKFile type=\"Collection\" version=\"0.1\" byte_order=\"LittleEndian\">\n"
        << "  <Collection>\n";
    for (std::size_t i = 0; i < times_.size(); ++i) {
      out << "    <DataSet timestep=\"" << times_[i] << "\" group=\"\" part=\"0\" file=\""
          << step_files_[i] << "\"/>\n";
    }
    out << "  </Collection>\n</VTKFile>\n";
    if (!out) throw std::runtime_error(str("cannot write ", temporary));
  }
  fs::rename(temporary, path);
}

std::string vtk_version() {
  return vtkVersion::GetVTKVersion();
}

}  // namespace tessera::io
