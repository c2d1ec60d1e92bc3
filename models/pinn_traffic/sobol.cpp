#include "models/pinn_traffic/sobol.hpp"

#include <stdexcept>

namespace tessera::models::pinn_traffic {

Sobol2d::Sobol2d(std::array<std::uint32_t, 2> shift) : shift_(shift) {
  // Coordinate 0: m_k = 1 for all k, v_k = 2^-(k+1).
  // Coordinate 1: degree s = 1, a = 0, m_1 = 1, and m_k = 2 m_{k-1} XOR m_{k-1}.
  std::uint32_t m = 1;
  for (int k = 0; k < kBits; ++k) {
    directions_[0][k] = std::uint32_t(1) << (kBits - 1 - k);
    if (k > 0) m = (m << 1) ^ m;
    directions_[1][k] = m << (kBits - 1 - k);
  }
}

std::array<std::uint32_t, 2> Sobol2d::bits(std::uint64_t index) const {
  if (index >> kBits) {
    throw std::out_of_range("Sobol2d: index beyond 2^32 points of a 32-bit sequence");
  }
  const std::uint64_t gray = index ^ (index >> 1);
  std::array<std::uint32_t, 2> out = shift_;
  for (int k = 0; k < kBits; ++k) {
    if ((gray >> k) & 1) {
      out[0] ^= directions_[0][k];
      out[1] ^= directions_[1][k];
    }
  }
  return out;
}

std::array<double, 2> Sobol2d::point(std::uint64_t index) const {
  const std::array<std::uint32_t, 2> b = bits(index);
  constexpr double kScale = 1.0 / 4294967296.0;  // 2^-32
  return {static_cast<double>(b[0]) * kScale, static_cast<double>(b[1]) * kScale};
}

}  // namespace tessera::models::pinn_traffic
