// One mesh split over ranks (models/mesh_transformer/domain.hpp) gives what the whole mesh
// gives on one rank: the model's output on each rank's own nodes and every parameter
// gradient (summed over ranks), for the transformer with K = 1 and 2, with dilated heads
// and random edges, with its blocks recomputed in backward, and with global attention
// nodes (their softmax merged over the ranks), and for MeshGraphNet
// (blocks kept and recomputed); training (losses and parameters after 10
// AdamW steps, exact and running normalisers, the mesh split over all ranks or over
// pairs of ranks with the batch over the pairs); a 20-frame rollout; a checkpoint written
// on one split resumed on another. Run on 1, 2 and 4
// ranks; in double within 1e-12 relative (only the order of sums differs; 1e-11 for the
// parameters after AdamW steps, see below); outputs and gradients in float within 1e-5.
#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/io/hdf5_reader.hpp"
#include "core/io/results_file.hpp"
#include "core/parallel/gradient_allreduce.hpp"
#include "core/parallel/partition.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"
#include "core/tensor/host_copy.hpp"
#include "core/tensor/random.hpp"
#include "models/mesh_transformer/domain.hpp"
#include "models/mesh_transformer/training.hpp"
#include "tests/models/mesh_transformer/synthetic_data.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/compare.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tessera;
using namespace tessera::models::mesh_transformer;
using Catch::Matchers::Contains;

using testing::relative_difference;

