#pragma once
// Sparse matrices over a partition: each rank stores the rows of the nodes it owns, in
// CSR with columns in the HaloPlan's local numbering (owned nodes, then one-hop ghosts),
// sorted by global id so that every row sums in the same order on any rank count. The
// sparsity comes from the elements (two nodes couple when they share one), built once;
// assembly adds element matrices through a precomputed position table, so re-assembling
// the convection matrix every step costs no searching.
#include <memory>
#include <vector>

#include "core/parallel/halo_plan.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::solvers::flow {

// A distributed vector: local_count() x 1 (owned rows, then ghosts).
using Vec = tensor::Matrix<double>;

struct CsrPattern {
  std::size_t rows = 0;  // owned rows
  Kokkos::View<int*, tensor::MemSpace> row_ptr;
  Kokkos::View<int*, tensor::MemSpace> col;
  // For element e (of the list it was built from), entry (i, j) of its 6 x 6 matrix goes
  // to values[position[e * 36 + i * 6 + j]], or nowhere when -1 (row not owned here, or
  // i, j outside the row / column node sets).
  std::vector<int> position;
  // Position of (i, i) per owned row, -1 when absent.
  Kokkos::View<int*, tensor::MemSpace> diagonal;
  std::size_t nnz() const { return col.extent(0); }
};

// `local_elements` is E x 6 local node ids; `row_nodes` and `col_nodes` pick which of the
// six element nodes give rows and columns (vertices {0,1,2} for pressure). Every owned
// row gets its diagonal when `all_diagonals` (identity rows for nodes outside the set).
std::shared_ptr<const CsrPattern> build_pattern(const parallel::HaloPlan& plan,
                                                const std::vector<int>& local_elements,
                                                const std::array<bool, 6>& row_nodes,
                                                const std::array<bool, 6>& col_nodes,
                                                bool all_diagonals);

struct DistributedCsr {
  std::shared_ptr<const CsrPattern> pattern;
  Kokkos::View<double*, tensor::MemSpace> values;

  DistributedCsr() = default;
  DistributedCsr(std::shared_ptr<const CsrPattern> p, const std::string& label);
  // y(owned) = A x; x must have valid ghosts. y's ghosts are left alone.
  void apply(const Vec& x, const Vec& y) const;
  // y(owned) = A x as apply, returning this rank's sum of x_i y_i over the owned rows (the
  // dot product CG takes right after its product, in the same pass).
  double apply_and_dot(const Vec& x, const Vec& y) const;
  // sum over the given owned rows of (A x)_i: forces as residuals on obstacle nodes.
  double row_sum(const Vec& x, const Kokkos::View<int*, tensor::MemSpace>& rows) const;
  // Replaces rows (and, with `symmetric`, columns) of the nodes marked in `dirichlet`
  // (one entry per local node, owned then ghosts) by the identity. A kernel: the
  // momentum matrix gets its Dirichlet rows every step.
  void apply_dirichlet(const Kokkos::View<char*, tensor::MemSpace>& dirichlet, bool symmetric);
  // The diagonal of the owned rows (0 where the pattern has none) into `out` (rows()).
  void diagonal(const Kokkos::View<double*, tensor::MemSpace>& out) const;
  Kokkos::View<double*, tensor::MemSpace> diagonal() const;
};

}  // namespace tessera::solvers::flow
