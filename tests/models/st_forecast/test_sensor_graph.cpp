// Sensor graphs held sparse and their Laplacian eigenvectors: the CSR builders against
// hand-made graphs, the filtered subspace iteration against LAPACK's dense solve (a graph
// with distinct eigenvalues: the vectors; a grid with repeated ones: the eigenvalues,
// residuals and orthonormality), and the automatic choice above 4,000 sensors.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "core/tensor/random.hpp"
#include "models/st_forecast/sensor_graph.hpp"
#include "tests/models/st_forecast/synthetic.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using namespace tessera::models::st_forecast;

namespace {

// rows x cols sensors linked along rows and columns, weights keyed by the pair.
SensorGraph grid(std::size_t rows, std::size_t cols, bool unit_weights) {
  const std::size_t n = rows * cols;
  return testing::grid_sensor_graph(rows, cols, [&](std::size_t a, std::size_t b) {
    return unit_weights ? 1.0 : 0.5 + tensor::counter_uniform(5, 0, a * n + b);
  });
}

// Points in the unit square linked within `radius` by a Gaussian kernel of distance.
SensorGraph random_geometric(std::size_t n, double radius) {
  std::vector<double> x(n), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = tensor::counter_uniform(7, 0, i);
    y[i] = tensor::counter_uniform(7, 1, i);
  }
  std::vector<SensorLink> links;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      const double d = std::hypot(x[i] - x[j], y[i] - y[j]);
      if (d < radius) links.push_back({i, j, std::exp(-(d / radius) * (d / radius))});
    }
  }
  return sensor_graph_from_links(n, std::move(links));
}

// Rayleigh quotients and residuals |L v - (v'Lv) v| of the columns of `v` (n x count).
void rayleigh(const SensorGraph& g, const std::vector<double>& v, std::size_t count,
              std::vector<double>& quotients, std::vector<double>& residuals) {
  const std::size_t n = g.nodes;
  std::vector<double> degree(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (auto k = g.row_ptr[i]; k < g.row_ptr[i + 1]; ++k) degree[i] += g.values[std::size_t(k)];
  }
  quotients.assign(count, 0.0);
  residuals.assign(count, 0.0);
  for (std::size_t c = 0; c < count; ++c) {
    std::vector<double> lv(n);
    for (std::size_t i = 0; i < n; ++i) {
      double acc = v[i * count + c];
      for (auto k = g.row_ptr[i]; k < g.row_ptr[i + 1]; ++k) {
        const std::size_t j = static_cast<std::size_t>(g.col_idx[std::size_t(k)]);
        acc -= g.values[std::size_t(k)] / std::sqrt(degree[i] * degree[j]) * v[j * count + c];
      }
      lv[i] = acc;
    }
    for (std::size_t i = 0; i < n; ++i) quotients[c] += v[i * count + c] * lv[i];
    for (std::size_t i = 0; i < n; ++i) {
      const double r = lv[i] - quotients[c] * v[i * count + c];
      residuals[c] += r * r;
    }
    residuals[c] = std::sqrt(residuals[c]);
  }
}

