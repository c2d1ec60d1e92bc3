#pragma once
// The node adjacency of a mesh's cells, the graph that partitioners and mesh models work
// on (apart from mesh.hpp, which stays free of Kokkos).
#include <string>

#include "core/graph/neighbourhoods.hpp"
#include "core/mesh/mesh.hpp"

namespace tessera::mesh {

// Points are neighbours when they share a cell (a triangle or a tetrahedron: every
// vertex pair of a simplex is an edge); both directions, sorted rows, no self loops.
// InputError naming `source_name` when the mesh has more points than 32-bit graph ids
// hold or a cell names a point the mesh does not have.
graph::HostCsr node_graph(const Mesh& mesh, const std::string& source_name);

}  // namespace tessera::mesh
