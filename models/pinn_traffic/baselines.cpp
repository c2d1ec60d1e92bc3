#include "models/pinn_traffic/baselines.hpp"

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "core/runtime/error.hpp"
#include "solvers/lwr/lwr_solver.hpp"

namespace tessera::models::pinn_traffic {

namespace lwr = solvers::lwr;

namespace {

// Linear interpolation of `values` at `time` over increasing `times`, constant outside.
double interpolate_in_time(const std::vector<double>& times, const std::vector<double>& values,
                           double time) {
  if (times.empty()) return 0.0;
  if (time <= times.front()) return values.front();
  if (time >= times.back()) return values.back();
  const auto upper = std::upper_bound(times.begin(), times.end(), time);
  const std::size_t j = static_cast<std::size_t>(upper - times.begin());
  const double w = (time - times[j - 1]) / (times[j] - times[j - 1]);
  return (1 - w) * values[j - 1] + w * values[j];
}

double greenshields_speed(const GreenshieldsFit& d, double rho) {
  return d.v_max * (1.0 - rho / d.rho_max);
}

double greenshields_density(const GreenshieldsFit& d, double speed) {
  return std::clamp(d.rho_max * (1.0 - speed / d.v_max), 0.0, d.rho_max);
}

// The grid column (position index) nearest to x.
std::size_t nearest_column(const DensityGrid& grid, double x) {
  const auto upper = std::lower_bound(grid.x.begin(), grid.x.end(), x);
  if (upper == grid.x.begin()) return 0;
  if (upper == grid.x.end()) return grid.nx() - 1;
  const std::size_t j = static_cast<std::size_t>(upper - grid.x.begin());
  return x - grid.x[j - 1] <= grid.x[j] - x ? j - 1 : j;
}

}  // namespace

double DetectorSeries::density_at(double time) const {
  return interpolate_in_time(t, density, time);
}

double DetectorSeries::speed_at(double time) const {
  return interpolate_in_time(t, speed, time);
}

std::vector<DetectorSeries> detector_series(const ObservationSet& observations) {
  std::map<double, std::vector<std::size_t>> by_position;
  for (std::size_t i = 0; i < observations.size(); ++i) {
    if (observations.source[i] == static_cast<int>(ObservationSource::kDetector)) {
      by_position[observations.x[i]].push_back(i);
    }
  }
  const bool speeds = observations.speed.size() == observations.size();
  std::vector<DetectorSeries> out;
  for (auto& [position, samples] : by_position) {
    std::stable_sort(samples.begin(), samples.end(), [&](std::size_t a, std::size_t b) {
      return observations.t[a] < observations.t[b];
    });
    DetectorSeries s;
    s.position = position;
    for (std::size_t i : samples) {
      s.t.push_back(observations.t[i]);
      s.density.push_back(observations.density[i]);
      if (speeds) s.speed.push_back(observations.speed[i]);
    }
    out.push_back(std::move(s));
  }
  return out;
}

GreenshieldsFit fit_greenshields(const std::vector<DetectorSeries>& series,
                                 const GreenshieldsFit& fallback) {
  // v = a + b rho by least squares; v_max = a, rho_max = -a / b.
  double n = 0, sr = 0, sv = 0, srr = 0, srv = 0;
  for (const auto& s : series) {
    for (std::size_t k = 0; k < s.speed.size(); ++k) {
      const double r = s.density[k], v = s.speed[k];
      n += 1;
      sr += r;
      sv += v;
      srr += r * r;
      srv += r * v;
    }
  }
  GreenshieldsFit fit = fallback;
  fit.fitted = false;
  fit.samples = static_cast<std::size_t>(n);
  const double det = n * srr - sr * sr;
  if (n < 3 || !(det > 0)) return fit;
  const double b = (n * srv - sr * sv) / det;
  const double a = (sv - b * sr) / n;
  if (!(b < 0) || !(a > 0)) return fit;
  fit.v_max = a;
  fit.rho_max = -a / b;
  fit.fitted = true;
  double squares = 0;
  for (const auto& s : series) {
    for (std::size_t k = 0; k < s.speed.size(); ++k) {
      const double e = greenshields_speed(fit, s.density[k]) - s.speed[k];
      squares += e * e;
    }
  }
  fit.speed_rmse = std::sqrt(squares / n);
  return fit;
}

AsmOptions resolve_asm_options(const AsmOptions& given, const std::vector<DetectorSeries>& series,
                               double v_max) {
  AsmOptions o = given;
  if (o.c_free == 0) o.c_free = v_max;
  if (o.c_congested == 0) o.c_congested = -0.1875 * o.c_free;
  if (o.v_critical == 0) o.v_critical = 0.75 * o.c_free;
  if (o.v_width == 0) o.v_width = 0.25 * o.c_free;
  if (o.sigma == 0) {
    o.sigma = series.size() > 1 ? 0.5 * (series.back().position - series.front().position) /
                                      static_cast<double>(series.size() - 1)
                                : 1.0;
  }
  if (o.tau == 0) {
    std::vector<double> gaps;
    for (const auto& s : series) {
      for (std::size_t k = 1; k < s.t.size(); ++k) gaps.push_back(s.t[k] - s.t[k - 1]);
    }
    if (gaps.empty()) {
      o.tau = 1.0;
    } else {
      std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2),
                       gaps.end());
      o.tau = gaps[gaps.size() / 2];
    }
  }
  if (!(o.c_free > 0) || !(o.c_congested < 0) || !(o.sigma > 0) || !(o.tau > 0) ||
      !(o.v_width > 0)) {
    throw InputError(str("baselines.asm_*: the adaptive smoothing method needs c_free > 0 (",
                         o.c_free, "), c_congested < 0 (", o.c_congested, "), sigma > 0 (", o.sigma,
                         "), tau > 0 (", o.tau, ") and v_width > 0 (", o.v_width, ")"));
  }
  return o;
}