double largest_gram_error(const std::vector<double>& v, std::size_t n, std::size_t count) {
  double worst = 0;
  for (std::size_t a = 0; a < count; ++a) {
    for (std::size_t b = 0; b < count; ++b) {
      double s = 0;
      for (std::size_t i = 0; i < n; ++i) s += v[i * count + a] * v[i * count + b];
      worst = std::max(worst, std::abs(s - (a == b ? 1.0 : 0.0)));
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("sensor graphs are built symmetric and sparse", "[sensor_graph]") {
  // Pairs in both directions (the larger weight wins), a repeated pair, a self-link and a
  // zero weight, which are dropped.
  const SensorGraph g = sensor_graph_from_links(
      4,
      {{0, 1, 0.5}, {1, 0, 2.0}, {2, 1, 1.5}, {1, 2, 1.0}, {3, 3, 4.0}, {0, 3, 0.0}, {0, 2, 0.25}});
  CHECK(g.row_ptr == std::vector<graph::Index>{0, 2, 4, 6, 6});
  CHECK(g.col_idx == std::vector<graph::Index>{1, 2, 0, 2, 0, 1});
  CHECK(g.values == std::vector<double>{2.0, 0.25, 2.0, 1.5, 0.25, 1.5});
  CHECK(g.edges() == 6);

  std::vector<double> dense(16, 0.0);
  dense[0 * 4 + 1] = 0.5;
  dense[1 * 4 + 0] = 2.0;
  dense[2 * 4 + 1] = 1.5;
  dense[1 * 4 + 2] = 1.0;
  dense[3 * 4 + 3] = 4.0;
  dense[0 * 4 + 2] = 0.25;
  const SensorGraph from_dense = sensor_graph_from_dense(4, dense);
  CHECK(from_dense.row_ptr == g.row_ptr);
  CHECK(from_dense.col_idx == g.col_idx);
  CHECK(from_dense.values == g.values);

  // The scaled Laplacian keeps the isolated sensor 3 with its unit diagonal.
  const ScaledLaplacian l = scaled_laplacian(g);
  REQUIRE(l.row_ptr.size() == 5);
  CHECK(l.row_ptr[4] - l.row_ptr[3] == 1);
  CHECK(l.col_idx[std::size_t(l.row_ptr[3])] == 3);
}

TEST_CASE("filtered subspace iteration finds the dense solver's eigenvectors", "[sensor_graph]") {
  const SensorGraph g = random_geometric(500, 0.12);
  const std::size_t count = 16;
  EigenStats dense_stats, filtered_stats;
  const std::vector<double> dense =
      laplacian_eigenvectors(g, count, EigenMethod::kDense, &dense_stats);
  const std::vector<double> filtered =
      laplacian_eigenvectors(g, count, EigenMethod::kFiltered, &filtered_stats);
  CHECK(dense_stats.method == EigenMethod::kDense);
  CHECK(filtered_stats.method == EigenMethod::kFiltered);
  CHECK(filtered_stats.max_residual <= kResidualTolerance);
  std::vector<double> quotients, residuals;
  rayleigh(g, dense, count, quotients, residuals);
  // Distinct eigenvalues (the smallest gap bounds the vectors' error by residual / gap).
  double gap = 1;
  for (std::size_t k = 0; k + 1 < count; ++k) gap = std::min(gap, quotients[k + 1] - quotients[k]);
  INFO("smallest gap between the eigenvalues " << gap);
  REQUIRE(gap > 1e-3);
  double worst = 0;
  for (std::size_t q = 0; q < dense.size(); ++q) {
    worst = std::max(worst, std::abs(dense[q] - filtered[q]));
  }
  INFO("iterations " << filtered_stats.iterations << ", products " << filtered_stats.products);
  CHECK(worst < 1e-7);
}

TEST_CASE("filtered subspace iteration on a grid with repeated eigenvalues", "[sensor_graph]") {
  // A square grid of unit weights: most eigenvalues come in pairs (its symmetry).
  const SensorGraph g = grid(30, 30, true);
  const std::size_t count = 24;
  const std::vector<double> dense = laplacian_eigenvectors(g, count, EigenMethod::kDense);
  EigenStats stats;
  const std::vector<double> filtered =
      laplacian_eigenvectors(g, count, EigenMethod::kFiltered, &stats);
  std::vector<double> dense_values, filtered_values, residuals;
  rayleigh(g, dense, count, dense_values, residuals);
  rayleigh(g, filtered, count, filtered_values, residuals);
  std::size_t repeated = 0;
  for (std::size_t k = 0; k + 1 < count; ++k) {
    repeated += dense_values[k + 1] - dense_values[k] < 1e-12;
  }
  CHECK(repeated >= 5);
  for (std::size_t k = 0; k < count; ++k) {
    CHECK(std::abs(filtered_values[k] - dense_values[k]) < 1e-12);
    CHECK(residuals[k] < 1e-9);
  }
  CHECK(largest_gram_error(filtered, g.nodes, count) < 1e-10);
}

TEST_CASE("above 4,000 sensors the eigenvectors come from sparse products", "[sensor_graph]") {
  const SensorGraph g = grid(65, 64, false);  // 4,160 sensors, weights varied
  const std::size_t count = 32;
  EigenStats stats;
  const std::vector<double> v = laplacian_eigenvectors(g, count, EigenMethod::kAuto, &stats);
  CHECK(stats.method == EigenMethod::kFiltered);
  INFO("iterations " << stats.iterations << ", products " << stats.products);
  CHECK(stats.max_residual <= kResidualTolerance);
  std::vector<double> values, residuals;
  rayleigh(g, v, count, values, residuals);
  for (std::size_t k = 0; k < count; ++k) {
    CHECK(residuals[k] < 1e-9);
    if (k > 0) CHECK(values[k] >= values[k - 1] - 1e-12);
  }
  CHECK(values[0] > 1e-6);  // the trivial eigenvector (eigenvalue 0) is left out
  CHECK(largest_gram_error(v, g.nodes, count) < 1e-10);
}
