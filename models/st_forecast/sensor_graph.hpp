#pragma once
// The sensor graph of a forecasting data set and what the models take from it:
//   weights     read from a dense CSV matrix or a `from,to,cost` edge list; costs are
//               road distances turned into weights by DCRNN's Gaussian kernel
//               exp(-(d / sigma)^2) (sigma = std of the distances, entries below the
//               threshold dropped) or STGCN's (exp(-(d / 1e4)^2 / 0.1) >= threshold),
//               or used as they are (a weight file such as METR-LA's adjacency);
//               a chain (consecutive detectors along one road) needs no file; held
//               in CSR form (memory in the edges, not the sensors squared);
//   laplacian   the scaled Laplacian 2 L / lambda_max - I of L = I - D^-1/2 W D^-1/2,
//               on the symmetrised weights max(W, W^T) without self-loops (the
//               Chebyshev convolution's operator), in CSR form;
//   eigvecs     the `count` eigenvectors of L with the smallest eigenvalues after the
//               first (trivial) one, each with its largest entry made positive (the
//               sign of an eigenvector is arbitrary), for the spatial embedding: a
//               dense solve up to 4,000 sensors, sparse products above
//               (laplacian_eigen.hpp).
#include <cstddef>
#include <string>
#include <vector>

#include "core/graph/csr_graph.hpp"
#include "models/st_forecast/laplacian_eigen.hpp"

namespace tessera::models::st_forecast {

enum class GraphWeighting { kAsIs, kGaussian, kStgcn };

struct SensorGraphOptions {
  std::string source = "file";   // "file" or "chain"
  std::string file;              // resolved path
  std::string format = "dense";  // "dense" or "edges"
  GraphWeighting weighting = GraphWeighting::kAsIs;
  double threshold = 0.1;  // kernel weights below it are dropped
};

// Symmetric weights without self-loops or zero entries, in CSR form (columns ascending
// within a row): memory in the edges, so graphs of tens of thousands of sensors fit.
struct SensorGraph {
  std::size_t nodes = 0;
  std::vector<graph::Index> row_ptr{0}, col_idx;
  std::vector<double> values;
  std::size_t edges() const { return col_idx.size(); }  // each direction counted
};

// A graph from a dense row-major nodes x nodes weight matrix: max(W, W^T), the diagonal
// and zero weights dropped.
SensorGraph sensor_graph_from_dense(std::size_t nodes, const std::vector<double>& weights);

// A graph from weighted pairs (a, b, w), in either direction: each pair taken as max of
// its two directions, self-links and zero weights dropped.
struct SensorLink {
  std::size_t a, b;
  double weight;
};
SensorGraph sensor_graph_from_links(std::size_t nodes, std::vector<SensorLink> links);

// InputError naming the file when it is malformed, not square or of the wrong size.
SensorGraph load_sensor_graph(const SensorGraphOptions& options, std::size_t sensors);

struct ScaledLaplacian {
  std::vector<graph::Index> row_ptr, col_idx;
  std::vector<double> values;
  double lambda_max = 2;
};

ScaledLaplacian scaled_laplacian(const SensorGraph& g);

// The `count` eigenvectors of L with the smallest eigenvalues after the first (nodes x
// count, row-major; see laplacian_eigen.hpp for how they are found, `method` and `stats`).
std::vector<double> laplacian_eigenvectors(const SensorGraph& g, std::size_t count,
                                           EigenMethod method = EigenMethod::kAuto,
                                           EigenStats* stats = nullptr);

}  // namespace tessera::models::st_forecast
