#include "core/parallel/sharded_softmax.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "core/parallel/mpi_types.hpp"
#include "core/runtime/runtime.hpp"
#include "core/tensor/host_copy.hpp"

namespace tessera::parallel {

template <class T>
void merge_softmax(MPI_Comm comm, const tensor::Matrix<T>& lse, const tensor::Matrix<T>& context) {
  const std::size_t rows = lse.extent(0), heads = lse.extent(1), dim = context.extent(1);
  const std::size_t dh = dim / heads;
  const std::vector<double> local_lse = tensor::to_host(lse), local_out = tensor::to_host(context);
  std::vector<double> top = local_lse;
  MPI_Allreduce(MPI_IN_PLACE, top.data(), static_cast<int>(top.size()), MPI_DOUBLE, MPI_MAX, comm);
  // One reduction: the weights (rows x heads), then the weighted outputs (rows x dim).
  std::vector<double> sums(rows * heads + rows * dim, 0.0);
  constexpr double kNone = -std::numeric_limits<double>::infinity();
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t h = 0; h < heads; ++h) {
      const std::size_t at = r * heads + h;
      const double w = local_lse[at] == kNone ? 0.0 : std::exp(local_lse[at] - top[at]);
      sums[at] = w;
      for (std::size_t c = h * dh; c < (h + 1) * dh; ++c) {
        sums[rows * heads + r * dim + c] = w * local_out[r * dim + c];
      }
    }
  }
  MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_DOUBLE, MPI_SUM,
                comm);
  auto lse_host = Kokkos::create_mirror_view(lse);
  auto out_host = Kokkos::create_mirror_view(context);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t h = 0; h < heads; ++h) {
      const std::size_t at = r * heads + h;
      const double total = sums[at];  // 0: no rank holds a key of this row
      lse_host(r, h) = static_cast<T>(total > 0 ? top[at] + std::log(total) : kNone);
      for (std::size_t c = h * dh; c < (h + 1) * dh; ++c) {
        out_host(r, c) = static_cast<T>(total > 0 ? sums[rows * heads + r * dim + c] / total : 0.0);
      }
    }
  }
  Kokkos::deep_copy(lse, lse_host);
  Kokkos::deep_copy(context, out_host);
}

template <class T>
void allreduce_sum(MPI_Comm comm, const tensor::Matrix<T>& values) {
  through_host(values, [&](T* data, int count) {
    MPI_Allreduce(MPI_IN_PLACE, data, count, mpi_type<T>(), MPI_SUM, comm);
  });
}

template <class T>
nn::KeyShard<T> key_shard(MPI_Comm comm, std::size_t keys) {
  const auto size = static_cast<std::size_t>(runtime::comm_size(comm));
  const auto rank = static_cast<std::size_t>(runtime::comm_rank(comm));
  nn::KeyShard<T> shard;
  const std::size_t base = keys / size, extra = keys % size;
  shard.first = rank * base + std::min(rank, extra);
  shard.count = base + (rank < extra ? 1 : 0);
  shard.merge = [comm](const tensor::Matrix<T>& lse, const tensor::Matrix<T>& context) {
    merge_softmax(comm, lse, context);
  };
  shard.sum = [comm](const tensor::Matrix<T>& values) { allreduce_sum(comm, values); };
  return shard;
}

#define TESSERA_SHARDED_SOFTMAX(T)                                                           \
  template void merge_softmax(MPI_Comm, const tensor::Matrix<T>&, const tensor::Matrix<T>&); \
  template void allreduce_sum(MPI_Comm, const tensor::Matrix<T>&);                           \
  template nn::KeyShard<T> key_shard(MPI_Comm, std::size_t);
TESSERA_SHARDED_SOFTMAX(float)
TESSERA_SHARDED_SOFTMAX(double)
#undef TESSERA_SHARDED_SOFTMAX

}  // namespace tessera::parallel
