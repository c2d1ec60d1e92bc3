#include "models/mesh_transformer/run.hpp"

#include <algorithm>
#include <memory>

#include "core/io/hdf5_reader.hpp"
#include "core/io/vtk_series.hpp"
#include "core/mesh/submesh.hpp"
#include "core/mesh/vtk_piece.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/progress.hpp"
#include "core/runtime/runtime.hpp"
#include "models/mesh_transformer/domain.hpp"

namespace tessera::models::mesh_transformer {

namespace {

// Rollout RMSE per test trajectory and frame, gathered on every rank (trajectory k is
// rolled out by sample group k % groups).
struct RolloutTable {
  std::size_t frames = 0;
  std::vector<double> model, persistence;  // trajectories x frames
  double seconds = 0, node_updates = 0;
};

// RMSE at each horizon (then the whole rollout), averaged over trajectories.
std::vector<double> horizon_rmse(const std::vector<double>& table, std::size_t trajectories,
                                 std::size_t frames, const std::vector<double>& horizons) {
  std::vector<double> out(horizons.size(), 0.0);
  for (std::size_t k = 0; k < trajectories; ++k) {
    const std::vector<double> row(table.begin() + k * frames, table.begin() + (k + 1) * frames);
    for (std::size_t h = 0; h < horizons.size(); ++h) {
      out[h] += rmse_to_horizon(row, static_cast<std::size_t>(horizons[h]));
    }
  }
  for (double& v : out) v /= static_cast<double>(trajectories);
  return out;
}

// The rollout as a VTK series for ParaView: predicted, true and error velocity per frame.
// A split mesh is written as one piece per domain rank (the cells whose first node it
// owns), so the series is partitioned as the computation was: a trajectory read in parts
// holds its piece, a whole one split in the rollout (r.owner set) is cut here. Collective
// over `domain`.
void write_rollout_vtk(const io::RunContext& ctx, const Trajectory& t, const Rollout& r,
                       const std::string& name, MPI_Comm domain) {
  const mesh::Submesh cut =
      t.in_parts() ? mesh::Submesh{} : mesh_piece(t, r.owner, runtime::comm_rank(domain));
  const mesh::Submesh& piece = t.in_parts() ? t.piece : cut;
  const auto d = static_cast<std::size_t>(t.dimension);
  // Frames read in parts hold the rank's own nodes; the piece's points of other parts
  // come from their owners.
  std::unique_ptr<PieceRows> from_owners;
  if (t.in_parts()) from_owners = std::make_unique<PieceRows>(domain, t);
  const auto on_piece = [&](const std::vector<double>& values) {
    if (from_owners) return (*from_owners)(values, d);
    std::vector<double> out(piece.global_points.size() * d);
    for (std::size_t i = 0; i < piece.global_points.size(); ++i) {
      for (std::size_t c = 0; c < d; ++c) {
        out[i * d + c] = values[static_cast<std::size_t>(piece.global_points[i]) * d + c];
      }
    }
    return out;
  };
  io::VtkSeries series(domain, ctx.directory, name);
  const int components = t.dimension;
  for (std::size_t f = 0; f < r.prediction.size(); ++f) {
    const std::vector<double> predicted = on_piece(r.prediction[f]);
    const std::vector<double> truth = on_piece(t.velocity[f]);
    std::vector<double> error(predicted.size());
    for (std::size_t k = 0; k < error.size(); ++k) error[k] = predicted[k] - truth[k];
    series.write_step(static_cast<double>(f) * (t.dt > 0 ? t.dt : 1.0),
                      mesh::to_vtk_piece(piece.mesh, {{"velocity_pred", components, predicted},
                                                      {"velocity_true", components, truth},
                                                      {"velocity_error", components, error}}));
  }
}

// Parameters and normalisers of `name` from an earlier run's checkpoint. InputError
// naming the file when it holds another architecture or other features.
template <class T>
void load_checkpoint(const MeshTransformerConfig& c, const std::string& name,
                     nn::ParameterStore<T>& store, Normalizers& normalizers) {
  const io::Hdf5Reader reader(resolve_trajectory_file(c, c.checkpoint, "model.checkpoint"));
  store.load(reader, "/checkpoint/" + name + "/parameters");
  const std::string group = "/checkpoint/" + name + "/normalizers/";
  for (auto& [label, n] : {std::pair<const char*, Normalizer*>{"node", &normalizers.nodes},
                           {"edge", &normalizers.edges},
                           {"target", &normalizers.targets}}) {
    try {
      n->set(reader.read(group + label + "_count").at(0), reader.read(group + label + "_mean"),
             reader.read(group + label + "_std"));
    } catch (const InputError& e) {
      throw InputError(str(reader.path(), ": ", e.what()));
    }
  }
}

// Checkpoints (`tessera run --resume`): the models are trained one after the other, so a
// checkpoint holds where the run stands ([model in training, optimiser steps of the
// models before it] in /mesh/loop), the results of the models done (for the final
// summary: their datasets are in the results file already) and the training state of the
// current model (training.hpp). Its rollouts, and the persistence baseline's, follow its
// training and are made again after a resume.
// Checkpoints written before the mesh loads were kept hold the first 8.
constexpr std::size_t kResultScalars = 12, kResultScalarsBeforeLoads = 8;

std::string done_group(std::size_t model) {
  return str("/mesh/done/", model);
}

void write_result(io::ResultsFile& state, const std::string& group, const ModelResult& r) {
  const TrainingSummary& t = r.training;
  state.write_root_array(
      group + "/scalars", {kResultScalars},
      {static_cast<double>(r.parameters), static_cast<double>(t.steps), t.first_loss, t.final_loss,
       t.seconds, t.seconds_per_step, r.rollout_seconds, r.nodes_per_second, t.mesh.nodes,
       t.mesh.max_local, t.mesh.max_ghosts, t.mesh.max_neighbours});
  state.write_root_array(group + "/rmse", {r.rmse.size()}, r.rmse);
}

ModelResult read_result(const io::Hdf5Reader& state, const std::string& group, ModelKind kind,
                        const std::vector<double>& horizons) {
  const std::vector<double> v = state.read(group + "/scalars");
  ModelResult r;
  r.rmse = state.read(group + "/rmse");
  if ((v.size() != kResultScalars && v.size() != kResultScalarsBeforeLoads) ||
      r.rmse.size() != horizons.size()) {
    throw InputError(str(state.path(), ": ", group, " holds ", v.size(), " values and ",
                         r.rmse.size(), " horizons, expected ", kResultScalars, " and ",
                         horizons.size(), " (a checkpoint of another run)"));
  }
  r.kind = kind;
  r.parameters = static_cast<std::size_t>(v[0]);
  r.training.steps = static_cast<long long>(v[1]);
  r.training.first_loss = v[2];
  r.training.final_loss = v[3];
  r.training.seconds = v[4];
  r.training.seconds_per_step = v[5];
  r.rollout_seconds = v[6];
  r.nodes_per_second = v[7];
  if (v.size() == kResultScalars) r.training.mesh = {v[8], v[9], v[10], v[11]};
  return r;
}

template <class T>
ModelResult train_and_score(const MeshTransformerConfig& c, const io::RunContext& ctx,
                            ModelKind kind, const std::vector<Trajectory>& train_set,
                            const std::vector<Trajectory>& test_set,
                            std::vector<double>& persistence, const std::vector<double>& horizons,
                            bool first_model, const TrainingCheckpoints* checkpoints) {
  const int rank = runtime::comm_rank(ctx.comm);
  const std::string name = model_kind_name(kind);
  typename Surrogate<T>::Options options;
  options.kind = kind;
  options.transformer = c.model.transformer;
  options.meshgraphnet = c.model.meshgraphnet;
  options.attention = c.model.attention;
  const Trajectory& first = train_set.front();
  options.transformer.inputs = options.meshgraphnet.node_inputs = first.node_inputs();
  options.transformer.outputs = options.meshgraphnet.outputs =
      static_cast<std::size_t>(first.dimension);
  options.meshgraphnet.edge_inputs = static_cast<std::size_t>(first.dimension) + 1;

  nn::ParameterStore<T> store;
  Surrogate<T> model;
  model.declare(store, options);
  store.finalize();
  model.init(store, c.training.seed);
  TrainingOptions training = c.training;
  const bool transformer = kind == ModelKind::kTransformer;
  training.lr = transformer ? c.transformer_lr : c.meshgraphnet_lr;
  training.schedule = transformer ? c.transformer_schedule : c.meshgraphnet_schedule;
  ModelResult result;
  result.kind = kind;
  result.parameters = store.size();
  runtime::log::info(str(name, ": ", store.size(), " parameters; ", training.steps,
                         " steps of batch ", training.batch, ", lr ", training.lr, " (",
                         training.schedule, ")"));

  io::ResultsFile& results = *ctx.results;
  Normalizers normalizers = make_normalizers(first);
  if (!c.checkpoint.empty()) {
    load_checkpoint(c, name, store, normalizers);
    training.normalizers_ready = true;
    runtime::log::info(str(name, ": parameters and normalisers from ", c.checkpoint));
  }
  runtime::Progress progress(name, static_cast<double>(std::max(training.steps, 1LL)), rank == 0,
                             "steps");
  auto observer = [&](const TrainingRecord& r) {
    const double x = static_cast<double>(r.step);
    results.append_metric(name + "_loss", x, r.loss);
    results.append_metric(name + "_lr", x, r.lr);
    results.append_metric(name + "_grad_norm", x, r.grad_norm);
    progress.update(x, str("loss ", r.loss));
  };
  if (training.steps > 0 || c.checkpoint.empty()) {
    if (checkpoints && checkpoints->resume) {
      runtime::log::info(str(name, ": resuming training from ", checkpoints->resume->path()));
    }
    runtime::Timers::Scope scope(ctx.timers, name + ".train");
    result.training = train(ctx.comm, train_set, model, store, training, normalizers, observer,
                            ctx.timers, checkpoints);
  }
  progress.finish(str("loss ", result.training.first_loss, " -> ", result.training.final_loss));

  // Rollouts: trajectory k on sample group k % groups (its mesh split over the group's
  // domain ranks), then every rank gets the table.
  const RankGroups groups = split_ranks(ctx.comm, training.domain_ranks);
  RolloutTable table;
  for (const Trajectory& t : test_set) {
    table.frames = std::max(
        table.frames, c.rollout_frames > 0 ? std::min(c.rollout_frames, t.frames()) : t.frames());
  }
  table.model.assign(test_set.size() * table.frames, 0.0);
  table.persistence.assign(test_set.size() * table.frames, 0.0);
  {
    runtime::Timers::Scope scope(ctx.timers, name + ".rollout");
    for (std::size_t k = static_cast<std::size_t>(groups.sample_group); k < test_set.size();
         k += static_cast<std::size_t>(groups.sample_groups)) {
      // Random attention edges of test meshes come from another stream than training's.
      const Rollout r = rollout(test_set[k], model, store, normalizers, c.rollout_frames,
                                1000000 + k, groups.domain);
      if (c.vtk && k < c.vtk_trajectories) {
        write_rollout_vtk(ctx, test_set[k], r, str("rollout_", name, "_", k), groups.domain);
      }
      if (groups.domain_rank != 0) continue;  // the group's first rank reports it
      std::copy(r.rmse.begin(), r.rmse.end(), table.model.begin() + k * table.frames);
      std::copy(r.persistence_rmse.begin(), r.persistence_rmse.end(),
                table.persistence.begin() + k * table.frames);
      table.seconds += r.seconds;
      table.node_updates +=
          static_cast<double>(test_set[k].num_nodes()) * static_cast<double>(r.rmse.size() - 1);
    }
  }
  MPI_Allreduce(MPI_IN_PLACE, table.model.data(), static_cast<int>(table.model.size()), MPI_DOUBLE,
                MPI_SUM, ctx.comm);
  MPI_Allreduce(MPI_IN_PLACE, table.persistence.data(), static_cast<int>(table.persistence.size()),
                MPI_DOUBLE, MPI_SUM, ctx.comm);
  double totals[2] = {table.seconds, table.node_updates};
  MPI_Allreduce(MPI_IN_PLACE, totals, 2, MPI_DOUBLE, MPI_SUM, ctx.comm);
  result.rollout_seconds = totals[0];
  result.nodes_per_second = totals[0] > 0 ? totals[1] / totals[0] : 0;
  result.rmse = horizon_rmse(table.model, test_set.size(), table.frames, horizons);
  persistence = horizon_rmse(table.persistence, test_set.size(), table.frames, horizons);

  const std::uint64_t rows = test_set.size(), cols = table.frames;
  results.write_root_array("/rollout/" + name + "/rmse", {rows, cols}, table.model);
  results.set_attribute("/rollout/" + name + "/rmse", "layout", "test trajectory x frame");
  // The baseline does not depend on the model: written once.
  if (first_model) {
    results.write_root_array("/rollout/persistence/rmse", {rows, cols}, table.persistence);
  }
  results.write_root_array("/rollout/" + name + "/horizon_rmse", {horizons.size()}, result.rmse);
  results.set_attribute("/", name + "_parameters", static_cast<double>(result.parameters));
  results.set_attribute("/", name + "_train_seconds_per_step", result.training.seconds_per_step);
  results.set_attribute("/", name + "_nodes_per_second", result.nodes_per_second);
  // The training meshes as split over the ranks (analysis/performance_model.py).
  const MeshLoad& load = result.training.mesh;
  results.set_attribute("/", name + "_train_mesh_nodes", load.nodes);
  results.set_attribute("/", name + "_train_max_local_nodes", load.max_local);
  results.set_attribute("/", name + "_train_max_ghost_nodes", load.max_ghosts);
  results.set_attribute("/", name + "_train_max_neighbours", load.max_neighbours);
  results.set_attribute("/", name + "_first_loss", result.training.first_loss);
  results.set_attribute("/", name + "_final_loss", result.training.final_loss);
  store.save(results, "/checkpoint/" + name + "/parameters");
  const std::string norm = "/checkpoint/" + name + "/normalizers/";
  for (const auto& [label, n] :
       {std::pair<const char*, const Normalizer*>{"node", &normalizers.nodes},
        {"edge", &normalizers.edges},
        {"target", &normalizers.targets}}) {
    results.write_root_array(norm + label + "_mean", {n->features()}, n->mean());
    results.write_root_array(norm + label + "_std", {n->features()}, n->stddev());
    results.write_root_array(norm + label + "_count", {1}, {n->count()});
  }
  return result;
}

}  // namespace

MeshTransformerSummary run_mesh_transformer(const MeshTransformerConfig& c,
                                            const io::RunContext& ctx) {
  MeshTransformerSummary summary;
  std::vector<Trajectory> train_set, test_set;
  {
    runtime::Timers::Scope scope(ctx.timers, "mesh.read");
    // A mesh split over a domain group's ranks: each keeps its own part of every mesh.
    const RankGroups groups = split_ranks(ctx.comm, c.training.domain_ranks);
    DataOptions data = c.data;
    data.parts = groups.domain_ranks;
    data.part = groups.domain_rank;
    data.comm = groups.domain;
    config::with_source(c.source, [&] {
      train_set = read_trajectories(resolve_trajectory_file(c, c.train_file, "data.train"), data);
      DataOptions test_options = data;
      test_options.max_trajectories = c.test_trajectories;
      test_set =
          read_trajectories(resolve_trajectory_file(c, c.test_file, "data.test"), test_options);
    });
  }
  for (const Trajectory& t : train_set) {
    if (t.dimension != train_set.front().dimension) {
      throw InputError(str(t.name, ": ", t.dimension, "-D among ", train_set.front().dimension,
                           "-D trajectories"));
    }
  }
  summary.train_trajectories = train_set.size();
  summary.test_trajectories = test_set.size();
  summary.nodes = train_set.front().num_nodes();
  summary.horizons = c.horizons;
  summary.horizons.push_back(0);
  runtime::log::info(str("mesh models: ", train_set.size(), " training trajectories (",
                         train_set.front().frames(), " frames, ", train_set.front().num_nodes(),
                         " nodes in the first), ", test_set.size(), " test trajectories"));
  {
    // Frame and mesh bytes, this rank's, and the frames of every node.
    double held[2] = {0, 0}, whole = 0;
    for (const auto* set : {&train_set, &test_set}) {
      for (const Trajectory& t : *set) {
        held[0] += static_cast<double>(t.frames() * t.frame_rows() * t.dimension) * 8;
        held[1] += mesh_bytes(t);
        whole += static_cast<double>(t.frames() * t.num_nodes() * t.dimension) * 8;
      }
    }
    MPI_Allreduce(MPI_IN_PLACE, held, 2, MPI_DOUBLE, MPI_MAX, ctx.comm);
    const bool in_parts = train_set.front().in_parts();
    runtime::log::info(str("mesh models: ", in_parts ? "read in " : "read whole",
                           in_parts ? str(c.training.domain_ranks, " parts") : std::string(),
                           ": at most ", held[0] / 1048576.0, " MiB of frames (", whole / 1048576.0,
                           " MiB whole) and ", held[1] / 1048576.0, " MiB of meshes per rank"));
  }
  // Checkpoints: see write_result.
  io::TrainingSequence sequence(ctx.checkpoints, *ctx.results, "/mesh", c.kinds.size());
  for (std::size_t k = 0; k < sequence.first(); ++k) {
    summary.models.push_back(
        read_result(*sequence.resume_state(), done_group(k), c.kinds[k], summary.horizons));
  }
  for (std::size_t k = sequence.first(); k < c.kinds.size(); ++k) {
    const TrainingCheckpoints* checkpoints =
        sequence.for_model(k, [&](io::ResultsFile& state, std::size_t j) {
          write_result(state, done_group(j), summary.models[j]);
        });
    summary.models.push_back(train_and_score<float>(c, ctx, c.kinds[k], train_set, test_set,
                                                    summary.persistence, summary.horizons,
                                                    summary.models.empty(), checkpoints));
    sequence.finished(summary.models.back().training.steps);
  }
  ctx.results->write_root_array("/rollout/horizons", {summary.horizons.size()}, summary.horizons);
  ctx.results->set_attribute("/rollout/horizons", "note", "frames; 0 = the whole rollout");
  ctx.results->write_root_array("/rollout/persistence/horizon_rmse", {summary.persistence.size()},
                                summary.persistence);
  return summary;
}

}  // namespace tessera::models::mesh_transformer
