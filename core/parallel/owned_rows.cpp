#include "core/parallel/owned_rows.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"

namespace tessera::parallel {
namespace {

// The rows of each own node at the hop distances `keep` accepts, up to max_hops.
OwnedRows rows_within(MPI_Comm comm, const OwnedRows& graph, int max_hops,
                      const std::function<bool(int)>& keep) {
  const OwnerDirectory directory(comm, graph.ids);
  std::unordered_map<long long, std::vector<long long>> rows;  // every row known here
  for (std::size_t l = 0; l < graph.size(); ++l) {
    rows[graph.ids[l]].assign(
        graph.columns.begin() + static_cast<std::ptrdiff_t>(graph.row_ptr[l]),
        graph.columns.begin() + static_cast<std::ptrdiff_t>(graph.row_ptr[l + 1]));
  }
  // Layer r: the nodes r hops from this rank's nodes; fetch their rows for r < max_hops.
  std::vector<long long> layer = graph.ids;
  std::unordered_set<long long> seen(graph.ids.begin(), graph.ids.end());
  for (int r = 1; r < max_hops; ++r) {  // the same number of rounds on every rank
    std::vector<long long> next;
    for (long long g : layer) {
      for (long long j : rows.at(g)) {
        if (seen.insert(j).second) next.push_back(j);
      }
    }
    std::sort(next.begin(), next.end());
    const std::vector<std::vector<long long>> fetched = fetch_rows(comm, directory, graph, next);
    for (std::size_t k = 0; k < next.size(); ++k) rows[next[k]] = fetched[k];
    layer = std::move(next);
  }
  // Breadth-first from each own node over the known rows.
  OwnedRows out;
  std::unordered_map<long long, int> distance;
  std::deque<long long> queue;
  std::vector<long long> row;
  for (long long source : graph.ids) {
    distance.clear();
    distance[source] = 0;
    queue.assign(1, source);
    row.clear();
    while (!queue.empty()) {
      const long long g = queue.front();
      queue.pop_front();
      const int d = distance[g];
      if (keep(d)) row.push_back(g);
      if (d == max_hops) continue;
      for (long long j : rows.at(g)) {
        if (distance.emplace(j, d + 1).second) queue.push_back(j);
      }
    }
    std::sort(row.begin(), row.end());
    out.add_row(source, row);
  }
  return out;
}

}  // namespace

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
  for (int r = 0; r < size; ++r) {
    std::copy(out[r].begin(), out[r].end(), send.begin() + send_offsets[r]);
  }
  MPI_Alltoallv(send.data(), send_counts.data(), send_offsets.data(), MPI_LONG_LONG, recv.data(),
                recv_counts.data(), recv_offsets.data(), MPI_LONG_LONG, comm);
  std::vector<std::vector<long long>> in(static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r) {
    in[r].assign(recv.begin() + recv_offsets[r], recv.begin() + recv_offsets[r + 1]);
  }
  return in;
}

OwnedRows own_rows(const graph::HostCsr& g, const std::vector<int>& owner, int rank) {
  OwnedRows rows;
  for (std::size_t i = 0; i < g.num_nodes(); ++i) {
    if (owner[i] == rank) {
      rows.add_row(static_cast<long long>(i),
                   std::vector<long long>(g.col_idx.begin() + g.row_ptr[i],
                                          g.col_idx.begin() + g.row_ptr[i + 1]));
    }
  }
  return rows;
}

OwnedRows rows_union(const std::vector<const OwnedRows*>& graphs) {
  if (graphs.empty()) return {};
  const std::vector<long long>& ids = graphs.front()->ids;
  for (const OwnedRows* g : graphs) {
    if (g->ids != ids) {
      throw std::invalid_argument(str("rows union: graphs on ", ids.size(), " and ", g->size(),
                                      " own nodes, or other ones"));
    }
  }
  OwnedRows out;
  std::vector<long long> row;
  for (std::size_t l = 0; l < ids.size(); ++l) {
    row.clear();
    for (const OwnedRows* g : graphs) {
      row.insert(row.end(), g->columns.begin() + static_cast<std::ptrdiff_t>(g->row_ptr[l]),
                 g->columns.begin() + static_cast<std::ptrdiff_t>(g->row_ptr[l + 1]));
    }
    std::sort(row.begin(), row.end());
    row.erase(std::unique(row.begin(), row.end()), row.end());
    out.add_row(ids[l], row);
  }
  return out;
}

void throw_if_any(MPI_Comm comm, const std::string& problem) {
  const int rank = runtime::comm_rank(comm);
  const int size = runtime::comm_size(comm);
  int first = problem.empty() ? size : rank;
  MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == size) return;
  int length = static_cast<int>(problem.size());
  MPI_Bcast(&length, 1, MPI_INT, first, comm);
  std::string message =
      rank == first ? problem : std::string(static_cast<std::size_t>(length), ' ');
  MPI_Bcast(message.data(), length, MPI_CHAR, first, comm);
  throw InputError(first == 0 ? message : str("rank ", first, ": ", message));
}

