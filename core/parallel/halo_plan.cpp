#include "core/parallel/halo_plan.hpp"

#include <algorithm>
#include <map>

#include "core/runtime/error.hpp"

namespace tessera::parallel {
namespace {

HaloPlanIndex to_device_index(const std::vector<int>& host_values) {
  HaloPlanIndex view("halo::index", host_values.size());
  auto host = Kokkos::create_mirror_view(view);
  for (std::size_t i = 0; i < host_values.size(); ++i) host(i) = host_values[i];
  Kokkos::deep_copy(view, host);
  return view;
}

}  // namespace

HaloPlan::HaloPlan(MPI_Comm comm, const graph::HostCsr& graph, const std::vector<int>& owner,
                   int hops)
    : comm_(comm), hops_(hops) {
  int size = 1;
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size);
  const std::size_t n = graph.num_nodes();
  if (owner.size() != n) {
    throw InputError(str("halo plan: ", owner.size(), " owners for a graph of ", n, " nodes"));
  }
  if (hops < 1) throw InputError(str("halo plan: hops = ", hops, ", expected >= 1"));
  for (std::size_t i = 0; i < n; ++i) {
    if (owner[i] < 0 || owner[i] >= size) {
      throw InputError(str("halo plan: node ", i, " is owned by part ", owner[i], " but there are ",
                           size, " ranks (the partition must have one part per rank)"));
    }
  }

  // Owned nodes, then the ghosts: other ranks' nodes within `hops` of an owned node,
  // found from the owned nodes that touch another rank.
  std::vector<int> distance(n, -1);
  std::vector<char> is_ghost(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    if (owner[i] != rank_) continue;
    global_ids_.push_back(static_cast<long long>(i));
    bool boundary = false;
    for (auto e = graph.row_ptr[i]; e < graph.row_ptr[i + 1] && !boundary; ++e) {
      boundary = owner[graph.col_idx[e]] != rank_;
    }
    if (!boundary) continue;
    for (auto v : graph::bounded_bfs(graph, static_cast<graph::Index>(i), hops, distance)) {
      distance[v] = -1;
      if (owner[v] != rank_) is_ghost[v] = 1;
    }
  }
  owned_ = global_ids_.size();
  std::map<int, std::vector<long long>> ghosts_by_owner;  // ordered by rank, ids ascending
  for (std::size_t i = 0; i < n; ++i) {
    if (is_ghost[i]) ghosts_by_owner[owner[i]].push_back(static_cast<long long>(i));
  }
  for (const auto& [rank, ids] : ghosts_by_owner) {
    global_ids_.insert(global_ids_.end(), ids.begin(), ids.end());
  }
  local_of_.reserve(global_ids_.size());
  for (std::size_t l = 0; l < global_ids_.size(); ++l) local_of_[global_ids_[l]] = l;

  // Tell each owner which of its nodes we hold as ghosts (counts, then the ids).
  std::vector<int> request_counts(size, 0);
  for (const auto& [rank, ids] : ghosts_by_owner)
    request_counts[rank] = static_cast<int>(ids.size());
  std::vector<int> incoming_counts(size, 0);
  MPI_Alltoall(request_counts.data(), 1, MPI_INT, incoming_counts.data(), 1, MPI_INT, comm_);
  std::vector<int> request_offsets(size + 1, 0), incoming_offsets(size + 1, 0);
  for (int r = 0; r < size; ++r) {
    request_offsets[r + 1] = request_offsets[r] + request_counts[r];
    incoming_offsets[r + 1] = incoming_offsets[r] + incoming_counts[r];
  }
  std::vector<long long> requests(request_offsets[size]);
  for (const auto& [rank, ids] : ghosts_by_owner) {
    std::copy(ids.begin(), ids.end(), requests.begin() + request_offsets[rank]);
  }
  std::vector<long long> incoming(incoming_offsets[size]);
  MPI_Alltoallv(requests.data(), request_counts.data(), request_offsets.data(), MPI_LONG_LONG,
                incoming.data(), incoming_counts.data(), incoming_offsets.data(), MPI_LONG_LONG,
                comm_);

  // Neighbours: ranks we receive from or send to, ascending.
  std::vector<int> send_rows, recv_rows;
  send_offsets_.push_back(0);
  recv_offsets_.push_back(0);
  for (int r = 0; r < size; ++r) {
    if (request_counts[r] == 0 && incoming_counts[r] == 0) continue;
    neighbours_.push_back(r);
    for (int k = incoming_offsets[r]; k < incoming_offsets[r + 1]; ++k) {
      const long long local = local_id(incoming[k]);
      if (local < 0 || static_cast<std::size_t>(local) >= owned_) {
        throw std::logic_error(str("halo plan: rank ", r, " asked rank ", rank_, " for node ",
                                   incoming[k], ", which it does not own"));
      }
      send_rows.push_back(static_cast<int>(local));
    }
    for (int k = request_offsets[r]; k < request_offsets[r + 1]; ++k) {
      recv_rows.push_back(static_cast<int>(local_id(requests[k])));
    }
    send_offsets_.push_back(send_rows.size());
    recv_offsets_.push_back(recv_rows.size());
  }
  send_index_ = to_device_index(send_rows);
  recv_index_ = to_device_index(recv_rows);
}

long long HaloPlan::local_id(long long global) const {
  auto it = local_of_.find(global);
  return it == local_of_.end() ? -1 : it->second;
}

graph::HostCsr HaloPlan::localize(const graph::HostCsr& global_graph) const {
  graph::HostCsr local;
  local.row_ptr.push_back(0);
  for (std::size_t l = 0; l < owned_; ++l) {
    const long long g = global_ids_[l];
    std::vector<graph::Index> row;
    for (auto e = global_graph.row_ptr[g]; e < global_graph.row_ptr[g + 1]; ++e) {
      const long long j = local_id(global_graph.col_idx[e]);
      if (j < 0) {
        throw InputError(str("halo plan of ", hops_, " hop(s): node ", g, " has neighbour ",
                             global_graph.col_idx[e],
                             " beyond the halo (a K-hop operator needs a plan of K hops)"));
      }
      row.push_back(static_cast<graph::Index>(j));
    }
    std::sort(row.begin(), row.end());
    local.col_idx.insert(local.col_idx.end(), row.begin(), row.end());
    local.row_ptr.push_back(static_cast<graph::Index>(local.col_idx.size()));
  }
  return local;
}

}  // namespace tessera::parallel
