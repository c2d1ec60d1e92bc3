#pragma once
// The cell transmission model on road networks: time per step and cell-updates per
// second of the 8,448-detector grid (LargeST scale) and the 200-detector freeway network,
// loaded at peak-hour demand. Run on 1 and 2 ranks for strong scaling.
#include <mpi.h>

#include <vector>

#include "experiments/bench/bench.hpp"

namespace tessera::bench {

std::vector<BenchRow> bench_lwr_network(MPI_Comm comm, const BenchOptions& options);

}  // namespace tessera::bench
