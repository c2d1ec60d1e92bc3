#include "solvers/lwr/network/demand.hpp"

#include <cmath>

#include "core/runtime/error.hpp"
#include "core/tensor/random.hpp"

namespace tessera::solvers::lwr::network {
namespace {

// Stream tags: each kind of random number has its own streams.
constexpr std::uint64_t kDayFactor = 1, kNoise = 2, kShape = 3, kTurning = 4;
constexpr double kPi = 3.14159265358979323846;

double bump(double hour, double centre, double width) {
  const double z = (hour - centre) / width;
  return std::exp(-0.5 * z * z);
}

}  // namespace

double daily_profile(double hour, bool weekend, double morning, double evening) {
  if (weekend) return std::min(1.0, 0.10 + 0.65 * bump(hour, 13.5, 3.0));
  const double value = 0.08 + 0.92 * morning * bump(hour, 7.75, 1.2) +
                       0.95 * evening * bump(hour, 17.25, 1.5) + 0.45 * bump(hour, 12.5, 2.2);
  return std::min(1.0, value);
}

DemandModel::DemandModel(const RoadNetwork& network, std::vector<double> peak_demand,
                         DemandOptions options, const std::string& key_prefix)
    : network_(network), peak_demand_(std::move(peak_demand)), options_(options) {
  auto key = [&](const char* name) { return key_prefix + name; };
  if (peak_demand_.size() != static_cast<std::size_t>(network.node_count())) {
    throw std::invalid_argument(str("DemandModel: ", peak_demand_.size(), " peak demands for ",
                                    network.node_count(), " nodes"));
  }
  if (!(options_.day_sigma >= 0 && options_.day_sigma <= 1)) {
    throw InputError(
        str("key '", key("day_sigma"), "' = ", options_.day_sigma, ": expected a value in [0, 1]"));
  }
  if (!(options_.noise_sigma >= 0 && options_.noise_sigma <= 1)) {
    throw InputError(str("key '", key("noise_sigma"), "' = ", options_.noise_sigma,
                         ": expected a value in [0, 1]"));
  }
  if (!(options_.noise_correlation >= 0 && options_.noise_correlation < 1)) {
    throw InputError(str("key '", key("noise_correlation"), "' = ", options_.noise_correlation,
                         ": expected a value in [0, 1)"));
  }
  if (!(options_.turning_amplitude >= 0 && options_.turning_amplitude < 1)) {
    throw InputError(str("key '", key("turning_amplitude"), "' = ", options_.turning_amplitude,
                         ": expected a value in [0, 1)"));
  }
  const double per_day = 86400.0 / options_.interval;
  if (!(options_.interval > 0) || std::abs(per_day - std::round(per_day)) > 1e-9) {
    throw InputError(str("key '", key("interval"), "' = ", options_.interval,
                         " s: expected a positive divisor of a day (86400 s), e.g. 300"));
  }
  intervals_per_day_ = static_cast<int>(std::round(per_day));
  origins_ = network.origins();
  for (std::size_t o = 0; o < origins_.size(); ++o) {
    const double d = peak_demand_[static_cast<std::size_t>(origins_[o])];
    if (!(d >= 0 && std::isfinite(d))) {
      throw InputError(str("origin '", network.node(origins_[o]).name, "': peak demand ", d * 3600,
                           " veh/h, expected a finite value >= 0"));
    }
    // Commuting is directional: some origins load the morning, others the evening.
    const auto id = static_cast<std::uint64_t>(origins_[o]);
    morning_.push_back(0.8 + 0.2 * tensor::counter_uniform(options_.seed, kShape, 2 * id));
    evening_.push_back(0.8 + 0.2 * tensor::counter_uniform(options_.seed, kShape, 2 * id + 1));
  }
  noise_.assign(origins_.size(), 0.0);
  demand_.assign(origins_.size(), 0.0);
}

const std::vector<double>& DemandModel::origin_demand(long long day, int interval) {
  if (interval < 0 || interval >= intervals_per_day_) {
    throw std::out_of_range(str("DemandModel: interval ", interval, " of ", intervals_per_day_));
  }
  if (day != day_ || interval < interval_) {
    day_ = day;
    interval_ = -1;
  }
  const double phi = options_.noise_correlation, sigma = options_.noise_sigma;
  const double innovation = sigma * std::sqrt(1.0 - phi * phi);
  const auto day_index = static_cast<std::uint64_t>(day);
  for (std::size_t o = 0; o < origins_.size(); ++o) {
    const auto id = static_cast<std::uint64_t>(origins_[o]);
    const std::uint64_t stream = tensor::counter_hash(id, kNoise, day_index);
    // Carry the AR(1) state from the last interval computed to this one.
    for (int k = interval_ + 1; k <= interval; ++k) {
      const double xi =
          tensor::counter_normal(options_.seed, stream, static_cast<std::uint64_t>(k));
      noise_[o] = k == 0 ? sigma * xi : phi * noise_[o] + innovation * xi;
    }
    const double day_factor =
        std::exp(options_.day_sigma *
                     tensor::counter_normal(options_.seed, tensor::counter_hash(id, kDayFactor, 0),
                                            day_index) -
                 0.5 * options_.day_sigma * options_.day_sigma);
    // exp(noise - sigma^2 / 2) has mean 1: the noise does not bias the daily volume.
    demand_[o] =
        expected_demand(o, day, interval) * day_factor * std::exp(noise_[o] - 0.5 * sigma * sigma);
  }
  interval_ = interval;
  return demand_;
}

double DemandModel::expected_demand(std::size_t o, long long day, int interval) const {
  const double hour = (interval + 0.5) * options_.interval / 3600.0;
  return peak_demand_[static_cast<std::size_t>(origins_.at(o))] *
         daily_profile(hour, weekend(day), morning_[o], evening_[o]);
}

std::vector<std::vector<double>> DemandModel::turning(int node, int interval) const {
  const Node& n = network_.node(node);
  if (n.turning.empty()) return {};
  const double hour = (interval + 0.5) * options_.interval / 3600.0;
  std::vector<std::vector<double>> rows = n.turning;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (std::size_t j = 0; j < rows[i].size(); ++j) {
      const std::uint64_t movement = (static_cast<std::uint64_t>(node) * 64 + i) * 64 + j;
      const double swing = 2.0 * tensor::counter_uniform(options_.seed, kTurning, 2 * movement) - 1;
      const double phase =
          24.0 * tensor::counter_uniform(options_.seed, kTurning, 2 * movement + 1);
      rows[i][j] *=
          1.0 + options_.turning_amplitude * swing * std::sin(2.0 * kPi * (hour - phase) / 24.0);
    }
  }
  return normalised_turning(std::move(rows));
}

}  // namespace tessera::solvers::lwr::network
