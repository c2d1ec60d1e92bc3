#pragma once
// The eigenpairs of smallest eigenvalue of a graph's normalised Laplacian
// L = I - D^-1/2 W D^-1/2 (W symmetric with no self-loops; an isolated node keeps a unit
// diagonal), for the spectral embedding of sensor graphs. Two solvers:
//   dense     LAPACK dsyevr on the n x n matrix: O(n^2) memory, O(n^3) time; the choice
//             up to kDenseMaxNodes nodes (4,000 nodes: 128 MB and about 10 s);
//   filtered  Chebyshev-filtered subspace iteration (Zhou, Saad, Tiago & Chelikowsky,
//             J. Comput. Phys. 2006): a block of the wanted vectors plus a guard is
//             multiplied by a Chebyshev polynomial of L that damps the unwanted end of the
//             spectrum, orthonormalised, and rotated by a Rayleigh-Ritz step, until every
//             wanted pair's residual |L x - theta x| is below kResidualTolerance. Sparse
//             products only: O(n (count + guard)) memory. The Rayleigh-Ritz step finds
//             every copy of a repeated eigenvalue (grid graphs have many), which a
//             one-vector Lanczos iteration can miss.
// The spectrum of L lies in [0, 2], which bounds the filter without estimates.
#include <cstddef>
#include <vector>

#include "core/graph/csr_graph.hpp"

namespace tessera::models::st_forecast {

enum class EigenMethod { kAuto, kDense, kFiltered };

constexpr std::size_t kDenseMaxNodes = 4000;
constexpr double kResidualTolerance = 1e-10;

struct EigenStats {
  EigenMethod method = EigenMethod::kDense;
  int iterations = 0;        // filtered: outer iterations (filter + Rayleigh-Ritz)
  std::size_t products = 0;  // filtered: block products with L
  double max_residual = 0;   // largest |L x - theta x| over the pairs returned
};

// A symmetric weighted graph in CSR form (no self-loops, columns ascending in a row).
struct WeightedCsr {
  std::size_t nodes = 0;
  const std::vector<graph::Index>* row_ptr = nullptr;
  const std::vector<graph::Index>* col_idx = nullptr;
  const std::vector<double>* weights = nullptr;
};

// The off-diagonal entries of L, -D^-1/2 W D^-1/2, in the graph's CSR order (L's diagonal
// is 1 on every row, isolated nodes included). Shared by the Chebyshev operator
// (sensor_graph.cpp) and the eigen-solvers, so both see the same L.
std::vector<double> laplacian_off_diagonal(const WeightedCsr& graph);

struct Eigenpairs {
  std::vector<double> values;   // ascending
  std::vector<double> vectors;  // nodes x count, row-major, orthonormal columns
};

// The `count` smallest eigenpairs of L (count <= nodes; the filtered solver also needs
// a guard: count + guard < nodes). kAuto: dense up to kDenseMaxNodes nodes, filtered
// above. std::runtime_error when LAPACK fails or the iteration does not converge.
Eigenpairs smallest_laplacian_eigenpairs(const WeightedCsr& graph, std::size_t count,
                                         EigenMethod method = EigenMethod::kAuto,
                                         EigenStats* stats = nullptr);

}  // namespace tessera::models::st_forecast