std::vector<double> mean_estimate(const std::vector<DetectorSeries>& series,
                                  const DensityGrid& grid) {
  double sum = 0, count = 0;
  for (const auto& s : series) {
    sum += std::accumulate(s.density.begin(), s.density.end(), 0.0);
    count += static_cast<double>(s.density.size());
  }
  return std::vector<double>(grid.nx() * grid.nt(), count > 0 ? sum / count : 0.0);
}

std::vector<double> interpolation_at(const std::vector<DetectorSeries>& series,
                                     const DensityGrid& grid, double time, bool ring) {
  const std::size_t nx = grid.nx(), m = series.size();
  std::vector<double> out(nx, 0.0);
  if (m == 0) return out;
  std::vector<double> positions(m), values(m);
  for (std::size_t d = 0; d < m; ++d) {
    positions[d] = series[d].position;
    values[d] = series[d].density_at(time);
  }
  const double length = grid.road_length;
  for (std::size_t ix = 0; ix < nx; ++ix) {
    const double x = grid.x[ix];
    if (m == 1) {
      out[ix] = values[0];
    } else if (x <= positions.front() || x >= positions.back()) {
      if (ring) {
        // Between the last detector and the first one across x = L.
        const double gap = positions.front() + length - positions.back();
        const double offset =
            x >= positions.back() ? x - positions.back() : x + length - positions.back();
        const double w = gap > 0 ? offset / gap : 0.0;
        out[ix] = (1 - w) * values.back() + w * values.front();
      } else {
        out[ix] = x <= positions.front() ? values.front() : values.back();
      }
    } else {
      out[ix] = interpolate_in_time(positions, values, x);  // linear in x, same rule
    }
  }
  return out;
}

std::vector<double> interpolation_estimate(const std::vector<DetectorSeries>& series,
                                           const DensityGrid& grid, bool ring) {
  std::vector<double> out;
  out.reserve(grid.nx() * grid.nt());
  for (const double time : grid.t) {
    const std::vector<double> row = interpolation_at(series, grid, time, ring);
    out.insert(out.end(), row.begin(), row.end());
  }
  return out;
}

