#pragma once
// MeshGraphNets' node types: what a mesh node is to the model (free fluid, a boundary
// condition of some kind). The numbering is MeshGraphNets' own (common/NodeType in
// deepmind-research/meshgraphnets), so that files written for it and models trained on
// them agree with ours; node features one-hot encode it over its 9 classes (NodeType.SIZE,
// of which 7 and 8 are unused).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::mesh {

enum class NodeType : std::uint8_t {
  kNormal = 0,
  kObstacle = 1,
  kAirfoil = 2,
  kHandle = 3,
  kInflow = 4,
  kOutflow = 5,
  kWallBoundary = 6,
};

// MeshGraphNets' NodeType.SIZE: the width of the one-hot encoding.
inline constexpr int kNodeTypeClasses = 9;

// "NORMAL", "OBSTACLE", ... as MeshGraphNets spells them; "TYPE_7" for the unused codes.
std::string to_string(NodeType type);

// A node type read from a file: InputError naming `source` when `code` is not an integer
// in [0, 9).
NodeType node_type_from_code(double code, const std::string& source);

// How many nodes have each of the 9 codes.
std::array<std::size_t, kNodeTypeClasses> count_node_types(const std::vector<NodeType>& types);

// (num_nodes x 9) row-major one-hot rows, as MeshGraphNets feeds node types to its encoder.
template <typename T = float>
std::vector<T> one_hot(const std::vector<NodeType>& types) {
  std::vector<T> out(types.size() * kNodeTypeClasses, T(0));
  for (std::size_t i = 0; i < types.size(); ++i) {
    out[i * kNodeTypeClasses + static_cast<std::size_t>(types[i])] = T(1);
  }
  return out;
}

}  // namespace tessera::mesh
