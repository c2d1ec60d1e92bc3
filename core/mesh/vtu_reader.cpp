#include "core/mesh/vtu_reader.hpp"

#include <vtkCallbackCommand.h>
#include <vtkCellType.h>
#include <vtkCellTypes.h>
#include <vtkCommand.h>
#include <vtkDataArray.h>
#include <vtkExecutive.h>
#include <vtkFieldData.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLPUnstructuredGridReader.h>
#include <vtkXMLUnstructuredGridReader.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <map>

#include "core/mesh/check_mesh.hpp"
#include "core/mesh/vtk_error_capture.hpp"
#include "core/runtime/error.hpp"

namespace tessera::mesh {

namespace {

std::string cell_type_name(int type) {
  const char* name = vtkCellTypes::GetClassNameFromTypeId(type);
  return name != nullptr ? name : str("VTK cell type ", type);
}


// Reads a serial (.vtu) or parallel (.pvtu) file with the VTK reader class Reader and
// turns the grid into a Mesh. A .pvtu's pieces repeat the points on the cuts between
// them; with `merge_duplicates` points at identical coordinates become one (pieces
// written from one mesh repeat coordinates bit for bit).
template <class Reader>
Mesh read_unstructured_grid(const std::string& path, const char* what, bool merge_duplicates) {
  if (!std::filesystem::is_regular_file(path)) throw InputError(str(path, ": no such file"));
  std::string error;
  vtkNew<vtkCallbackCommand> on_error;
  on_error->SetCallback(detail::keep_first_vtk_error);
  on_error->SetClientData(&error);
  vtkNew<Reader> reader;
  // Every object that may complain: the reader, its XML parser (whose message says where
  // the file is broken), its data reader and its pipeline executive.
  reader->AddObserver(vtkCommand::ErrorEvent, on_error);
  reader->AddObserver(vtkCommand::WarningEvent, on_error);
  reader->SetParserErrorObserver(on_error);
  reader->SetReaderErrorObserver(on_error);
  reader->GetExecutive()->AddObserver(vtkCommand::ErrorEvent, on_error);
  if (!reader->CanReadFile(path.c_str())) {
    throw InputError(str(path, ": not a VTK XML ", what, " file"));
  }
  reader->SetFileName(path.c_str());
  reader->Update();
  vtkUnstructuredGrid* grid = reader->GetOutput();
  if (!error.empty() || grid == nullptr) {
    throw InputError(str(path, ": VTK cannot read it: ", error.empty() ? "no output" : error));
  }
  const vtkIdType num_points = grid->GetNumberOfPoints();
  const vtkIdType num_cells = grid->GetNumberOfCells();
  if (num_points == 0 || num_cells == 0) {
    throw InputError(str(path, ": the grid has ", num_points, " points and ", num_cells,
                         " cells; a mesh needs both"));
  }

  const int first_type = grid->GetCellType(0);
  if (first_type != VTK_TRIANGLE && first_type != VTK_TETRA) {
    throw InputError(str(path, ": cell 0 is a ", cell_type_name(first_type),
                         "; only triangle and tetrahedron meshes are supported"));
  }
  Mesh mesh;
  mesh.cell_kind = first_type == VTK_TRIANGLE ? CellKind::kTriangle : CellKind::kTetrahedron;
  const int per_cell = mesh.nodes_per_cell();
  mesh.cells.reserve(static_cast<std::size_t>(num_cells) * per_cell);
  for (vtkIdType c = 0; c < num_cells; ++c) {
    const int type = grid->GetCellType(c);
    if (type != first_type) {
      throw InputError(str(path, ": cell ", c, " is a ", cell_type_name(type), " but cell 0 is a ",
                           cell_type_name(first_type), "; mixed meshes are not supported"));
    }
    vtkIdType count = 0;
    const vtkIdType* ids = nullptr;
    grid->GetCellPoints(c, count, ids);
    for (vtkIdType k = 0; k < count; ++k) mesh.cells.push_back(ids[k]);
  }

  bool flat = true;
  std::vector<double> xyz(static_cast<std::size_t>(num_points) * 3);
  for (vtkIdType i = 0; i < num_points; ++i) {
    grid->GetPoint(i, xyz.data() + 3 * i);
    flat = flat && xyz[3 * i + 2] == 0.0;
  }
  // kept[i]: the point that stands for point i (itself unless merged into an earlier one).
  std::vector<vtkIdType> kept(num_points);
  std::vector<vtkIdType> first_points;  // the points kept, in file order
  {
    std::map<std::array<double, 3>, vtkIdType> seen;
    for (vtkIdType i = 0; i < num_points; ++i) {
      if (merge_duplicates) {
        const std::array<double, 3> key = {xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]};
        const auto [it, inserted] = seen.emplace(key, static_cast<vtkIdType>(first_points.size()));
        if (!inserted) {
          kept[i] = it->second;
          continue;
        }
      }
      kept[i] = static_cast<vtkIdType>(first_points.size());
      first_points.push_back(i);
    }
  }
  for (auto& id : mesh.cells) id = kept[id];
  const vtkIdType unique_points = static_cast<vtkIdType>(first_points.size());
  if (mesh.cell_kind == CellKind::kTriangle && !flat) {
    throw InputError(str(path, ": the triangles do not lie in the plane z = 0; surface meshes ",
                         "in 3-D are not supported"));
  }
  mesh.dimension = cell_dimension(mesh.cell_kind);
  mesh.points.reserve(static_cast<std::size_t>(unique_points) * mesh.dimension);
  for (const vtkIdType i : first_points) {
    for (int axis = 0; axis < mesh.dimension; ++axis) mesh.points.push_back(xyz[3 * i + axis]);
  }

  FieldStep step;
  if (vtkDataArray* time = grid->GetFieldData()->GetArray("TimeValue")) {
    if (time->GetNumberOfTuples() > 0) step.time = time->GetComponent(0, 0);
  }
  vtkPointData* point_data = grid->GetPointData();
  for (int a = 0; a < point_data->GetNumberOfArrays(); ++a) {
    vtkDataArray* array = point_data->GetArray(a);
    if (array == nullptr) continue;  // strings and other non-numeric arrays
    Field field;
    field.name = array->GetName() != nullptr ? array->GetName() : str("array_", a);
    field.components = array->GetNumberOfComponents();
    if (array->GetNumberOfTuples() != num_points) {
      throw InputError(str(path, ": point array '", field.name, "' has ",
                           array->GetNumberOfTuples(), " tuples for ", num_points, " points"));
    }
    field.values.resize(static_cast<std::size_t>(unique_points) * field.components);
    for (vtkIdType t = 0; t < unique_points; ++t) {
      for (int k = 0; k < field.components; ++k) {
        field.values[t * field.components + k] = array->GetComponent(first_points[t], k);
      }
    }
    if (field.name == "node_type" && field.components == 1) {
      mesh.node_types.reserve(field.values.size());
      for (double code : field.values) {
        mesh.node_types.push_back(node_type_from_code(code, path + ": point array 'node_type'"));
      }
    } else {
      step.fields.push_back(std::move(field));
    }
  }
  mesh.steps.push_back(std::move(step));
  finish_mesh(mesh, path);
  return mesh;
}

}  // namespace

Mesh read_vtu(const std::string& path) {
  return read_unstructured_grid<vtkXMLUnstructuredGridReader>(path, "UnstructuredGrid (.vtu)",
                                                              false);
}

Mesh read_pvtu(const std::string& path) {
  return read_unstructured_grid<vtkXMLPUnstructuredGridReader>(
      path, "parallel UnstructuredGrid (.pvtu)", true);
}

}  // namespace tessera::mesh
