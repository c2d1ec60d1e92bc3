#pragma once
// Benchmark of the forecasting family: one STTN training step (forward, backward of the
// masked MAE's gradient stand-in L = sum(y * dy), AdamW) at the size (d = 64,
// 4 heads, 2 blocks) on a sensor graph made in code (a chain with links i -> i + 5), the
// same as analysis/reference/bench_st_forecast_torch.py builds.
#include <vector>

#include "experiments/bench/bench.hpp"

namespace tessera::bench {

// Rows "sttn_step"; shape "sensors=N windows=W d=64"; `extra` = parameters; GFLOP/s from
// the nominal count 6 x MACs of the dense layers and attention products (both sides
// count alike). Quick: 20 sensors, 4 windows, d = 16. Then rows "laplacian_eigenvectors"
// (the spatial embedding's 32 eigenvectors, dense against filtered; extra = block products).
std::vector<BenchRow> bench_st_forecast(const BenchOptions& options);

// The same step with dense spatial attention whose keys are sharded over the ranks of
// comm (nn::KeyShard): 2,000 and 4,000 sensors, one window; shape "... keys_sharded
// ranks=P", time and step_peak_bytes the largest over the ranks. Quick: 20 sensors.
std::vector<BenchRow> bench_st_forecast_sharded(MPI_Comm comm, const BenchOptions& options);
// The STTN with graph attention and its sensors split over the ranks of `comm`.
std::vector<BenchRow> bench_st_forecast_split(MPI_Comm comm, const BenchOptions& options);

}  // namespace tessera::bench
