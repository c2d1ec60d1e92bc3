#pragma once
// Input checks shared by the LWR parameter, initial-condition and detector validation.
#include <string>

#include "core/runtime/error.hpp"

namespace tessera::solvers::lwr {

inline void require(bool ok, const std::string& message) {
  if (!ok) throw InputError(message);
}

// Written as !(x >= lo && x <= hi) in effect, so that NaN fails too.
inline void require_density(double value, double rho_max, const char* key) {
  require(value >= 0.0 && value <= rho_max,
          str(key, " = ", value, " is outside the allowed range [0, rho_max] = [0, ", rho_max,
              "] (solver.rho_max)"));
}

}  // namespace tessera::solvers::lwr
