// Training the mesh models: normalisers against a direct computation, the loss falling
// on a learnable data set (2-D triangles and 3-D tetrahedra), a zero-change model keeping the state
// in a rollout, a training resumed from a checkpoint's state ending bitwise equal, data parallel
// training equal to one rank, unrolled training's gradient against finite differences, and bad
// trajectory files.
#include <algorithm>
#include <fstream>
#include <functional>
#include <set>
#include <utility>

#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"
#include "core/tensor/host_copy.hpp"
#include "models/mesh_transformer/training.hpp"
#include "tests/models/mesh_transformer/synthetic_data.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/gradient_check.hpp"
#include "tests/support/shared_data.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/training_checkpoints.hpp"

using namespace tessera;
using namespace tessera::models::mesh_transformer;
using Catch::Matchers::Contains;

namespace {

template <class T>
typename Surrogate<T>::Options small_model(ModelKind kind, std::size_t global_nodes = 0,
                                           std::size_t dimension = 2) {
  typename Surrogate<T>::Options o;
  o.kind = kind;
  o.transformer.global_nodes = global_nodes;
  o.transformer.inputs = o.meshgraphnet.node_inputs = dimension + 9;  // velocity, node type
  o.transformer.outputs = o.meshgraphnet.outputs = dimension;
  o.meshgraphnet.edge_inputs = dimension + 1;
  o.transformer.dim = 16;
  o.transformer.layers = 2;
  o.transformer.heads = 2;
  o.meshgraphnet.latent = 16;
  o.meshgraphnet.blocks = 2;
  return o;
}

// The transformer with and without global attention nodes, and MeshGraphNet.
struct ModelCase {
  ModelKind kind;
  std::size_t global_nodes;
};
const ModelCase kModelCases[] = {
    {ModelKind::kTransformer, 0}, {ModelKind::kTransformer, 2}, {ModelKind::kMeshGraphNet, 0}};

TrainingOptions quick_training(long long steps) {
  TrainingOptions o;
  o.steps = steps;
  o.batch = 4;
  o.lr = 3e-3;
  o.schedule = "constant";
  o.noise = 0;
  o.log_every = 10;
  return o;
}

// The synthetic file in `dir`, written by rank 0.
std::string synthetic_file(const testing::ScopedTempDir& dir, int trajectories,
                           std::size_t frames) {
  const std::string path = dir.path() + "/train.h5";
  if (runtime::comm_rank(MPI_COMM_WORLD) == 0) {
    testing::write_synthetic_trajectories(path, trajectories, frames);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return path;
}

}  // namespace

TEST_CASE("normalisers equal the mean and std of the data, merged over ranks", "[normalizer_mpi]") {
  const int rank = runtime::comm_rank(MPI_COMM_WORLD), ranks = runtime::comm_size(MPI_COMM_WORLD);
  // Rows r = 0..7 of (r, 2r + 1, 5): each rank accumulates rows r with r % ranks == rank.
  Normalizer n("test", 3);
  for (int r = rank; r < 8; r += ranks) n.accumulate({double(r), 2.0 * r + 1, 5.0});
  n.merge(MPI_COMM_WORLD);
  CHECK(n.count() == 8);
  const auto mean = n.mean(), std = n.stddev();
  CHECK(mean[0] == Approx(3.5));
  CHECK(mean[1] == Approx(8.0));
  CHECK(mean[2] == Approx(5.0));
  CHECK(std[0] == Approx(std::sqrt(5.25)));  // population std of 0..7
  CHECK(std[1] == Approx(2 * std::sqrt(5.25)));
  CHECK(std[2] == Approx(1e-8));  // a constant feature: the floor
  std::vector<double> rows = {3.5, 8.0, 5.0, 7.0, 15.0, 5.0};
  n.normalise(rows);
  CHECK(rows[0] == Approx(0).margin(1e-12));
  CHECK(rows[3] == Approx(3.5 / std::sqrt(5.25)));
  n.denormalise(rows);
  CHECK(rows[4] == Approx(15.0));
  CHECK_THROWS_WITH(Normalizer("empty", 2).mean(), Contains("empty normalizer"));
}

TEST_CASE("training drives the loss down on a learnable data set", "[training]") {
  const testing::ScopedTempDir dir("mt_train");
  const std::string path = synthetic_file(dir, 3, 12);
  const auto trajectories = read_trajectories(path, {});
  REQUIRE(trajectories.size() == 3);
  CHECK(trajectories[0].frames() == 12);
  for (const ModelCase& c : kModelCases) {
    const ModelKind kind = c.kind;
    const std::size_t global_nodes = c.global_nodes;
    nn::ParameterStore<float> store;
    Surrogate<float> model;
    model.declare(store, small_model<float>(kind, global_nodes));
    store.finalize();
    model.init(store, 3);
    Normalizers normalizers = make_normalizers(trajectories[0]);
    const TrainingSummary s =
        train(MPI_COMM_SELF, trajectories, model, store, quick_training(300), normalizers);
    INFO(model_kind_name(kind) << " (" << global_nodes << " global nodes): loss " << s.first_loss
                               << " -> " << s.final_loss);
    CHECK(s.final_loss < s.first_loss / 5);
    // A trained model beats holding the state over a short rollout.
    const Rollout r = rollout(trajectories[0], model, store, normalizers, 6);
    CHECK(rmse_to_horizon(r.rmse, 5) < rmse_to_horizon(r.persistence_rmse, 5));
  }
}

TEST_CASE("3-D: tetrahedral trajectories train both models, which beat persistence", "[training]") {
  const testing::ScopedTempDir dir("mt_train_3d");
  const std::string path = dir.path() + "/train.h5";
  const mesh::Mesh box = testing::synthetic_box_mesh(4, 4, 3);
  if (runtime::comm_rank(MPI_COMM_WORLD) == 0) {
    testing::write_synthetic_trajectories(path, box, 3, 12);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const auto trajectories = read_trajectories(path, {});
  REQUIRE(trajectories.size() == 3);
  const Trajectory& t = trajectories[0];
  CHECK(t.dimension == 3);
  CHECK(t.num_nodes() == 48);
  CHECK(t.node_inputs() == 12);
  CHECK(t.edge_features.size() == 4 * t.graph.num_edges());
  // Every vertex pair of a tetrahedron is a graph edge, and nothing else is.
  std::set<std::pair<graph::Index, graph::Index>> pairs;
  for (std::size_t c = 0; c < box.num_cells(); ++c) {
    for (int a = 0; a < 4; ++a) {
      for (int b = 0; b < 4; ++b) {
        if (a != b) pairs.emplace(box.cells[4 * c + a], box.cells[4 * c + b]);
      }
    }
  }
  CHECK(t.graph.num_edges() == pairs.size());
  for (std::size_t i = 0; i < t.num_nodes(); ++i) {
    for (graph::Index e = t.graph.row_ptr[i]; e < t.graph.row_ptr[i + 1]; ++e) {
      CHECK(pairs.count({static_cast<graph::Index>(i), t.graph.col_idx[e]}) == 1);
    }
  }
  for (const ModelCase& c : kModelCases) {
    nn::ParameterStore<float> store;
    Surrogate<float> model;
    model.declare(store, small_model<float>(c.kind, c.global_nodes, 3));
    store.finalize();
    model.init(store, 3);
    Normalizers normalizers = make_normalizers(t);
    const TrainingSummary s =
        train(MPI_COMM_SELF, trajectories, model, store, quick_training(300), normalizers);
    INFO(model_kind_name(c.kind) << " (" << c.global_nodes << " global nodes): loss "
                                 << s.first_loss << " -> " << s.final_loss);
    CHECK(s.final_loss < s.first_loss / 5);
    const Rollout r = rollout(t, model, store, normalizers, 6);
    CHECK(rmse_to_horizon(r.rmse, 5) < rmse_to_horizon(r.persistence_rmse, 5));
  }
}

TEST_CASE("with noise, the target is the change from the noisy input (or the clean one)",
          "[training]") {
  const testing::ScopedTempDir dir("mt_noise_target");
  const std::string path = synthetic_file(dir, 2, 6);
  const auto trajectories = read_trajectories(path, {});
  // A model whose output is 0 (all parameters 0): the first loss is the mean square of
  // the normalised target. Noise far above the frame-to-frame change (about 0.1 here)
  // makes the corrected target, which holds minus the noise, several times larger.
  const auto first_loss = [&](double noise, bool corrected) {
    nn::ParameterStore<double> store;
    Surrogate<double> model;
    model.declare(store, small_model<double>(ModelKind::kTransformer));
    store.finalize();
    Kokkos::deep_copy(store.params(), 0.0);
    TrainingOptions o = quick_training(1);
    o.log_every = 1;
    o.noise = noise;
    o.noise_corrected_target = corrected;
    Normalizers normalizers = make_normalizers(trajectories[0]);
    return train(MPI_COMM_SELF, trajectories, model, store, o, normalizers).first_loss;
  };
  const double clean = first_loss(1.0, false), corrected = first_loss(1.0, true);
  INFO("first loss: clean target " << clean << ", corrected " << corrected);
  CHECK(clean == Approx(first_loss(0.0, true)).epsilon(1e-12));  // the input noise alone
  CHECK(corrected > 5 * clean);
}

TEST_CASE("pushforward: a sample starts from the model's own state after its unrolled steps",
          "[training]") {
  // One trajectory of 3 frames, batch 1, learning rate 0: every step's loss is that of one
  // of the samples (frame 0 or 1 plain, or frame 0 advanced one model step, then learning
  // frame 2). The advanced sample's loss is made independently: a trajectory whose first
  // frame is the model's rollout state at frame 1 and whose second is the true frame 2.
  const testing::ScopedTempDir dir("mt_pushforward");
  const auto trajectories = read_trajectories(synthetic_file(dir, 1, 3), {});
  nn::ParameterStore<double> store;
  Surrogate<double> model;
  model.declare(store, small_model<double>(ModelKind::kTransformer));
  store.finalize();
  model.init(store, 4);
  Normalizers normalizers = make_normalizers(trajectories[0]);
  accumulate_exact(normalizers, trajectories);
  const auto losses = [&](const std::vector<Trajectory>& data, long long pushforward,
                          long long steps) {
    TrainingOptions o = quick_training(steps);
    o.batch = 1;
    o.lr = 0;
    o.weight_decay = 0;
    o.log_every = 1;
    o.normalizers_ready = true;
    o.pushforward = pushforward;
    std::vector<double> out;
    train(MPI_COMM_SELF, data, model, store, o, normalizers,
          [&](const TrainingRecord& r) { out.push_back(r.loss); });
    return out;
  };
  const auto distinct = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  };
  const std::vector<double> plain = distinct(losses(trajectories, 0, 40));
  REQUIRE(plain.size() == 2);  // frames 0 and 1
  Trajectory advanced = trajectories[0];
  advanced.velocity = {rollout(trajectories[0], model, store, normalizers, 2).prediction[1],
                       trajectories[0].velocity[2]};
  const double pushed = losses({advanced}, 0, 1).front();
  const std::vector<double> mixed = distinct(losses(trajectories, 1, 40));
  INFO("plain " << plain[0] << ", " << plain[1] << "; advanced " << pushed);
  REQUIRE(mixed.size() == 3);
  for (double loss : mixed) {
    const bool known =
        loss == plain[0] || loss == plain[1] || std::abs(loss - pushed) <= 1e-12 * pushed;
    CHECK(known);
  }
}

TEST_CASE("unrolled training: the gradient through the steps matches finite differences",
          "[training]") {
  const testing::ScopedTempDir dir("mt_unrolled_fd");
  const auto trajectories = read_trajectories(synthetic_file(dir, 1, 5), {});
  const Trajectory& t = trajectories[0];
  for (const ModelCase& c : kModelCases) {
    nn::ParameterStore<double> store;
    Surrogate<double> model;
    model.declare(store, small_model<double>(c.kind, c.global_nodes));
    store.finalize();
    model.init(store, 5);
    Normalizers normalizers = make_normalizers(t);
    accumulate_exact(normalizers, trajectories);
    // A noisy start, as training gives: the steps' errors then differ from node to node.
    std::vector<double> state = t.velocity[0];
    for (std::size_t k = 0; k < state.size(); ++k) state[k] += 0.05 * std::sin(1.7 * k + 0.3);
    store.zero_grad();
    unrolled_loss(t, model, store, normalizers, state, 0, 3);
    // Every loss evaluation below adds to the store's gradients again: check_gradient
    // keeps its own copy of them.
    const auto check = testing::check_gradient(
        store.params(), store.grads(),
        [&] { return unrolled_loss(t, model, store, normalizers, state, 0, 3); }, 1e-5, 300);
    INFO(model_kind_name(c.kind) << " (" << c.global_nodes << " global nodes): worst parameter "
                                 << check.worst_index << " of " << store.size());
    CHECK(check.max_relative_error < 1e-6);
  }
}

TEST_CASE(
    "unrolled training: two steps' loss is the mean of the step from the state and the "
    "step from the model's own next state",
    "[training]") {
  const testing::ScopedTempDir dir("mt_unrolled_value");
  const auto trajectories = read_trajectories(synthetic_file(dir, 1, 4), {});
  const Trajectory& t = trajectories[0];
  nn::ParameterStore<double> store;
  Surrogate<double> model;
  model.declare(store, small_model<double>(ModelKind::kTransformer));
  store.finalize();
  model.init(store, 6);
  Normalizers normalizers = make_normalizers(t);
  accumulate_exact(normalizers, trajectories);
  const std::vector<double> next = rollout(t, model, store, normalizers, 2).prediction[1];
  const double first = unrolled_loss(t, model, store, normalizers, t.velocity[0], 0, 1);
  const double second = unrolled_loss(t, model, store, normalizers, next, 1, 1);
  const double both = unrolled_loss(t, model, store, normalizers, t.velocity[0], 0, 2);
  INFO("first " << first << ", second " << second << ", both " << both);
  CHECK(first != second);
  CHECK(std::abs(both - 0.5 * (first + second)) <= 1e-12 * both);
  CHECK_THROWS_WITH(unrolled_loss(t, model, store, normalizers, t.velocity[0], 2, 2),
                    Contains("2 unrolled steps from frame 2") && Contains("4 frames"));
}

TEST_CASE("a model that predicts no change keeps the state in a rollout", "[training]") {
  const testing::ScopedTempDir dir("mt_zero");
  const std::string path = synthetic_file(dir, 1, 8);
  const auto trajectories = read_trajectories(path, {});
  nn::ParameterStore<double> store;
  Surrogate<double> model;
  model.declare(store, small_model<double>(ModelKind::kTransformer));
  store.finalize();
  Kokkos::deep_copy(store.params(), 0.0);  // every output 0
  Normalizers normalizers = make_normalizers(trajectories[0]);
  accumulate_exact(normalizers, trajectories);
  // A zero normalised output is the target mean in data units: centre the targets at 0.
  normalizers.targets.set(1.0, {0.0, 0.0}, normalizers.targets.stddev());
  const Rollout r = rollout(trajectories[0], model, store, normalizers);
  REQUIRE(r.rmse.size() == 8);
  for (std::size_t f = 1; f < r.rmse.size(); ++f) {
    // Boundary nodes are reset to the truth, NORMAL and OUTFLOW nodes hold frame 0: the
    // error is persistence's on those nodes, never more.
    CHECK(r.rmse[f] <= r.persistence_rmse[f] + 1e-15);
    CHECK(r.rmse[f] > 0);
  }
}

TEST_CASE("a training resumed from a checkpoint's state ends bitwise equal", "[training]") {
  const testing::ScopedTempDir dir("mt_resume");
  const std::string path = synthetic_file(dir, 2, 6);
  const auto trajectories = read_trajectories(path, {});
  const auto state_path = [&](long long step) {
    return dir.path() + "/state_" + std::to_string(step) + ".h5";
  };
  for (ModelKind kind : {ModelKind::kTransformer, ModelKind::kMeshGraphNet}) {
    for (bool running : {false, true}) {
      INFO(model_kind_name(kind) << (running ? ", running" : ", exact") << " normaliser");
      TrainingOptions o = quick_training(12);
      o.schedule = "warmup_cosine";
      o.warmup = 4;
      o.noise = 0.02;
      o.log_every = 5;
      o.exact_normalizer = !running;
      o.normalizer_steps = 6;
      struct Trained {
        std::vector<double> params, node_mean, target_std;
        TrainingSummary summary;
        std::vector<double> losses;  // the records' from the start (or the resume)
      };
      const auto train_with = [&](const TrainingCheckpoints& checkpoints) {
        nn::ParameterStore<float> store;
        Surrogate<float> model;
        model.declare(store, small_model<float>(kind));
        store.finalize();
        model.init(store, 5);
        Normalizers normalizers = make_normalizers(trajectories[0]);
        Trained out;
        out.summary = train(
            MPI_COMM_SELF, trajectories, model, store, o, normalizers,
            [&](const TrainingRecord& r) { out.losses.push_back(r.loss); }, nullptr, &checkpoints);
        out.params = tensor::to_host(store.params());
        out.node_mean = normalizers.nodes.mean();
        out.target_std = normalizers.targets.stddev();
        return out;
      };
      // The uninterrupted training writes its state inside the normalisers' accumulation
      // and a log window (step 4) and after both (step 10).
      const std::vector<long long> at = {4, 10};
      const TrainingCheckpoints writing = testing::writing_at(at, state_path);
      const Trained full = train_with(writing);
      for (long long step : at) {
        INFO("resumed at step " << step);
        const io::Hdf5Reader reader(state_path(step));
        long long first_boundary = -1;  // where the resumed training starts
        const TrainingCheckpoints resuming = testing::resuming_from(reader, first_boundary);
        const Trained resumed = train_with(resuming);
        CHECK(first_boundary == step + 1);
        CHECK(resumed.params == full.params);
        CHECK(resumed.node_mean == full.node_mean);
        CHECK(resumed.target_std == full.target_std);
        CHECK(resumed.summary.first_loss == full.summary.first_loss);
        CHECK(resumed.summary.final_loss == full.summary.final_loss);
        const std::vector<double> after(full.losses.end() - resumed.losses.size(),
                                        full.losses.end());
        CHECK(resumed.losses == after);
      }
    }
  }
  // The state of the other architecture is refused, naming the file.
  Normalizers normalizers = make_normalizers(trajectories[0]);
  const io::Hdf5Reader reader(state_path(4));  // the last written: MeshGraphNet's
  TrainingCheckpoints other;
  other.resume = &reader;
  nn::ParameterStore<float> transformer_store;
  Surrogate<float> transformer;
  transformer.declare(transformer_store, small_model<float>(ModelKind::kTransformer));
  transformer_store.finalize();
  CHECK_THROWS_WITH(train(MPI_COMM_SELF, trajectories, transformer, transformer_store,
                          quick_training(12), normalizers, {}, nullptr, &other),
                    Contains(state_path(4)) && Contains("different model"));
}

TEST_CASE("data-parallel training equals one rank", "[training_mpi]") {
  const testing::ScopedTempDir dir("mt_parallel");
  const std::string path = synthetic_file(dir, 2, 6);
  const auto trajectories = read_trajectories(path, {});
  for (const ModelCase& c : kModelCases) {
    const ModelKind kind = c.kind;
    const std::size_t global_nodes = c.global_nodes;
    auto parameters_after = [&](MPI_Comm comm, bool running_normalizer, long long unrolled) {
      nn::ParameterStore<double> store;
      Surrogate<double> model;
      model.declare(store, small_model<double>(kind, global_nodes));
      store.finalize();
      model.init(store, 9);
      TrainingOptions o = quick_training(10);
      o.noise = 0.02;  // keyed by sample and node: the same on any rank count
      o.exact_normalizer = !running_normalizer;
      o.normalizer_steps = 4;
      o.unrolled_steps = unrolled;
      Normalizers normalizers = make_normalizers(trajectories[0]);
      train(comm, trajectories, model, store, o, normalizers);
      return tensor::to_host(store.params());
    };
    // Exact and running normalisers; unrolled training (3 steps, exact normalisers).
    for (const auto& [running, unrolled] :
         {std::pair<bool, long long>{false, 1}, {true, 1}, {false, 3}}) {
      const auto one = parameters_after(MPI_COMM_SELF, running, unrolled);
      const auto all = parameters_after(MPI_COMM_WORLD, running, unrolled);
      double worst = 0, scale = 0;
      for (std::size_t i = 0; i < one.size(); ++i) {
        worst = std::max(worst, std::abs(one[i] - all[i]));
        scale = std::max(scale, std::abs(one[i]));
      }
      INFO(model_kind_name(kind) << " (" << global_nodes << " global nodes)"
                                 << (running ? " running" : " exact") << " normaliser, " << unrolled
                                 << " unrolled steps: largest difference " << worst);
      CHECK(worst <= 1e-10 * scale);
    }
  }
}

TEST_CASE("bad trajectory files are refused with the file and what is wrong", "[bad_input]") {
  const testing::ScopedTempDir scoped("mt_bad");
  const std::string dir = scoped.path();
  if (runtime::comm_rank(MPI_COMM_WORLD) == 0) {
    std::vector<std::vector<double>> v(1, std::vector<double>(18, 0.0)),
        p(1, std::vector<double>(9, 0.0));
    // One frame only.
    {
      solvers::flow::TrajectoryFile file(dir + "/short.h5");
      file.write_trajectory(0, testing::synthetic_grid_mesh(3, 3), v, p, 0.01, {});
      file.close();
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  CHECK_THROWS_WITH(read_trajectories(dir + "/short.h5", {}),
                    Contains("short.h5 trajectory 0") && Contains("1 velocity frame"));
  CHECK_THROWS_WITH(read_trajectories(dir + "/missing.h5", {}), Contains("missing.h5"));
  // A tetrahedral mesh without node types: the derivation is for the 2-D channel only.
  const std::string tets =
      dir + "/tets_" + std::to_string(runtime::comm_rank(MPI_COMM_WORLD)) + ".vtu";
  std::ofstream(tets) << R"(<?xml version="1.0"?>
<VTKFile type="UnstructuredGrid" version="0.1" byte_order="LittleEndian">
<UnstructuredGrid><Piece NumberOfPoints="5" NumberOfCells="2">
<Points><DataArray type="Float64" NumberOfComponents="3" format="ascii">
0 0 0 1 0 0 0 1 0 0 0 1 1 1 1</DataArray></Points>
<Cells><DataArray type="Int64" Name="connectivity" format="ascii">0 1 2 3 1 2 3 4</DataArray>
<DataArray type="Int64" Name="offsets" format="ascii">4 8</DataArray>
<DataArray type="UInt8" Name="types" format="ascii">10 10</DataArray></Cells>
<PointData><DataArray type="Float64" Name="velocity" NumberOfComponents="3" format="ascii">
1 0 0 1 0 0 1 0 0 1 0 0 1 0 0</DataArray></PointData>
</Piece></UnstructuredGrid></VTKFile>
)";
  CHECK_THROWS_WITH(read_trajectories(tets, {}), Contains(tets) && Contains("no node types") &&
                                                     Contains("derived for 2-D channels only"));
}

TEST_CASE("attention graph augmentations: dilated blocks, random edges, global nodes",
          "[training]") {
  const auto grid = graph::grid_triangle_mesh(6, 5);
  const graph::HostCsr mesh =
      graph::to_host(graph::csr_from_triangles(grid.num_nodes(), grid.triangles, false));
  AttentionGraphOptions o;
  o.dilated_layers = 1;
  o.dilation = 2;
  const AttentionGraphs dilated = attention_graphs(mesh, o, 3, 0);
  REQUIRE(dilated.graphs.size() == 2);
  using Groups = std::vector<std::vector<std::size_t>>;
  CHECK(dilated.block_graph == Groups{{0}, {0}, {1}});
  CHECK(dilated.graphs[0].col_idx == mesh.col_idx);
  CHECK(dilated.graphs[1].col_idx == graph::dilated(mesh, 2, 2, false).col_idx);

  o = AttentionGraphOptions{};
  o.random_edges = 0.5;
  const AttentionGraphs random = attention_graphs(mesh, o, 2, 3);
  const graph::HostCsr& g = random.graphs.at(0);
  CHECK(graph::is_symmetric(g));
  CHECK(g.num_edges() > mesh.num_edges());
  CHECK(g.num_edges() <= mesh.num_edges() + mesh.num_edges() / 2);
  for (std::size_t i = 0; i < mesh.num_nodes(); ++i) {  // every mesh edge stays, no self loop
    for (graph::Index e = mesh.row_ptr[i]; e < mesh.row_ptr[i + 1]; ++e) {
      CHECK(std::binary_search(g.col_idx.begin() + g.row_ptr[i],
                               g.col_idx.begin() + g.row_ptr[i + 1], mesh.col_idx[e]));
    }
    CHECK_FALSE(std::binary_search(g.col_idx.begin() + g.row_ptr[i],
                                   g.col_idx.begin() + g.row_ptr[i + 1],
                                   static_cast<graph::Index>(i)));
  }
  // The same on every call (every rank), another trajectory another draw.
  CHECK(attention_graphs(mesh, o, 2, 3).graphs[0].col_idx == g.col_idx);
  CHECK(attention_graphs(mesh, o, 2, 4).graphs[0].col_idx != g.col_idx);

  // Dilated heads: the last h of 4 heads of the dilated block, in groups of gcd(h, 4).
  o = AttentionGraphOptions{};
  o.dilated_layers = 1;
  o.dilated_heads = 2;
  CHECK(attention_graphs(mesh, o, 3, 0, 0, 4).block_graph == Groups{{0}, {0}, {0, 1}});
  o.dilated_heads = 1;
  CHECK(attention_graphs(mesh, o, 3, 0, 0, 4).block_graph == Groups{{0}, {0}, {0, 0, 0, 1}});
  o.dilated_heads = 3;
  CHECK(attention_graphs(mesh, o, 3, 0, 0, 4).block_graph == Groups{{0}, {0}, {0, 1, 1, 1}});
  o.dilated_heads = 4;
  CHECK(attention_graphs(mesh, o, 3, 0, 0, 4).block_graph == Groups{{0}, {0}, {1}});
  o.dilated_heads = 5;
  CHECK_THROWS_WITH(attention_graphs(mesh, o, 3, 0, 0, 4), Contains("model.dilated_heads = 5"));

  // Global nodes: every graph, the dilated one too, gets the token rows.
  o = AttentionGraphOptions{};
  o.dilated_layers = 1;
  const AttentionGraphs with_tokens = attention_graphs(mesh, o, 3, 0, 2);
  REQUIRE(with_tokens.graphs.size() == 2);
  CHECK(with_tokens.graphs[0].col_idx == with_global_nodes(mesh, 2, false).col_idx);
  CHECK(with_tokens.graphs[1].col_idx ==
        with_global_nodes(graph::dilated(mesh, 2, 2, false), 2, false).col_idx);

  o = AttentionGraphOptions{};
  o.dilated_layers = 3;
  CHECK_THROWS_WITH(attention_graphs(mesh, o, 2, 0), Contains("model.dilated_layers = 3"));
}

TEST_CASE("the real CylinderFlow mesh series trains and rolls out", "[cylinder_flow]") {
  const auto xdmf = testing::shared_data_file("mesh/cylinder_xdmf/mock.xdmf");
  if (!xdmf) return;
  DataOptions data;
  data.obstacle_as_wall = true;  // MeshGraphNets' convention: the cylinder is a wall
  const auto trajectories = read_trajectories(*xdmf, data);
  REQUIRE(trajectories.size() == 1);
  const Trajectory& t = trajectories[0];
  CHECK(t.num_nodes() == 1923);
  CHECK(t.frames() == 6);
  std::array<std::size_t, mesh::kNodeTypeClasses> counts{};
  for (auto type : t.node_types) ++counts[static_cast<std::size_t>(type)];
  // Derived from the channel geometry (as tests/core/mesh checks for the reader).
  CHECK(counts[static_cast<std::size_t>(mesh::NodeType::kInflow)] == 19);
  CHECK(counts[static_cast<std::size_t>(mesh::NodeType::kOutflow)] == 19);
  CHECK(counts[static_cast<std::size_t>(mesh::NodeType::kWallBoundary)] == 196);
  nn::ParameterStore<float> store;
  Surrogate<float> model;
  model.declare(store, small_model<float>(ModelKind::kTransformer));
  store.finalize();
  model.init(store, 1);
  Normalizers normalizers = make_normalizers(t);
  const TrainingSummary s =
      train(MPI_COMM_SELF, trajectories, model, store, quick_training(20), normalizers);
  CHECK(std::isfinite(s.final_loss));
  CHECK(s.final_loss < s.first_loss);
  const Rollout r = rollout(t, model, store, normalizers);
  CHECK(r.rmse.size() == 6);
  for (double e : r.rmse) CHECK(std::isfinite(e));

  data.derive_node_types = false;
  CHECK_THROWS_WITH(read_trajectories(*xdmf, data), Contains("no node types"));
}
