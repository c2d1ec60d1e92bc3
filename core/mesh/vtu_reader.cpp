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
#include <vtkXMLDataElement.h>
#include <vtkXMLPUnstructuredGridReader.h>
#include <vtkXMLUnstructuredGridReader.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <map>
#include <new>

#include "core/mesh/check_mesh.hpp"
#include "core/mesh/vtk_data_headers.hpp"
#include "core/mesh/vtk_error_capture.hpp"
#include "core/mesh/xml_document.hpp"
#include "core/runtime/error.hpp"

namespace tessera::mesh {

namespace {

std::string cell_type_name(int type) {
  const char* name = vtkCellTypes::GetClassNameFromTypeId(type);
  return name != nullptr ? name : str("VTK cell type ", type);
}

// How a VTK XML file declares an array: its value type and components per point.
struct ArrayDeclaration {
  std::string type;
  int components = 1;
};
using ArrayDeclarations = std::map<std::string, ArrayDeclaration>;  // by Name

ArrayDeclaration declaration_of(detail::XmlElement* array, const std::string& where) {
  const std::string text = detail::attribute(array, "NumberOfComponents", "1");
  char* end = nullptr;
  const long components = std::strtol(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0' || components < 1 || components > 64) {
    throw InputError(str(where, ": NumberOfComponents=\"", text, "\" is not a count from 1 to 64"));
  }
  return {detail::attribute(array, "type"), static_cast<int>(components)};
}

// The arrays declared in `section` (<PointData>, <PPointData>, ...).
ArrayDeclarations declarations_in(detail::XmlElement* section, const std::string& where) {
  ArrayDeclarations found;
  if (section == nullptr) return found;
  // Every nested element, whatever its name: VTK's readers take them all as arrays.
  for (int i = 0; i < section->GetNumberOfNestedElements(); ++i) {
    detail::XmlElement* array = section->GetNestedElement(i);
    const std::string name = detail::attribute(array, "Name");
    found[name] = declaration_of(array, str(where, ": array '", name, "'"));
  }
  return found;
}

// Every <DataArray> or <PDataArray> under `element`, however deep, must declare from 1 to
// 64 components: VTK takes the count as written, and a file declaring 26666666666 made
// its reader loop for minutes (found by fuzzing, tests/fuzz).
void check_component_counts(detail::XmlElement* element, const std::string& path) {
  if (element == nullptr) return;
  const std::string name = detail::local_name(element);
  if (name == "DataArray" || name == "PDataArray") {
    declaration_of(element, str(path, ": <", name, " Name=\"", detail::attribute(element, "Name"),
                                "\">"));
  }
  for (int i = 0; i < element->GetNumberOfNestedElements(); ++i) {
    check_component_counts(element->GetNestedElement(i), path);
  }
}

// The child named `name`, or nullptr; two of them are refused: VTK's readers take the
// last one where this check would look at the first (a summary with two <PPoints>, the
// second declaring 4 components, made VTK copy out of bounds: found by fuzzing).
detail::XmlElement* only_child(detail::XmlElement* element, const std::string& name,
                               const std::string& where) {
  if (element == nullptr) return nullptr;
  const auto found = detail::children(element, name);
  if (found.size() > 1) {
    throw InputError(
        str(where, ": ", found.size(), " <", name, "> elements where one is expected"));
  }
  return found.empty() ? nullptr : found.front();
}

// The one array of a <Points> or <PPoints> section (VTK takes its first nested element,
// whatever its name).
detail::XmlElement* coordinates_array(detail::XmlElement* section, const std::string& where) {
  if (section == nullptr || section->GetNumberOfNestedElements() != 1) {
    throw InputError(str(where, ": expected one <",
                         section == nullptr ? "Points" : section->GetName(),
                         "> section with one data array"));
  }
  return section->GetNestedElement(0);
}

// VTK's parallel reader sizes its arrays from the summary file and copies each piece's
// arrays into them without comparing the two: a summary declaring other types or
// component counts than a piece holds makes it write out of bounds (found by fuzzing,
// tests/fuzz). So the declarations of the summary and of every piece are compared first.
void check_pvtu_declarations(const std::string& path) {
  const detail::XmlDocument summary(path, false);
  detail::XmlElement* grid = only_child(summary.root(), "PUnstructuredGrid", path);
  if (detail::local_name(summary.root()) != "VTKFile" || grid == nullptr) {
    throw InputError(str(path, ": not a VTK XML parallel UnstructuredGrid (.pvtu) file"));
  }
  check_component_counts(grid, path);
  detail::XmlElement* points_section = only_child(grid, "PPoints", path);
  if (points_section == nullptr) throw InputError(str(path, ": no <PPoints> with a <PDataArray>"));
  detail::XmlElement* points = coordinates_array(points_section, path);
  const ArrayDeclaration point_type = declaration_of(points, str(path, ": PPoints"));
  if (point_type.components != 3) {
    throw InputError(
        str(path, ": PPoints declare ", point_type.components, " components; VTK points have 3"));
  }
  const ArrayDeclarations point_data = declarations_in(only_child(grid, "PPointData", path), path);
  const ArrayDeclarations cell_data = declarations_in(only_child(grid, "PCellData", path), path);
  const auto pieces = detail::children(grid, "Piece");
  if (pieces.empty()) throw InputError(str(path, ": no <Piece> in the file"));
  const std::filesystem::path directory = std::filesystem::path(path).parent_path();
  for (detail::XmlElement* piece_element : pieces) {
    const std::string source = detail::attribute(piece_element, "Source");
    const std::string piece_path = (directory / source).string();
    if (source.empty() || !std::filesystem::is_regular_file(piece_path)) {
      throw InputError(str(path, ": piece '", source, "' is not a file"));
    }
    const detail::XmlDocument document(piece_path, false);
    check_component_counts(document.root(), piece_path);
    detail::check_data_sizes(piece_path, document.root());
    detail::XmlElement* piece = only_child(
        only_child(document.root(), "UnstructuredGrid", piece_path), "Piece", piece_path);
    if (piece == nullptr) {
      throw InputError(
          str(piece_path, ": not a VTK XML UnstructuredGrid piece (named by ", path, ")"));
    }
    const auto compare = [&](const ArrayDeclarations& declared, const ArrayDeclarations& held,
                             const char* what) {
      for (const auto& [name, expected] : declared) {
        const auto found = held.find(name);
        if (found == held.end() || found->second.type != expected.type ||
            found->second.components != expected.components) {
          throw InputError(
              str(piece_path, ": ", what, " array '", name, "' is ",
                  found == held.end() ? std::string("missing")
                                      : str(found->second.type, " x ", found->second.components),
                  "; ", path, " declares ", expected.type, " x ", expected.components));
        }
      }
    };
    detail::XmlElement* piece_points =
        coordinates_array(only_child(piece, "Points", piece_path), piece_path);
    compare({{"(coordinates)", point_type}},
            {{"(coordinates)", declaration_of(piece_points, str(piece_path, ": Points"))}},
            "point");
    compare(point_data, declarations_in(only_child(piece, "PointData", piece_path), piece_path),
            "point");
    compare(cell_data, declarations_in(only_child(piece, "CellData", piece_path), piece_path),
            "cell");
  }
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
  try {
    reader->Update();
  } catch (const std::bad_alloc&) {
    // VTK allocates what a compressed block's header declares before it decompresses.
    throw InputError(str(path, ": VTK cannot read it: the file declares more data than memory ",
                         "holds (a damaged header?)"));
  }
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
    // VTK takes a file's connectivity as written: check it before indexing with it.
    if (count != per_cell) {
      throw InputError(str(path, ": cell ", c, " (a ", cell_type_name(type), ") lists ", count,
                           " points, expected ", per_cell));
    }
    for (vtkIdType k = 0; k < count; ++k) {
      if (ids[k] < 0 || ids[k] >= num_points) {
        throw InputError(str(path, ": cell ", c, " refers to point ", ids[k], "; the file has ",
                             num_points, " points"));
      }
      mesh.cells.push_back(ids[k]);
    }
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
  if (!std::filesystem::is_regular_file(path)) throw InputError(str(path, ": no such file"));
  {
    const detail::XmlDocument document(path, false);
    check_component_counts(document.root(), path);
    detail::check_data_sizes(path, document.root());
  }
  return read_unstructured_grid<vtkXMLUnstructuredGridReader>(path, "UnstructuredGrid (.vtu)",
                                                              false);
}

Mesh read_pvtu(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw InputError(str(path, ": no such file"));
  check_pvtu_declarations(path);
  return read_unstructured_grid<vtkXMLPUnstructuredGridReader>(
      path, "parallel UnstructuredGrid (.pvtu)", true);
}

}  // namespace tessera::mesh
