#include "core/parallel/halo_plan.hpp"

#include <algorithm>
#include <map>

#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"

namespace tessera::parallel {
namespace {

HaloPlanIndex to_device_index(const std::vector<int>& host_values) {
  HaloPlanIndex view("halo::index", host_values.size());
  auto host = Kokkos::create_mirror_view(view);
  for (std::size_t i = 0; i < host_values.size(); ++i) host(i) = host_values[i];
  Kokkos::deep_copy(view, host);
  return view;
}

// Every rank learns whether any rank found a problem; all throw the first one's message.
void throw_if_any(MPI_Comm comm, const std::string& problem) {
  const int rank = runtime::comm_rank(comm);
  int first = problem.empty() ? runtime::comm_size(comm) : rank;
  MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == runtime::comm_size(comm)) return;
  int length = static_cast<int>(problem.size());
  MPI_Bcast(&length, 1, MPI_INT, first, comm);
  std::string message =
      rank == first ? problem : std::string(static_cast<std::size_t>(length), ' ');
  MPI_Bcast(message.data(), length, MPI_CHAR, first, comm);
  throw InputError(first == 0 ? message : str("rank ", first, ": ", message));
}

// Alltoallv of long longs: `out[r]` to rank r; returns what each rank sent here.
std::vector<std::vector<long long>> exchange_lists(MPI_Comm comm,
                                                   const std::vector<std::vector<long long>>& out) {
  const int size = runtime::comm_size(comm);
  std::vector<int> send_counts(size), recv_counts(size), send_offsets(size + 1, 0),
      recv_offsets(size + 1, 0);
  for (int r = 0; r < size; ++r) send_counts[r] = static_cast<int>(out[r].size());
  MPI_Alltoall(send_counts.data(), 1, MPI_INT, recv_counts.data(), 1, MPI_INT, comm);
  for (int r = 0; r < size; ++r) {
    send_offsets[r + 1] = send_offsets[r] + send_counts[r];
    recv_offsets[r + 1] = recv_offsets[r] + recv_counts[r];
  }
  std::vector<long long> send(static_cast<std::size_t>(send_offsets[size])),
      recv(static_cast<std::size_t>(recv_offsets[size]));
  for (int r = 0; r < size; ++r)
    std::copy(out[r].begin(), out[r].end(), send.begin() + send_offsets[r]);
  MPI_Alltoallv(send.data(), send_counts.data(), send_offsets.data(), MPI_LONG_LONG, recv.data(),
                recv_counts.data(), recv_offsets.data(), MPI_LONG_LONG, comm);
  std::vector<std::vector<long long>> in(static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r) {
    in[r].assign(recv.begin() + recv_offsets[r], recv.begin() + recv_offsets[r + 1]);
  }
  return in;
}

}  // namespace

