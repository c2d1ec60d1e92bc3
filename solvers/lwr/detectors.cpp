#include "solvers/lwr/detectors.hpp"

#include <cmath>
#include <stdexcept>
#include <utility>

#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"

namespace tessera::solvers::lwr {

DetectorArray::DetectorArray(std::vector<double> positions, double road_length)
    : positions_(std::move(positions)), road_length_(road_length) {
  for (std::size_t d = 0; d < positions_.size(); ++d) {
    const double x = positions_[d];
    if (!(x >= 0.0 && x <= road_length)) {
      throw InputError(str("detectors.positions[", d, "] = ", x, " is outside the road [0, ",
                           road_length, "] (solver.road_length)"));
    }
  }
}

void DetectorArray::sample(const LwrSolver& solver, double t) {
  if (solver.parameters().road_length != road_length_) {
    throw std::invalid_argument(str("DetectorArray::sample: detectors were placed on a road of ",
                                    road_length_, ", the solver's road is ",
                                    solver.parameters().road_length));
  }
  const FundamentalDiagram& diagram = solver.diagram();
  times_.push_back(t);
  for (double x : positions_) {
    double rho = 0.0;
    double v = 0.0;
    double q = 0.0;
    if (solver.owns_position(x)) {
      rho = solver.density_at(x);
      v = diagram.speed(rho);
      q = diagram.flux(rho);
    }
    density_.push_back(rho);
    speed_.push_back(v);
    flow_.push_back(q);
  }
}

DetectorArray::Series DetectorArray::gather(MPI_Comm comm) const {
  Series series;
  series.detectors = positions_.size();
  series.samples = times_.size();
  series.time = times_;
  series.position = positions_;
  const std::size_t total = series.detectors * series.samples;
  const bool root = runtime::comm_rank(comm) == 0;
  // Exactly one rank owns each detector and the others sent zeros, so the sum is exact.
  auto reduce = [&](const std::vector<double>& local, std::vector<double>& out) {
    std::vector<double> summed(root ? total : 0);
    MPI_Reduce(local.data(), root ? summed.data() : nullptr, static_cast<int>(total), MPI_DOUBLE,
               MPI_SUM, 0, comm);
    if (!root) return;
    out.resize(total);
    for (std::size_t s = 0; s < series.samples; ++s) {
      for (std::size_t d = 0; d < series.detectors; ++d) {
        out[d * series.samples + s] = summed[s * series.detectors + d];
      }
    }
  };
  reduce(density_, series.density);
  reduce(speed_, series.speed);
  reduce(flow_, series.flow);
  return series;
}

void DetectorArray::restore(const LwrSolver& solver, const Series& series) {
  const std::size_t detectors = positions_.size();
  const std::size_t total = detectors * series.time.size();
  if (series.density.size() != total || series.speed.size() != total ||
      series.flow.size() != total) {
    throw std::invalid_argument(str("DetectorArray::restore: ", series.density.size(),
                                    " values for ", detectors, " detectors x ", series.time.size(),
                                    " samples"));
  }
  times_ = series.time;
  const std::size_t samples = times_.size();
  density_.assign(total, 0.0);
  speed_.assign(total, 0.0);
  flow_.assign(total, 0.0);
  for (std::size_t d = 0; d < detectors; ++d) {
    if (!solver.owns_position(positions_[d])) continue;
    for (std::size_t s = 0; s < samples; ++s) {
      density_[s * detectors + d] = series.density[d * samples + s];
      speed_[s * detectors + d] = series.speed[d * samples + s];
      flow_[s * detectors + d] = series.flow[d * samples + s];
    }
  }
}

}  // namespace tessera::solvers::lwr
