#include "experiments/bench/bench.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>

#include "core/tensor/gemm.hpp"
#include "core/tensor/random.hpp"
#include "core/tensor/reduce.hpp"
#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace tessera::bench {

double time_median(const std::function<void()>& f, int repeats, int warmup) {
  for (int i = 0; i < warmup; ++i) f();
  Kokkos::fence();
  std::vector<double> times;
  for (int i = 0; i < std::max(1, repeats); ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    Kokkos::fence();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

double sgemm_peak_gflops(std::size_t n, const BenchOptions& options) {
  tensor::Matrix<float> a("bench::peak_a", n, n), b("bench::peak_b", n, n), c("bench::peak_c", n, n);
  tensor::fill_normal(tensor::flat(a), 0.0f, 1.0f, 1, 0);
  tensor::fill_normal(tensor::flat(b), 0.0f, 1.0f, 2, 0);
  const double s = time_median([&] { tensor::gemm('N', 'N', 1.0f, a, b, 0.0f, c); },
                               options.repeats, options.warmup);
  return 2.0 * static_cast<double>(n) * n * n / s * 1e-9;
}

void reset_peak_memory() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  malloc_trim(0);
#endif
  std::ofstream("/proc/self/clear_refs") << "5";  // resets VmHWM (Linux >= 4.0)
}
namespace {

// A "Vm...:" line of /proc/self/status, in bytes.
double status_bytes(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key, 0) == 0) return 1024.0 * std::stod(line.substr(key.size()));  // kB
  }
  return 0;
}

}  // namespace

double peak_memory_bytes() { return status_bytes("VmHWM:"); }
double resident_memory_bytes() { return status_bytes("VmRSS:"); }

double max_over_ranks(MPI_Comm comm, double value) {
  MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_MAX, comm);
  return value;
}

double sum_over_ranks(MPI_Comm comm, double value) {
  MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_SUM, comm);
  return value;
}

}  // namespace tessera::bench
