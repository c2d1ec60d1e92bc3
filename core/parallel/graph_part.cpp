#include "core/parallel/graph_part.hpp"

#include <algorithm>
#include <utility>

#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"

namespace tessera::parallel {

graph::HostCsr graph_union(const std::vector<const graph::HostCsr*>& graphs) {
  if (graphs.empty()) return {};
  const std::size_t n = graphs.front()->num_nodes();
  graph::HostCsr out;
  out.row_ptr.push_back(0);
  std::vector<graph::Index> row;
  for (std::size_t i = 0; i < n; ++i) {
    row.clear();
    for (const graph::HostCsr* g : graphs) {
      if (g->num_nodes() != n) {
        throw std::invalid_argument(
            str("graph union: graphs of ", n, " and ", g->num_nodes(), " nodes"));
      }
      row.insert(row.end(), g->col_idx.begin() + g->row_ptr[i],
                 g->col_idx.begin() + g->row_ptr[i + 1]);
    }
    std::sort(row.begin(), row.end());
    row.erase(std::unique(row.begin(), row.end()), row.end());
    out.col_idx.insert(out.col_idx.end(), row.begin(), row.end());
    out.row_ptr.push_back(static_cast<graph::Index>(out.col_idx.size()));
  }
  return out;
}

GraphPart::GraphPart(MPI_Comm domain, const graph::HostCsr& reach, std::vector<int> owner)
    : plan_(domain, reach, owner, 1), owner_(std::move(owner)) {}

GraphPart::GraphPart(MPI_Comm domain, const OwnedRows& reach) : plan_(domain, reach) {}

void GraphPart::require_owners(const char* what) const {
  if (owner_.empty() && plan_.local_count() > 0) {
    throw std::logic_error(str("graph part: ", what,
                               " needs every node's owner; this part was made from its own rows"));
  }
}

namespace {

// `owned_rows` (a plan's localized rows) with an empty row appended per ghost.
graph::HostCsr with_ghost_rows(graph::HostCsr owned_rows, std::size_t local) {
  owned_rows.row_ptr.resize(local + 1, owned_rows.row_ptr.back());
  return owned_rows;
}

}  // namespace

graph::HostCsr GraphPart::local_graph(const graph::HostCsr& global,
                                      std::vector<std::size_t>* edges) const {
  require_owners("local_graph of a global graph");
  if (global.num_nodes() != owner_.size()) {
    throw std::invalid_argument(
        str("graph part: a graph of ", global.num_nodes(), " nodes for a part of ", owner_.size()));
  }
  return with_ghost_rows(plan_.localize(global, edges), local());
}

graph::HostCsr GraphPart::local_graph(const OwnedRows& own, std::vector<std::size_t>* edges) const {
  if (own.size() != owned() || !std::equal(own.ids.begin(), own.ids.end(), rows().begin())) {
    throw std::invalid_argument(str("graph part: the rows of ", own.size(),
                                    " nodes are not those of the part's ", owned(), " own nodes"));
  }
  return with_ghost_rows(plan_.localize(own, edges), local());
}

HostSparse GraphPart::local_submatrix(const HostSparse& global) const {
  require_owners("local_submatrix");
  if (global.row_ptr.size() != owner_.size() + 1) {
    throw std::invalid_argument(str("graph part: a matrix of ", global.row_ptr.size() - 1,
                                    " rows for a part of ", owner_.size(), " nodes"));
  }
  HostSparse out;
  out.row_ptr.reserve(local() + 1);
  out.row_ptr.push_back(0);
  std::vector<std::pair<graph::Index, double>> row;  // (local column, value)
  for (const long long g : rows()) {
    row.clear();
    for (auto e = global.row_ptr[g]; e < global.row_ptr[g + 1]; ++e) {
      const long long j = plan_.local_id(global.col_idx[e]);
      if (j >= 0) row.emplace_back(static_cast<graph::Index>(j), global.values[e]);
    }
    std::sort(row.begin(), row.end());
    for (const auto& [column, value] : row) {
      out.col_idx.push_back(column);
      out.values.push_back(value);
    }
    out.row_ptr.push_back(static_cast<graph::Index>(out.col_idx.size()));
  }
  return out;
}

std::vector<double> GraphPart::local_rows(const std::vector<double>& global,
                                          std::size_t width) const {
  require_owners("local_rows");
  if (global.size() != owner_.size() * width) {
    throw std::invalid_argument(
        str("graph part: ", global.size(), " values for ", owner_.size(), " nodes x ", width));
  }
  return pick_rows(global, width, rows());
}

std::vector<double> allgather_by_owner(MPI_Comm comm, const std::vector<int>& owner,
                                       const std::vector<double>& own_rows, std::size_t width) {
  const int parts = runtime::comm_size(comm);
  std::vector<int> counts(static_cast<std::size_t>(parts), 0), offsets(counts.size() + 1, 0);
  for (int o : owner) counts[static_cast<std::size_t>(o)] += static_cast<int>(width);
  for (int r = 0; r < parts; ++r) offsets[r + 1] = offsets[r] + counts[r];
  const int mine = counts[static_cast<std::size_t>(runtime::comm_rank(comm))];
  if (own_rows.size() < static_cast<std::size_t>(mine)) {
    throw std::invalid_argument(str("allgather_by_owner: ", own_rows.size(), " values for ", mine));
  }
  std::vector<double> by_rank(static_cast<std::size_t>(offsets.back()));
  MPI_Allgatherv(own_rows.data(), mine, MPI_DOUBLE, by_rank.data(), counts.data(), offsets.data(),
                 MPI_DOUBLE, comm);
  // Rank r's rows are its owned nodes in ascending global id.
  std::vector<double> out(owner.size() * width);
  std::vector<int> next(offsets.begin(), offsets.end() - 1);
  for (std::size_t i = 0; i < owner.size(); ++i) {
    int& at = next[static_cast<std::size_t>(owner[i])];
    std::copy_n(by_rank.begin() + at, width, out.begin() + static_cast<std::ptrdiff_t>(i * width));
    at += static_cast<int>(width);
  }
  return out;
}

std::vector<double> GraphPart::allgather_owned(const std::vector<double>& local,
                                               std::size_t width) const {
  require_owners("allgather_owned");
  return allgather_by_owner(plan_.comm(), owner_, local, width);  // its first owned() rows
}

}  // namespace tessera::parallel
