#include "core/mesh/node_type.hpp"

#include <cmath>

#include "core/runtime/error.hpp"

namespace tessera::mesh {

std::string to_string(NodeType type) {
  switch (type) {
    case NodeType::kNormal:
      return "NORMAL";
    case NodeType::kObstacle:
      return "OBSTACLE";
    case NodeType::kAirfoil:
      return "AIRFOIL";
    case NodeType::kHandle:
      return "HANDLE";
    case NodeType::kInflow:
      return "INFLOW";
    case NodeType::kOutflow:
      return "OUTFLOW";
    case NodeType::kWallBoundary:
      return "WALL_BOUNDARY";
  }
  return str("TYPE_", static_cast<int>(type));
}

NodeType node_type_from_code(double code, const std::string& source) {
  if (!(code >= 0 && code < kNodeTypeClasses) || code != std::floor(code)) {
    throw InputError(str(source, ": node type ", code,
                         " is not a MeshGraphNets node type (an integer from 0 to ",
                         kNodeTypeClasses - 1, ")"));
  }
  return static_cast<NodeType>(static_cast<int>(code));
}

std::array<std::size_t, kNodeTypeClasses> count_node_types(const std::vector<NodeType>& types) {
  std::array<std::size_t, kNodeTypeClasses> counts{};
  for (NodeType type : types) ++counts[static_cast<std::size_t>(type)];
  return counts;
}

}  // namespace tessera::mesh
