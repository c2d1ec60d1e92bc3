#pragma once
// One mesh trained across ranks (`train.domain_ranks` = D): the ranks of a domain group
// share each sample's mesh, every rank the nodes a METIS partition gives it plus the
// ghost nodes its layers read, and the model exchanges the ghosts' rows before every
// layer (HaloPlan::gather) and returns their gradients to the owners after the layer's
// backward (scatter_add). The result equals training on one rank: the loss is summed over
// each rank's own nodes with the global node count as denominator and the parameter
// gradients are summed across ranks.
//
// World = domain groups x sample groups: world rank w is rank w % D of domain group
// w / D; the groups split the batch as the ranks of a plain data-parallel run do.
//
// The ghosts are the one-hop neighbours of the owned nodes in the union of the graphs the
// layers read (the transformer's attention graphs: K-hop unions, dilated graphs, random
// edges; MeshGraphNet's mesh): exactly the rows a layer needs, however far an
// augmentation reaches. A trajectory read in parts (DataOptions::parts, what `tessera run`
// does) holds only its own nodes' mesh rows, from which each rank builds its attention
// graphs (attention_rows) and part: no rank holds an array of the whole mesh past the
// read. A whole trajectory is split here (split_mesh), replicated on every rank.
//
// Global attention nodes (the transformer's G learned tokens) are on every rank of the
// domain group, after its mesh rows, and owned by its first rank: each rank's own nodes
// attend to the tokens; the tokens' queries attend to each rank's own nodes (and, on the
// first rank only, to the tokens), and the attention merges those partial softmaxes
// exactly across the ranks (split_global_rows, nn::SplitQueryRows). Before a block the
// tokens' rows are sent from the first rank (broadcast_rows); after its backward their
// gradients are summed there and zeroed elsewhere (reduce_rows_to_first), as a ghost's
// are returned to its owner.
#include <mpi.h>

#include <memory>
#include <vector>

#include "core/graph/neighbourhoods.hpp"
#include "core/nn/graph_attention.hpp"
#include "core/parallel/communicator.hpp"
#include "core/parallel/graph_part.hpp"
#include "core/parallel/halo_plan.hpp"
#include "core/parallel/owned_rows.hpp"
#include "core/parallel/rank_groups.hpp"
#include "models/mesh_transformer/dataset.hpp"

namespace tessera::models::mesh_transformer {

// The domain groups and sample groups (core/parallel/rank_groups.hpp; key
// train.domain_ranks).
using parallel::RankGroups;
inline RankGroups split_ranks(MPI_Comm world, int domain_ranks) {
  return parallel::split_ranks(world, domain_ranks, "train.domain_ranks");
}

using MeshPart = parallel::GraphPart;
using parallel::graph_union;

// The METIS split of `mesh` over the ranks of `domain`, whose ghosts reach every node the
// layers read: the mesh's neighbours and those of `layer_graphs` (the transformer's
// attention graphs). Collective.
std::unique_ptr<MeshPart> split_mesh(MPI_Comm domain, const graph::HostCsr& mesh,
                                     const std::vector<graph::HostCsr>& layer_graphs = {});

using parallel::allgather_by_owner;

// attention_graphs (surrogate.hpp) without the tokens, as each rank holds it of a mesh
// split over `domain`, built from the rank's own mesh rows only (nothing global): the
// K-hop base (parallel::k_hop_rows), the random edges that touch its own nodes (every rank
// draws the same pairs), the dilated graph (parallel::dilated_rows). Each graph's rows
// equal attention_graphs' rows of the same nodes. Collective over `domain`.
struct AttentionGraphOptions;  // surrogate.hpp, which includes this file
struct AttentionRows {
  std::vector<parallel::OwnedRows> graphs;
  std::vector<std::vector<std::size_t>> block_graph;  // [block][head group]
};
AttentionRows attention_rows(MPI_Comm domain, const parallel::OwnedRows& mesh,
                             const AttentionGraphOptions& options, std::size_t blocks,
                             std::uint64_t trajectory, std::size_t heads = 1);

// `global` on the device as this rank holds it: part->local_graph, or the whole graph
// when `part` is null (then `edges`, when given, is left empty: every edge is local).
graph::CsrGraph device_graph(const MeshPart* part, const graph::HostCsr& global,
                             std::vector<std::size_t>* edges = nullptr);

// An attention graph on the mesh nodes (no tokens) on the device as this rank holds it,
// with `global_nodes` token rows appended (with_global_nodes in surrogate.hpp): on a
// part, its local graph with each own node linked to the tokens and the tokens' rows
// reading this rank's own nodes (and the tokens, on the domain's first rank only).
graph::CsrGraph device_attention_graph(const MeshPart* part, const graph::HostCsr& mesh_graph,
                                       std::size_t global_nodes, bool self_loops);
// The same from this rank's own rows of the graph (a part made from own rows).
graph::CsrGraph device_attention_graph(const MeshPart& part, const parallel::OwnedRows& rows,
                                       std::size_t global_nodes, bool self_loops);

// The token rows of a part (rows part.local() .. part.local() + global_nodes - 1 of the
// transformer's blocks), their softmax merged over the part's ranks by log-sum-exp.
template <class T>
nn::SplitQueryRows<T> split_global_rows(const MeshPart& part, std::size_t global_nodes);

// The rows of a trajectory read in parts on the points of its piece (t.piece, which this
// rank writes): its own nodes' from here, the others' (a piece's cells reach nodes of
// other parts) from their owners, through a halo exchange. Collective over `domain`: the
// construction and each call.
class PieceRows {
 public:
  PieceRows(MPI_Comm domain, const Trajectory& t);
  // `own`: `width` values per own node (a frame's rows); returns `width` per piece point.
  std::vector<double> operator()(const std::vector<double>& own, std::size_t width) const;

 private:
  parallel::HaloPlan plan_;
  std::vector<std::size_t> local_;  // the plan's local row of each piece point
};

// Collective over `comm`: the rows of the first rank on every rank.
template <class T>
void broadcast_rows(const tensor::Matrix<T>& rows, MPI_Comm comm);
// Collective over `comm`: the sum of every rank's rows on the first rank; zero elsewhere.
template <class T>
void reduce_rows_to_first(const tensor::Matrix<T>& rows, MPI_Comm comm);

}  // namespace tessera::models::mesh_transformer