OwnerDirectory::OwnerDirectory(MPI_Comm comm, const std::vector<long long>& owned_ids)
    : comm_(comm), size_(runtime::comm_size(comm)) {
  n_ = static_cast<long long>(owned_ids.size());
  MPI_Allreduce(MPI_IN_PLACE, &n_, 1, MPI_LONG_LONG, MPI_SUM, comm_);
  const int rank = runtime::comm_rank(comm_);
  // Rank r keeps the ids g with g P / n = r: from ceil(r n / P) on.
  first_ = (static_cast<long long>(rank) * n_ + size_ - 1) / size_;
  const long long end = (static_cast<long long>(rank + 1) * n_ + size_ - 1) / size_;
  std::string problem;
  for (std::size_t i = 0; i < owned_ids.size() && problem.empty(); ++i) {
    const long long g = owned_ids[i];
    if (g < 0 || g >= n_ || (i > 0 && g <= owned_ids[i - 1])) {
      problem = str("owned node ", g, " at position ", i, ": expected ids ascending, in 0 .. ",
                    n_ - 1, " (the nodes of all ranks)");
    }
  }
  throw_if_any(comm_, problem);
  std::vector<std::vector<long long>> out(static_cast<std::size_t>(size_));
  for (long long g : owned_ids) out[rank_of(g)].push_back(g);
  const std::vector<std::vector<long long>> registered = exchange_lists(comm_, out);
  entries_.assign(static_cast<std::size_t>(end - first_), -1);
  for (int r = 0; r < size_; ++r) {
    for (long long g : registered[r]) {
      int& entry = entries_[static_cast<std::size_t>(g - first_)];
      if (entry >= 0 && problem.empty()) {
        problem = str("node ", g, " is owned by ranks ", entry, " and ", r);
      }
      entry = r;
    }
  }
  throw_if_any(comm_, problem);
}

int OwnerDirectory::rank_of(long long g) const {
  return static_cast<int>(g * size_ / std::max(n_, 1LL));  // < 2^63 below 10^12 nodes
}

std::vector<int> OwnerDirectory::owners(const std::vector<long long>& ids) const {
  std::vector<std::vector<long long>> out(static_cast<std::size_t>(size_));
  for (long long g : ids) out[rank_of(g)].push_back(g);
  const std::vector<std::vector<long long>> questions = exchange_lists(comm_, out);
  std::vector<std::vector<long long>> answers(static_cast<std::size_t>(size_));
  for (int r = 0; r < size_; ++r) {
    for (long long g : questions[r]) {
      answers[r].push_back(entries_[static_cast<std::size_t>(g - first_)]);
    }
  }
  const std::vector<std::vector<long long>> replies = exchange_lists(comm_, answers);
  std::vector<int> result(ids.size());
  std::vector<std::size_t> next(static_cast<std::size_t>(size_), 0);
  for (std::size_t k = 0; k < ids.size(); ++k) {  // each directory rank answers in order
    const int r = rank_of(ids[k]);
    result[k] = static_cast<int>(replies[r][next[r]++]);
  }
  return result;
}

std::vector<std::vector<long long>> fetch_rows(MPI_Comm comm, const OwnerDirectory& directory,
                                               const OwnedRows& own,
                                               const std::vector<long long>& wanted) {
  const int size = runtime::comm_size(comm);
  const std::vector<int> owner = directory.owners(wanted);
  std::vector<std::vector<long long>> requests(static_cast<std::size_t>(size));
  for (std::size_t k = 0; k < wanted.size(); ++k) requests[owner[k]].push_back(wanted[k]);
  const std::vector<std::vector<long long>> asked = exchange_lists(comm, requests);
  // Each answer: the row's length, then its columns.
  std::vector<std::vector<long long>> answers(static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r) {
    for (long long g : asked[r]) {
      const auto at = std::lower_bound(own.ids.begin(), own.ids.end(), g);
      const auto l = static_cast<std::size_t>(at - own.ids.begin());
      answers[r].push_back(static_cast<long long>(own.row_ptr[l + 1] - own.row_ptr[l]));
      answers[r].insert(answers[r].end(),
                        own.columns.begin() + static_cast<std::ptrdiff_t>(own.row_ptr[l]),
                        own.columns.begin() + static_cast<std::ptrdiff_t>(own.row_ptr[l + 1]));
    }
  }
  const std::vector<std::vector<long long>> replies = exchange_lists(comm, answers);
  std::vector<std::vector<long long>> rows(wanted.size());
  std::vector<std::size_t> at(static_cast<std::size_t>(size), 0);
  for (std::size_t k = 0; k < wanted.size(); ++k) {  // each owner answers in order
    const std::vector<long long>& reply = replies[owner[k]];
    std::size_t& p = at[owner[k]];
    const auto length = static_cast<std::size_t>(reply[p]);
    rows[k].assign(reply.begin() + static_cast<std::ptrdiff_t>(p + 1),
                   reply.begin() + static_cast<std::ptrdiff_t>(p + 1 + length));
    p += 1 + length;
  }
  return rows;
}

OwnedRows k_hop_rows(MPI_Comm comm, const OwnedRows& graph, int hops, bool self_loops) {
  if (hops < 1) throw InputError(str("k-hop neighbourhood: hops = ", hops, ", expected >= 1"));
  return rows_within(comm, graph, hops, [&](int d) { return d > 0 || self_loops; });
}

OwnedRows dilated_rows(MPI_Comm comm, const OwnedRows& graph, int dilation, int count,
                       bool self_loops) {
  if (dilation < 1 || count < 1) {
    throw InputError(str("dilated neighbourhood: dilation = ", dilation, ", count = ", count,
                         ", expected both >= 1"));
  }
  return rows_within(comm, graph, dilation * count,
                     [&](int d) { return d == 0 ? self_loops : d % dilation == 0; });
}

}  // namespace tessera::parallel
