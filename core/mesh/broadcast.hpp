#pragma once
// Sharing one rank's mesh with the others: meshes are generated (Gmsh is serial) or read
// once, then broadcast, so that every rank builds the same graph and partition.
#include <mpi.h>

#include "core/mesh/mesh.hpp"

namespace tessera::mesh {

// Collective. On `root`, `mesh` is sent; elsewhere it is replaced by the copy. Points,
// cells, node types and boundary facets with their tags travel; fields do not (they
// belong to time steps that a solver or reader distributes itself).
void broadcast_mesh(MPI_Comm comm, Mesh& mesh, int root = 0);

}  // namespace tessera::mesh
