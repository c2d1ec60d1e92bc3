#pragma once
// Halo exchange for domain decomposition (the flow solver with one hop, the mesh
// transformer with K hops). Each rank owns the graph nodes a partition gives it and
// keeps ghost copies of the nodes within K hops of them. Local numbering: owned nodes
// first (ascending global id), then ghosts (grouped by owner rank, ascending global id).
//   gather:      owners -> ghosts (before a layer or a stencil);
//   scatter_add: ghosts -> owners, added (the backward pass of gather); ghosts zeroed.
// Both post all receives first, then the sends (Cabana's pattern), and stage through
// host memory unless TESSERA_GPU_AWARE_MPI is defined. Any number of components per node.
#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <map>
#include <unordered_map>
#include <vector>

#include "core/graph/neighbourhoods.hpp"
#include "core/parallel/communicator.hpp"
#include "core/parallel/mpi_types.hpp"
#include "core/parallel/owned_rows.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::parallel {

using HaloPlanIndex = Kokkos::View<int*, Kokkos::LayoutRight, tensor::MemSpace>;

class HaloPlan {
 public:
  // Collective. Every rank passes the same global graph and owner array (replicated on
  // each rank: simple, and fine up to a few million nodes); rank r owns the nodes with
  // owner == r. InputError when owner names a rank outside the communicator.
  HaloPlan(MPI_Comm comm, const graph::HostCsr& graph, const std::vector<int>& owner, int hops);
  // Collective. From each rank's own rows only (one hop: the ghosts are the columns of
  // its rows that other ranks own; for a K-hop operator pass the rows of its K-hop
  // graph: k_hop_rows). No rank holds a global array: the owner of a ghost is found
  // through an OwnerDirectory (owned_rows.hpp). The plan equals the
  // replicated constructor's for the same graph and owners (hops = 1). InputError on
  // every rank, with the first offending rank's message, when the ids are not ascending,
  // a node is owned twice or not at all, or a column is outside 0 .. n-1.
  HaloPlan(MPI_Comm comm, const OwnedRows& rows);

  int hops() const { return hops_; }
  // The plan's own duplicate of the caller's communicator.
  MPI_Comm comm() const { return comm_; }
  std::size_t owned_count() const { return owned_; }
  std::size_t ghost_count() const { return global_ids_.size() - owned_; }
  std::size_t local_count() const { return global_ids_.size(); }
  // Local index -> global node id.
  const std::vector<long long>& global_ids() const { return global_ids_; }
  // Global node id -> local index, or -1 when this rank holds no copy.
  long long local_id(long long global) const;
  // The ranks this rank exchanges with, and how many rows it sends and receives.
  const std::vector<int>& neighbours() const { return neighbours_; }
  std::size_t rows_sent() const { return send_index_.extent(0); }
  std::size_t rows_received() const { return recv_index_.extent(0); }

  // The owned rows of a global graph, columns in local numbering: the operator a rank
  // applies after gather. InputError when a neighbourhood reaches beyond the halo (a
  // K-hop operator needs a plan of at least K hops).
  // `edges` (optional): for each local edge, the index of the edge of global_graph it is
  // (or, for rows, its index in rows.columns), to pick per-edge features.
  graph::HostCsr localize(const graph::HostCsr& global_graph,
                          std::vector<std::size_t>* edges = nullptr) const;
  // The same from this rank's own rows (those the plan was made from, or another graph's
  // on the same owned nodes).
  graph::HostCsr localize(const OwnedRows& rows, std::vector<std::size_t>* edges = nullptr) const;

  // `values` has local_count() rows. Collective.
  template <class T>
  void gather(const tensor::Matrix<T>& values) const {
    exchange(values, false);
  }
  template <class T>
  void scatter_add(const tensor::Matrix<T>& values) const {
    exchange(values, true);
    const tensor::Matrix<T> v = values;
    const std::size_t cols = values.extent(1);
    Kokkos::parallel_for(
        "parallel::halo_zero_ghosts",
        Kokkos::RangePolicy<tensor::ExecSpace>(owned_, global_ids_.size()),
        KOKKOS_LAMBDA(const int i) {
          for (std::size_t c = 0; c < cols; ++c) v(i, c) = T(0);
        });
  }

  // Forward: pack owned rows (send_index_) -> unpack into ghost rows (recv_index_).
  // Reverse: pack ghost rows (recv_index_) -> add into owned rows (send_index_).
  // Public only for nvcc, which cannot compile a device lambda inside a private or
  // protected member function; callers use gather and scatter_add.
  template <class T>
  void exchange(const tensor::Matrix<T>& values, bool reverse) const;

 private:
  // The rest of a plan once the owned ids (global_ids_) and the ghosts, grouped by their
  // owner in rank order and ascending within it, are known. Collective.
  void connect(const std::map<int, std::vector<long long>>& ghosts_by_owner);

  parallel::Communicator comm_;  // a duplicate of the caller's
  int rank_ = 0;
  int hops_ = 1;
  std::size_t owned_ = 0;
  std::vector<long long> global_ids_;
  std::unordered_map<long long, long long> local_of_;
  std::vector<int> neighbours_;
  // Per neighbour k: rows [send_offsets_[k], send_offsets_[k+1]) of send_index_ (owned
  // rows it needs from us) and [recv_offsets_[k], recv_offsets_[k+1]) of recv_index_
  // (our ghost rows it owns), in the same order on both sides.
  std::vector<std::size_t> send_offsets_, recv_offsets_;
  HaloPlanIndex send_index_, recv_index_;

