#include "experiments/bench/bench_hopfield.hpp"

#include <cstdlib>
#include <string>

#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"
#include "core/tensor/gemm.hpp"
#include "core/tensor/random.hpp"
#include "core/tensor/reduce.hpp"
#include "models/hopfield/memory.hpp"

namespace tessera::bench {

namespace {

using tensor::Matrix;

std::string thread_note() {
  const char* threads = std::getenv("OPENBLAS_NUM_THREADS");
  return str("OPENBLAS_NUM_THREADS=", threads ? threads : "unset");
}

Matrix<float> random_rows(const std::string& label, std::size_t rows, std::size_t cols,
                          std::uint64_t seed, float scale) {
  Matrix<float> m(label, rows, cols);
  tensor::fill_normal(tensor::flat(m), 0.0f, scale, seed, 0);
  return m;
}

BenchRow row(const std::string& benchmark, const std::string& shape, double seconds, double gflops,
             double extra, const std::string& note,
             std::vector<std::pair<std::string, double>> more = {}) {
  BenchRow r;
  r.benchmark = benchmark;
  r.shape = shape;
  r.seconds = seconds;
  r.gflops = gflops;
  r.extra = extra;
  r.note = note;
  r.more = std::move(more);
  return r;
}

}  // namespace

std::vector<BenchRow> bench_hopfield(MPI_Comm comm, const BenchOptions& options) {
  std::vector<BenchRow> rows;
  const int ranks = runtime::comm_size(comm), rank = runtime::comm_rank(comm);
  const std::size_t peak_n = options.quick ? 512 : 2048;
  const double peak = sgemm_peak_gflops(peak_n, options);
  rows.push_back(row("sgemm_peak", str("n=", peak_n), 2.0 * peak_n * peak_n * peak_n / peak * 1e-9,
                     peak, 1.0, thread_note()));
  const std::size_t batch = options.quick ? 128 : 1024;
  const std::vector<std::size_t> counts =
      options.quick ? std::vector<std::size_t>{2048} : std::vector<std::size_t>{16384, 65536};
  const std::vector<std::size_t> dims =
      options.quick ? std::vector<std::size_t>{32, 64} : std::vector<std::size_t>{64, 256};
  for (std::size_t d : dims) {
    for (std::size_t n : counts) {
      const std::string shape = str("N=", n, " d=", d, " batch=", batch);
      const double flops = 4.0 * batch * n * d;
      // beta / sqrt(d) scaling keeps the softmax away from one-hot, as in real use.
      const float scale = 1.0f;
      const Matrix<float> x = random_rows("bench::patterns", n, d, 3, scale);
      const Matrix<float> q = random_rows("bench::queries", batch, d, 4, scale);
      Matrix<float> s("bench::scores", batch, n), u("bench::u", batch, d);
      const double gemm_s = time_median(
          [&] {
            tensor::gemm('N', 'T', 1.0f, q, x, 0.0f, s);
            tensor::gemm('N', 'N', 1.0f, s, x, 0.0f, u);
          },
          options.repeats, options.warmup);
      const double gemm_gflops = flops / gemm_s * 1e-9;
      rows.push_back(row("sgemm", "retrieval " + shape, gemm_s, gemm_gflops, gemm_gflops / peak,
                         "Q X^T and S X alone; extra = fraction of sgemm_peak; " + thread_note()));
      models::hopfield::HopfieldMemory<float> memory(MPI_COMM_SELF, x);
      models::hopfield::RetrievalOptions ro;
      ro.beta = 1.0 / std::sqrt(static_cast<double>(d));
      ro.max_steps = 1;
      ro.energy = false;
      const double t =
          time_median([&] { memory.retrieve(q, ro); }, options.repeats, options.warmup);
      const double g = flops / t * 1e-9;
      rows.push_back(
          row("hopfield_retrieval", shape, t, g, g / peak,
              "one step, no energy pass; extra = fraction of sgemm_peak; " + thread_note(),
              {{"queries_per_second", batch / t},
               {"fraction_of_gemms", gemm_s / t},
               {"non_gemm_seconds", t - gemm_s}}));
    }
  }
  // Weak scaling: the same patterns per rank, N grows with the rank count.
  {
    const std::size_t per_rank = options.quick ? 2048 : 16384, d = options.quick ? 32 : 64;
    const std::size_t n = per_rank * static_cast<std::size_t>(ranks);
    const Matrix<float> x = random_rows("bench::patterns", per_rank, d, 10 + rank, 1.0f);
    const Matrix<float> q = random_rows("bench::queries", batch, d, 4, 1.0f);
    models::hopfield::HopfieldMemory<float> memory(comm, x, per_rank * rank);
    models::hopfield::RetrievalOptions ro;
    ro.beta = 1.0 / std::sqrt(static_cast<double>(d));
    ro.energy = false;
    double t = time_median(
        [&] {
          MPI_Barrier(comm);
          memory.retrieve(q, ro);
        },
        options.repeats, options.warmup);
    MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, comm);
    const double flops = 4.0 * batch * n * d;
    rows.push_back(
        row("hopfield_sharded",
            str("ranks=", ranks, " N_per_rank=", per_rank, " d=", d, " batch=", batch), t,
            flops / t * 1e-9, 0.0,
            str("weak scaling, patterns sharded; seconds = max over ranks; ", thread_note()),
            {{"ranks", double(ranks)},
             {"patterns_per_rank", double(per_rank)},
             {"bytes_per_rank", double(memory.local_bytes())},
             {"queries_per_second", batch / t}}));
  }
  return rows;
}

}  // namespace tessera::bench
