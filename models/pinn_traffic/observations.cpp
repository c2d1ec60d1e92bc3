#include "models/pinn_traffic/observations.hpp"

#include "core/runtime/error.hpp"
#include "core/tensor/random.hpp"

namespace tessera::models::pinn_traffic {

void ObservationSet::add(double x_value, double t_value, double rho, ObservationSource from) {
  x.push_back(x_value);
  t.push_back(t_value);
  density.push_back(rho);
  source.push_back(static_cast<int>(from));
}

std::size_t ObservationSet::count(ObservationSource from) const {
  std::size_t n = 0;
  for (int s : source) n += s == static_cast<int>(from) ? 1 : 0;
  return n;
}

void require_observations(const ObservationSet& set, const std::string& where) {
  if (set.empty()) {
    throw InputError(str(where, where.empty() ? "" : ": ",
                         "empty observation set: the PINN has no density data to fit "
                         "(detectors.positions is empty and observations.probes = 0); give "
                         "at least one detector position or a probe vehicle"));
  }
}

void add_noise(ObservationSet& set, double stddev, std::uint64_t seed) {
  if (!(stddev >= 0)) {
    throw InputError(str("observations.noise = ", stddev, " must be >= 0"));
  }
  if (stddev == 0) return;
  for (std::size_t i = 0; i < set.size(); ++i) {
    const double noisy = set.density[i] + stddev * tensor::counter_normal(seed, 0x4015e, i);
    set.density[i] = noisy > 0 ? noisy : 0.0;
  }
}

}  // namespace tessera::models::pinn_traffic
