#pragma once
// Benchmark of modern Hopfield retrieval (models/hopfield), float: one-step batched
// retrieval xi <- X^T softmax(beta X xi) (two gemms and a softmax pass over B x N scores)
// against OpenBLAS sgemm (a large square product as the peak, and the retrieval's own two
// gemms alone), and sharded retrieval with the patterns per rank fixed (weak scaling over
// the ranks of the communicator). The PyTorch side is
// analysis/reference/bench_hopfield_torch.py (torch.softmax(beta q @ X.T) @ X, same
// shapes and threads).
#include <mpi.h>

#include <vector>

#include "experiments/bench/bench.hpp"

namespace tessera::bench {

// Collective over `comm`. Rows (options.quick: N = 2048, d = 32, 64, B = 128):
//   "sgemm_peak"          2048^3 (quick: 512^3) sgemm; gflops = the peak used below;
//   "sgemm"               retrieval's two gemms alone (B x d by d x N, B x N by N x d);
//   "hopfield_retrieval"  HopfieldMemory<float>::retrieve, one step, no energy pass,
//                         MPI_COMM_SELF; gflops = 4 B N d / seconds; extra = fraction of
//                         sgemm_peak; more: queries_per_second, fraction_of_gemms,
//                         non_gemm_seconds;
//   "hopfield_sharded"    the same with N_local patterns on each rank of `comm` (N = P
//                         N_local); seconds = max over ranks; more: ranks,
//                         patterns_per_rank, bytes_per_rank, queries_per_second.
// Shapes (full): N in {16384, 65536}, d in {64, 256}, B = 1024.
std::vector<BenchRow> bench_hopfield(MPI_Comm comm, const BenchOptions& options);

}  // namespace tessera::bench
