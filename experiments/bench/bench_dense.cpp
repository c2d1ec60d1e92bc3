#include "experiments/bench/bench_dense.hpp"

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "core/nn/attention.hpp"
#include "core/nn/linear.hpp"
#include "core/nn/mlp.hpp"
#include "core/nn/transformer_block.hpp"
#include "core/runtime/error.hpp"
#include "core/tensor/gemm.hpp"
#include "core/tensor/random.hpp"

namespace tessera::bench {

namespace {

using tensor::Matrix;
using tensor::Tensor3;

std::string thread_note() {
  const char* threads = std::getenv("OPENBLAS_NUM_THREADS");
  return str("OPENBLAS_NUM_THREADS=", threads ? threads : "unset");
}

BenchRow make_row(const std::string& benchmark, const std::string& shape, double seconds,
                  double gflops, double extra, const std::string& note,
                  std::vector<std::pair<std::string, double>> more = {}) {
  BenchRow row;
  row.benchmark = benchmark;
  row.shape = shape;
  row.seconds = seconds;
  row.gflops = gflops;
  row.extra = extra;
  row.note = note;
  row.more = std::move(more);
  return row;
}

Matrix<float> random_rows(const std::string& label, std::size_t rows, std::size_t cols,
                          std::uint64_t seed) {
  Matrix<float> m(label, rows, cols);
  tensor::fill_normal(tensor::flat(m), 0.0f, 1.0f, seed, 0);
  return m;
}

// The three gemms of a Linear(in, out) forward + backward on `rows` rows, on scratch
// buffers: y = x W^T, dW += dy^T x, dx = dy W.
struct LinearGemms {
  Matrix<float> x, w, y, dw, dx;
  LinearGemms(std::size_t rows, std::size_t in, std::size_t out)
      : x(random_rows("bench::x", rows, in, 1)),
        w(random_rows("bench::w", out, in, 2)),
        y(random_rows("bench::y", rows, out, 3)),
        dw("bench::dw", out, in),
        dx("bench::dx", rows, in) {}
  void run(bool input_grad = true) const {
    tensor::gemm('N', 'T', 1.0f, x, w, 0.0f, y);
    tensor::gemm('T', 'N', 1.0f, y, x, 1.0f, dw);
    if (input_grad) tensor::gemm('N', 'N', 1.0f, y, w, 0.0f, dx);
  }
};

// The six batched products of attention forward + backward (scores, context; their
// gradients), on (batch * heads, len, d) scratch tensors.
struct AttentionGemms {
  Tensor3<float> q, k, v, p, o, dp, dq, dk, dv, d_o;
  AttentionGemms(std::size_t bh, std::size_t len, std::size_t d)
      : q("bench::q", bh, len, d),
        k("bench::k", bh, len, d),
        v("bench::v", bh, len, d),
        p("bench::p", bh, len, len),
        o("bench::o", bh, len, d),
        dp("bench::dp", bh, len, len),
        dq("bench::dq", bh, len, d),
        dk("bench::dk", bh, len, d),
        dv("bench::dv", bh, len, d),
        d_o("bench::do", bh, len, d) {
    Kokkos::deep_copy(q, 0.1f);
    Kokkos::deep_copy(k, 0.2f);
    Kokkos::deep_copy(v, 0.3f);
    Kokkos::deep_copy(d_o, 0.4f);
  }
  void run() const {
    tensor::batched_gemm('N', 'T', 0.25f, q, k, 0.0f, p);
    tensor::batched_gemm('N', 'N', 1.0f, p, v, 0.0f, o);
    tensor::batched_gemm('N', 'T', 1.0f, d_o, v, 0.0f, dp);
    tensor::batched_gemm('T', 'N', 1.0f, p, d_o, 0.0f, dv);
    tensor::batched_gemm('N', 'N', 0.25f, dp, k, 0.0f, dq);
    tensor::batched_gemm('T', 'N', 0.25f, dp, q, 0.0f, dk);
  }
};

void linear_rows(std::vector<BenchRow>& out, const BenchOptions& options, std::size_t rows,
                 std::size_t hidden) {
  const std::string shape = str("rows=", rows, " in=", hidden, " out=", hidden);
  const double flops = 3 * 2.0 * rows * hidden * hidden;
  const LinearGemms gemms(rows, hidden, hidden);
  const double gemm_s = time_median([&] { gemms.run(); }, options.repeats, options.warmup);

  nn::ParameterStore<float> store;
  nn::Linear<float> layer;
  layer.declare(store, "fc", hidden, hidden);
  store.finalize();
  layer.init(store, 1);
  const Matrix<float> x = random_rows("bench::x", rows, hidden, 4);
  const Matrix<float> dy = random_rows("bench::dy", rows, hidden, 5);
  const double layer_s = time_median(
      [&] {
        layer.forward(store, x);
        layer.backward(store, dy);
      },
      options.repeats, options.warmup);
  const double sgemm_gflops = flops / gemm_s * 1e-9;
  const double layer_gflops = flops / layer_s * 1e-9;
  out.push_back(make_row("sgemm", "linear " + shape, gemm_s, sgemm_gflops, 1.0,
                         "x W^T, dy^T x, dy W alone; " + thread_note()));
  out.push_back(make_row("linear_fwd_bwd", shape, layer_s, layer_gflops,
                         layer_gflops / sgemm_gflops,
                         "extra = fraction of sgemm GFLOP/s; " + thread_note(),
                         {{"non_gemm_seconds", layer_s - gemm_s}}));
}

void mlp_rows(std::vector<BenchRow>& out, const BenchOptions& options, std::size_t rows,
              std::size_t hidden) {
  const std::string shape =
      str("rows=", rows, " sizes={", hidden, ",", hidden, ",", hidden, ",", hidden, "} gelu");
  // Three layers x three gemms, less the first layer's input gradient.
  const double flops = 8 * 2.0 * rows * hidden * hidden;
  const LinearGemms gemms(rows, hidden, hidden);
  const double gemm_s = time_median(
      [&] {
        gemms.run(false);
        gemms.run();
        gemms.run();
      },
      options.repeats, options.warmup);

  nn::ParameterStore<float> store;
  nn::Mlp<float> mlp;
  mlp.declare(store, "mlp", {hidden, hidden, hidden, hidden}, nn::ActivationKind::kGeluErf);
  store.finalize();
  mlp.init(store, 1);
  const Matrix<float> x = random_rows("bench::x", rows, hidden, 4);
  const Matrix<float> dy = random_rows("bench::dy", rows, hidden, 5);
  const double mlp_s = time_median(
      [&] {
        mlp.forward(store, x);
        mlp.backward(store, dy, false);
      },
      options.repeats, options.warmup);
  const double sgemm_gflops = flops / gemm_s * 1e-9;
  const double mlp_gflops = flops / mlp_s * 1e-9;
  out.push_back(make_row("sgemm", "mlp3 " + shape, gemm_s, sgemm_gflops, 1.0,
                         "the MLP's 8 gemms alone; " + thread_note()));
  out.push_back(make_row("mlp3_fwd_bwd", shape, mlp_s, mlp_gflops, mlp_gflops / sgemm_gflops,
                         "extra = fraction of sgemm GFLOP/s; " + thread_note(),
                         {{"non_gemm_seconds", mlp_s - gemm_s}}));
}

// Self-attention (and the block around it) over `batch` sequences of `len` rows.
void attention_rows(std::vector<BenchRow>& out, const BenchOptions& options,
                    const std::string& arrangement, std::size_t batch, std::size_t len,
                    std::size_t dim, std::size_t heads) {
  const std::size_t rows = batch * len, hidden = 4 * dim;
  const std::string shape =
      str(arrangement, " batch=", batch, " len=", len, " dim=", dim, " heads=", heads);
  const double projection_flops = 24.0 * rows * dim * dim;
  const double core_flops = 12.0 * batch * len * len * dim;
  const double mlp_flops = 48.0 * rows * dim * dim;

  const LinearGemms projection(rows, dim, dim);
  const double projection_s = time_median(
      [&] {
        for (int i = 0; i < 4; ++i) projection.run();
      },
      options.repeats, options.warmup);
  const AttentionGemms core(batch * heads, len, dim / heads);
  const double core_s = time_median([&] { core.run(); }, options.repeats, options.warmup);
  const LinearGemms up(rows, dim, hidden), down(rows, hidden, dim);
  const double mlp_gemm_s = time_median(
      [&] {
        up.run();
        down.run();
      },
      options.repeats, options.warmup);

  const Matrix<float> x = random_rows("bench::x", rows, dim, 4);
  const Matrix<float> dy = random_rows("bench::dy", rows, dim, 5);
  {
    nn::ParameterStore<float> store;
    nn::MultiHeadAttention<float> attention;
    attention.declare(store, "attn", dim, heads);
    store.finalize();
    attention.init(store, 1);
    const double s = time_median(
        [&] {
          attention.forward_self(store, x, batch, len);
          attention.backward_self(store, dy);
        },
        options.repeats, options.warmup);
    const double gemm_s = projection_s + core_s;
    out.push_back(make_row("attention_fwd_bwd", shape, s,
                           (projection_flops + core_flops) / s * 1e-9, gemm_s / s,
                           "extra = gemm share of the time; " + thread_note(),
                           {{"projection_gemm_seconds", projection_s},
                            {"batched_gemm_seconds", core_s},
                            {"other_seconds", s - gemm_s}}));
  }
  {
    nn::ParameterStore<float> store;
    nn::TransformerBlock<float> block;
    block.declare(store, "block", dim, heads, hidden);
    store.finalize();
    block.init(store, 1);
    const double s = time_median(
        [&] {
          block.forward(store, x, batch, len);
          block.backward(store, dy);
        },
        options.repeats, options.warmup);
    const double gemm_s = projection_s + core_s + mlp_gemm_s;
    out.push_back(make_row("transformer_block_fwd_bwd", shape + str(" mlp_hidden=", hidden), s,
                           (projection_flops + core_flops + mlp_flops) / s * 1e-9, gemm_s / s,
                           "extra = gemm share of the time; " + thread_note(),
                           {{"projection_gemm_seconds", projection_s},
                            {"batched_gemm_seconds", core_s},
                            {"mlp_gemm_seconds", mlp_gemm_s},
                            {"other_seconds", s - gemm_s}}));
  }
}

}  // namespace

std::vector<BenchRow> bench_dense(const BenchOptions& options) {
  std::vector<BenchRow> out;
  const std::size_t rows = options.quick ? 256 : 4096;
  const std::vector<std::size_t> hiddens = options.quick
                                               ? std::vector<std::size_t>{64, 128}
                                               : std::vector<std::size_t>{64, 128, 256, 512, 1024};
  for (std::size_t hidden : hiddens) linear_rows(out, options, rows, hidden);
  for (std::size_t hidden : hiddens) mlp_rows(out, options, rows, hidden);
  const std::size_t nodes = options.quick ? 8 : 228, steps = options.quick ? 6 : 12;
  const std::size_t dim = options.quick ? 16 : 64, heads = 4;
  attention_rows(out, options, "temporal", nodes, steps, dim, heads);
  attention_rows(out, options, "spatial", steps, nodes, dim, heads);
  return out;
}

}  // namespace tessera::bench
