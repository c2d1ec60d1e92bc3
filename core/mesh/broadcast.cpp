#include "core/mesh/broadcast.hpp"

#include <cstdint>
#include <type_traits>

#include "core/parallel/mpi_types.hpp"

namespace tessera::mesh {
namespace {

template <class T>
void broadcast_vector(MPI_Comm comm, std::vector<T>& values, int root) {
  long long count = static_cast<long long>(values.size());
  MPI_Bcast(&count, 1, MPI_LONG_LONG, root, comm);
  values.resize(static_cast<std::size_t>(count));
  if (count == 0) return;
  if constexpr (std::is_enum_v<T>) {
    MPI_Bcast(values.data(), static_cast<int>(count * sizeof(T)), MPI_BYTE, root, comm);
  } else {
    MPI_Bcast(values.data(), static_cast<int>(count), parallel::mpi_type<T>(), root, comm);
  }
}

}  // namespace

void broadcast_mesh(MPI_Comm comm, Mesh& mesh, int root) {
  int header[2] = {mesh.dimension, static_cast<int>(mesh.cell_kind)};
  MPI_Bcast(header, 2, MPI_INT, root, comm);
  mesh.dimension = header[0];
  mesh.cell_kind = static_cast<CellKind>(header[1]);
  broadcast_vector(comm, mesh.points, root);
  broadcast_vector(comm, mesh.cells, root);
  broadcast_vector(comm, mesh.node_types, root);
  broadcast_vector(comm, mesh.boundary_facets, root);
  broadcast_vector(comm, mesh.boundary_tags, root);
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank != root) mesh.steps.clear();
}

}  // namespace tessera::mesh
