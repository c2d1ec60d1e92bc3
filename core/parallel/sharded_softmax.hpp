#pragma once
// Softmaxes whose keys are spread over processes, merged exactly by log-sum-exp: each
// process holds, per row, the log-sum-exp of its own keys' scores and the outputs over
// them; the merged output is o = sum_r w_r o_r / sum_r w_r with w_r = exp(lse_r - top),
// top = max_r lse_r, and the merged lse = top + log sum_r w_r (as the sharded Hopfield
// memory does). Used by the mesh models' global tokens on a split mesh
// (nn::SplitQueryRows) and by attention whose keys are sharded (nn::KeyShard).
#include <mpi.h>

#include <cstddef>

#include "core/nn/dot_product_attention.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::parallel {

// `exchange(values, count)` on a host copy of a device matrix, written back: collectives
// staged through host memory, as the halo exchange is.
template <class T, class Exchange>
void through_host(const tensor::Matrix<T>& rows, const Exchange& exchange) {
  auto host = Kokkos::create_mirror_view(rows);
  Kokkos::deep_copy(host, rows);
  exchange(host.data(), static_cast<int>(host.size()));
  Kokkos::deep_copy(rows, host);
}

// Collective over comm. lse: rows x heads (-infinity where a process holds none of a
// row's keys), context: rows x dim (head h's outputs in columns h dim / heads ..): both
// become the merged ones, the same on every process (computed in double).
template <class T>
void merge_softmax(MPI_Comm comm, const tensor::Matrix<T>& lse, const tensor::Matrix<T>& context);

// Collective over comm: the matrix summed over the processes, in place (through host
// memory, as the halo exchange is).
template <class T>
void allreduce_sum(MPI_Comm comm, const tensor::Matrix<T>& values);

// This process's block of `keys` keys split over the processes of comm (contiguous
// blocks, the first keys % size processes one more), with the merge and the sum above.
template <class T>
nn::KeyShard<T> key_shard(MPI_Comm comm, std::size_t keys);

}  // namespace tessera::parallel
