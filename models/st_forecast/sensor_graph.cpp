#include "models/st_forecast/sensor_graph.hpp"

#include <algorithm>
#include <cmath>

#include "core/graph/distance_kernel.hpp"
#include "core/io/text_readers.hpp"
#include "core/runtime/error.hpp"

extern "C" void dsyevr_(const char* jobz, const char* range, const char* uplo, const int* n,
                        double* a, const int* lda, const double* vl, const double* vu,
                        const int* il, const int* iu, const double* abstol, int* m, double* w,
                        double* z, const int* ldz, int* isuppz, double* work, const int* lwork,
                        int* iwork, const int* liwork, int* info);

namespace tessera::models::st_forecast {

std::size_t SensorGraph::edges() const {
  std::size_t count = 0;
  for (std::size_t i = 0; i < nodes; ++i) {
    for (std::size_t j = 0; j < nodes; ++j) count += i != j && weights[i * nodes + j] != 0;
  }
  return count;
}

namespace {

// Distances (0 off the listed pairs, where `listed` is false) -> kernel weights.
void apply_kernel(std::vector<double>& w, const std::vector<bool>& listed,
                  const SensorGraphOptions& o) {
  if (o.weighting == GraphWeighting::kAsIs) return;
  double sigma = 1;
  if (o.weighting == GraphWeighting::kGaussian) {
    std::vector<double> distances;
    for (std::size_t k = 0; k < w.size(); ++k) {
      if (listed[k]) distances.push_back(w[k]);
    }
    sigma = graph::distance_sigma(distances);
  }
  for (std::size_t k = 0; k < w.size(); ++k) {
    if (!listed[k]) continue;
    if (o.weighting == GraphWeighting::kGaussian) {
      w[k] = graph::gaussian_kernel_weight(w[k], sigma, o.threshold);
    } else {
      const double value = std::exp(-(w[k] / 1e4) * (w[k] / 1e4) / 0.1);
      w[k] = value >= o.threshold ? value : 0;
    }
  }
}

}  // namespace

SensorGraph load_sensor_graph(const SensorGraphOptions& o, std::size_t sensors) {
  SensorGraph g;
  g.nodes = sensors;
  g.weights.assign(sensors * sensors, 0.0);
  if (o.source == "chain") {
    for (std::size_t i = 0; i + 1 < sensors; ++i) {
      g.weights[i * sensors + i + 1] = g.weights[(i + 1) * sensors + i] = 1;
    }
    return g;
  }
  std::vector<bool> listed(sensors * sensors, false);
  if (o.format == "edges") {
    for (const io::WeightedEdge& e : io::read_edge_list(o.file)) {
      if (e.from >= static_cast<long long>(sensors) || e.to >= static_cast<long long>(sensors)) {
        throw InputError(str(o.file, ": edge ", e.from, " -> ", e.to, " names a sensor past the ",
                             sensors, " sensors of the series"));
      }
      const std::size_t k =
          static_cast<std::size_t>(e.from) * sensors + static_cast<std::size_t>(e.to);
      g.weights[k] = e.weight;
      listed[k] = true;
    }
  } else {
    const io::Grid grid = io::read_csv_matrix(o.file);
    if (grid.rows != grid.cols || grid.rows != sensors) {
      throw InputError(str(o.file, ": a ", grid.rows, " x ", grid.cols, " matrix, expected ",
                           sensors, " x ", sensors,
                           " (one row and column per sensor of the series)"));
    }
    for (std::size_t k = 0; k < grid.values.size(); ++k) {
      if (!std::isfinite(grid.values[k]) || grid.values[k] < 0) {
        throw InputError(str(o.file, ": entry ", grid.values[k], " at row ", k / sensors + 1,
                             ", column ", k % sensors + 1, " (expected finite and >= 0)"));
      }
      g.weights[k] = grid.values[k];
      // A dense distance matrix lists every pair; a weight matrix's zeros are no edge.
      listed[k] = o.weighting != GraphWeighting::kAsIs || grid.values[k] != 0;
    }
  }
  apply_kernel(g.weights, listed, o);
  for (std::size_t i = 0; i < sensors; ++i) {
    g.weights[i * sensors + i] = 0;
    for (std::size_t j = i + 1; j < sensors; ++j) {
      const double w = std::max(g.weights[i * sensors + j], g.weights[j * sensors + i]);
      g.weights[i * sensors + j] = g.weights[j * sensors + i] = w;
    }
  }
  return g;
}

namespace {

// L = I - D^-1/2 W D^-1/2 as a dense matrix (isolated nodes: a unit diagonal).
std::vector<double> normalised_laplacian(const SensorGraph& g) {
  const std::size_t n = g.nodes;
  std::vector<double> scale(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    double degree = 0;
    for (std::size_t j = 0; j < n; ++j) degree += g.weights[i * n + j];
    scale[i] = degree > 0 ? 1.0 / std::sqrt(degree) : 0.0;
  }
  std::vector<double> l(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      l[i * n + j] = (i == j ? 1.0 : 0.0) - scale[i] * g.weights[i * n + j] * scale[j];
    }
  }
  return l;
}

}  // namespace

