#include "solvers/lwr/network/detectors.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/runtime/error.hpp"
#include "core/tensor/random.hpp"

namespace tessera::solvers::lwr::network {

NetworkDetectors::NetworkDetectors(const NetworkSolver& solver, std::vector<DetectorSite> sites)
    : sites_(std::move(sites)) {
  const RoadNetwork& net = solver.network();
  std::set<std::string> names;
  std::vector<long long> owned_cells;
  for (std::size_t d = 0; d < sites_.size(); ++d) {
    const DetectorSite& s = sites_[d];
    if (!names.insert(s.name).second) {
      throw InputError(str("detector '", s.name, "': the name is used twice"));
    }
    if (s.link < 0 || s.link >= net.link_count()) {
      throw InputError(str("detector '", s.name, "' is on no link of the network (link id ", s.link,
                           "): it is not connected to the road"));
    }
    const Link& link = net.link(s.link);
    if (!(s.position >= 0.0 && s.position <= link.length)) {
      throw InputError(str("detector '", s.name, "': position ", s.position, " m is outside link '",
                           link.name, "' (0 to ", link.length, " m)"));
    }
    const long long cell =
        std::min(link.cells - 1, static_cast<long long>(s.position / net.cell_length(s.link)));
    cells_.push_back(cell);
    free_speed_.push_back(link.lane.free_speed * 3.6);
    if (solver.owns_link(s.link)) {
      owned_.push_back(static_cast<int>(d));
      owned_cells.push_back(solver.local_cell(s.link, cell));
    }
  }
  local_cell_ = Kokkos::View<long long*>("detectors::local_cell", owned_cells.size());
  auto host = Kokkos::create_mirror_view(local_cell_);
  for (std::size_t k = 0; k < owned_cells.size(); ++k) host(k) = owned_cells[k];
  Kokkos::deep_copy(local_cell_, host);
  flux_sum_ = Kokkos::View<double*>("detectors::flux_sum", owned_cells.size());
  density_sum_ = Kokkos::View<double*>("detectors::density_sum", owned_cells.size());
}

void NetworkDetectors::accumulate(const NetworkSolver& solver) {
  const auto cell = local_cell_;
  const auto flux_sum = flux_sum_;
  const auto density_sum = density_sum_;
  const auto inflow = solver.inflow();
  const auto rho = solver.density();
  const double dt = solver.dt();
  Kokkos::parallel_for(
      "detectors::accumulate", Kokkos::RangePolicy<>(0, owned_.size()), KOKKOS_LAMBDA(const int k) {
        flux_sum(k) += inflow(cell(k)) * dt;
        density_sum(k) += rho(cell(k)) * dt;
      });
  Kokkos::fence();
  elapsed_ += dt;
}

DetectorReadings NetworkDetectors::close_interval(const NetworkSolver& solver) {
  auto flux = Kokkos::create_mirror_view(flux_sum_);
  auto density = Kokkos::create_mirror_view(density_sum_);
  Kokkos::deep_copy(flux, flux_sum_);
  Kokkos::deep_copy(density, density_sum_);
  // Every detector's two sums on rank 0; each rank fills its own, zeros elsewhere.
  const std::size_t n = sites_.size();
  std::vector<double> local(2 * n, 0.0), all(solver.rank() == 0 ? 2 * n : 0);
  for (std::size_t k = 0; k < owned_.size(); ++k) {
    local[2 * static_cast<std::size_t>(owned_[k])] = flux(k);
    local[2 * static_cast<std::size_t>(owned_[k]) + 1] = density(k);
  }
  MPI_Reduce(local.data(), solver.rank() == 0 ? all.data() : nullptr, static_cast<int>(2 * n),
             MPI_DOUBLE, MPI_SUM, 0, solver.comm());
  DetectorReadings r;
  if (solver.rank() == 0) {
    const double span = elapsed_ > 0 ? elapsed_ : 1.0;
    for (std::size_t d = 0; d < n; ++d) {
      const double q = all[2 * d], rho = all[2 * d + 1];
      r.flow.push_back(q / span * 3600.0);
      r.density.push_back(rho / span * 1000.0);
      // A standstill reads 1 km/h, not 0: 0 marks a missing reading.
      r.speed.push_back(rho > 0 ? std::max(1.0, q / rho * 3.6) : free_speed_[d]);
    }
  }
  Kokkos::deep_copy(flux_sum_, 0.0);
  Kokkos::deep_copy(density_sum_, 0.0);
  elapsed_ = 0.0;
  return r;
}

ReadingCorruptor::ReadingCorruptor(DetectorNoise noise, std::size_t detectors, double interval)
    : noise_(noise), interval_(interval), missing_until_(detectors, 0) {
  if (!(noise_.speed_sigma >= 0)) {
    throw InputError(
        str("key 'detectors.speed_noise' = ", noise_.speed_sigma, " km/h: expected a value >= 0"));
  }
  if (!(noise_.dropout_rate >= 0)) {
    throw InputError(str("key 'detectors.dropout_rate' = ", noise_.dropout_rate,
                         " per detector per day: expected a value >= 0"));
  }
  if (!(noise_.min_dropout > 0 && noise_.max_dropout >= noise_.min_dropout)) {
    throw InputError(
        str("keys 'detectors.min_dropout' and 'detectors.max_dropout' = ", noise_.min_dropout / 60,
            " and ", noise_.max_dropout / 60, " min: expected 0 < min <= max"));
  }
}

std::size_t ReadingCorruptor::apply(long long k, DetectorReadings& r) {
  const double start_probability = noise_.dropout_rate * interval_ / 86400.0;
  std::size_t missing = 0;
  for (std::size_t d = 0; d < missing_until_.size(); ++d) {
    const auto key = static_cast<std::uint64_t>(k);
    const std::uint64_t noise_stream =
        tensor::counter_hash(static_cast<std::uint64_t>(d), 0xde7, 0);
    const std::uint64_t gap_stream = tensor::counter_hash(static_cast<std::uint64_t>(d), 0xde7, 1);
    if (noise_.speed_sigma > 0) {
      const double noisy =
          r.speed[d] + noise_.speed_sigma * tensor::counter_normal(noise_.seed, noise_stream, key);
      r.speed[d] = std::max(1.0, noisy);  // a loop never reports a negative speed
    }
    if (missing_until_[d] <= k && start_probability > 0 &&
        tensor::counter_uniform(noise_.seed, gap_stream, 2 * key) < start_probability) {
      const double u = tensor::counter_uniform(noise_.seed, gap_stream, 2 * key + 1);
      const double seconds =
          noise_.min_dropout * std::pow(noise_.max_dropout / noise_.min_dropout, u);
      missing_until_[d] = k + std::max(1LL, static_cast<long long>(std::ceil(seconds / interval_)));
    }
    if (missing_until_[d] > k) {
      r.flow[d] = r.density[d] = r.speed[d] = 0.0;
      ++missing;
    }
  }
  return missing;
}

void ReadingCorruptor::restore(std::vector<long long> missing_until) {
  if (missing_until.size() != missing_until_.size()) {
    throw std::invalid_argument(str("ReadingCorruptor::restore: ", missing_until.size(),
                                    " detectors, expected ", missing_until_.size()));
  }
  missing_until_ = std::move(missing_until);
}

}  // namespace tessera::solvers::lwr::network
