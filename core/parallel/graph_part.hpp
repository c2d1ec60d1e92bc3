#pragma once
// A graph's nodes split over the ranks of a group, each rank holding its own nodes and the
// ghost nodes its layers read, and a HaloPlan to exchange the ghosts' rows (the mesh
// models' split meshes, the STTN's split sensor graphs).
#include <mpi.h>

#include <algorithm>
#include <vector>

#include "core/graph/csr_graph.hpp"
#include "core/parallel/halo_plan.hpp"

namespace tessera::parallel {

// A sparse matrix in CSR form on the host.
struct HostSparse {
  std::vector<graph::Index> row_ptr, col_idx;
  std::vector<double> values;
};

// The union of graphs on the same nodes (sorted, distinct columns).
graph::HostCsr graph_union(const std::vector<const graph::HostCsr*>& graphs);

// One rank's part of a graph's nodes (a mesh's, a sensor graph's). Local rows: the owned
// nodes (ascending global id), then the ghosts (HaloPlan's numbering).
class GraphPart {
 public:
  // Collective over `domain` (one part per rank). `reach`: row i lists the nodes whose
  // values node i's layers read; `owner`: the part of each node.
  GraphPart(MPI_Comm domain, const graph::HostCsr& reach, std::vector<int> owner);
  // Collective over `domain`: from this rank's own rows of `reach` only, nothing global
  // (a mesh read in parts). The same part as above for the same reach and owners; owner()
  // is then empty and the functions on global arrays (marked "global") refuse.
  GraphPart(MPI_Comm domain, const OwnedRows& reach);

  std::size_t owned() const { return plan_.owned_count(); }
  std::size_t local() const { return plan_.local_count(); }
  const std::vector<long long>& rows() const { return plan_.global_ids(); }
  const parallel::HaloPlan& halo() const { return plan_; }
  const std::vector<int>& owner() const { return owner_; }

  // The local rows of a graph on the global nodes, in local numbering: each owned row
  // (columns sorted), then an empty row per ghost (a ghost's own output is not used: it
  // is overwritten by the next gather). `edges` (optional): for each local edge, the
  // index of the global edge it is (to pick per-edge features). InputError when a row
  // reaches a node beyond the halo. Global.
  graph::HostCsr local_graph(const graph::HostCsr& global,
                             std::vector<std::size_t>* edges = nullptr) const;
  // The same from this rank's own rows of the graph (on the part's own nodes); `edges`:
  // for each local edge, its index in own.columns.
  graph::HostCsr local_graph(const OwnedRows& own, std::vector<std::size_t>* edges = nullptr) const;

  // The principal submatrix of a global matrix on the local nodes: every local row, the
  // ghosts' included, keeps its entries whose columns are local (local numbering, sorted).
  // Products of up to h factors of a symmetric matrix are then exact on the owned rows
  // when the halo holds every node within h hops of them: a ghost row is cut only at the
  // halo's edge, which no owned row's product reaches. The submatrix stays symmetric.
  // Global.
  HostSparse local_submatrix(const HostSparse& global) const;

  // The local rows of a row-major array of `width` values per global node (or per
  // global edge, with `edges` from local_graph). Global.
  std::vector<double> local_rows(const std::vector<double>& global, std::size_t width) const;
  // Rows `indices` of any row-major array of `width` values per row.
  template <class T, class Index>
  static std::vector<T> pick_rows(const std::vector<T>& values, std::size_t width,
                                  const std::vector<Index>& indices) {
    std::vector<T> out(indices.size() * width);
    for (std::size_t l = 0; l < indices.size(); ++l) {
      std::copy_n(values.begin() +
                      static_cast<std::ptrdiff_t>(indices[l]) * static_cast<std::ptrdiff_t>(width),
                  width, out.begin() + static_cast<std::ptrdiff_t>(l * width));
    }
    return out;
  }

  // Collective: every rank's owned rows (the first owned() of `local`, width values each)
  // put together in global order, on every rank. Global.
  std::vector<double> allgather_owned(const std::vector<double>& local, std::size_t width) const;

 private:
  // std::logic_error for a part made from own rows: `what` needs the global owners.
  void require_owners(const char* what) const;
  parallel::HaloPlan plan_;
  std::vector<int> owner_;
};

// Collective over `comm` (the ranks of a split, rank r holding part r): every rank's
// rows (`width` values for each node r owns, ascending: the first ones of `own_rows`, which
// may hold more, as a part's ghost rows) put together in global order.
std::vector<double> allgather_by_owner(MPI_Comm comm, const std::vector<int>& owner,
                                       const std::vector<double>& own_rows, std::size_t width);

}  // namespace tessera::parallel
