#include "models/pinn_traffic/collocation.hpp"

#include <numeric>

#include "core/runtime/error.hpp"
#include "core/tensor/random.hpp"
#include "models/pinn_traffic/sobol.hpp"

namespace tessera::models::pinn_traffic {

using tensor::counter_hash;
using tensor::counter_uniform;

SamplerKind sampler_from_name(const std::string& name) {
  if (name == "uniform") return SamplerKind::kUniform;
  if (name == "latin_hypercube") return SamplerKind::kLatinHypercube;
  if (name == "sobol") return SamplerKind::kSobol;
  throw InputError(
      str("unknown collocation sampler '", name, "' (expected uniform, latin_hypercube or sobol)"));
}

std::string sampler_name(SamplerKind kind) {
  switch (kind) {
    case SamplerKind::kUniform:
      return "uniform";
    case SamplerKind::kLatinHypercube:
      return "latin_hypercube";
    case SamplerKind::kSobol:
      return "sobol";
  }
  return "uniform";
}

std::vector<double> sample_points(SamplerKind kind, std::size_t count, const Box& box,
                                  std::uint64_t seed, std::uint64_t stream, std::uint64_t epoch) {
  // One derived seed per (seed, stream, epoch): sets of different tasks and epochs are
  // independent, and none depends on how many points the others drew.
  const std::uint64_t key = counter_hash(seed, stream, epoch);
  std::vector<double> unit(2 * count);
  switch (kind) {
    case SamplerKind::kUniform:
      for (std::size_t i = 0; i < count; ++i) {
        unit[2 * i] = counter_uniform(key, 0, i);
        unit[2 * i + 1] = counter_uniform(key, 1, i);
      }
      break;
    case SamplerKind::kLatinHypercube:
      // One point in each of the `count` strata of each coordinate: a random permutation
      // of the strata per coordinate (Fisher-Yates on counter draws), a uniform offset
      // inside the stratum.
      for (int d = 0; d < 2; ++d) {
        std::vector<std::size_t> strata(count);
        std::iota(strata.begin(), strata.end(), std::size_t(0));
        for (std::size_t i = count; i-- > 1;) {
          const auto j =
              static_cast<std::size_t>(counter_uniform(key, 2 + d, i) * static_cast<double>(i + 1));
          std::swap(strata[i], strata[j < i ? j : i]);
        }
        for (std::size_t i = 0; i < count; ++i) {
          unit[2 * i + d] = (static_cast<double>(strata[i]) + counter_uniform(key, 4 + d, i)) /
                            static_cast<double>(count);
        }
      }
      break;
    case SamplerKind::kSobol: {
      // Epoch e takes the next block of the sequence, under a digital shift drawn from
      // the seed and stream (the same for all epochs, so that blocks stay one sequence).
      const std::uint64_t shift_key = counter_hash(seed, stream, 0x50b01);
      const Sobol2d sobol({static_cast<std::uint32_t>(counter_hash(shift_key, 0, 0) >> 32),
                           static_cast<std::uint32_t>(counter_hash(shift_key, 1, 0) >> 32)});
      const std::uint64_t first = epoch * static_cast<std::uint64_t>(count);
      for (std::size_t i = 0; i < count; ++i) {
        const auto p = sobol.point(first + i);
        unit[2 * i] = p[0];
        unit[2 * i + 1] = p[1];
      }
      break;
    }
  }
  std::vector<double> points(2 * count);
  for (std::size_t i = 0; i < count; ++i) {
    points[2 * i] = box.x_low + (box.x_high - box.x_low) * unit[2 * i];
    points[2 * i + 1] = box.t_low + (box.t_high - box.t_low) * unit[2 * i + 1];
  }
  return points;
}

Shard shard_of(std::size_t total, int rank, int ranks) {
  const auto r = static_cast<std::size_t>(rank), p = static_cast<std::size_t>(ranks);
  const std::size_t base = total / p, extra = total % p;
  Shard s;
  s.first = r * base + (r < extra ? r : extra);
  s.count = base + (r < extra ? 1 : 0);
  return s;
}

}  // namespace tessera::models::pinn_traffic
