#include "solvers/flow/distributed_csr.hpp"

#include <algorithm>
#include <numeric>

namespace tessera::solvers::flow {

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
  pattern->diagonal.assign(owned, -1);
  for (std::size_t r = 0; r < owned; ++r) {
    auto& row = rows[r];
    if (all_diagonals) row.push_back(static_cast<int>(r));
    std::sort(row.begin(), row.end(), [&](int a, int b) { return global[a] < global[b]; });
    row.erase(std::unique(row.begin(), row.end()), row.end());
    for (std::size_t k = 0; k < row.size(); ++k) {
      if (row[k] == static_cast<int>(r)) pattern->diagonal[r] = static_cast<int>(col.size() + k);
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
  pattern->row_ptr = Kokkos::View<int*, tensor::MemSpace>("flow::row_ptr", row_ptr.size());
  pattern->col = Kokkos::View<int*, tensor::MemSpace>("flow::col", col.size());
  auto hr = Kokkos::create_mirror_view(pattern->row_ptr);
  auto hc = Kokkos::create_mirror_view(pattern->col);
  std::copy(row_ptr.begin(), row_ptr.end(), hr.data());
  std::copy(col.begin(), col.end(), hc.data());
  Kokkos::deep_copy(pattern->row_ptr, hr);
  Kokkos::deep_copy(pattern->col, hc);
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
      KOKKOS_LAMBDA(const int i) {
        double sum = 0;
        for (int k = row_ptr(i); k < row_ptr(i + 1); ++k) sum += v(k) * x(col(k), 0);
        y(i, 0) = sum;
      });
}

double DistributedCsr::row_sum(const Vec& x, const std::vector<int>& rows) const {
  auto hr = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), pattern->row_ptr);
  auto hc = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), pattern->col);
  auto hv = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), values);
  auto hx = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), x);
  double sum = 0;
  for (int i : rows) {
    for (int k = hr(i); k < hr(i + 1); ++k) sum += hv(k) * hx(hc(k), 0);
  }
  return sum;
}

void DistributedCsr::apply_dirichlet(const std::vector<char>& dirichlet_local, bool symmetric) {
  auto hr = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), pattern->row_ptr);
  auto hc = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), pattern->col);
  auto hv = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), values);
  for (std::size_t i = 0; i < pattern->rows; ++i) {
    const bool row_fixed = dirichlet_local[i] != 0;
    for (int k = hr(i); k < hr(i + 1); ++k) {
      const bool col_fixed = dirichlet_local[hc(k)] != 0;
      if (row_fixed || (symmetric && col_fixed)) hv(k) = 0;
    }
    if (row_fixed) hv(pattern->diagonal[i]) = 1;
  }
  Kokkos::deep_copy(values, hv);
}

Kokkos::View<double*, tensor::MemSpace> DistributedCsr::diagonal() const {
  Kokkos::View<double*, tensor::MemSpace> d("flow::diagonal", pattern->rows);
  auto hd = Kokkos::create_mirror_view(d);
  auto hv = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), values);
  for (std::size_t i = 0; i < pattern->rows; ++i) {
    hd(i) = pattern->diagonal[i] >= 0 ? hv(pattern->diagonal[i]) : 0.0;
  }
  Kokkos::deep_copy(d, hd);
  return d;
}

}  // namespace tessera::solvers::flow
