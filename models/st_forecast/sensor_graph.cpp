#include "models/st_forecast/sensor_graph.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <utility>

#include "core/graph/distance_kernel.hpp"
#include "core/io/text_readers.hpp"
#include "core/runtime/error.hpp"

namespace tessera::models::st_forecast {

namespace {

// Row-major order of the pairs (a, b).
bool by_pair(const SensorLink& x, const SensorLink& y) {
  return x.a != y.a ? x.a < y.a : x.b < y.b;
}

}  // namespace

SensorGraph sensor_graph_from_dense(std::size_t nodes, const std::vector<double>& w) {
  SensorGraph g;
  g.nodes = nodes;
  for (std::size_t i = 0; i < nodes; ++i) {
    for (std::size_t j = 0; j < nodes; ++j) {
      const double weight = std::max(w[i * nodes + j], w[j * nodes + i]);
      if (i == j || weight == 0) continue;
      g.col_idx.push_back(static_cast<graph::Index>(j));
      g.values.push_back(weight);
    }
    g.row_ptr.push_back(static_cast<graph::Index>(g.col_idx.size()));
  }
  return g;
}

SensorGraph sensor_graph_from_links(std::size_t nodes, std::vector<SensorLink> links) {
  const std::size_t count = links.size();
  for (std::size_t k = 0; k < count; ++k) {
    links.push_back({links[k].b, links[k].a, links[k].weight});
  }
  std::sort(links.begin(), links.end(), by_pair);
  SensorGraph g;
  g.nodes = nodes;
  std::size_t k = 0;
  for (std::size_t i = 0; i < nodes; ++i) {
    while (k < links.size() && links[k].a == i) {
      const std::size_t j = links[k].b;
      double weight = 0;
      for (; k < links.size() && links[k].a == i && links[k].b == j; ++k) {
        weight = std::max(weight, links[k].weight);
      }
      if (j == i || weight == 0) continue;
      g.col_idx.push_back(static_cast<graph::Index>(j));
      g.values.push_back(weight);
    }
    g.row_ptr.push_back(static_cast<graph::Index>(g.col_idx.size()));
  }
  return g;
}

namespace {

// Distances -> kernel weights, in place on the listed entries (all when `listed` is empty).
void apply_kernel(std::vector<double>& w, const std::vector<bool>& listed,
                  const SensorGraphOptions& o) {
  const auto is_listed = [&](std::size_t k) { return listed.empty() || listed[k]; };
  if (o.weighting == GraphWeighting::kAsIs) return;
  double sigma = 1;
  if (o.weighting == GraphWeighting::kGaussian) {
    std::vector<double> distances;
    for (std::size_t k = 0; k < w.size(); ++k) {
      if (is_listed(k)) distances.push_back(w[k]);
    }
    sigma = graph::distance_sigma(distances);
  }
  for (std::size_t k = 0; k < w.size(); ++k) {
    if (!is_listed(k)) continue;
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
  if (o.source == "chain") {
    std::vector<SensorLink> links;
    for (std::size_t i = 0; i + 1 < sensors; ++i) links.push_back({i, i + 1, 1.0});
    return sensor_graph_from_links(sensors, std::move(links));
  }
  if (o.format == "edges") {
    // A pair listed twice keeps its last cost; the kernel's sigma is taken over the
    // pairs in row-major order.
    std::unordered_map<std::size_t, std::size_t> position;  // from * sensors + to -> link
    std::vector<SensorLink> links;
    for (const io::WeightedEdge& e : io::read_edge_list(o.file)) {
      if (e.from >= static_cast<long long>(sensors) || e.to >= static_cast<long long>(sensors)) {
        throw InputError(str(o.file, ": edge ", e.from, " -> ", e.to, " names a sensor past the ",
                             sensors, " sensors of the series"));
      }
      const auto from = static_cast<std::size_t>(e.from), to = static_cast<std::size_t>(e.to);
      const auto [it, added] = position.emplace(from * sensors + to, links.size());
      if (added) {
        links.push_back({from, to, e.weight});
      } else {
        links[it->second].weight = e.weight;
      }
    }
    std::sort(links.begin(), links.end(), by_pair);
    std::vector<double> w(links.size());
    for (std::size_t k = 0; k < links.size(); ++k) w[k] = links[k].weight;
    apply_kernel(w, {}, o);
    for (std::size_t k = 0; k < links.size(); ++k) links[k].weight = w[k];
    return sensor_graph_from_links(sensors, std::move(links));
  }
  io::Grid grid = io::read_csv_matrix(o.file);
  if (grid.rows != grid.cols || grid.rows != sensors) {
    throw InputError(str(o.file, ": a ", grid.rows, " x ", grid.cols, " matrix, expected ", sensors,
                         " x ", sensors, " (one row and column per sensor of the series)"));
  }
  std::vector<bool> listed(grid.values.size());
  for (std::size_t k = 0; k < grid.values.size(); ++k) {
    if (!std::isfinite(grid.values[k]) || grid.values[k] < 0) {
      throw InputError(str(o.file, ": entry ", grid.values[k], " at row ", k / sensors + 1,
                           ", column ", k % sensors + 1, " (expected finite and >= 0)"));
    }
    // A dense distance matrix lists every pair; a weight matrix's zeros are no edge.
    listed[k] = o.weighting != GraphWeighting::kAsIs || grid.values[k] != 0;
  }
  apply_kernel(grid.values, listed, o);
  return sensor_graph_from_dense(sensors, grid.values);
}

ScaledLaplacian scaled_laplacian(const SensorGraph& g) {
  const std::size_t n = g.nodes;
  // L = I - D^-1/2 W D^-1/2 (isolated nodes: a unit diagonal), row by row in CSR order
  // with the diagonal in its column's place.
  const std::vector<double> off =
      laplacian_off_diagonal(WeightedCsr{n, &g.row_ptr, &g.col_idx, &g.values});
  ScaledLaplacian l;
  l.row_ptr.push_back(0);
  for (std::size_t i = 0; i < n; ++i) {
    bool diagonal = false;
    for (auto k = g.row_ptr[i]; k <= g.row_ptr[i + 1]; ++k) {
      const bool end = k == g.row_ptr[i + 1];
      const std::size_t j =
          end ? n : static_cast<std::size_t>(g.col_idx[static_cast<std::size_t>(k)]);
      if (!diagonal && j > i) {
        l.col_idx.push_back(static_cast<graph::Index>(i));
        l.values.push_back(1.0);
        diagonal = true;
      }
      if (end) break;
      const double value = off[static_cast<std::size_t>(k)];
      if (value == 0) continue;
      l.col_idx.push_back(static_cast<graph::Index>(j));
      l.values.push_back(value);
    }
    l.row_ptr.push_back(static_cast<graph::Index>(l.col_idx.size()));
  }
  // lambda_max by power iteration (L is positive semi-definite, lambda_max <= 2).
  std::vector<double> v(n), next(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = 1.0 + 0.01 * static_cast<double>(i % 7);
  double lambda = 0;
  for (int iteration = 0; iteration < 1000; ++iteration) {
    double norm = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double acc = 0;
      for (auto k = l.row_ptr[i]; k < l.row_ptr[i + 1]; ++k) {
        const auto q = static_cast<std::size_t>(k);
        acc += l.values[q] * v[static_cast<std::size_t>(l.col_idx[q])];
      }
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
  // The scaled Laplacian 2 L / lambda_max - I, in place.
  l.lambda_max = lambda > 0 ? lambda : 2.0;
  for (std::size_t i = 0; i < n; ++i) {
    for (auto k = l.row_ptr[i]; k < l.row_ptr[i + 1]; ++k) {
      const auto q = static_cast<std::size_t>(k);
      const bool on_diagonal = static_cast<std::size_t>(l.col_idx[q]) == i;
      l.values[q] = 2.0 * l.values[q] / l.lambda_max - (on_diagonal ? 1.0 : 0.0);
    }
  }
  return l;
}

std::vector<double> laplacian_eigenvectors(const SensorGraph& g, std::size_t count,
                                           EigenMethod method, EigenStats* stats) {
  const std::size_t n = g.nodes;
  if (count + 1 > n) {
    throw InputError(str("model.eigenvectors = ", count, " but the graph has only ", n,
                         " sensors (at most ", n - 1, " non-trivial eigenvectors)"));
  }
  const WeightedCsr csr{n, &g.row_ptr, &g.col_idx, &g.values};
  const Eigenpairs pairs = smallest_laplacian_eigenpairs(csr, count + 1, method, stats);
  // Skip the first (trivial) eigenvector; make each one's largest entry positive.
  std::vector<double> out(n * count);
  for (std::size_t k = 0; k < count; ++k) {
    const auto entry = [&](std::size_t i) { return pairs.vectors[i * (count + 1) + k + 1]; };
    std::size_t largest = 0;
    for (std::size_t i = 1; i < n; ++i) {
      if (std::abs(entry(i)) > std::abs(entry(largest))) largest = i;
    }
    const double sign = entry(largest) < 0 ? -1.0 : 1.0;
    for (std::size_t i = 0; i < n; ++i) out[i * count + k] = sign * entry(i);
  }
  return out;
}

}  // namespace tessera::models::st_forecast
