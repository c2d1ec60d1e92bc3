#pragma once
// Initial traffic densities as exact cell averages, computed for any block of cells so
// that every rank fills only what it owns and the result does not depend on the rank
// count. Random platoons use a hand-written splitmix64 stream: the same seed gives the
// same road on every machine, compiler and decomposition.
#include <cstdint>
#include <vector>

#include "solvers/lwr/lwr_solver.hpp"

namespace tessera::solvers::lwr {

struct InitialCondition {
  enum class Kind {
    kUniform,  // density everywhere
    kRiemann,  // rho_left for x < x0, rho_right beyond
    kBell,     // base + amplitude exp(-((x - center)/width)^2)
    kPlatoons  // `platoons` blocks of platoon_density and platoon_length on a base density
  };
  Kind kind = Kind::kUniform;

  double density = 0.0;  // uniform

  double rho_left = 0.0;  // Riemann
  double rho_right = 0.0;
  double x0 = 0.0;

  double base = 0.0;  // bell and platoons: density of the background
  double amplitude = 0.0;
  double center = 0.0;
  double width = 1.0;

  long long platoons = 0;  // platoons: how many
  double platoon_density = 0.0;
  double platoon_length = 0.0;
  std::uint64_t seed = 0;
};

// Throws InputError naming the key (initial.density, initial.width, ...) and its range.
void validate_initial_condition(const InitialCondition& ic, const LwrParameters& p);

// Averages over cells first .. first + count - 1 of the road described by p: exact for
// the piecewise constant kinds, 3-point Gauss-Legendre per cell for the bell.
// Validates ic (and the cell range) first.
std::vector<double> initial_cell_averages(const InitialCondition& ic, const LwrParameters& p,
                                          long long first, long long count);

// Where the platoons start (sorted), drawn from ic.seed. Non-overlapping whenever
// platoons * platoon_length <= road_length; otherwise starts are uniform in
// [0, L - platoon_length] and overlapping platoons merge.
std::vector<double> platoon_starts(const InitialCondition& ic, double road_length);

// splitmix64 (Steele, Lea and Flood 2014): a counter-based 64-bit generator.
// Public so that tests and other generators can rely on the exact stream.
std::uint64_t splitmix64(std::uint64_t& state);
// Uniform double in [0, 1) from the top 53 bits of the next splitmix64 value.
double uniform01(std::uint64_t& state);

}  // namespace tessera::solvers::lwr
