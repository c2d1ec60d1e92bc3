// Main of every test executable: MPI and Kokkos up for the whole session, then Catch.
// Ranks other than 0 report only failures, so a 4-rank run prints one summary.
#define CATCH_CONFIG_RUNNER
#include "tests/support/catch.hpp"

#include "core/runtime/runtime.hpp"

int main(int argc, char** argv) {
  tessera::runtime::Runtime runtime(argc, argv);
  Catch::Session session;
  const int parse = session.applyCommandLine(argc, argv);
  if (parse != 0) return parse;
  int failed = session.run();
  // Every rank must agree on the outcome, or mpiexec may report success.
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, runtime.comm());
  return any_failed != 0 ? 1 : 0;
}