  // Pack and receive buffers kept from one exchange to the next and grown when one needs
  // more; bytes, so that one pair serves every element type. An exchange then allocates
  // nothing: a solver step makes thousands of them, and on a GPU an allocation costs more
  // than the exchange. Not for exchanges on one plan from several host threads at once.
  struct Buffers {
    Kokkos::View<char*, tensor::MemSpace> send, receive;
    Kokkos::View<char*, tensor::MemSpace>::HostMirror send_host, receive_host;
  };
  mutable Buffers buffers_;
  void reserve_buffers(std::size_t send_bytes, std::size_t receive_bytes) const;
};

template <class T>
void HaloPlan::exchange(const tensor::Matrix<T>& values, bool reverse) const {
  if (values.extent(0) != local_count()) {
    throw std::invalid_argument(str("halo exchange: ", values.extent(0), " rows for a plan with ",
                                    local_count(), " local nodes"));
  }
  const std::size_t cols = values.extent(1);
  const HaloPlanIndex pack_index = reverse ? recv_index_ : send_index_;
  const HaloPlanIndex unpack_index = reverse ? send_index_ : recv_index_;
  const std::vector<std::size_t>& pack_offsets = reverse ? recv_offsets_ : send_offsets_;
  const std::vector<std::size_t>& unpack_offsets = reverse ? send_offsets_ : recv_offsets_;

  if (neighbours_.empty()) return;  // one rank, or a part with no halo: nothing to move

  const std::size_t send_count = pack_index.extent(0) * cols;
  const std::size_t recv_count = unpack_index.extent(0) * cols;
  reserve_buffers(send_count * sizeof(T), recv_count * sizeof(T));
  using Unmanaged = Kokkos::MemoryTraits<Kokkos::Unmanaged>;
  const Kokkos::View<T*, tensor::MemSpace, Unmanaged> send_buffer(
      reinterpret_cast<T*>(buffers_.send.data()), send_count);
  const Kokkos::View<T*, tensor::MemSpace, Unmanaged> recv_buffer(
      reinterpret_cast<T*>(buffers_.receive.data()), recv_count);
  Kokkos::parallel_for(
      "parallel::halo_pack", Kokkos::RangePolicy<tensor::ExecSpace>(0, pack_index.extent(0)),
      KOKKOS_LAMBDA(const int r) {
        for (std::size_t c = 0; c < cols; ++c) send_buffer(r * cols + c) = values(pack_index(r), c);
      });
  Kokkos::fence();
#ifdef TESSERA_GPU_AWARE_MPI
  T* send_data = send_buffer.data();
  T* recv_data = recv_buffer.data();
#else
  const Kokkos::View<T*, Kokkos::HostSpace, Unmanaged> send_host(
      reinterpret_cast<T*>(buffers_.send_host.data()), send_count);
  const Kokkos::View<T*, Kokkos::HostSpace, Unmanaged> recv_host(
      reinterpret_cast<T*>(buffers_.receive_host.data()), recv_count);
  Kokkos::deep_copy(send_host, send_buffer);
  T* send_data = send_host.data();
  T* recv_data = recv_host.data();
#endif
  const int tag = reverse ? 7202 : 7201;
  std::vector<MPI_Request> requests;
  requests.reserve(2 * neighbours_.size());
  for (std::size_t k = 0; k < neighbours_.size(); ++k) {
    const std::size_t count = (unpack_offsets[k + 1] - unpack_offsets[k]) * cols;
    if (count == 0) continue;
    requests.emplace_back();
    MPI_Irecv(recv_data + unpack_offsets[k] * cols, static_cast<int>(count), mpi_type<T>(),
              neighbours_[k], tag, comm_, &requests.back());
  }
  for (std::size_t k = 0; k < neighbours_.size(); ++k) {
    const std::size_t count = (pack_offsets[k + 1] - pack_offsets[k]) * cols;
    if (count == 0) continue;
    requests.emplace_back();
    MPI_Isend(send_data + pack_offsets[k] * cols, static_cast<int>(count), mpi_type<T>(),
              neighbours_[k], tag, comm_, &requests.back());
  }
  MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE);
#ifndef TESSERA_GPU_AWARE_MPI
  Kokkos::deep_copy(recv_buffer, recv_host);
#endif
  if (!reverse) {
    Kokkos::parallel_for(
        "parallel::halo_unpack", Kokkos::RangePolicy<tensor::ExecSpace>(0, unpack_index.extent(0)),
        KOKKOS_LAMBDA(const int r) {
          for (std::size_t c = 0; c < cols; ++c)
            values(unpack_index(r), c) = recv_buffer(r * cols + c);
        });
  } else {
    // An owned row may be a ghost on several neighbours: add one neighbour at a time so
    // that no two threads add into the same row (rows are distinct within a neighbour).
    for (std::size_t k = 0; k < neighbours_.size(); ++k) {
      Kokkos::parallel_for(
          "parallel::halo_unpack_add",
          Kokkos::RangePolicy<tensor::ExecSpace>(unpack_offsets[k], unpack_offsets[k + 1]),
          KOKKOS_LAMBDA(const int r) {
            for (std::size_t c = 0; c < cols; ++c) {
              values(unpack_index(r), c) += recv_buffer(r * cols + c);
            }
          });
    }
  }
  Kokkos::fence();
}

}  // namespace tessera::parallel
