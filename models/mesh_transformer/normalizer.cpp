#include "models/mesh_transformer/normalizer.hpp"

#include <algorithm>
#include <cmath>

#include "core/runtime/error.hpp"

namespace tessera::models::mesh_transformer {

Normalizer::Normalizer(std::string name, std::size_t features, double std_epsilon)
    : name_(std::move(name)),
      features_(features),
      std_epsilon_(std_epsilon),
      sum_(features, 0.0),
      sum_squares_(features, 0.0),
      pending_sum_(features, 0.0),
      pending_squares_(features, 0.0) {}

void Normalizer::check_rows(const std::vector<double>& rows, const char* what) const {
  if (features_ == 0 || rows.size() % features_ != 0) {
    throw std::invalid_argument(str(name_, " normalizer: ", what, " of ", rows.size(),
                                    " values is not rows of ", features_, " features"));
  }
}

void Normalizer::accumulate(const std::vector<double>& rows) {
  check_rows(rows, "accumulate");
  const std::size_t n = rows.size() / features_;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < features_; ++j) {
      const double x = rows[i * features_ + j];
      pending_sum_[j] += x;
      pending_squares_[j] += x * x;
    }
  }
  pending_count_ += static_cast<double>(n);
}

void Normalizer::merge(MPI_Comm comm) {
  std::vector<double> buffer(2 * features_ + 1);
  std::copy(pending_sum_.begin(), pending_sum_.end(), buffer.begin());
  std::copy(pending_squares_.begin(), pending_squares_.end(), buffer.begin() + features_);
  buffer.back() = pending_count_;
  if (comm != MPI_COMM_NULL) {
    MPI_Allreduce(MPI_IN_PLACE, buffer.data(), static_cast<int>(buffer.size()), MPI_DOUBLE, MPI_SUM,
                  comm);
  }
  for (std::size_t j = 0; j < features_; ++j) {
    sum_[j] += buffer[j];
    sum_squares_[j] += buffer[features_ + j];
  }
  count_ += buffer.back();
  std::fill(pending_sum_.begin(), pending_sum_.end(), 0.0);
  std::fill(pending_squares_.begin(), pending_squares_.end(), 0.0);
  pending_count_ = 0;
}

std::vector<double> Normalizer::mean() const {
  if (!fixed_mean_.empty()) return fixed_mean_;
  if (count_ <= 0) {
    throw InputError(str(name_, " normalizer: no statistics yet (nothing was accumulated)"));
  }
  std::vector<double> m(features_);
  for (std::size_t j = 0; j < features_; ++j) m[j] = sum_[j] / count_;
  return m;
}

std::vector<double> Normalizer::stddev() const {
  if (!fixed_std_.empty()) return fixed_std_;
  const std::vector<double> m = mean();
  std::vector<double> s(features_);
  for (std::size_t j = 0; j < features_; ++j) {
    const double variance = std::max(sum_squares_[j] / count_ - m[j] * m[j], 0.0);
    s[j] = std::max(std::sqrt(variance), std_epsilon_);
  }
  return s;
}

void Normalizer::normalise(std::vector<double>& rows) const {
  check_rows(rows, "normalise");
  const std::vector<double> m = mean(), s = stddev();
  for (std::size_t k = 0; k < rows.size(); ++k) {
    rows[k] = (rows[k] - m[k % features_]) / s[k % features_];
  }
}

void Normalizer::denormalise(std::vector<double>& rows) const {
  check_rows(rows, "denormalise");
  const std::vector<double> m = mean(), s = stddev();
  for (std::size_t k = 0; k < rows.size(); ++k) {
    rows[k] = rows[k] * s[k % features_] + m[k % features_];
  }
}

void Normalizer::set(double count, const std::vector<double>& mean,
                     const std::vector<double>& stddev) {
  if (mean.size() != features_ || stddev.size() != features_ || !(count > 0)) {
    throw InputError(str(name_, " normalizer: stored statistics of ", mean.size(), " and ",
                         stddev.size(), " features (count ", count, ") for ", features_,
                         " features"));
  }
  // Kept as given, so that a model evaluated from a checkpoint sees the very numbers it
  // was trained with (rebuilding sums from them would round).
  count_ = count;
  fixed_mean_ = mean;
  fixed_std_ = stddev;
}

void Normalizer::save(io::ResultsFile& file, const std::string& group) const {
  if (pending_count_ != 0) {
    throw std::logic_error(str(name_, " normalizer: saved with unmerged samples"));
  }
  file.write_root_array(group + "/count", {1}, {count_});
  file.write_root_array(group + "/sum", {features_}, sum_);
  file.write_root_array(group + "/sum_squares", {features_}, sum_squares_);
  file.write_root_array(group + "/fixed_mean", {fixed_mean_.size()}, fixed_mean_);
  file.write_root_array(group + "/fixed_std", {fixed_std_.size()}, fixed_std_);
}

void Normalizer::load(const io::Hdf5Reader& file, const std::string& group) {
  const auto read = [&](const char* name, bool may_be_empty) {
    std::vector<double> v = file.read(group + "/" + name);
    if (v.size() != features_ && !(may_be_empty && v.empty())) {
      throw InputError(str(file.path(), ": ", group, "/", name, " holds ", v.size(),
                           " values, the ", name_, " normalizer has ", features_,
                           " features (a checkpoint of another model or data)"));
    }
    return v;
  };
  sum_ = read("sum", false);
  sum_squares_ = read("sum_squares", false);
  fixed_mean_ = read("fixed_mean", true);
  fixed_std_ = read("fixed_std", true);
  count_ = file.read(group + "/count").at(0);
}

}  // namespace tessera::models::mesh_transformer
