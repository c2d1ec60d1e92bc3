#pragma once
// The two-dimensional Sobol sequence with the standard direction numbers (Joe and Kuo
// 2008: the first coordinate is van der Corput's base-2 sequence, the second comes from
// the primitive polynomial x + 1 with m_1 = 1), 32 bits, with an optional random digital
// shift (XOR of every point with one random word per coordinate). Points are computed
// from their index through the Gray code, so any block of the sequence can be taken
// without the points before it: each rank, epoch and task gets the same points however
// the work is split.
#include <array>
#include <cstdint>

namespace tessera::models::pinn_traffic {

class Sobol2d {
 public:
  static constexpr int kBits = 32;

  // shift = {0, 0}: the plain sequence, whose point 0 is the origin.
  explicit Sobol2d(std::array<std::uint32_t, 2> shift = {0, 0});

  // Point `index` of the sequence, each coordinate in [0, 1).
  std::array<double, 2> point(std::uint64_t index) const;
  // The integer coordinates (the point times 2^32).
  std::array<std::uint32_t, 2> bits(std::uint64_t index) const;

  // Direction numbers v_k (k = 0..31) of a coordinate, as 32-bit fractions.
  const std::array<std::uint32_t, kBits>& directions(int coordinate) const {
    return directions_[coordinate];
  }

 private:
  std::array<std::array<std::uint32_t, kBits>, 2> directions_;
  std::array<std::uint32_t, 2> shift_;
};

}  // namespace tessera::models::pinn_traffic
