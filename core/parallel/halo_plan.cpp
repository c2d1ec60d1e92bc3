#include "core/parallel/halo_plan.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"
#include "core/tensor/host_copy.hpp"

namespace tessera::parallel {
HaloPlan::HaloPlan(MPI_Comm comm, const OwnedRows& rows) : comm_(comm), hops_(1) {
  MPI_Comm_rank(comm_, &rank_);
  const OwnerDirectory directory(comm_, rows.ids);  // checks the ids on every rank
  const long long n = directory.nodes();
  std::string problem;
  if (rows.row_ptr.size() != rows.ids.size() + 1) {
    problem = str("halo plan: ", rows.ids.size(), " owned nodes with ", rows.row_ptr.size(),
                  " row offsets (expected one more)");
  } else if (rows.row_ptr.back() != rows.columns.size()) {
    problem = str("halo plan: the row offsets end at ", rows.row_ptr.back(), " of ",
                  rows.columns.size(), " columns");
  }
  for (std::size_t k = 0; k < rows.columns.size() && problem.empty(); ++k) {
    if (rows.columns[k] < 0 || rows.columns[k] >= n) {
      problem = str("halo plan: a row reads node ", rows.columns[k], ", outside 0 .. ", n - 1,
                    " (the nodes of all ranks)");
    }
  }
  throw_if_any(comm_, problem);

  // The ghosts: the columns owned elsewhere, distinct and ascending, by owner.
  global_ids_ = rows.ids;
  std::vector<long long> ghosts;
  for (long long g : rows.columns) {
    if (!std::binary_search(rows.ids.begin(), rows.ids.end(), g)) ghosts.push_back(g);
  }
  std::sort(ghosts.begin(), ghosts.end());
  ghosts.erase(std::unique(ghosts.begin(), ghosts.end()), ghosts.end());
  const std::vector<int> owners = directory.owners(ghosts);
  std::map<int, std::vector<long long>> ghosts_by_owner;
  for (std::size_t k = 0; k < ghosts.size(); ++k) ghosts_by_owner[owners[k]].push_back(ghosts[k]);
  connect(ghosts_by_owner);
}

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
  std::map<int, std::vector<long long>> ghosts_by_owner;  // ordered by rank, ids ascending
  for (std::size_t i = 0; i < n; ++i) {
    if (is_ghost[i]) ghosts_by_owner[owner[i]].push_back(static_cast<long long>(i));
  }
  connect(ghosts_by_owner);
}

void HaloPlan::reserve_buffers(std::size_t send_bytes, std::size_t receive_bytes) const {
  if (buffers_.send.extent(0) < send_bytes) {
    buffers_.send = Kokkos::View<char*, tensor::MemSpace>("halo::send", send_bytes);
    buffers_.send_host = Kokkos::create_mirror_view(buffers_.send);
  }
  if (buffers_.receive.extent(0) < receive_bytes) {
    buffers_.receive = Kokkos::View<char*, tensor::MemSpace>("halo::receive", receive_bytes);
    buffers_.receive_host = Kokkos::create_mirror_view(buffers_.receive);
  }
}

void HaloPlan::connect(const std::map<int, std::vector<long long>>& ghosts_by_owner) {
  const int size = runtime::comm_size(comm_);
  owned_ = global_ids_.size();
  for (const auto& [rank, ids] : ghosts_by_owner) {
    global_ids_.insert(global_ids_.end(), ids.begin(), ids.end());
  }
  local_of_.reserve(global_ids_.size());
  for (std::size_t l = 0; l < global_ids_.size(); ++l) local_of_[global_ids_[l]] = l;

  // Tell each owner which of its nodes we hold as ghosts.
  std::vector<std::vector<long long>> requests(static_cast<std::size_t>(size));
  for (const auto& [rank, ids] : ghosts_by_owner) requests[rank] = ids;
  const std::vector<std::vector<long long>> incoming = exchange_lists(comm_, requests);

  // Neighbours: ranks we receive from or send to, ascending.
  std::vector<int> send_rows, recv_rows;
  send_offsets_.push_back(0);
  recv_offsets_.push_back(0);
  for (int r = 0; r < size; ++r) {
    if (requests[r].empty() && incoming[r].empty()) continue;
    neighbours_.push_back(r);
    for (const long long g : incoming[r]) {
      const long long local = local_id(g);
      if (local < 0 || static_cast<std::size_t>(local) >= owned_) {
        throw std::logic_error(str("halo plan: rank ", r, " asked rank ", rank_, " for node ", g,
                                   ", which it does not own"));
      }
      send_rows.push_back(static_cast<int>(local));
    }
    for (const long long g : requests[r]) recv_rows.push_back(static_cast<int>(local_id(g)));
    send_offsets_.push_back(send_rows.size());
    recv_offsets_.push_back(recv_rows.size());
  }
  send_index_ = tensor::to_device(send_rows, "halo::send_index");
  recv_index_ = tensor::to_device(recv_rows, "halo::recv_index");
}

long long HaloPlan::local_id(long long global) const {
  auto it = local_of_.find(global);
  return it == local_of_.end() ? -1 : it->second;
}

graph::HostCsr HaloPlan::localize(const OwnedRows& rows, std::vector<std::size_t>* edges) const {
  if (rows.ids != std::vector<long long>(global_ids_.begin(), global_ids_.begin() + owned_)) {
    throw std::invalid_argument("halo plan: localize rows of other owned nodes than the plan's");
  }
  graph::HostCsr local;
  local.row_ptr.push_back(0);
  if (edges) edges->clear();
  std::vector<std::pair<graph::Index, std::size_t>> row;  // (local column, edge)
  for (std::size_t l = 0; l < owned_; ++l) {
    row.clear();
    for (std::size_t e = rows.row_ptr[l]; e < rows.row_ptr[l + 1]; ++e) {
      const long long j = local_id(rows.columns[e]);
      if (j < 0) {
        throw InputError(str("halo plan of ", hops_, " hop(s): node ", rows.ids[l],
                             " has neighbour ", rows.columns[e],
                             " beyond the halo (a K-hop operator needs a plan of K hops)"));
      }
      row.emplace_back(static_cast<graph::Index>(j), e);
    }
    std::sort(row.begin(), row.end());
    for (const auto& [column, edge] : row) {
      local.col_idx.push_back(column);
      if (edges) edges->push_back(edge);
    }
    local.row_ptr.push_back(static_cast<graph::Index>(local.col_idx.size()));
  }
  return local;
}

graph::HostCsr HaloPlan::localize(const graph::HostCsr& global_graph,
                                  std::vector<std::size_t>* edges) const {
  OwnedRows rows;                        // this rank's rows of the global graph
  std::vector<std::size_t> global_edge;  // of each of rows.columns
  rows.ids.assign(global_ids_.begin(), global_ids_.begin() + static_cast<std::ptrdiff_t>(owned_));
  for (const long long g : rows.ids) {
    for (auto e = global_graph.row_ptr[g]; e < global_graph.row_ptr[g + 1]; ++e) {
      rows.columns.push_back(global_graph.col_idx[e]);
      global_edge.push_back(static_cast<std::size_t>(e));
    }
    rows.row_ptr.push_back(rows.columns.size());
  }
  graph::HostCsr local = localize(rows, edges);
  if (edges) {
    for (std::size_t& e : *edges) e = global_edge[e];
  }
  return local;
}

}  // namespace tessera::parallel
