#pragma once
// Collocation points where the PDE residual is enforced, in a box of the normalised
// space-time square [-1, 1]^2: uniform random, Latin hypercube or Sobol. Every rank
// draws the same global set from counter-based random numbers (seed, task, epoch), so
// the set does not depend on the rank count; a rank then keeps its shard. A new epoch
// is a new set (periodic resampling).
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::models::pinn_traffic {

enum class SamplerKind { kUniform, kLatinHypercube, kSobol };

// "uniform", "latin_hypercube", "sobol"; InputError listing them otherwise.
SamplerKind sampler_from_name(const std::string& name);
std::string sampler_name(SamplerKind kind);

// An axis-aligned box [x_low, x_high] x [t_low, t_high] of the normalised square.
struct Box {
  double x_low = -1, x_high = 1;
  double t_low = -1, t_high = 1;
};

// `count` points (row-major count x 2: x, t) in `box`. `stream` separates independent
// sets drawn with one seed (tasks, validation); `epoch` counts resamplings.
std::vector<double> sample_points(SamplerKind kind, std::size_t count, const Box& box,
                                  std::uint64_t seed, std::uint64_t stream, std::uint64_t epoch);

// Rows [first, first + count) of `total` rows that rank `rank` of `ranks` holds: contiguous
// blocks, the first total % ranks ranks one row longer.
struct Shard {
  std::size_t first = 0;
  std::size_t count = 0;
};
Shard shard_of(std::size_t total, int rank, int ranks);

}  // namespace tessera::models::pinn_traffic
