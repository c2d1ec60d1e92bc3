#pragma once
// A duplicate of a caller's communicator, owned by the object that talks on it (a halo
// plan, a solver). Its point-to-point messages then never match the caller's receives,
// nor another object's, whatever tags each uses (Cabana's practice): the tags inside
// Tessera are private, not a convention every caller must know. Copies share one
// duplicate; the last copy frees it (unless MPI has already been finalised).
#include <mpi.h>

#include <memory>

namespace tessera::parallel {

class Communicator {
 public:
  Communicator() = default;
  // Collective over `parent`. MPI_COMM_NULL gives a null communicator.
  explicit Communicator(MPI_Comm parent) {
    if (parent == MPI_COMM_NULL) return;
    auto owned = std::make_unique<MPI_Comm>(MPI_COMM_NULL);
    MPI_Comm_dup(parent, owned.get());
    comm_ = std::shared_ptr<MPI_Comm>(owned.release(), [](MPI_Comm* c) {
      int finalized = 0;
      MPI_Finalized(&finalized);
      if (!finalized && *c != MPI_COMM_NULL) MPI_Comm_free(c);
      delete c;
    });
  }

  MPI_Comm get() const { return comm_ ? *comm_ : MPI_COMM_NULL; }
  // Passes straight to MPI calls.
  operator MPI_Comm() const { return get(); }  // NOLINT(google-explicit-constructor)

 private:
  std::shared_ptr<MPI_Comm> comm_;
};

}  // namespace tessera::parallel
