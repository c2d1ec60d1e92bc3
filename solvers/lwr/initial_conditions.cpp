#include "solvers/lwr/initial_conditions.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/runtime/error.hpp"
#include "solvers/lwr/checks.hpp"

namespace tessera::solvers::lwr {
namespace {

double bell(const InitialCondition& ic, double x) {
  const double z = (x - ic.center) / ic.width;
  return ic.base + ic.amplitude * std::exp(-z * z);
}

// Length of [lo, hi] inside [a, b].
double overlap(double lo, double hi, double a, double b) {
  const double length = std::min(hi, b) - std::max(lo, a);
  return length > 0.0 ? length : 0.0;
}

}  // namespace

std::uint64_t splitmix64(std::uint64_t& state) {
  state += 0x9E3779B97F4A7C15ULL;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double uniform01(std::uint64_t& state) {
  return static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53;
}

void validate_initial_condition(const InitialCondition& ic, const LwrParameters& p) {
  const double rho_max = p.diagram.rho_max;
  const double length = p.road_length;
  switch (ic.kind) {
    case InitialCondition::Kind::kUniform:
      require_density(ic.density, rho_max, "initial.density");
      break;
    case InitialCondition::Kind::kRiemann:
      require_density(ic.rho_left, rho_max, "initial.rho_left");
      require_density(ic.rho_right, rho_max, "initial.rho_right");
      require(ic.x0 >= 0.0 && ic.x0 <= length,
              str("initial.x0 = ", ic.x0, " is outside the road [0, ", length,
                  "] (solver.road_length)"));
      break;
    case InitialCondition::Kind::kBell:
      require_density(ic.base, rho_max, "initial.base");
      require_density(ic.base + ic.amplitude, rho_max, "initial.base + initial.amplitude");
      require(ic.width > 0.0 && std::isfinite(ic.width),
              str("initial.width = ", ic.width, " must be a positive length"));
      require(std::isfinite(ic.center), str("initial.center = ", ic.center, " must be finite"));
      break;
    case InitialCondition::Kind::kPlatoons:
      require_density(ic.base, rho_max, "initial.base");
      require_density(ic.platoon_density, rho_max, "initial.platoon_density");
      require(ic.platoons >= 0, str("initial.platoons = ", ic.platoons, " must be >= 0"));
      require(ic.platoon_length > 0.0 && ic.platoon_length <= length,
              str("initial.platoon_length = ", ic.platoon_length,
                  " is outside the allowed range (0, road_length = ", length,
                  "] (solver.road_length)"));
      break;
  }
}

std::vector<double> platoon_starts(const InitialCondition& ic, double road_length) {
  std::uint64_t state = ic.seed;
  const auto count = static_cast<std::size_t>(ic.platoons);
  std::vector<double> starts(count);
  const double free_space = road_length - static_cast<double>(ic.platoons) * ic.platoon_length;
  if (free_space >= 0.0) {
    // Sorted uniform gaps in the free space, then each platoon pushed right by the ones
    // before it: uniformly random non-overlapping placements.
    for (auto& s : starts) s = uniform01(state) * free_space;
    std::sort(starts.begin(), starts.end());
    for (std::size_t k = 0; k < count; ++k) starts[k] += static_cast<double>(k) * ic.platoon_length;
  } else {
    for (auto& s : starts) s = uniform01(state) * (road_length - ic.platoon_length);
    std::sort(starts.begin(), starts.end());
  }
  return starts;
}

std::vector<double> initial_cell_averages(const InitialCondition& ic, const LwrParameters& p,
                                          long long first, long long count) {
  validate_parameters(p);
  validate_initial_condition(ic, p);
  if (first < 0 || count < 0 || first + count > p.cells) {
    throw std::invalid_argument(str("initial_cell_averages: cells ", first, " to ",
                                    first + count - 1, " are not inside 0 to ", p.cells - 1));
  }
  const double dx = p.road_length / static_cast<double>(p.cells);
  const auto n = static_cast<std::size_t>(count);
  std::vector<double> rho(n);
  auto cell_lo = [&](std::size_t i) { return static_cast<double>(first + i) * dx; };

  switch (ic.kind) {
    case InitialCondition::Kind::kUniform:
      std::fill(rho.begin(), rho.end(), ic.density);
      break;
    case InitialCondition::Kind::kRiemann:
      for (std::size_t i = 0; i < n; ++i) {
        const double a = cell_lo(i);
        const double b = a + dx;
        if (b <= ic.x0) {
          rho[i] = ic.rho_left;
        } else if (a >= ic.x0) {
          rho[i] = ic.rho_right;
        } else {
          rho[i] = (ic.rho_left * (ic.x0 - a) + ic.rho_right * (b - ic.x0)) / dx;
        }
      }
      break;
    case InitialCondition::Kind::kBell: {
      // 3-point Gauss-Legendre on [-1, 1]: nodes 0, +-sqrt(3/5), weights 8/9, 5/9.
      const double offset = std::sqrt(0.6) * 0.5 * dx;
      for (std::size_t i = 0; i < n; ++i) {
        const double c = cell_lo(i) + 0.5 * dx;
        const double sum =
            5.0 * bell(ic, c - offset) + 8.0 * bell(ic, c) + 5.0 * bell(ic, c + offset);
        rho[i] = sum / 18.0;
      }
      break;
    }
    case InitialCondition::Kind::kPlatoons: {
      // Merge overlapping platoons into disjoint intervals, then add up the covered
      // length of each cell.
      std::vector<std::pair<double, double>> covered;
      for (double s : platoon_starts(ic, p.road_length)) {
        const double e = s + ic.platoon_length;
        if (!covered.empty() && s <= covered.back().second) {
          covered.back().second = std::max(covered.back().second, e);
        } else {
          covered.emplace_back(s, e);
        }
      }
      std::vector<double> fraction(n, 0.0);
      for (const auto& [lo, hi] : covered) {
        const auto i_lo = std::max<long long>(first, static_cast<long long>(std::floor(lo / dx)));
        const auto i_hi =
            std::min<long long>(first + count - 1, static_cast<long long>(std::floor(hi / dx)));
        for (long long i = i_lo; i <= i_hi; ++i) {
          const double a = static_cast<double>(i) * dx;
          fraction[static_cast<std::size_t>(i - first)] += overlap(lo, hi, a, a + dx) / dx;
        }
      }
      for (std::size_t i = 0; i < n; ++i) {
        // Written as a convex combination so that f = 0 and f = 1 give the two densities
        // exactly.
        const double f = std::min(fraction[i], 1.0);
        rho[i] = (1.0 - f) * ic.base + f * ic.platoon_density;
      }
      break;
    }
  }
  return rho;
}

}  // namespace tessera::solvers::lwr