std::vector<double> adaptive_smoothing_estimate(const std::vector<DetectorSeries>& series,
                                                const DensityGrid& grid, const AsmOptions& o,
                                                const GreenshieldsFit& diagram) {
  struct Sample {
    double x, t, density, speed;
  };
  std::vector<Sample> samples;
  for (const auto& s : series) {
    for (std::size_t k = 0; k < s.t.size(); ++k) {
      const double speed = s.speed.empty() ? greenshields_speed(diagram, s.density[k]) : s.speed[k];
      samples.push_back({s.position, s.t[k], s.density[k], speed});
    }
  }
  const std::size_t nx = grid.nx(), nt = grid.nt();
  std::vector<double> out(nx * nt, 0.0);
  // Kernels below exp(-30) add nothing a double can hold next to the nearest samples.
  constexpr double kCutoff = 30.0;
  for (std::size_t it = 0; it < nt; ++it) {
    for (std::size_t ix = 0; ix < nx; ++ix) {
      const double x = grid.x[ix], t = grid.t[it];
      // Sums of phi, phi * density and phi * speed for the free and congested kernels.
      double free_w = 0, free_rho = 0, free_v = 0, cong_w = 0, cong_rho = 0, cong_v = 0;
      for (const Sample& s : samples) {
        const double dx = x - s.x;
        const double space = std::abs(dx) / o.sigma;
        if (space > kCutoff) continue;
        const double free_arg = space + std::abs(t - s.t - dx / o.c_free) / o.tau;
        const double cong_arg = space + std::abs(t - s.t - dx / o.c_congested) / o.tau;
        if (free_arg < kCutoff) {
          const double phi = std::exp(-free_arg);
          free_w += phi;
          free_rho += phi * s.density;
          free_v += phi * s.speed;
        }
        if (cong_arg < kCutoff) {
          const double phi = std::exp(-cong_arg);
          cong_w += phi;
          cong_rho += phi * s.density;
          cong_v += phi * s.speed;
        }
      }
      double value = 0;
      if (free_w > 0 && cong_w > 0) {
        const double v_free = free_v / free_w, v_cong = cong_v / cong_w;
        const double w =
            0.5 * (1.0 + std::tanh((o.v_critical - std::min(v_free, v_cong)) / o.v_width));
        value = w * cong_rho / cong_w + (1 - w) * free_rho / free_w;
      } else if (free_w > 0) {
        value = free_rho / free_w;
      } else if (cong_w > 0) {
        value = cong_rho / cong_w;
      }
      out[it * nx + ix] = value;
    }
  }
  return out;
}

std::vector<double> lwr_estimate(const std::vector<DetectorSeries>& series, const DensityGrid& grid,
                                 const GreenshieldsFit& diagram, const BaselineOptions& options) {
  const std::size_t nx = grid.nx(), nt = grid.nt();
  std::vector<double> out(nx * nt, 0.0);
  if (nx < 2 || nt == 0) return out;
  const double dx = grid.x[1] - grid.x[0];
  lwr::LwrParameters p;
  p.diagram.kind = lwr::FluxKind::kGreenshields;
  p.diagram.v_max = diagram.v_max;
  p.diagram.rho_max = diagram.rho_max;
  p.viscosity = options.viscosity;
  auto clip = [&](double rho) { return std::clamp(rho, 0.0, diagram.rho_max); };
  auto boundary_value = [&](const DetectorSeries& s, double time) {
    if (options.lwr_boundary == LwrBoundaryData::kSpeed && !s.speed.empty()) {
      return greenshields_density(diagram, s.speed_at(time));
    }
    return clip(s.density_at(time));
  };
  const std::vector<double> start_row = interpolation_at(series, grid, grid.t[0], options.ring);

  std::size_t first = 0, last = nx - 1;  // simulated cells [first, last]
  const DetectorSeries* upstream = nullptr;
  const DetectorSeries* downstream = nullptr;
  if (options.ring) {
    p.boundary = lwr::Boundary::kRing;
  } else {
    upstream = &series.front();
    downstream = &series.back();
    first = nearest_column(grid, upstream->position) + 1;
    last = nearest_column(grid, downstream->position) - 1;
    p.boundary = lwr::Boundary::kOpen;
    p.upstream_density = boundary_value(*upstream, grid.t[0]);
    p.downstream_density = boundary_value(*downstream, grid.t[0]);
  }
  p.cells = static_cast<long long>(last - first + 1);
  p.road_length = dx * static_cast<double>(p.cells);
  lwr::LwrSolver solver(MPI_COMM_SELF, p);
  std::vector<double> start(static_cast<std::size_t>(p.cells));
  for (std::size_t i = 0; i < start.size(); ++i) {
    const std::size_t ix = first + i;
    start[i] =
        clip(options.initial_density.size() == nx ? options.initial_density[ix] : start_row[ix]);
  }
  solver.set_density(start);
  const double t0 = grid.t[0];
  for (std::size_t it = 0; it < nt; ++it) {
    while (t0 + solver.time() < grid.t[it] * (1 - 1e-14)) {
      const double now = t0 + solver.time();
      if (upstream) {
        solver.set_boundary_densities(boundary_value(*upstream, now),
                                      boundary_value(*downstream, now));
      }
      solver.step(std::min(solver.stable_dt(), grid.t[it] - now));
    }
    const std::vector<double> rho = solver.density_host();
    for (std::size_t ix = 0; ix < nx; ++ix) {
      double value;
      if (ix >= first && ix <= last) {
        value = rho[ix - first];
      } else {
        // The detector cells and beyond: the boundary data itself.
        value = boundary_value(ix < first ? *upstream : *downstream, grid.t[it]);
      }
      out[it * nx + ix] = value;
    }
  }
  solver.check_finite();
  return out;
}

