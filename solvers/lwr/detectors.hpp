#pragma once
// Virtual loop detectors: fixed positions on the road where density, speed and flow are
// recorded at times the caller chooses, like the inductive loops that feed real traffic
// data sets (and the sensor-network forecasts trained on simulated ones).
#include <mpi.h>

#include <cstddef>
#include <vector>

#include "solvers/lwr/lwr_solver.hpp"

namespace tessera::solvers::lwr {

class DetectorArray {
 public:
  // Throws InputError naming detectors.positions and the offending value when a position
  // is outside [0, road_length] (or not finite).
  DetectorArray(std::vector<double> positions, double road_length);

  const std::vector<double>& positions() const { return positions_; }
  std::size_t detector_count() const { return positions_.size(); }
  std::size_t sample_count() const { return times_.size(); }

  // Records one sample of every detector at time t. Each rank records the detectors it
  // owns and zeros for the others, so that gather() can add the ranks up exactly.
  // Every rank of the solver's communicator must sample at the same times. Throws
  // std::invalid_argument when the solver's road length differs from this array's.
  void sample(const LwrSolver& solver, double t);

  // Series of all detectors; the per-detector arrays are row-major n_detectors x n_samples
  // (entry d * samples + s).
  struct Series {
    std::size_t detectors = 0;
    std::size_t samples = 0;
    std::vector<double> time;      // samples
    std::vector<double> position;  // detectors
    std::vector<double> density;
    std::vector<double> speed;
    std::vector<double> flow;
  };

  // Collective over comm (the solver's communicator): complete on rank 0; other ranks get
  // the time and position arrays and empty data arrays.
  Series gather(MPI_Comm comm) const;

  // A resumed run: the samples recorded before its checkpoint, as gather() returned them
  // (complete, on every rank); each rank keeps its own detectors' values. Throws
  // std::invalid_argument when the sizes do not match this array.
  void restore(const LwrSolver& solver, const Series& series);

 private:
  std::vector<double> positions_;
  double road_length_;
  std::vector<double> times_;
  // This rank's contributions, sample-major (entry s * detectors + d) as they arrive.
  std::vector<double> density_;
  std::vector<double> speed_;
  std::vector<double> flow_;
};

}  // namespace tessera::solvers::lwr