ScaledLaplacian scaled_laplacian(const SensorGraph& g) {
  const std::size_t n = g.nodes;
  const std::vector<double> l = normalised_laplacian(g);
  // lambda_max by power iteration (L is positive semi-definite, lambda_max <= 2).
  std::vector<double> v(n), next(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = 1.0 + 0.01 * static_cast<double>(i % 7);
  double lambda = 0;
  for (int iteration = 0; iteration < 1000; ++iteration) {
    double norm = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double acc = 0;
      for (std::size_t j = 0; j < n; ++j) acc += l[i * n + j] * v[j];
      next[i] = acc;
      norm += acc * acc;
    }
    norm = std::sqrt(norm);
    if (norm == 0) break;
    for (std::size_t i = 0; i < n; ++i) v[i] = next[i] / norm;
    if (iteration > 10 && std::abs(norm - lambda) < 1e-10 * norm) {
      lambda = norm;
      break;
    }
    lambda = norm;
  }
  ScaledLaplacian s;
  s.lambda_max = lambda > 0 ? lambda : 2.0;
  s.row_ptr.push_back(0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const double value = 2.0 * l[i * n + j] / s.lambda_max - (i == j ? 1.0 : 0.0);
      if (value == 0 && i != j) continue;
      s.col_idx.push_back(static_cast<graph::Index>(j));
      s.values.push_back(value);
    }
    s.row_ptr.push_back(static_cast<graph::Index>(s.col_idx.size()));
  }
  return s;
}

std::vector<double> laplacian_eigenvectors(const SensorGraph& g, std::size_t count,
                                           std::size_t max_nodes) {
  const std::size_t n = g.nodes;
  if (n > max_nodes) {
    throw InputError(str("the Laplacian eigenvectors of a ", n, "-sensor graph need a dense ", n,
                         " x ", n, " eigen-solve (at most ", max_nodes,
                         " here): set model.spatial_embedding = \"learned\""));
  }
  if (count + 1 > n) {
    throw InputError(str("model.eigenvectors = ", count, " but the graph has only ", n,
                         " sensors (at most ", n - 1, " non-trivial eigenvectors)"));
  }
  std::vector<double> a = normalised_laplacian(g);  // symmetric: row- or column-major alike
  const int size = static_cast<int>(n), il = 1, iu = static_cast<int>(count + 1);
  const double none = 0, abstol = 0;
  int found = 0, info = 0;
  std::vector<double> w(n), z(n * (count + 1));
  std::vector<int> support(2 * (count + 1));
  int lwork = -1, liwork = -1, iwork_query = 0;
  double work_query = 0;
  dsyevr_("V", "I", "U", &size, a.data(), &size, &none, &none, &il, &iu, &abstol, &found, w.data(),
          z.data(), &size, support.data(), &work_query, &lwork, &iwork_query, &liwork, &info);
  lwork = static_cast<int>(work_query);
  liwork = iwork_query;
  std::vector<double> work(static_cast<std::size_t>(std::max(lwork, 1)));
  std::vector<int> iwork(static_cast<std::size_t>(std::max(liwork, 1)));
  dsyevr_("V", "I", "U", &size, a.data(), &size, &none, &none, &il, &iu, &abstol, &found, w.data(),
          z.data(), &size, support.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  if (info != 0 || found != static_cast<int>(count + 1)) {
    throw std::runtime_error(str("LAPACK dsyevr failed on the graph Laplacian (info ", info, ", ",
                                 found, " eigenpairs found)"));
  }
  // Column k of z (column-major, leading dimension n) is eigenvector k; skip k = 0.
  std::vector<double> out(n * count);
  for (std::size_t k = 0; k < count; ++k) {
    const double* column = z.data() + (k + 1) * n;
    std::size_t largest = 0;
    for (std::size_t i = 1; i < n; ++i) {
      if (std::abs(column[i]) > std::abs(column[largest])) largest = i;
    }
    const double sign = column[largest] < 0 ? -1.0 : 1.0;
    for (std::size_t i = 0; i < n; ++i) out[i * count + k] = sign * column[i];
  }
  return out;
}

}  // namespace tessera::models::st_forecast
