#pragma once
// MeshGraphNets' Normalizer: per-feature mean and standard deviation of the data a model
// sees (node features, edge features, targets), so that the model works on unit-scale
// numbers. Statistics are accumulated from samples (during the first training steps, as
// MeshGraphNets does, or in one pass over the training split) and then frozen; the std
// is floored at std_epsilon so that constant features (a one-hot class that never occurs)
// stay finite. Accumulation is split over ranks: each rank adds its own samples and
// merge() sums the new contributions over the communicator, so every rank holds the same
// statistics whatever the rank count.
#include <mpi.h>

#include <cstddef>
#include <string>
#include <vector>

#include "core/io/hdf5_reader.hpp"
#include "core/io/results_file.hpp"

namespace tessera::models::mesh_transformer {

class Normalizer {
 public:
  Normalizer() = default;
  Normalizer(std::string name, std::size_t features, double std_epsilon = 1e-8);

  // rows: (n x features) row-major; adds to this rank's pending sums.
  void accumulate(const std::vector<double>& rows);
  // Collective over comm (MPI_COMM_NULL: this rank only): adds every rank's pending sums
  // to the statistics.
  void merge(MPI_Comm comm);

  std::size_t features() const { return features_; }
  double count() const { return count_; }
  std::vector<double> mean() const;
  std::vector<double> stddev() const;
  // In place: (x - mean) / std and its inverse. InputError when nothing was accumulated.
  void normalise(std::vector<double>& rows) const;
  void denormalise(std::vector<double>& rows) const;
  // Freezes the statistics at stored ones (a checkpoint): count, mean and std; later
  // accumulation does not change them.
  void set(double count, const std::vector<double>& mean, const std::vector<double>& stddev);

  // Checkpoints of a training: the statistics as they stand (sums and count, or the frozen
  // ones of set()), exactly, so that accumulation continues as it would have. Nothing
  // may be pending (merge() first). load(): InputError naming the file when the group
  // holds statistics of another number of features.
  void save(io::ResultsFile& file, const std::string& group) const;
  void load(const io::Hdf5Reader& file, const std::string& group);

 private:
  void check_rows(const std::vector<double>& rows, const char* what) const;
  std::string name_;
  std::size_t features_ = 0;
  double std_epsilon_ = 1e-8;
  double count_ = 0;
  std::vector<double> sum_, sum_squares_;
  double pending_count_ = 0;
  std::vector<double> pending_sum_, pending_squares_;
  std::vector<double> fixed_mean_, fixed_std_;  // set(): frozen statistics
};

}  // namespace tessera::models::mesh_transformer