std::vector<BaselineEstimate> classical_estimates(const std::vector<DetectorSeries>& series,
                                                  const DensityGrid& grid,
                                                  const GreenshieldsFit& diagram,
                                                  const BaselineOptions& options) {
  if (series.empty()) {
    throw InputError(
        "baselines: the classical estimators need at least one loop detector "
        "(detectors.positions); set baselines.enabled = false for probe data alone");
  }
  std::vector<BaselineEstimate> out;
  out.push_back({"mean", "mean of every detector sample", mean_estimate(series, grid)});
  out.push_back({"interpolation", "linear interpolation in space between detectors",
                 interpolation_estimate(series, grid, options.ring)});
  const AsmOptions a = resolve_asm_options(options.asm_options, series, diagram.v_max);
  out.push_back(
      {"adaptive_smoothing",
       str("adaptive smoothing (Treiber-Helbing): c_free ", a.c_free, ", c_cong ", a.c_congested,
           ", sigma ", a.sigma, ", tau ", a.tau, ", V_c ", a.v_critical, ", dV ", a.v_width),
       adaptive_smoothing_estimate(series, grid, a, diagram)});
  const bool open_road_ok = !options.ring && series.size() >= 2 &&
                            nearest_column(grid, series.back().position) >=
                                nearest_column(grid, series.front().position) + 2;
  const bool ring_ok = options.ring && options.initial_density.size() == grid.nx();
  if (open_road_ok || ring_ok) {
    out.push_back(
        {"lwr",
         str("LWR solver (Greenshields v_max ", diagram.v_max, ", rho_max ", diagram.rho_max,
             diagram.fitted ? " fitted" : " configured", ")",
             options.ring
                 ? " from the initial density"
                 : (options.lwr_boundary == LwrBoundaryData::kSpeed
                        ? " between the outermost detectors (speeds as boundary data)"
                        : " between the outermost detectors (densities as boundary data)")),
         lwr_estimate(series, grid, diagram, options)});
  }
  return out;
}

double relative_l2_on_columns(const std::vector<double>& prediction, const DensityGrid& truth,
                              const std::vector<std::size_t>& columns) {
  std::vector<char> counted(truth.nx(), columns.empty() ? 1 : 0);
  for (std::size_t ix : columns) counted.at(ix) = 1;
  double error = 0, norm = 0;
  for (std::size_t it = 0; it < truth.nt(); ++it) {
    for (std::size_t ix = 0; ix < truth.nx(); ++ix) {
      if (!counted[ix]) continue;
      const double e = prediction[it * truth.nx() + ix] - truth.at(it, ix);
      error += e * e;
      norm += truth.at(it, ix) * truth.at(it, ix);
    }
  }
  return norm > 0 ? std::sqrt(error / norm) : std::sqrt(error);
}

}  // namespace tessera::models::pinn_traffic
