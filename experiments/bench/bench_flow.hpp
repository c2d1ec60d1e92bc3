#pragma once
// Benchmarks of the flow solver (solvers/flow): time per step, per 1,000 mesh vertices,
// and linear-solver iterations per step, on DFG channel meshes of several sizes at
// Re = 100 (U_m = 1.5, BDF2, dt at CFL about 0.5 on the finest cells). Under MPI the
// rows carry the rank count, so that runs on 1 and 2 ranks of the same mesh (the
// largest has over 200k vertices) give the strong-scaling efficiency.
#include <mpi.h>

#include <vector>

#include "experiments/bench/bench.hpp"

namespace tessera::bench {

// Collective over `comm`. One row "flow_step" per mesh: seconds = max over ranks of the
// mean step time after `options.warmup` steps, over min(options.repeats, 10) steps;
// extra = seconds per step per 1,000 vertices; more: vertices, p2_nodes, ranks,
// pressure_iterations, momentum_iterations, correction_iterations (per step, mean),
// setup_seconds (mesh partition, halo plan, assembly), mesh_seconds (Gmsh).
// options.quick: one small mesh only.
std::vector<BenchRow> bench_flow(MPI_Comm comm, const BenchOptions& options);

}  // namespace tessera::bench
