#include "core/mesh/channel_generator.hpp"

#include <gmsh.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "core/mesh/check_mesh.hpp"
#include "core/runtime/error.hpp"

namespace tessera::mesh {

namespace {

// Gmsh keeps one global model and option set per process: one session at a time, and
// finalize on every path out so a failed generation does not leak into the next one.
class GmshSession {
 public:
  GmshSession() : lock_(mutex()) {
    // No argv and no config files: options must come from here only, or two machines
    // (or users) could mesh the same spec differently.
    gmsh::initialize(0, nullptr, false);
    gmsh::option::setNumber("General.Terminal", 0);
    gmsh::option::setNumber("General.NumThreads", 1);  // threaded meshing is not reproducible
  }
  ~GmshSession() { gmsh::finalize(); }
  GmshSession(const GmshSession&) = delete;
  GmshSession& operator=(const GmshSession&) = delete;

 private:
  static std::mutex& mutex() {
    static std::mutex instance;
    return instance;
  }
  std::lock_guard<std::mutex> lock_;
};

void check_spec(const ChannelSpec& spec) {
  const auto positive = [](double value, const char* name) {
    if (!(value > 0) || !std::isfinite(value)) {
      throw InputError(str("channel mesh: ", name, " = ", value, " must be positive"));
    }
  };
  positive(spec.length, "length");
  positive(spec.height, "height");
  positive(spec.cylinder_radius, "cylinder_radius");
  positive(spec.mesh_size, "mesh_size");
  positive(spec.cylinder_mesh_size, "cylinder_mesh_size");
  if (!(spec.refinement_distance >= 0)) {
    throw InputError(str("channel mesh: refinement_distance = ", spec.refinement_distance,
                         " must be zero or positive"));
  }
  const double r = spec.cylinder_radius;
  if (!(spec.cylinder_x - r > 0 && spec.cylinder_x + r < spec.length && spec.cylinder_y - r > 0 &&
        spec.cylinder_y + r < spec.height)) {
    throw InputError(str("channel mesh: the cylinder of radius ", r, " at (", spec.cylinder_x, ", ",
                         spec.cylinder_y, ") must lie inside the channel [0, ", spec.length,
                         "] x [0, ", spec.height, "] without touching its sides"));
  }
  if (spec.algorithm < 1 || spec.algorithm > 11) {
    throw InputError(str("channel mesh: algorithm = ", spec.algorithm,
                         " is not a Gmsh 2-D algorithm (1 to 11; 5 Delaunay, 6 Frontal-Delaunay)"));
  }
}

struct PhysicalCurves {
  int group;
  BoundaryTag tag;
  std::vector<int> curves;
};

// Builds the geometry and mesh in the current Gmsh model; returns the boundary groups.
std::vector<PhysicalCurves> build_and_mesh(const ChannelSpec& spec) {
  namespace geo = gmsh::model::geo;
  gmsh::model::add("dfg_channel");
  const int p0 = geo::addPoint(0, 0, 0);
  const int p1 = geo::addPoint(spec.length, 0, 0);
  const int p2 = geo::addPoint(spec.length, spec.height, 0);
  const int p3 = geo::addPoint(0, spec.height, 0);
  const int bottom = geo::addLine(p0, p1);
  const int outlet = geo::addLine(p1, p2);
  const int top = geo::addLine(p2, p3);
  const int inlet = geo::addLine(p3, p0);

  const double cx = spec.cylinder_x, cy = spec.cylinder_y, r = spec.cylinder_radius;
  const int centre = geo::addPoint(cx, cy, 0);
  const int east = geo::addPoint(cx + r, cy, 0);
  const int north = geo::addPoint(cx, cy + r, 0);
  const int west = geo::addPoint(cx - r, cy, 0);
  const int south = geo::addPoint(cx, cy - r, 0);
  // Quarter arcs: Gmsh's circle arcs must span less than pi.
  const std::vector<int> arcs = {
      geo::addCircleArc(east, centre, north), geo::addCircleArc(north, centre, west),
      geo::addCircleArc(west, centre, south), geo::addCircleArc(south, centre, east)};
  const int outer = geo::addCurveLoop({bottom, outlet, top, inlet});
  const int hole = geo::addCurveLoop(arcs);
  const int surface = geo::addPlaneSurface({outer, hole});
  geo::synchronize();

  std::vector<PhysicalCurves> groups = {{1, BoundaryTag::kInflow, {inlet}},
                                        {2, BoundaryTag::kOutflow, {outlet}},
                                        {3, BoundaryTag::kWall, {bottom, top}},
                                        {4, BoundaryTag::kObstacle, arcs}};
  const char* names[] = {"inflow", "outflow", "walls", "cylinder"};
  for (std::size_t g = 0; g < groups.size(); ++g) {
    gmsh::model::addPhysicalGroup(1, groups[g].curves, groups[g].group);
    gmsh::model::setPhysicalName(1, groups[g].group, names[g]);
  }
  gmsh::model::addPhysicalGroup(2, {surface}, 10);
  gmsh::model::setPhysicalName(2, 10, "fluid");

  // Size = cylinder_mesh_size on the cylinder, growing linearly to mesh_size at
  // refinement_distance from it; nothing else sets sizes, so h alone controls the rest.
  namespace field = gmsh::model::mesh::field;
  const int distance = field::add("Distance");
  field::setNumbers(distance, "CurvesList", std::vector<double>(arcs.begin(), arcs.end()));
  const double quarter = 0.5 * 3.14159265358979323846 * r;
  field::setNumber(distance, "NumPointsPerCurve",
                   std::max(20.0, std::ceil(4 * quarter / spec.cylinder_mesh_size)));
  const int threshold = field::add("Threshold");
  field::setNumber(threshold, "InField", distance);
  field::setNumber(threshold, "SizeMin", std::min(spec.cylinder_mesh_size, spec.mesh_size));
  field::setNumber(threshold, "SizeMax", spec.mesh_size);
  field::setNumber(threshold, "DistMin", 0.0);
  field::setNumber(threshold, "DistMax", spec.refinement_distance);
  field::setAsBackgroundMesh(threshold);
  gmsh::option::setNumber("Mesh.MeshSizeExtendFromBoundary", 0);
  gmsh::option::setNumber("Mesh.MeshSizeFromPoints", 0);
  gmsh::option::setNumber("Mesh.MeshSizeFromCurvature", 0);
  gmsh::option::setNumber("Mesh.Algorithm", spec.algorithm);
  gmsh::model::mesh::generate(2);
  return groups;
}

Mesh extract(const std::vector<PhysicalCurves>& groups, const ChannelSpec& spec) {
  std::vector<std::size_t> node_tags;
  std::vector<double> coords, parametric;
  gmsh::model::mesh::getNodes(node_tags, coords, parametric);
  std::vector<std::size_t> triangle_tags, triangle_nodes;
  gmsh::model::mesh::getElementsByType(2, triangle_tags, triangle_nodes);
  if (triangle_tags.empty()) throw std::runtime_error("Gmsh made no triangles");

  // Points are the nodes the triangles use (not the circle's centre), in Gmsh's order.
  const std::size_t max_tag = *std::max_element(node_tags.begin(), node_tags.end());
  std::vector<Index> position(max_tag + 1, -1);
  for (std::size_t i = 0; i < node_tags.size(); ++i) position[node_tags[i]] = i;
  std::vector<Index> renumber(max_tag + 1, -1);
  for (std::size_t tag : triangle_nodes) renumber[tag] = 0;
  Mesh mesh;
  mesh.dimension = 2;
  mesh.cell_kind = CellKind::kTriangle;
  Index next = 0;
  for (std::size_t tag = 0; tag <= max_tag; ++tag) {
    if (renumber[tag] < 0) continue;
    renumber[tag] = next++;
    mesh.points.push_back(coords[3 * position[tag]]);
    mesh.points.push_back(coords[3 * position[tag] + 1]);
  }
  mesh.cells.reserve(triangle_nodes.size());
  for (std::size_t tag : triangle_nodes) mesh.cells.push_back(renumber[tag]);
  orient(mesh);
  compute_boundary_facets(mesh, "generated channel");

  std::map<std::pair<Index, Index>, BoundaryTag> edge_tags;
  for (const PhysicalCurves& group : groups) {
    for (int curve : group.curves) {
      std::vector<std::size_t> line_tags, line_nodes;
      gmsh::model::mesh::getElementsByType(1, line_tags, line_nodes, curve);
      for (std::size_t k = 0; k + 1 < line_nodes.size(); k += 2) {
        const Index a = renumber[line_nodes[k]], b = renumber[line_nodes[k + 1]];
        edge_tags[{std::min(a, b), std::max(a, b)}] = group.tag;
      }
    }
  }
  for (std::size_t f = 0; f < mesh.num_boundary_facets(); ++f) {
    const Index a = mesh.boundary_facets[2 * f], b = mesh.boundary_facets[2 * f + 1];
    const auto found = edge_tags.find({std::min(a, b), std::max(a, b)});
    if (found == edge_tags.end()) {
      throw std::logic_error(
          str("channel mesh: boundary edge (", a, ", ", b, ") is on no physical curve"));
    }
    mesh.boundary_tags[f] = found->second;
  }
  node_types_from_boundary_tags(mesh, spec.obstacle_type, spec.corners);
  return mesh;
}

}  // namespace

Mesh generate_channel_mesh(const ChannelSpec& spec) {
  check_spec(spec);
  Mesh mesh;
  try {
    GmshSession session;
    mesh = extract(build_and_mesh(spec), spec);
  } catch (const std::string& message) {
    // Gmsh's C++ API throws its messages as strings.
    throw std::runtime_error("Gmsh failed to mesh the channel: " + message);
  }
  check_mesh(mesh, "generated channel");
  return mesh;
}

}  // namespace tessera::mesh