HaloPlan::HaloPlan(MPI_Comm comm, const OwnedRows& rows) : comm_(comm), hops_(1) {
  MPI_Comm_rank(comm_, &rank_);
  const int size = runtime::comm_size(comm_);
  // n: the nodes of all ranks together; node g's directory entry lives on rank g P / n.
  long long n = static_cast<long long>(rows.ids.size());
  MPI_Allreduce(MPI_IN_PLACE, &n, 1, MPI_LONG_LONG, MPI_SUM, comm_);
  const auto directory_rank = [&](long long g) {
    return static_cast<int>(g * size / std::max(n, 1LL));  // < 2^63 below 10^12 nodes
  };
  const auto directory_first = [&](int r) {  // the first id of rank r's directory block
    return (static_cast<long long>(r) * n + size - 1) / size;
  };

  std::string problem;
  if (rows.row_ptr.size() != rows.ids.size() + 1 || rows.row_ptr.back() != rows.columns.size()) {
    problem = str("halo plan: ", rows.ids.size(), " owned nodes with ", rows.row_ptr.size(),
                  " row offsets (expected one more) ending at ", rows.row_ptr.back(), " of ",
                  rows.columns.size(), " columns");
  }
  for (std::size_t i = 0; i < rows.ids.size() && problem.empty(); ++i) {
    if (rows.ids[i] < 0 || rows.ids[i] >= n || (i > 0 && rows.ids[i] <= rows.ids[i - 1])) {
      problem = str("halo plan: owned node ", rows.ids[i], " at position ", i,
                    ": expected ids ascending, in 0 .. ", n - 1, " (the nodes of all ranks)");
    }
  }
  for (std::size_t k = 0; k < rows.columns.size() && problem.empty(); ++k) {
    if (rows.columns[k] < 0 || rows.columns[k] >= n) {
      problem = str("halo plan: a row reads node ", rows.columns[k], ", outside 0 .. ", n - 1,
                    " (the nodes of all ranks)");
    }
  }
  throw_if_any(comm_, problem);

  // The directory: each owned id to its directory rank, which records the owner.
  std::vector<std::vector<long long>> out(static_cast<std::size_t>(size));
  for (long long g : rows.ids) out[directory_rank(g)].push_back(g);
  const std::vector<std::vector<long long>> registered = exchange_lists(comm_, out);
  const long long first = directory_first(rank_);
  std::vector<int> directory(static_cast<std::size_t>(directory_first(rank_ + 1) - first), -1);
  for (int r = 0; r < size; ++r) {
    for (long long g : registered[r]) {
      int& entry = directory[static_cast<std::size_t>(g - first)];
      if (entry >= 0 && problem.empty()) {
        problem = str("halo plan: node ", g, " is owned by ranks ", entry, " and ", r);
      }
      entry = r;
    }
  }
  // n ids in 0 .. n-1, none twice: every node has its owner.
  throw_if_any(comm_, problem);

  // The ghosts: the columns owned elsewhere, distinct; ask the directory for their owners.
  global_ids_ = rows.ids;
  std::vector<long long> ghosts;
  for (long long g : rows.columns) {
    if (!std::binary_search(rows.ids.begin(), rows.ids.end(), g)) ghosts.push_back(g);
  }
  std::sort(ghosts.begin(), ghosts.end());
  ghosts.erase(std::unique(ghosts.begin(), ghosts.end()), ghosts.end());
  for (auto& list : out) list.clear();
  for (long long g : ghosts) out[directory_rank(g)].push_back(g);
  const std::vector<std::vector<long long>> questions = exchange_lists(comm_, out);
  std::vector<std::vector<long long>> answers(static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r) {
    for (long long g : questions[r])
      answers[r].push_back(directory[static_cast<std::size_t>(g - first)]);
  }
  const std::vector<std::vector<long long>> owners = exchange_lists(comm_, answers);
  std::map<int, std::vector<long long>> ghosts_by_owner;
  for (int r = 0; r < size; ++r) {
    for (std::size_t k = 0; k < out[r].size(); ++k) {
      // Ascending within each owner: the questions went out in ascending order.
      ghosts_by_owner[static_cast<int>(owners[r][k])].push_back(out[r][k]);
    }
  }
  for (auto& [owner, ids] : ghosts_by_owner) std::sort(ids.begin(), ids.end());
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

void HaloPlan::connect(const std::map<int, std::vector<long long>>& ghosts_by_owner) {
  const int size = runtime::comm_size(comm_);
  owned_ = global_ids_.size();
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

graph::HostCsr HaloPlan::localize(const OwnedRows& rows) const {
  if (rows.ids != std::vector<long long>(global_ids_.begin(), global_ids_.begin() + owned_)) {
    throw std::invalid_argument("halo plan: localize rows of other owned nodes than the plan's");
  }
  graph::HostCsr local;
  local.row_ptr.push_back(0);
  for (std::size_t l = 0; l < owned_; ++l) {
    std::vector<graph::Index> row;
    for (std::size_t e = rows.row_ptr[l]; e < rows.row_ptr[l + 1]; ++e) {
      const long long j = local_id(rows.columns[e]);
      if (j < 0) {
        throw InputError(str("halo plan of ", hops_, " hop(s): node ", rows.ids[l],
                             " has neighbour ", rows.columns[e],
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

graph::HostCsr HaloPlan::localize(const graph::HostCsr& global_graph) const {
  OwnedRows rows;  // this rank's rows of the global graph
  rows.ids.assign(global_ids_.begin(), global_ids_.begin() + static_cast<std::ptrdiff_t>(owned_));
  for (const long long g : rows.ids) {
    rows.columns.insert(rows.columns.end(), global_graph.col_idx.begin() + global_graph.row_ptr[g],
                        global_graph.col_idx.begin() + global_graph.row_ptr[g + 1]);
    rows.row_ptr.push_back(rows.columns.size());
  }
  return localize(rows);
}

}  // namespace tessera::parallel
