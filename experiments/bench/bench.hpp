#pragma once
// Benchmarks of `tessera bench`: each measures Tessera's kernels at given shapes and
// returns rows; the PyTorch side of each comparison is a script in
// analysis/reference/bench_*_torch.py that prints the same rows as JSON, and
// analysis/bench_report.py puts both side by side. Timings are medians of repeats
// after warm-up, on the thread count the caller set (OPENBLAS_NUM_THREADS).
#include <mpi.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tessera::bench {

struct BenchRow {
  std::string benchmark;  // "linear_fwd_bwd", "sgemm", "pinn_step", ...
  std::string shape;      // "batch=4096 hidden=256"
  double seconds = 0;     // median time of one call
  double gflops = 0;      // 0 when flops are not meaningful
  double extra = 0;       // benchmark-specific (e.g. fraction of sgemm), documented per row
  std::string note;
  std::vector<std::pair<std::string, double>> more;  // further named numbers of the row
};

struct BenchOptions {
  int repeats = 20;
  int warmup = 3;
  bool quick = false;  // small shapes, for tests of the benchmark code itself
};

// Median seconds of `repeats` calls of f after `warmup` calls (Kokkos::fence inside).
double time_median(const std::function<void()>& f, int repeats, int warmup);

// GFLOP/s of one float n x n by n x n product through tensor::gemm (median of the
// options' repeats): the BLAS peak that rows of small products compare with.
double sgemm_peak_gflops(std::size_t n, const BenchOptions& options);

// Peak resident memory of this process since the last reset_peak_memory(), from Linux's
// VmHWM (0 where /proc is not there). glibc keeps freed heap memory for reuse and raises
// its mmap threshold after large frees, so a case would inherit the previous case's
// resident memory: big blocks are kept in mmap (returned to the system when freed) and
// the heap is trimmed before each reset.
void reset_peak_memory();
double peak_memory_bytes();
// Resident memory of this process now (VmRSS; 0 where /proc is not there).
double resident_memory_bytes();

// Collective over comm: the largest and the sum of every rank's value.
double max_over_ranks(MPI_Comm comm, double value);
double sum_over_ranks(MPI_Comm comm, double value);

}  // namespace tessera::bench
