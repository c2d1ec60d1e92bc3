#include "core/mesh/xdmf_reader.hpp"

#include <vtkXMLDataElement.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>

#include "core/io/hdf5_reader.hpp"
#include "core/mesh/check_mesh.hpp"
#include "core/mesh/xml_document.hpp"
#include "core/runtime/error.hpp"

namespace tessera::mesh {

namespace {

namespace fs = std::filesystem;
using Element = detail::XmlElement;
using detail::attribute;
using detail::children;
using detail::local_name;

std::string trim(const std::string& text) {
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  auto first = std::find_if_not(text.begin(), text.end(), space);
  auto last = std::find_if_not(text.rbegin(), text.rend(), space).base();
  return first < last ? std::string(first, last) : std::string();
}

bool same_word(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

Element* find_grid_named(Element* element, const std::string& name) {
  if (local_name(element) == "Grid" && attribute(element, "Name") == name) return element;
  for (int i = 0; i < element->GetNumberOfNestedElements(); ++i) {
    if (Element* found = find_grid_named(element->GetNestedElement(i), name)) return found;
  }
  return nullptr;
}

std::vector<std::uint64_t> parse_dimensions(const std::string& text) {
  std::vector<std::uint64_t> dims;
  const char* cursor = text.c_str();
  while (true) {
    char* end = nullptr;
    const long long value = std::strtoll(cursor, &end, 10);
    if (end == cursor) break;
    if (value < 0) return {};
    dims.push_back(static_cast<std::uint64_t>(value));
    cursor = end;
  }
  return trim(cursor).empty() ? dims : std::vector<std::uint64_t>{};
}

std::string join(const std::vector<std::uint64_t>& dims) {
  std::string out;
  for (auto d : dims) out += (out.empty() ? "" : " x ") + std::to_string(d);
  return out.empty() ? "scalar" : out;
}

std::uint64_t product(const std::vector<std::uint64_t>& dims) {
  std::uint64_t total = 1;
  for (auto d : dims) total *= d;
  return total;
}

// The topology and geometry that make up one step's mesh.
struct MeshElements {
  Element* topology = nullptr;
  Element* geometry = nullptr;
};

class XdmfFile {
 public:
  explicit XdmfFile(std::string path)
      : path_(std::move(path)), directory_(fs::path(path_).parent_path()) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(str(path_, ": ", what));
  }

  MeshElements mesh_elements(Element* grid, Element* root, const std::string& context) const {
    MeshElements found;
    for (int i = 0; i < grid->GetNumberOfNestedElements(); ++i) {
      Element* child = grid->GetNestedElement(i);
      const std::string name = local_name(child);
      if (name == "Topology") found.topology = child;
      if (name == "Geometry") found.geometry = child;
      if (name == "include") include(child, root, context, found);
    }
    return found;
  }

  // <xi:include xpointer="xpointer(//Grid[@Name=&quot;mesh&quot;]/*[self::Topology or
  // self::Geometry])"/>: the named grid's topology and/or geometry.
  void include(Element* element, Element* root, const std::string& context,
               MeshElements& found) const {
    const std::string pointer = attribute(element, "xpointer");
    const std::string supported =
        "xpointer(//Grid[@Name=\"...\"]/*[self::Topology or self::Geometry]) in this file";
    if (!attribute(element, "href").empty()) {
      fail(str(context, ": xi:include of another file (href=\"", attribute(element, "href"),
               "\") is not supported; supported is ", supported));
    }
    const std::string key = "//Grid[@Name=";
    const auto at = pointer.find(key);
    if (pointer.rfind("xpointer(", 0) != 0 || at == std::string::npos ||
        at + key.size() >= pointer.size()) {
      fail(str(context, ": xi:include xpointer=\"", pointer, "\" is not supported; supported is ",
               supported));
    }
    const char quote = pointer[at + key.size()];
    const auto name_end = pointer.find(quote, at + key.size() + 1);
    if ((quote != '"' && quote != '\'') || name_end == std::string::npos) {
      fail(str(context, ": cannot read the grid name in xpointer=\"", pointer, "\""));
    }
    const std::string grid_name =
        pointer.substr(at + key.size() + 1, name_end - at - key.size() - 1);
    Element* target = find_grid_named(root, grid_name);
    if (target == nullptr) {
      fail(str(context, ": xi:include names Grid \"", grid_name, "\", which is not in the file"));
    }
    const bool selects = pointer.find("self::") != std::string::npos;
    const bool topology = !selects || pointer.find("self::Topology") != std::string::npos;
    const bool geometry = !selects || pointer.find("self::Geometry") != std::string::npos;
    for (Element* child : children(target, "Topology")) {
      if (topology && found.topology == nullptr) found.topology = child;
    }
    for (Element* child : children(target, "Geometry")) {
      if (geometry && found.geometry == nullptr) found.geometry = child;
    }
  }

  Element* data_item(Element* parent, const std::string& context) const {
    if (!attribute(parent, "Reference").empty()) {
      fail(str(context, ": Reference=\"", attribute(parent, "Reference"),
               "\" is not supported; give the DataItem in place or through xi:include"));
    }
    const std::vector<Element*> items = children(parent, "DataItem");
    if (items.empty()) fail(str(context, " has no DataItem"));
    return items.front();
  }

  // The numbers of a DataItem; `dims` receives its Dimensions.
  std::vector<double> read_item(Element* item, const std::string& context,
                                std::vector<std::uint64_t>& dims) {
    if (!attribute(item, "Reference").empty()) {
      fail(str(context, ": DataItem Reference=\"", attribute(item, "Reference"),
               "\" is not supported"));
    }
    const std::string type = attribute(item, "ItemType", "Uniform");
    if (!same_word(type, "Uniform")) {
      fail(str(context, ": DataItem ItemType=\"", type, "\" is not supported (only Uniform)"));
    }
    dims = parse_dimensions(attribute(item, "Dimensions"));
    if (dims.empty()) {
      fail(str(context, ": DataItem Dimensions=\"", attribute(item, "Dimensions"),
               "\" is not a list of sizes"));
    }
    const std::string format = attribute(item, "Format", "XML");
    const std::string text =
        trim(item->GetCharacterData() != nullptr ? item->GetCharacterData() : "");
    std::vector<double> values;
    if (same_word(format, "XML")) {
      const char* cursor = text.c_str();
      while (true) {
        char* end = nullptr;
        const double value = std::strtod(cursor, &end);
        if (end == cursor) break;
        values.push_back(value);
        cursor = end;
      }
      if (!trim(cursor).empty()) {
        fail(str(context, ": inline DataItem has text that is not a number near \"",
                 trim(cursor).substr(0, 20), "\""));
      }
    } else if (same_word(format, "HDF")) {
      const auto colon = text.rfind(':');
      if (colon == std::string::npos || colon + 1 >= text.size()) {
        fail(str(context, ": HDF DataItem \"", text, "\" is not of the form file.h5:/dataset"));
      }
      const fs::path file = text.substr(0, colon);
      const std::string dataset = text.substr(colon + 1);
      const fs::path resolved = file.is_absolute() ? file : directory_ / file;
      io::Hdf5Reader& reader = hdf5(resolved, context);
      if (!reader.has(dataset)) {
        fail(str(context, ": DataItem names dataset ", dataset, ", which is not in ",
                 resolved.string()));
      }
      std::vector<std::uint64_t> shape;
      values = reader.read(dataset, &shape);
      if (product(shape) != product(dims)) {
        fail(str(context, ": Dimensions=\"", attribute(item, "Dimensions"), "\" but ", dataset,
                 " in ", resolved.string(), " has shape ", join(shape)));
      }
    } else {
      fail(str(context, ": DataItem Format=\"", format,
               "\" is not supported (HDF or XML; convert Binary items with h5py or meshio)"));
    }
    if (values.size() != product(dims)) {
      fail(str(context, ": DataItem has ", values.size(), " numbers, Dimensions=\"",
               attribute(item, "Dimensions"), "\" says ", product(dims)));
    }
    return values;
  }

  // A signature of a mesh element, to notice a mesh that changes between steps.
  static std::string signature(Element* element) {
    if (element == nullptr) return "";
    std::string out = attribute(element, "TopologyType") + attribute(element, "GeometryType");
    for (Element* item : children(element, "DataItem")) {
      out += "|" + attribute(item, "Format") + "|" + attribute(item, "Dimensions") + "|" +
             trim(item->GetCharacterData() != nullptr ? item->GetCharacterData() : "");
    }
    return out;
  }

  void read_mesh(const MeshElements& elements, const std::string& context, Mesh& mesh) {
    // Topology.
    const std::string topology_type = attribute(elements.topology, "TopologyType",
                                                attribute(elements.topology, "Type", "(none)"));
    if (same_word(topology_type, "Triangle")) {
      mesh.cell_kind = CellKind::kTriangle;
    } else if (same_word(topology_type, "Tetrahedron")) {
      mesh.cell_kind = CellKind::kTetrahedron;
    } else {
      fail(str(context, ": TopologyType=\"", topology_type,
               "\" is not supported (Triangle or Tetrahedron)"));
    }
    std::vector<std::uint64_t> dims;
    const std::vector<double> cells =
        read_item(data_item(elements.topology, context + " Topology"), context + " Topology", dims);
    const int per_cell = mesh.nodes_per_cell();
    if (dims.back() != static_cast<std::uint64_t>(per_cell) && dims.size() > 1) {
      fail(str(context, ": Topology DataItem has shape ", join(dims), "; ", topology_type,
               " cells need (cells x ", per_cell, ")"));
    }
    if (cells.size() % per_cell != 0) {
      fail(str(context, ": Topology has ", cells.size(), " indices, not a multiple of ", per_cell));
    }
    const std::string declared = attribute(elements.topology, "NumberOfElements");
    if (!declared.empty() &&
        std::strtoull(declared.c_str(), nullptr, 10) != cells.size() / per_cell) {
      fail(str(context, ": Topology NumberOfElements=\"", declared, "\" but its DataItem holds ",
               cells.size() / per_cell, " cells"));
    }
    mesh.cells.resize(cells.size());
    for (std::size_t i = 0; i < cells.size(); ++i) {
      mesh.cells[i] = point_index(cells[i], str(path_, ": ", context, ": Topology entry ", i));
    }

    // Geometry.
    const std::string geometry_type =
        attribute(elements.geometry, "GeometryType", attribute(elements.geometry, "Type", "XYZ"));
    int components = 0;
    if (same_word(geometry_type, "XYZ")) components = 3;
    if (same_word(geometry_type, "XY")) components = 2;
    if (components == 0) {
      fail(str(context, ": GeometryType=\"", geometry_type,
               "\" is not supported (XYZ or XY; X_Y_Z keeps coordinates apart)"));
    }
    const std::vector<double> xyz =
        read_item(data_item(elements.geometry, context + " Geometry"), context + " Geometry", dims);
    if (xyz.size() % components != 0) {
      fail(str(context, ": Geometry has ", xyz.size(), " coordinates, not a multiple of ",
               components, " (", geometry_type, ")"));
    }
    const std::size_t n = xyz.size() / components;
    bool flat = true;
    for (std::size_t i = 0; components == 3 && i < n; ++i) flat = flat && xyz[3 * i + 2] == 0.0;
    mesh.dimension = cell_dimension(mesh.cell_kind);
    if (mesh.dimension == 2 && !flat) {
      fail(str(context, ": the triangles do not lie in the plane z = 0; surface meshes in 3-D ",
               "are not supported"));
    }
    if (mesh.dimension > components) {
      fail(str(context, ": ", topology_type, " cells need ", mesh.dimension,
               "-D points, Geometry is ", geometry_type));
    }
    mesh.points.resize(n * mesh.dimension);
    for (std::size_t i = 0; i < n; ++i) {
      for (int axis = 0; axis < mesh.dimension; ++axis) {
        mesh.points[i * mesh.dimension + axis] = xyz[i * components + axis];
      }
    }
  }

  FieldStep read_step(Element* grid, double time, std::size_t num_points,
                      const std::string& context) {
    FieldStep step;
    step.time = time;
    for (Element* attribute_element : children(grid, "Attribute")) {
      const std::string name = attribute(attribute_element, "Name", "attribute");
      const std::string center = attribute(attribute_element, "Center", "Node");
      if (!same_word(center, "Node")) continue;  // cell data: not part of a Mesh
      const std::string where = str(context, " Attribute '", name, "'");
      std::vector<std::uint64_t> dims;
      Field field;
      field.name = name;
      field.values = read_item(data_item(attribute_element, where), where, dims);
      if (dims.front() != num_points || field.values.size() % num_points != 0 ||
          field.values.empty()) {
        fail(str(where, " has shape ", join(dims), " but the mesh has ", num_points,
                 " points (a node-centred attribute needs num_points x components)"));
      }
      field.components = static_cast<int>(field.values.size() / num_points);
      step.fields.push_back(std::move(field));
    }
    return step;
  }

  io::Hdf5Reader& hdf5(const fs::path& file, const std::string& context) {
    const std::string key = file.lexically_normal().string();
    auto found = readers_.find(key);
    if (found != readers_.end()) return *found->second;
    if (!fs::is_regular_file(file)) {
      fail(str(context, ": DataItem names HDF5 file ", key, ", which does not exist"));
    }
    return *readers_.emplace(key, std::make_unique<io::Hdf5Reader>(key)).first->second;
  }

 private:
  std::string path_;
  fs::path directory_;
  std::map<std::string, std::unique_ptr<io::Hdf5Reader>> readers_;
};

}  // namespace

Mesh read_xdmf(const std::string& path) {
  if (!fs::is_regular_file(path)) throw InputError(str(path, ": no such file"));
  XdmfFile file(path);
  const detail::XmlDocument document(path);
  Element* root = document.root();
  if (local_name(root) != "Xdmf") {
    file.fail(str("the root element is <", local_name(root), ">, not <Xdmf>"));
  }
  const std::vector<Element*> domains = children(root, "Domain");
  if (domains.empty()) file.fail("no <Domain> in <Xdmf>");
  const std::vector<Element*> grids = children(domains.front(), "Grid");
  if (grids.empty()) file.fail("no <Grid> in <Domain>");

  // Steps: the grids of the first collection, else the first grid alone.
  std::vector<Element*> step_grids;
  std::vector<double> list_times;
  for (Element* grid : grids) {
    if (!same_word(attribute(grid, "GridType", "Uniform"), "Collection")) continue;
    const std::string kind = attribute(grid, "CollectionType", "Spatial");
    if (!same_word(kind, "Temporal")) {
      file.fail(str("Grid '", attribute(grid, "Name"), "' is a ", kind,
                    " collection; only Temporal collections of single grids are supported"));
    }
    step_grids = children(grid, "Grid");
    for (Element* time : children(grid, "Time")) {
      const std::string type = attribute(time, "TimeType", "Single");
      if (same_word(type, "List") || same_word(type, "HyperSlab")) {
        std::vector<std::uint64_t> dims;
        list_times =
            file.read_item(file.data_item(time, "collection Time"), "collection Time", dims);
        if (same_word(type, "HyperSlab")) {
          // (start, stride, count): one time per step.
          if (list_times.size() != 3 || list_times[2] < 0) {
            file.fail("collection Time of TimeType HyperSlab needs (start, stride, count)");
          }
          const double start = list_times[0], stride = list_times[1];
          list_times.resize(static_cast<std::size_t>(list_times[2]));
          for (std::size_t k = 0; k < list_times.size(); ++k) list_times[k] = start + k * stride;
        }
      } else if (!same_word(type, "Single")) {
        file.fail(str("collection Time of TimeType ", type,
                      " is not supported (Single per grid, List or HyperSlab)"));
      }
    }
    break;
  }
  if (step_grids.empty()) step_grids.push_back(grids.front());
  if (!list_times.empty() && list_times.size() != step_grids.size()) {
    file.fail(str("the collection's Time list has ", list_times.size(), " values for ",
                  step_grids.size(), " grids"));
  }

  Mesh mesh;
  MeshElements current;
  std::string topology_signature, geometry_signature;
  for (std::size_t s = 0; s < step_grids.size(); ++s) {
    Element* grid = step_grids[s];
    const std::string grid_name = attribute(grid, "Name");
    const std::string context =
        str("step ", s, grid_name.empty() ? "" : " (Grid '" + grid_name + "')");
    if (same_word(attribute(grid, "GridType", "Uniform"), "Collection")) {
      file.fail(str(context, " is itself a collection; only single grids per step are supported"));
    }
    const MeshElements found = file.mesh_elements(grid, root, context);
    if (s == 0) {
      if (found.topology == nullptr || found.geometry == nullptr) {
        file.fail(str(context, " has no ", found.topology == nullptr ? "Topology" : "Geometry"));
      }
      current = found;
      file.read_mesh(current, context, mesh);
      topology_signature = XdmfFile::signature(current.topology);
      geometry_signature = XdmfFile::signature(current.geometry);
    } else if ((found.topology != nullptr &&
                XdmfFile::signature(found.topology) != topology_signature) ||
               (found.geometry != nullptr &&
                XdmfFile::signature(found.geometry) != geometry_signature)) {
      file.fail(str(context, " has a different Topology or Geometry from step 0; meshes that ",
                    "change in time are not supported"));
    }
    double time = static_cast<double>(s);
    if (!list_times.empty()) time = list_times[s];
    for (Element* time_element : children(grid, "Time")) {
      const std::string value = attribute(time_element, "Value");
      char* end = nullptr;
      time = std::strtod(value.c_str(), &end);
      if (value.empty() || !trim(end).empty()) {
        file.fail(str(context, ": <Time Value=\"", value, "\"> is not a number"));
      }
    }
    mesh.steps.push_back(file.read_step(grid, time, mesh.num_points(), context));
  }
  finish_mesh(mesh, path);
  return mesh;
}

}  // namespace tessera::mesh
