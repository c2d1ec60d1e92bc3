#pragma once
// A graph split over ranks with nothing global on any rank: each rank holds the rows of
// the nodes it owns (what it reads of a partitioned mesh), finds other nodes' owners
// through a directory spread over the ranks, fetches rows from their owners, and builds
// the K-hop and dilated neighbourhoods of its own nodes from them: the distributed twins
// of graph::k_hop and graph::dilated, equal to them row for row.
#include <mpi.h>

#include <string>
#include <vector>

#include "core/graph/neighbourhoods.hpp"

namespace tessera::parallel {

// One rank's own rows of a graph whose nodes (global ids 0 .. n-1, n over all ranks) are
// split over the ranks: the nodes it owns, ascending, and for each the nodes it reads.
struct OwnedRows {
  std::vector<long long> ids;
  std::vector<std::size_t> row_ptr = {0};  // ids.size() + 1 offsets into columns
  std::vector<long long> columns;          // global ids

  std::size_t size() const { return ids.size(); }
  void add_row(long long id, const std::vector<long long>& row) {
    ids.push_back(id);
    columns.insert(columns.end(), row.begin(), row.end());
    row_ptr.push_back(columns.size());
  }
};

// Rank `rank`'s rows of a graph held whole, under `owner` (the part of each node): the
// bridge from a replicated graph (tests; meshes read whole) to the functions below.
OwnedRows own_rows(const graph::HostCsr& g, const std::vector<int>& owner, int rank);

// The union of graphs' own rows on the same own nodes: each row's columns sorted and
// distinct (graph_union's twin). std::invalid_argument when the own nodes differ.
OwnedRows rows_union(const std::vector<const OwnedRows*>& graphs);

// Collective: `out[r]` sent to rank r (one list per rank); returns the list each rank sent
// here (an all-to-all of counts, then of the values).
std::vector<std::vector<long long>> exchange_lists(MPI_Comm comm,
                                                   const std::vector<std::vector<long long>>& out);

// Collective: every rank throws the same InputError when any rank's `problem` is not
// empty, with the first such rank's message (prefixed with its rank when not 0).
void throw_if_any(MPI_Comm comm, const std::string& problem);

// Who owns each node, without a global array: node g's owner is kept on rank g P / n.
class OwnerDirectory {
 public:
  // Collective (n = the owned ids of all ranks together). InputError on every rank when
  // a rank's ids are not ascending in 0 .. n-1, or a node is owned twice; then n ids
  // cover 0 .. n-1, so every node has an owner.
  OwnerDirectory(MPI_Comm comm, const std::vector<long long>& owned_ids);

  long long nodes() const { return n_; }
  // Collective: the owning rank of each of `ids` (each rank asks for its own list; every
  // id in 0 .. nodes() - 1).
  std::vector<int> owners(const std::vector<long long>& ids) const;

 private:
  int rank_of(long long g) const;
  MPI_Comm comm_;
  int size_ = 1;
  long long n_ = 0;
  long long first_ = 0;       // the first id of this rank's directory block
  std::vector<int> entries_;  // owner of first_ + k
};

// Collective: the rows of `wanted` (nodes of any rank) from their owners' `own` rows, in
// the order asked.
std::vector<std::vector<long long>> fetch_rows(MPI_Comm comm, const OwnerDirectory& directory,
                                               const OwnedRows& own,
                                               const std::vector<long long>& wanted);

// Collective: each own node's row of graph::k_hop / graph::dilated of the graph whose
// own rows are `graph` (its rows read without self-loops: i itself enters by the flag).
// The rows of the nodes within hops - 1 of this rank's nodes are fetched from their owners,
// one hop at a time (hops - 1 rounds).
OwnedRows k_hop_rows(MPI_Comm comm, const OwnedRows& graph, int hops, bool self_loops = true);
OwnedRows dilated_rows(MPI_Comm comm, const OwnedRows& graph, int dilation, int count,
                       bool self_loops = true);

}  // namespace tessera::parallel
