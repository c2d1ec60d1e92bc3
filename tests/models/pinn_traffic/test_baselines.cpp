// The classical traffic-state estimators (models/pinn_traffic/baselines.hpp) against the
// independent numpy implementation of analysis/reference/reference_tse_baselines.py
// (tests/reference/tse_baselines.h5): a synthetic jam wave element by element, and the
// held-out errors on NGSIM US-80 (skipped without ../shared/data).
#include <cmath>

#include "core/io/hdf5_reader.hpp"
#include "core/runtime/error.hpp"
#include "models/pinn_traffic/baselines.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/shared_data.hpp"

using namespace tessera;
using namespace tessera::models::pinn_traffic;

namespace {

const std::string kReference = TESSERA_SOURCE_DIR "/tests/reference/tse_baselines.h5";

struct Synthetic {
  DensityGrid grid;
  std::vector<DetectorSeries> series;
  GreenshieldsFit diagram;
  AsmOptions asm_options;
  double viscosity = 0;
};

Synthetic read_synthetic(const io::Hdf5Reader& h5) {
  Synthetic s;
  s.grid.x = h5.read("/synthetic/x");
  s.grid.t = h5.read("/synthetic/t");
  s.grid.density = h5.read("/synthetic/density");  // time x position
  s.grid.road_length = 0.05 * static_cast<double>(s.grid.nx());
  s.grid.t_end = 0.1 * static_cast<double>(s.grid.nt());
  const std::vector<double> positions = h5.read("/synthetic/detectors");
  const std::vector<double> speed = h5.read("/synthetic/speed");  // time x detector
  ObservationSet obs;
  for (std::size_t d = 0; d < positions.size(); ++d) {
    const auto ix = static_cast<std::size_t>(std::floor(positions[d] / 0.05));
    for (std::size_t it = 0; it < s.grid.nt(); ++it) {
      obs.add(positions[d], s.grid.t[it], s.grid.at(it, ix), ObservationSource::kDetector);
      obs.speed.push_back(speed[it * positions.size() + d]);
    }
  }
  s.series = detector_series(obs);
  s.diagram = fit_greenshields(s.series, GreenshieldsFit{});
  const auto attr = [&](const char* name) { return h5.read_attribute("/synthetic", name); };
  s.asm_options.c_free = attr("asm_c_free");
  s.asm_options.c_congested = attr("asm_c_cong");
  s.asm_options.sigma = attr("asm_sigma");
  s.asm_options.tau = attr("asm_tau");
  s.asm_options.v_critical = attr("asm_v_c");
  s.asm_options.v_width = attr("asm_dv");
  s.viscosity = attr("viscosity");
  return s;
}

double max_difference(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

}  // namespace

TEST_CASE("classical estimators match the numpy reference on a synthetic jam wave", "[baselines]") {
  const io::Hdf5Reader h5(kReference);
  const Synthetic s = read_synthetic(h5);
  REQUIRE(s.series.size() == 4);
  REQUIRE(s.diagram.fitted);
  CHECK(s.diagram.v_max == Approx(h5.read_attribute("/synthetic", "v_max")).epsilon(1e-10));
  CHECK(s.diagram.rho_max == Approx(h5.read_attribute("/synthetic", "rho_max")).epsilon(1e-10));

  // The defaults the estimator derives are the reference's.
  const AsmOptions derived = resolve_asm_options(AsmOptions{}, s.series, s.diagram.v_max);
  CHECK(derived.c_free == Approx(s.asm_options.c_free));
  CHECK(derived.c_congested == Approx(s.asm_options.c_congested));
  CHECK(derived.sigma == Approx(s.asm_options.sigma));
  CHECK(derived.tau == Approx(s.asm_options.tau));
  CHECK(derived.v_critical == Approx(s.asm_options.v_critical));
  CHECK(derived.v_width == Approx(s.asm_options.v_width));

  CHECK(max_difference(interpolation_estimate(s.series, s.grid, false),
                       h5.read("/synthetic/interpolation")) < 1e-12);
  CHECK(max_difference(adaptive_smoothing_estimate(s.series, s.grid, derived, s.diagram),
                       h5.read("/synthetic/adaptive_smoothing")) < 1e-10);
  BaselineOptions options;
  options.viscosity = s.viscosity;
  CHECK(max_difference(lwr_estimate(s.series, s.grid, s.diagram, options),
                       h5.read("/synthetic/lwr")) < 1e-10);
}

TEST_CASE("interpolation is exact for a density linear in space; a ring wraps across x = L",
          "[baselines]") {
  DensityGrid grid;
  grid.road_length = 1.0;
  for (int i = 0; i < 10; ++i) grid.x.push_back(0.05 + 0.1 * i);
  grid.t = {0.0, 1.0};
  ObservationSet obs;
  for (double x : {0.25, 0.55, 0.85}) {
    for (double t : grid.t) obs.add(x, t, 0.1 + 0.2 * x + 0.05 * t, ObservationSource::kDetector);
  }
  const auto series = detector_series(obs);
  const std::vector<double> open = interpolation_estimate(series, grid, false);
  for (std::size_t it = 0; it < 2; ++it) {
    for (std::size_t ix = 0; ix < grid.nx(); ++ix) {
      const double x = std::clamp(grid.x[ix], 0.25, 0.85);
      CHECK(open[it * 10 + ix] == Approx(0.1 + 0.2 * x + 0.05 * grid.t[it]));
    }
  }
  // On a ring, x = 0.05 lies 0.2 past the last detector (0.85) on the 0.4 gap to the
  // first one (0.25 + 1): halfway between their values.
  const std::vector<double> ring = interpolation_estimate(series, grid, true);
  CHECK(ring[0] == Approx(0.5 * ((0.1 + 0.2 * 0.85) + (0.1 + 0.2 * 0.25))));
  // The mean estimator is the mean of every sample.
  CHECK(mean_estimate(series, grid)[3] == Approx(0.1 + 0.2 * 0.55 + 0.025));
}

TEST_CASE("a fit without speeds or without a congested branch keeps the configured diagram",
          "[baselines]") {
  ObservationSet obs;
  for (int k = 0; k < 5; ++k) obs.add(0.5, k, 0.1 * k, ObservationSource::kDetector);
  GreenshieldsFit configured;
  configured.v_max = 3;
  configured.rho_max = 2;
  GreenshieldsFit fit = fit_greenshields(detector_series(obs), configured);
  CHECK_FALSE(fit.fitted);
  CHECK(fit.v_max == 3);
  for (int k = 0; k < 5; ++k) obs.speed.push_back(1.0 + 0.1 * k);  // speed rising with density
  fit = fit_greenshields(detector_series(obs), configured);
  CHECK_FALSE(fit.fitted);
  CHECK(fit.rho_max == 2);
  CHECK_THROWS_AS(classical_estimates({}, DensityGrid{}, configured, BaselineOptions{}),
                  InputError);
}

TEST_CASE("NGSIM US-80: the estimators' held-out errors are the reference's", "[baselines]") {
  const auto density = testing::shared_data_file("traffic/NGSIM_US80_4pm_Density_Data.txt");
  const auto speed = testing::shared_data_file("traffic/NGSIM_US80_4pm_Velocity_Data.txt");
  if (!density || !speed) return;
  const io::Hdf5Reader h5(kReference);
  if (!h5.has("/ngsim")) {
    WARN("tests/reference/tse_baselines.h5 was made without the shared data: no NGSIM values");
    return;
  }
  const DensityGrid grid = read_density_grid(*density, 20.0, 5.0, 1.0, 0.3);
  const auto rows = columns_at(grid, {10, 410, 810, 1210, 1610});
  const auto series =
      detector_series(column_observations(grid, rows, read_speed_grid(*speed, grid)));
  std::vector<std::size_t> held_out;
  for (std::size_t ix = 0; ix < grid.nx(); ++ix) {
    if (ix % 20 != 0) held_out.push_back(ix);
  }
  const GreenshieldsFit diagram = fit_greenshields(series, GreenshieldsFit{});
  CHECK(diagram.v_max == Approx(h5.read_attribute("/ngsim", "v_max")).epsilon(1e-10));
  BaselineOptions options;
  options.viscosity = 20.0;
  for (const BaselineEstimate& e : classical_estimates(series, grid, diagram, options)) {
    INFO(e.name);
    CHECK(relative_l2_on_columns(e.density, grid, held_out) ==
          Approx(h5.read_attribute("/ngsim", e.name.c_str())).epsilon(1e-9));
  }
}