namespace {

struct Case {
  const char* name;
  ModelKind kind;
  AttentionGraphOptions attention;
  bool recompute = false;  // the transformer's gradient checkpointing
  std::size_t global_nodes = 0;
};

std::vector<Case> cases() {
  AttentionGraphOptions one, two, augmented;
  two.hops = 2;
  augmented.dilated_layers = 1;
  augmented.dilated_heads = 1;
  augmented.random_edges = 0.3;
  return {
      {"transformer, 1 hop", ModelKind::kTransformer, one},
      {"transformer, 2 hops", ModelKind::kTransformer, two},
      {"transformer, dilated heads and random edges", ModelKind::kTransformer, augmented},
      {"transformer, 2 hops, blocks recomputed in backward", ModelKind::kTransformer, two, true},
      {"transformer, 2 global nodes", ModelKind::kTransformer, one, false, 2},
      {"transformer, 1 global node, dilated heads, random edges, blocks recomputed",
       ModelKind::kTransformer, augmented, true, 1},
      {"meshgraphnet", ModelKind::kMeshGraphNet, one},
      {"meshgraphnet, blocks recomputed in backward", ModelKind::kMeshGraphNet, one, true}};
}

Surrogate<double>::Options small_model(const Case& c) {
  Surrogate<double>::Options o;
  o.kind = c.kind;
  o.attention = c.attention;
  o.transformer.inputs = o.meshgraphnet.node_inputs = 11;
  o.transformer.outputs = o.meshgraphnet.outputs = 2;
  o.meshgraphnet.edge_inputs = 3;
  o.transformer.dim = 16;
  o.transformer.layers = 3;
  o.transformer.heads = 2;
  o.transformer.recompute = o.meshgraphnet.recompute = c.recompute;
  o.transformer.global_nodes = c.global_nodes;
  o.meshgraphnet.latent = 16;
  o.meshgraphnet.blocks = 3;
  return o;
}

// A small model of case c, initialised from `seed`.
struct SmallModel {
  nn::ParameterStore<double> store;
  Surrogate<double> model;
  SmallModel(const Case& c, std::uint64_t seed) {
    model.declare(store, small_model(c));
    store.finalize();
    model.init(store, seed);
  }
};

// `steps` AdamW steps of batch 4 with input noise (keyed by sample and global node: the
// same on any split), the mesh over `domain_ranks` ranks.
TrainingOptions few_steps(long long steps, int domain_ranks) {
  TrainingOptions o;
  o.steps = steps;
  o.batch = 4;
  o.lr = 3e-3;
  o.noise = 0.02;
  o.domain_ranks = domain_ranks;
  return o;
}

std::string synthetic_file(const testing::ScopedTempDir& dir, int trajectories,
                           std::size_t frames) {
  const std::string path = dir.path() + "/train.h5";
  if (runtime::comm_rank(MPI_COMM_WORLD) == 0) {
    testing::write_synthetic_trajectories(path, trajectories, frames, 9, 7);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return path;
}

// Random values keyed by (global row, column): the same on any split.
std::vector<double> keyed_values(std::size_t rows, std::size_t cols, std::uint64_t stream) {
  std::vector<double> v(rows * cols);
  for (std::size_t k = 0; k < v.size(); ++k) v[k] = tensor::counter_normal(5, stream, k);
  return v;
}

}  // namespace

namespace {

// The model's output and parameter gradients on the whole mesh and with the mesh split
// over the ranks of the world, in precision T: the largest relative differences.
template <class T>
std::pair<double, double> split_against_whole(const Trajectory& t, const Case& c) {
  const std::size_t n = t.num_nodes();
  const std::vector<double> nodes = keyed_values(n, t.node_inputs(), 1);
  const std::vector<double> dy = keyed_values(n, 2, 2);
  const Surrogate<double>::Options double_options = small_model(c);
  typename Surrogate<T>::Options options;
  options.kind = double_options.kind;
  options.transformer = double_options.transformer;
  options.meshgraphnet = double_options.meshgraphnet;
  options.attention = double_options.attention;
  const AttentionGraphs graphs = attention_graphs(
      t.graph, options.attention, options.transformer.layers, 0, 0, options.transformer.heads);
  const auto run = [&](const MeshPart* part, std::vector<double>& y, std::vector<double>& g) {
    nn::ParameterStore<T> store;
    Surrogate<T> model;
    model.declare(store, options);
    store.finalize();
    model.init(store, 3);
    MeshSample<T> s;
    std::vector<std::size_t> edge_rows;
    s.mesh = device_graph(part, t.graph, &edge_rows);
    for (const auto& a : graphs.graphs) {
      s.attention.push_back(
          device_attention_graph(part, a, c.global_nodes, options.attention.self_loops));
    }
    if (part && c.global_nodes > 0) s.global_rows = split_global_rows<T>(*part, c.global_nodes);
    s.block_graph = graphs.block_graph;
    const std::vector<double> edges =
        part ? MeshPart::pick_rows(t.edge_features, 3, edge_rows) : t.edge_features;
    s.edges = tensor::from_host<T>(edges, edges.size() / 3, 3, "edges");
    const std::vector<double> x = part ? part->local_rows(nodes, 11) : nodes;
    const std::size_t rows = x.size() / 11;
    s.nodes = tensor::from_host<T>(x, rows, 11, "nodes");
    s.halo = part ? &part->halo() : nullptr;
    y = tensor::to_host(model.forward(store, s));
    std::vector<double> local_dy = part ? part->local_rows(dy, 2) : dy;
    if (part) std::fill(local_dy.begin() + part->owned() * 2, local_dy.end(), 0.0);
    model.backward(store, tensor::from_host<T>(local_dy, rows, 2, "dy"));
    if (part) parallel::GradientAllreduce<T>(MPI_COMM_WORLD).sum(store);
    g = tensor::to_host(store.grads());
    if (part) y = part->allgather_owned(y, 2);
  };
  std::vector<double> y_whole, g_whole, y_split, g_split;
  run(nullptr, y_whole, g_whole);
  const std::unique_ptr<MeshPart> part = split_mesh(MPI_COMM_WORLD, t.graph, graphs.graphs);
  run(part.get(), y_split, g_split);
  // Every gradient is non-zero somewhere: a silently missing term would show.
  CHECK(*std::max_element(g_whole.begin(), g_whole.end()) > 0);
  return {relative_difference(y_whole, y_split), relative_difference(g_whole, g_split)};
}

}  // namespace

TEST_CASE("a mesh split over ranks: outputs and parameter gradients equal the whole mesh's",
          "[domain_mpi]") {
  const testing::ScopedTempDir dir("mt_domain_grad");
  const Trajectory t = read_trajectories(synthetic_file(dir, 1, 2), {}).front();
  for (const Case& c : cases()) {
    INFO(c.name << " on " << runtime::comm_size(MPI_COMM_WORLD) << " ranks");
    const auto [y_double, g_double] = split_against_whole<double>(t, c);
    CHECK(y_double <= 1e-12);
    CHECK(g_double <= 1e-12);
    const auto [y_float, g_float] = split_against_whole<float>(t, c);
    INFO("float: output " << y_float << ", gradients " << g_float);
    CHECK(y_float <= 1e-5);
    CHECK(g_float <= 1e-5);
  }
}

namespace {

// 10 AdamW steps of case c (exact or running normalisers; pushforward training of up to
// `pushforward` steps) with the mesh over `domain_ranks` of comm's ranks, then a 21-frame
// rollout of trajectory 1: the losses (each step's), the rollout and the parameters.
std::vector<double> train_and_roll_out(const Case& c, bool running, MPI_Comm comm, int domain_ranks,
                                       const std::vector<Trajectory>& trajectories,
                                       std::vector<double>& losses, Rollout& r,
                                       long long pushforward = 0) {
  SmallModel m(c, 9);
  TrainingOptions o = few_steps(10, domain_ranks);
  o.pushforward = pushforward;
  o.schedule = "constant";
  o.log_every = 1;
  o.exact_normalizer = !running;
  o.normalizer_steps = 4;
  Normalizers normalizers = make_normalizers(trajectories[0]);
  train(comm, trajectories, m.model, m.store, o, normalizers,
        [&](const TrainingRecord& record) { losses.push_back(record.loss); });
  const RankGroups groups = split_ranks(comm, domain_ranks);
  r = rollout(trajectories[1], m.model, m.store, normalizers, 21, 7, groups.domain);
  return tensor::to_host(m.store.params());
}

}  // namespace

TEST_CASE("training on a split mesh equals one rank: losses, parameters, a rollout",
          "[domain_mpi]") {
  const int ranks = runtime::comm_size(MPI_COMM_WORLD);
  const testing::ScopedTempDir dir("mt_domain_train");
  const auto trajectories = read_trajectories(synthetic_file(dir, 2, 21), {});
  for (const Case& c : cases()) {
    for (bool running : {false, true}) {
      std::vector<double> losses_one;
      Rollout rollout_one;
      const auto one =
          train_and_roll_out(c, running, MPI_COMM_SELF, 1, trajectories, losses_one, rollout_one);
      for (int domain_ranks = 1; domain_ranks <= ranks; domain_ranks *= 2) {
        INFO(c.name << (running ? ", running" : ", exact") << " normaliser, mesh over "
                    << domain_ranks << " of " << ranks << " ranks");
        std::vector<double> losses;
        Rollout r;
        const auto split =
            train_and_roll_out(c, running, MPI_COMM_WORLD, domain_ranks, trajectories, losses, r);
        CHECK(relative_difference(losses_one, losses) <= 1e-12);
        const double parameters = relative_difference(one, split);
        INFO("parameters differ by " << parameters << " relative");
        // AdamW divides each step by the gradient's own running magnitude, so an entry
        // formed by cancellation (its relative rounding far above 1e-16) moves its
        // parameter by about lr x that: measured up to 1.7e-12 here, hence 1e-11.
        CHECK(parameters <= 1e-11);
        REQUIRE(r.prediction.size() == 21);
        for (std::size_t f = 0; f < r.prediction.size(); ++f) {
          CHECK(relative_difference(rollout_one.prediction[f], r.prediction[f]) <= 1e-12);
        }
        CHECK(relative_difference(rollout_one.rmse, r.rmse) <= 1e-12);
      }
    }
  }
}

TEST_CASE("frames read in parts (each rank its own nodes'): training and a rollout equal one rank",
          "[domain_mpi]") {
  // Each rank of a domain group reads only its own nodes' frames (the ghosts' inputs are
  // left zero: no layer reads them), the normalisers are merged over the group, and the
  // rollout keeps each rank's own nodes: all as one rank that read everything.
  const int ranks = runtime::comm_size(MPI_COMM_WORLD);
  const testing::ScopedTempDir dir("mt_domain_parts");
  const std::string path = synthetic_file(dir, 2, 21);
  const auto whole = read_trajectories(path, {});
  std::vector<Case> some = cases();
  some = {some[1], some[5], some[7]};  // 2 hops; a global node and all augmentations; MGN
  for (const Case& c : some) {
    for (bool running : {false, true}) {
      std::vector<double> losses_one;
      Rollout rollout_one;
      const auto one =
          train_and_roll_out(c, running, MPI_COMM_SELF, 1, whole, losses_one, rollout_one);
      for (int domain_ranks = 2; domain_ranks <= ranks; domain_ranks *= 2) {
        INFO(c.name << (running ? ", running" : ", exact") << " normaliser, frames in "
                    << domain_ranks << " parts on " << ranks << " ranks");
        const RankGroups groups = split_ranks(MPI_COMM_WORLD, domain_ranks);
        DataOptions options;
        options.parts = domain_ranks;
        options.part = groups.domain_rank;
        options.comm = groups.domain;  // streamed, as `tessera run` reads
        const auto parts = read_trajectories(path, options);
        REQUIRE(parts[1].in_parts());
        // The part's frames are its own nodes' rows of the whole frames.
        CHECK(parts[1].frame_rows() < whole[1].num_nodes());
        const std::size_t node = parts[1].frame_node(1);
        CHECK(parts[1].velocity[3][2 + 1] == whole[1].velocity[3][node * 2 + 1]);
        std::vector<double> losses;
        Rollout r;
        const auto split =
            train_and_roll_out(c, running, MPI_COMM_WORLD, domain_ranks, parts, losses, r);
        CHECK(relative_difference(losses_one, losses) <= 1e-12);
        CHECK(relative_difference(one, split) <= 1e-11);  // as in the test above
        REQUIRE(r.prediction.size() == 21);
        for (std::size_t f = 0; f < r.prediction.size(); ++f) {  // each rank its own nodes
          std::vector<double> expected;
          for (std::size_t row = 0; row < parts[1].frame_rows(); ++row) {
            const std::size_t i = parts[1].frame_node(row);
            expected.insert(expected.end(), rollout_one.prediction[f].begin() + 2 * i,
                            rollout_one.prediction[f].begin() + 2 * i + 2);
          }
          CHECK(relative_difference(expected, r.prediction[f]) <= 1e-12);
        }
        CHECK(relative_difference(rollout_one.rmse, r.rmse) <= 1e-12);
        CHECK(relative_difference(rollout_one.persistence_rmse, r.persistence_rmse) <= 1e-12);
      }
    }
  }
}

TEST_CASE("a training checkpointed on one split resumes on another and ends as one rank's",
          "[domain_mpi]") {
  // Parameters, AdamW's moments and the normalisers are kept in global order, whole on
  // every rank: a state written with the mesh over 2 ranks resumes over 4, or over 1 rank
  // per sample group.
  const int ranks = runtime::comm_size(MPI_COMM_WORLD), rank = runtime::comm_rank(MPI_COMM_WORLD);
  const testing::ScopedTempDir dir("mt_domain_resume");
  const auto trajectories = read_trajectories(synthetic_file(dir, 2, 6), {});
  const std::string state = dir.path() + "/state.h5";
  for (const Case& c : {cases()[1], cases()[3], cases()[4], cases()[5]}) {
    INFO(c.name << " on " << ranks << " ranks");
    const auto train_with = [&](MPI_Comm comm, int domain_ranks,
                                const TrainingCheckpoints* checkpoints) {
      SmallModel m(c, 4);
      TrainingOptions o = few_steps(12, domain_ranks);
      o.warmup = 4;
      o.exact_normalizer = false;  // running statistics: part of the state
      o.normalizer_steps = 8;
      Normalizers normalizers = make_normalizers(trajectories[0]);
      train(comm, trajectories, m.model, m.store, o, normalizers, {}, nullptr, checkpoints);
      return tensor::to_host(m.store.params());
    };
    const auto one = train_with(MPI_COMM_SELF, 1, nullptr);
    TrainingCheckpoints writing;  // the state is whole on every rank: rank 0 writes it
    writing.boundary = [&](long long step, const std::function<void(io::ResultsFile&)>& write) {
      if (step != 5 || rank != 0) return;
      io::ResultsFile file(MPI_COMM_SELF, state);
      write(file);
      file.close();
    };
    train_with(MPI_COMM_WORLD, ranks >= 2 ? 2 : 1, &writing);
    MPI_Barrier(MPI_COMM_WORLD);
    const io::Hdf5Reader reader(state);
    TrainingCheckpoints resuming;
    resuming.resume = &reader;
    const auto resumed = train_with(MPI_COMM_WORLD, ranks >= 4 ? 4 : 1, &resuming);
    CHECK(relative_difference(one, resumed) <= 1e-11);
  }
}

TEST_CASE("split meshes: rank counts that cannot split the world are refused", "[domain_mpi]") {
  const int ranks = runtime::comm_size(MPI_COMM_WORLD);
  CHECK_THROWS_WITH(
      split_ranks(MPI_COMM_WORLD, ranks + 1),
      Contains("train.domain_ranks = " + std::to_string(ranks + 1)) && Contains("divisor"));
  CHECK_THROWS_AS(split_ranks(MPI_COMM_WORLD, 0), InputError);
}

TEST_CASE("pushforward training on a split mesh, frames whole or in parts, equals one rank",
          "[domain_mpi]") {
  // The samples' model steps without gradient run on the split mesh too (collective over
  // the domain group), from whole states or from each rank's own nodes'.
  const int ranks = runtime::comm_size(MPI_COMM_WORLD);
  const testing::ScopedTempDir dir("mt_domain_pushforward");
  const std::string path = synthetic_file(dir, 2, 21);
  const auto whole = read_trajectories(path, {});
  std::vector<Case> some = cases();
  some = {some[1], some[7]};  // the 2-hop transformer; MeshGraphNet
  for (const Case& c : some) {
    // Running normalisers: no pushforward in the first 4 steps, then up to 2 steps.
    for (bool running : {false, true}) {
      std::vector<double> losses_one, losses_plain;
      Rollout rollout_one, unused;
      const auto one =
          train_and_roll_out(c, running, MPI_COMM_SELF, 1, whole, losses_one, rollout_one, 2);
      train_and_roll_out(c, running, MPI_COMM_SELF, 1, whole, losses_plain, unused, 0);
      CHECK(relative_difference(losses_one, losses_plain) > 1e-6);  // it does change training
      for (int domain_ranks = 1; domain_ranks <= ranks; domain_ranks *= 2) {
        for (bool in_parts : {false, true}) {
          if (in_parts && domain_ranks == 1) continue;
          INFO(c.name << (running ? ", running" : ", exact") << " normaliser, mesh over "
                      << domain_ranks << " of " << ranks << " ranks, frames "
                      << (in_parts ? "in parts" : "whole"));
          const RankGroups groups = split_ranks(MPI_COMM_WORLD, domain_ranks);
          DataOptions options;
          if (in_parts) {
            options.parts = domain_ranks;
            options.part = groups.domain_rank;
          }
          const auto trajectories = in_parts ? read_trajectories(path, options) : whole;
          std::vector<double> losses;
          Rollout r;
          const auto split = train_and_roll_out(c, running, MPI_COMM_WORLD, domain_ranks,
                                                trajectories, losses, r, 2);
          CHECK(relative_difference(losses_one, losses) <= 1e-12);
          CHECK(relative_difference(one, split) <= 1e-11);  // as in the tests above
          CHECK(relative_difference(rollout_one.rmse, r.rmse) <= 1e-12);
        }
      }
    }
  }
}

TEST_CASE("attention graphs built from each rank's own mesh rows equal the replicated ones",
          "[domain_mpi]") {
  const int size = runtime::comm_size(MPI_COMM_WORLD);
  const int rank = runtime::comm_rank(MPI_COMM_WORLD);
  const graph::HostCsr mesh = mesh::node_graph(testing::synthetic_grid_mesh(13, 9), "grid");
  const std::vector<int> owner = parallel::partition_metis(mesh, size).owner;
  const auto own = [&](const graph::HostCsr& g) { return parallel::own_rows(g, owner, rank); };
  AttentionGraphOptions one, two, augmented, loops;
  two.hops = 2;
  augmented.hops = 2;
  augmented.dilated_layers = 2;
  augmented.dilated_heads = 2;
  augmented.random_edges = 0.3;
  augmented.seed = 7;
  loops.self_loops = true;
  loops.random_edges = 0.5;
  for (const AttentionGraphOptions& o : {one, two, augmented, loops}) {
    INFO("hops " << o.hops << ", dilated blocks " << o.dilated_layers << ", random edges "
                 << o.random_edges << ", self loops " << o.self_loops << ", " << size
                 << " rank(s)");
    const AttentionGraphs whole = attention_graphs(mesh, o, 3, 5, 0, 4);
    const AttentionRows rows = attention_rows(MPI_COMM_WORLD, own(mesh), o, 3, 5, 4);
    REQUIRE(rows.graphs.size() == whole.graphs.size());
    CHECK(rows.block_graph == whole.block_graph);
    for (std::size_t k = 0; k < rows.graphs.size(); ++k) {
      const parallel::OwnedRows expected = own(whole.graphs[k]);
      CHECK(rows.graphs[k].ids == expected.ids);
      CHECK(rows.graphs[k].row_ptr == expected.row_ptr);
      CHECK(rows.graphs[k].columns == expected.columns);
    }
  }
}

TEST_CASE("a trajectory read in parts holds its own rows of the mesh and writes its piece",
          "[domain_mpi]") {
  // No array of the whole mesh stays on a rank: its own nodes' node types, mesh rows and
  // edge features (the whole trajectory's rows of them), and the piece of cells whose first
  // node it owns, whose points of other parts PieceRows fetches from their owners. Read
  // two ways: cut from the whole mesh read on every rank, and streamed (the cells a block
  // at a time; the whole mesh on the first rank only, to split it): the same part.
  const int size = runtime::comm_size(MPI_COMM_WORLD);
  if (size < 2) return;  // nothing to split: the 2- and 4-rank runs of this file check it
  const int rank = runtime::comm_rank(MPI_COMM_WORLD);
  const testing::ScopedTempDir dir("mt_domain_piece");
  const std::string path = synthetic_file(dir, 2, 3);
  const Trajectory whole = read_trajectories(path, {})[1];
  DataOptions options;
  options.parts = size;
  options.part = rank;
  const Trajectory cut = read_trajectories(path, options)[1];
  options.comm = MPI_COMM_WORLD;
  const Trajectory streamed = read_trajectories(path, options)[1];
  const std::vector<int> owner = parallel::partition_metis(whole.graph, size).owner;
  const parallel::OwnedRows rows = parallel::own_rows(whole.graph, owner, rank);
  const mesh::Submesh expected = mesh_piece(whole, owner, rank);
  for (const Trajectory* t : {&cut, &streamed}) {
    INFO((t == &cut ? "cut from the whole mesh" : "streamed") << ", " << size << " ranks");
    REQUIRE(t->in_parts());
    CHECK(t->num_nodes() == whole.num_nodes());
    CHECK(t->dt == whole.dt);
    CHECK(t->graph.num_nodes() == 0);
    CHECK(t->points.empty());
    CHECK(t->cells.empty());
    CHECK(t->frame_nodes == rows.ids);
    CHECK(t->own_graph.row_ptr == rows.row_ptr);
    CHECK(t->own_graph.columns == rows.columns);
    REQUIRE(t->edge_features.size() == rows.columns.size() * 3);
    REQUIRE(t->node_types.size() == t->frame_rows());
    REQUIRE(t->frames() == whole.frames());
    for (std::size_t r = 0; r < t->frame_rows(); ++r) {
      const auto i = static_cast<std::size_t>(t->frame_nodes[r]);
      CHECK(t->node_types[r] == whole.node_types[i]);
      CHECK(t->velocity[2][2 * r + 1] == whole.velocity[2][2 * i + 1]);
      const std::size_t first = static_cast<std::size_t>(whole.graph.row_ptr[i]) * 3;
      CHECK(std::equal(
          t->edge_features.begin() + static_cast<std::ptrdiff_t>(rows.row_ptr[r] * 3),
          t->edge_features.begin() + static_cast<std::ptrdiff_t>(rows.row_ptr[r + 1] * 3),
          whole.edge_features.begin() + static_cast<std::ptrdiff_t>(first)));
    }
    CHECK(t->piece.global_cells == expected.global_cells);
    CHECK(t->piece.global_points == expected.global_points);
    CHECK(t->piece.mesh.points == expected.mesh.points);
    CHECK(t->piece.mesh.cells == expected.mesh.cells);
    CHECK(t->piece.mesh.node_types == expected.mesh.node_types);
    CHECK(t->piece.mesh.boundary_facets == expected.mesh.boundary_facets);
    CHECK(mesh_bytes(*t) < mesh_bytes(whole));
  }
  // The pieces: every cell once over the ranks; the rows on a piece's points equal the
  // whole frame's, those of other parts included.
  const Trajectory& t = streamed;
  long long cells = static_cast<long long>(t.piece.mesh.num_cells());
  MPI_Allreduce(MPI_IN_PLACE, &cells, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
  CHECK(cells == static_cast<long long>(whole.cells.size() / 3));
  long long foreign = 0;
  for (const mesh::Index g : t.piece.global_points) foreign += owner[g] != rank ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &foreign, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
  CHECK(foreign > 0);  // the exchange below is exercised
  const PieceRows on_piece(MPI_COMM_WORLD, t);
  const std::vector<double> values = on_piece(t.velocity[2], 2);
  REQUIRE(values.size() == t.piece.global_points.size() * 2);
  for (std::size_t k = 0; k < t.piece.global_points.size(); ++k) {
    const auto g = static_cast<std::size_t>(t.piece.global_points[k]);
    CHECK(values[2 * k] == whole.velocity[2][2 * g]);
    CHECK(values[2 * k + 1] == whole.velocity[2][2 * g + 1]);
  }
}

TEST_CASE("a streamed read of a broken mesh fails on every rank with the first rank's message",
          "[domain_mpi]") {
  // The first rank reads the mesh whole to split it and finds a cell naming a point the
  // mesh does not have: every rank throws its InputError (none waits for a broadcast).
  const int size = runtime::comm_size(MPI_COMM_WORLD);
  if (size < 2) return;  // a one-rank run reads whole
  const testing::ScopedTempDir dir("mt_domain_broken");
  const std::string path = synthetic_file(dir, 1, 3);
  if (runtime::comm_rank(MPI_COMM_WORLD) == 0) {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(file >= 0);
    const hid_t cells = H5Dopen2(file, "/0/cells", H5P_DEFAULT);
    const hid_t space = H5Dget_space(cells);
    std::vector<long long> ids(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    REQUIRE(H5Dread(cells, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, ids.data()) >= 0);
    ids[4] = 100000;
    REQUIRE(H5Dwrite(cells, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, ids.data()) >= 0);
    H5Sclose(space);
    H5Dclose(cells);
    H5Fclose(file);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  DataOptions options;
  options.parts = size;
  options.part = runtime::comm_rank(MPI_COMM_WORLD);
  options.comm = MPI_COMM_WORLD;
  CHECK_THROWS_WITH(read_trajectories(path, options), Contains(path) && Contains("100000"));
}
