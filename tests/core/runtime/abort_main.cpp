// A job in which only the last rank fails in the middle of its work, while the others
// wait in a collective: run_or_abort must end the whole job with that rank's message
// (ctest checks the output) instead of leaving the others hanging (ctest's timeout).
#include <iostream>
#include <stdexcept>

#include "core/runtime/runtime.hpp"

int main(int argc, char** argv) {
  tessera::runtime::Runtime runtime(argc, argv);
  const int code = tessera::runtime::run_or_abort(runtime.comm(), [&] {
    if (runtime.rank() == runtime.size() - 1) throw std::runtime_error("boom in the last rank");
    MPI_Barrier(runtime.comm());  // the last rank never arrives
  });
  std::cout << "exit code " << code << std::endl;
  return code;
}
