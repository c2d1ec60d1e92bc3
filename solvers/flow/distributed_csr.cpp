#include "solvers/flow/distributed_csr.hpp"

#include <algorithm>
#include <numeric>

#include "core/tensor/host_copy.hpp"

namespace tessera::solvers::flow {
namespace {

// (A x)_i of owned row i, summed along the row in column order.
template <class Index, class Values>
KOKKOS_INLINE_FUNCTION double row_product(const Index& row_ptr, const Index& col, const Values& v,
                                          const Vec& x, int i) {
  double sum = 0;
  for (int k = row_ptr(i); k < row_ptr(i + 1); ++k) sum += v(k) * x(col(k), 0);
  return sum;
}

}  // namespace

std::shared_ptr<const CsrPattern> build_pattern(const parallel::HaloPlan& plan,
                                                const std::vector<int>& local_elements,
                                                const std::array<bool, 6>& row_nodes,
                                                const std::array<bool, 6>& col_nodes,
                                                bool all_diagonals) {
  const std::size_t owned = plan.owned_count();
  const auto& global = plan.global_ids();
  const std::size_t elements = local_elements.size() / 6;
  std::vector<std::vector<int>> rows(owned);
  for (std::size_t e = 0; e < elements; ++e) {
    for (int i = 0; i < 6; ++i) {
      const int r = local_elements[e * 6 + i];
      if (!row_nodes[i] || r >= static_cast<int>(owned)) continue;
      for (int j = 0; j < 6; ++j) {
        if (col_nodes[j]) rows[r].push_back(local_elements[e * 6 + j]);
      }
    }
  }
  auto pattern = std::make_shared<CsrPattern>();
  pattern->rows = owned;
  std::vector<int> row_ptr(owned + 1, 0), col;
  std::vector<int> diagonal(owned, -1);
  for (std::size_t r = 0; r < owned; ++r) {
    auto& row = rows[r];
    if (all_diagonals) row.push_back(static_cast<int>(r));
    std::sort(row.begin(), row.end(), [&](int a, int b) { return global[a] < global[b]; });
    row.erase(std::unique(row.begin(), row.end()), row.end());
    for (std::size_t k = 0; k < row.size(); ++k) {
      if (row[k] == static_cast<int>(r)) diagonal[r] = static_cast<int>(col.size() + k);
    }
    col.insert(col.end(), row.begin(), row.end());
    row_ptr[r + 1] = static_cast<int>(col.size());
  }
  pattern->position.assign(elements * 36, -1);
  for (std::size_t e = 0; e < elements; ++e) {
    for (int i = 0; i < 6; ++i) {
      const int r = local_elements[e * 6 + i];
      if (!row_nodes[i] || r >= static_cast<int>(owned)) continue;
      for (int j = 0; j < 6; ++j) {
        if (!col_nodes[j]) continue;
        const int c = local_elements[e * 6 + j];
        const auto begin = col.begin() + row_ptr[r];
        const auto end = col.begin() + row_ptr[r + 1];
        const auto it =
            std::lower_bound(begin, end, c, [&](int a, int b) { return global[a] < global[b]; });
        pattern->position[e * 36 + i * 6 + j] = static_cast<int>(it - col.begin());
      }
    }
  }
  pattern->row_ptr = tensor::to_device(row_ptr, "flow::row_ptr");
  pattern->col = tensor::to_device(col, "flow::col");
  pattern->diagonal = tensor::to_device(diagonal, "flow::diagonal_position");
  return pattern;
}

DistributedCsr::DistributedCsr(std::shared_ptr<const CsrPattern> p, const std::string& label)
    : pattern(std::move(p)), values(label, pattern->nnz()) {}

void DistributedCsr::apply(const Vec& x, const Vec& y) const {
  const auto row_ptr = pattern->row_ptr;
  const auto col = pattern->col;
  const auto v = values;
  Kokkos::parallel_for(
      "flow::spmv", Kokkos::RangePolicy<tensor::ExecSpace>(0, pattern->rows),
      KOKKOS_LAMBDA(const int i) { y(i, 0) = row_product(row_ptr, col, v, x, i); });
}

double DistributedCsr::apply_and_dot(const Vec& x, const Vec& y) const {
  const auto row_ptr = pattern->row_ptr;
  const auto col = pattern->col;
  const auto v = values;
  double sum = 0;
  Kokkos::parallel_reduce(
      "flow::spmv_dot", Kokkos::RangePolicy<tensor::ExecSpace>(0, pattern->rows),
      KOKKOS_LAMBDA(const int i, double& partial) {
        const double row = row_product(row_ptr, col, v, x, i);
        y(i, 0) = row;
        partial += x(i, 0) * row;
      },
      sum);
  return sum;
}

double DistributedCsr::row_sum(const Vec& x,
                               const Kokkos::View<int*, tensor::MemSpace>& rows) const {
  const auto row_ptr = pattern->row_ptr;
  const auto col = pattern->col;
  const auto v = values;
  double sum = 0;
  Kokkos::parallel_reduce(
      "flow::row_sum", Kokkos::RangePolicy<tensor::ExecSpace>(0, rows.extent(0)),
      KOKKOS_LAMBDA(const int k, double& partial) {
        partial += row_product(row_ptr, col, v, x, rows(k));
      },
      sum);
  return sum;
}

void DistributedCsr::apply_dirichlet(const Kokkos::View<char*, tensor::MemSpace>& dirichlet,
                                     bool symmetric) {
  const auto row_ptr = pattern->row_ptr;
  const auto col = pattern->col;
  const auto diagonal = pattern->diagonal;
  const auto v = values;
  Kokkos::parallel_for(
      "flow::apply_dirichlet", Kokkos::RangePolicy<tensor::ExecSpace>(0, pattern->rows),
      KOKKOS_LAMBDA(const int i) {
        const bool row_fixed = dirichlet(i) != 0;
        for (int k = row_ptr(i); k < row_ptr(i + 1); ++k) {
          if (row_fixed || (symmetric && dirichlet(col(k)) != 0)) v(k) = 0;
        }
        if (row_fixed) v(diagonal(i)) = 1;
      });
}

void DistributedCsr::diagonal(const Kokkos::View<double*, tensor::MemSpace>& out) const {
  const auto position = pattern->diagonal;
  const auto v = values;
  Kokkos::parallel_for(
      "flow::diagonal", Kokkos::RangePolicy<tensor::ExecSpace>(0, pattern->rows),
      KOKKOS_LAMBDA(const int i) { out(i) = position(i) >= 0 ? v(position(i)) : 0.0; });
}

Kokkos::View<double*, tensor::MemSpace> DistributedCsr::diagonal() const {
  Kokkos::View<double*, tensor::MemSpace> d("flow::diagonal", pattern->rows);
  diagonal(d);
  return d;
}

}  // namespace tessera::solvers::flow
