#pragma once
// The sensor graph of a forecasting data set and what the models take from it:
//   weights     read from a dense CSV matrix or a `from,to,cost` edge list; costs are
//               road distances turned into weights by DCRNN's Gaussian kernel
//               exp(-(d / sigma)^2) (sigma = std of the distances, entries below the
//               threshold dropped) or STGCN's (exp(-(d / 1e4)^2 / 0.1) >= threshold),
//               or used as they are (a weight file such as METR-LA's adjacency);
//               a chain (consecutive detectors along one road) needs no file;
//   laplacian   the scaled Laplacian 2 L / lambda_max - I of L = I - D^-1/2 W D^-1/2,
//               on the symmetrised weights max(W, W^T) without self-loops (the
//               Chebyshev convolution's operator), in CSR form;
//   eigvecs     the `count` eigenvectors of L with the smallest eigenvalues after the
//               first (trivial) one, each with its largest entry made positive (the
//               sign of an eigenvector is arbitrary), for the spatial embedding.
#include <cstddef>
#include <string>
#include <vector>

#include "core/graph/csr_graph.hpp"

namespace tessera::models::st_forecast {

enum class GraphWeighting { kAsIs, kGaussian, kStgcn };

struct SensorGraphOptions {
  std::string source = "file";   // "file" or "chain"
  std::string file;              // resolved path
  std::string format = "dense";  // "dense" or "edges"
  GraphWeighting weighting = GraphWeighting::kAsIs;
  double threshold = 0.1;  // kernel weights below it are dropped
};

struct SensorGraph {
  std::size_t nodes = 0;
  std::vector<double> weights;  // nodes x nodes, symmetric, zero diagonal
  std::size_t edges() const;    // non-zero off-diagonal entries (each direction counted)
};

// InputError naming the file when it is malformed, not square or of the wrong size.
SensorGraph load_sensor_graph(const SensorGraphOptions& options, std::size_t sensors);

struct ScaledLaplacian {
  std::vector<graph::Index> row_ptr, col_idx;
  std::vector<double> values;
  double lambda_max = 2;
};

ScaledLaplacian scaled_laplacian(const SensorGraph& g);

// Dense symmetric eigen-solver (LAPACK dsyevr): InputError above `max_nodes` (the
// spatial embedding of a larger graph should be learned: model.spatial_embedding).
std::vector<double> laplacian_eigenvectors(const SensorGraph& g, std::size_t count,
                                           std::size_t max_nodes = 4000);

}  // namespace tessera::models::st_forecast
