#include "models/mesh_transformer/config.hpp"

#include <algorithm>

#include <filesystem>

#include "core/io/data_root.hpp"
#include "core/io/hdf5_reader.hpp"
#include "core/mesh/read_mesh.hpp"
#include "core/runtime/error.hpp"

namespace tessera::models::mesh_transformer {

using config::at_least;
using config::between;
using config::greater_than;

void add_mesh_transformer_keys(config::Schema& s) {
  s.add_string("data.train", std::string("train.h5"), {},
               "training trajectories (MeshGraphNets-layout HDF5, as a flow data-set run "
               "writes); absolute, relative to the working directory, or under the data root");
  s.add_string("data.test", std::string("test.h5"), {}, "trajectories the rollouts are scored on");
  s.add_int("data.max_trajectories", 0, at_least(0), "training trajectories read at most (0: all)");
  s.add_int("data.test_trajectories", 0, at_least(0), "test trajectories scored (0: all)");
  s.add_int("data.max_frames", 0, at_least(0), "frames per trajectory read at most (0: all)");
  s.add_bool("data.obstacle_as_wall", false,
             "map OBSTACLE nodes to WALL_BOUNDARY (MeshGraphNets' convention for the cylinder)");
  s.add_bool("data.derive_node_types", true,
             "files without node types (CylinderFlow VTU/XDMF): derive them from the channel "
             "geometry");

  s.add_string("model.kinds", std::string("transformer, meshgraphnet"), {},
               "models trained side by side in this run, comma-separated: transformer, "
               "meshgraphnet");
  s.add_int("model.dim", 64, at_least(1), "transformer: width d");
  s.add_int("model.layers", 5, at_least(1), "transformer: blocks L");
  s.add_int("model.heads", 4, at_least(1), "transformer: attention heads (divides d)");
  s.add_int("model.mlp_factor", 3, at_least(1), "transformer: gated MLP width / d");
  s.add_int("model.hops", 1, between(1, 3), "transformer: attention over the K-hop union");
  s.add_bool("model.self_loops", false, "transformer: each node also attends to itself");
  s.add_int("model.dilated_layers", 0, at_least(0),
            "transformer: the last blocks that attend to hop distances d and 2d instead");
  s.add_int("model.dilation", 2, at_least(2), "transformer: d of the dilated blocks");
  s.add_int("model.dilated_heads", 0, at_least(0),
            "transformer: heads of a dilated block that attend to the dilated graph, the "
            "last ones (0: all; the paper: half)");
  s.add_real("model.random_edges", 0.0, at_least(0),
             "transformer: random node pairs added to the attention graph, as a fraction of "
             "the mesh edges (the same on every rank)");
  s.add_int("model.global_nodes", 0, between(0, 64),
            "transformer: learned global tokens that every node attends to and that attend "
            "to every node");
  s.add_bool("model.recompute", false,
             "both models: keep only each block's inputs and compute its activations again in "
             "backward (gradient checkpointing: several times less memory at 15 blocks, one "
             "more forward of the blocks per step, the same gradients)");
  s.add_string("model.checkpoint", std::string(), {},
               "run.h5 of an earlier mesh_transformer run: each model starts from its stored "
               "parameters and normalisers (with train.steps = 0: evaluation only)");
  s.add_int("model.latent", 128, at_least(1), "meshgraphnet: latent width");
  s.add_int("model.blocks", 15, at_least(1), "meshgraphnet: message-passing blocks");

  s.add_int("train.steps", 1000, at_least(0), "optimiser steps of each model");
  s.add_int("train.batch", 2, at_least(1), "samples per step (split over the ranks)");
  s.add_real("train.lr", 1e-3, greater_than(0), "transformer: peak learning rate (AdamW)");
  s.add_real("train.meshgraphnet_lr", 1e-4, greater_than(0),
             "meshgraphnet: peak learning rate (DeepMind's 1e-4)");
  s.add_string("train.schedule", std::string("warmup_cosine"),
               {"warmup_cosine", "constant", "exponential"},
               "transformer: learning-rate schedule (graph-physics: warm-up then cosine)");
  s.add_string("train.meshgraphnet_schedule", std::string("exponential"),
               {"warmup_cosine", "constant", "exponential"},
               "meshgraphnet: learning-rate schedule (DeepMind: exponential decay)");
  s.add_int("train.warmup", 1000, at_least(0), "warmup_cosine: linear warm-up steps");
  s.add_real("train.min_lr", 1e-6, at_least(0),
             "warmup_cosine: final learning rate; exponential: added to the decay");
  s.add_int("train.decay_steps", 5000000, at_least(1),
            "exponential: steps over which the rate falls by train.decay_gamma");
  s.add_real("train.decay_gamma", 0.1, greater_than(0), "exponential: factor per decay_steps");
  s.add_real("train.beta1", 0.9, between(0, 1), "AdamW beta1");
  s.add_real("train.beta2", 0.95, between(0, 1), "AdamW beta2");
  s.add_real("train.weight_decay", 1e-4, at_least(0), "AdamW decoupled weight decay");
  s.add_real("train.clip", 1.0, at_least(0), "global gradient-norm clipping (0: off)");
  s.add_real("train.noise", 0.02, at_least(0),
             "std of the Gaussian noise on NORMAL nodes' input velocity (training only)");
  s.add_bool("train.noise_corrected_target", true,
             "target: the change from the noisy input to the next frame (DeepMind's and "
             "graph-physics' code); false: the clean change");
  s.add_int("train.pushforward", 0, at_least(0),
            "pushforward training (Brandstetter et al. 2022): each sample first advances the "
            "model u ~ U{0..P} steps from its frame without gradient and learns the step from "
            "there to the true next frame; 0: off (one more forward pass per unrolled step)");
  s.add_int("train.unrolled_steps", 1, at_least(1),
            "model steps each sample takes and learns, the gradient flowing back through all "
            "of them (backpropagation through time); 1: one step. A sample of S steps costs "
            "2S - 1 forward and S backward passes; needs train.domain_ranks = 1");
  s.add_string("train.normalizer", std::string("exact"), {"exact", "running"},
               "exact: statistics of every training frame; running: of the samples of the "
               "first train.normalizer_steps steps (MeshGraphNets)");
  s.add_int("train.normalizer_steps", 1000, at_least(1), "running: steps that accumulate");
  s.add_int("train.log_every", 50, at_least(1), "steps between loss records");
  s.add_int("train.domain_ranks", 1, at_least(1),
            "ranks that split each mesh (METIS parts, a halo exchange before every layer; "
            "the same result as on one rank); the run's ranks must be a multiple, and the "
            "groups of domain_ranks ranks split the batch");

  s.add_int("rollout.frames", 0, at_least(0), "frames of each rollout (0: the whole trajectory)");
  s.add_real_list("rollout.horizons", std::vector<double>{1, 10, 50}, at_least(1),
                  "RMSE horizons in frames (the whole rollout is always reported)");
  s.add_int("rollout.vtk_trajectories", 1, at_least(0),
            "test trajectories whose rollouts are written for ParaView");
}

namespace {

std::vector<ModelKind> parse_kinds(const std::string& text) {
  std::vector<ModelKind> kinds;
  for (const std::string& name : config::split_list(text)) {
    try {
      kinds.push_back(model_kind_from_name(name));
    } catch (const InputError& e) {
      throw InputError(str("key 'model.kinds': ", e.what()));
    }
  }
  if (kinds.empty()) {
    throw InputError("key 'model.kinds' is empty: expected transformer, meshgraphnet or both");
  }
  return kinds;
}

}  // namespace

MeshTransformerConfig from_config(const config::Config& c) {
  MeshTransformerConfig m;
  m.source = c.source();
  m.data_root = c.get_string("run.data_root");
  m.train_file = c.get_string("data.train");
  m.test_file = c.get_string("data.test");
  m.data.max_trajectories = static_cast<std::size_t>(c.get_int("data.max_trajectories"));
  m.data.max_frames = static_cast<std::size_t>(c.get_int("data.max_frames"));
  m.data.obstacle_as_wall = c.get_bool("data.obstacle_as_wall");
  m.data.derive_node_types = c.get_bool("data.derive_node_types");
  m.test_trajectories = static_cast<std::size_t>(c.get_int("data.test_trajectories"));
  config::with_source(m.source, [&] { m.kinds = parse_kinds(c.get_string("model.kinds")); });

  TransformerOptions& t = m.model.transformer;
  t.dim = static_cast<std::size_t>(c.get_int("model.dim"));
  t.layers = static_cast<std::size_t>(c.get_int("model.layers"));
  t.heads = static_cast<std::size_t>(c.get_int("model.heads"));
  t.mlp_factor = static_cast<std::size_t>(c.get_int("model.mlp_factor"));
  t.global_nodes = static_cast<std::size_t>(c.get_int("model.global_nodes"));
  t.recompute = m.model.meshgraphnet.recompute = c.get_bool("model.recompute");
  m.model.attention.hops = static_cast<int>(c.get_int("model.hops"));
  m.model.attention.self_loops = c.get_bool("model.self_loops");
  m.model.attention.dilated_layers = static_cast<std::size_t>(c.get_int("model.dilated_layers"));
  m.model.attention.dilation = static_cast<int>(c.get_int("model.dilation"));
  m.model.attention.dilated_heads = static_cast<std::size_t>(c.get_int("model.dilated_heads"));
  m.model.attention.random_edges = c.get_real("model.random_edges");
  m.model.attention.seed = static_cast<std::uint64_t>(c.get_int("run.seed"));
  m.checkpoint = c.get_string("model.checkpoint");
  m.model.meshgraphnet.latent = static_cast<std::size_t>(c.get_int("model.latent"));
  m.model.meshgraphnet.blocks = static_cast<std::size_t>(c.get_int("model.blocks"));

  TrainingOptions& o = m.training;
  o.steps = c.get_int("train.steps");
  o.batch = c.get_int("train.batch");
  m.transformer_lr = c.get_real("train.lr");
  m.meshgraphnet_lr = c.get_real("train.meshgraphnet_lr");
  m.transformer_schedule = c.get_string("train.schedule");
  m.meshgraphnet_schedule = c.get_string("train.meshgraphnet_schedule");
  o.decay_steps = c.get_int("train.decay_steps");
  o.decay_gamma = c.get_real("train.decay_gamma");
  o.warmup = c.get_int("train.warmup");
  o.min_lr = c.get_real("train.min_lr");
  o.beta1 = c.get_real("train.beta1");
  o.beta2 = c.get_real("train.beta2");
  o.weight_decay = c.get_real("train.weight_decay");
  o.clip = c.get_real("train.clip");
  o.noise = c.get_real("train.noise");
  o.noise_corrected_target = c.get_bool("train.noise_corrected_target");
  o.pushforward = c.get_int("train.pushforward");
  o.unrolled_steps = c.get_int("train.unrolled_steps");
  o.exact_normalizer = c.get_string("train.normalizer") == "exact";
  o.normalizer_steps = c.get_int("train.normalizer_steps");
  o.log_every = c.get_int("train.log_every");
  o.domain_ranks = static_cast<int>(c.get_int("train.domain_ranks"));
  o.seed = static_cast<std::uint64_t>(c.get_int("run.seed"));

  m.rollout_frames = static_cast<std::size_t>(c.get_int("rollout.frames"));
  m.horizons = c.get_real_list("rollout.horizons");
  m.vtk_trajectories = static_cast<std::size_t>(c.get_int("rollout.vtk_trajectories"));
  m.vtk = c.get_bool("output.vtk");
  return m;
}

std::string resolve_trajectory_file(const MeshTransformerConfig& m, const std::string& file,
                                    const char* key) {
  try {
    return io::resolve_input_file(m.data_root, file, key);
  } catch (const InputError& e) {
    throw InputError(str(e.what(),
                         " (make one with a flow data-set run, e.g. experiments/"
                         "cylinder_dataset.toml)"));
  }
}

void validate(const MeshTransformerConfig& m, int ranks) {
  config::with_source(m.source, [&] {
    const TransformerOptions& t = m.model.transformer;
    const int domain_ranks = m.training.domain_ranks;
    if (ranks % domain_ranks != 0) {
      throw InputError(str("key 'train.domain_ranks' = ", domain_ranks, " does not divide the ",
                           ranks, " ranks of the run (ranks = domain ranks x sample groups)"));
    }
    if (m.training.unrolled_steps > 1 && domain_ranks > 1) {
      throw InputError(str("key 'train.unrolled_steps' = ", m.training.unrolled_steps,
                           " needs train.domain_ranks = 1 (it is ", domain_ranks,
                           "): unrolled training runs on whole meshes"));
    }
    if (m.training.unrolled_steps > 1 && !m.training.noise_corrected_target) {
      throw InputError(str("key 'train.unrolled_steps' = ", m.training.unrolled_steps,
                           " learns each step's change from the model's own state: it needs "
                           "train.noise_corrected_target = true"));
    }
    if (t.dim % t.heads != 0) {
      throw InputError(
          str("key 'model.dim' = ", t.dim, " is not a multiple of model.heads = ", t.heads));
    }
    if (m.model.attention.dilated_layers > t.layers) {
      throw InputError(str("key 'model.dilated_layers' = ", m.model.attention.dilated_layers,
                           " but model.layers = ", t.layers));
    }
    if (m.model.attention.dilated_heads > t.heads) {
      throw InputError(str("key 'model.dilated_heads' = ", m.model.attention.dilated_heads,
                           " but model.heads = ", t.heads));
    }
    for (double h : m.horizons) {
      if (h != static_cast<double>(static_cast<long long>(h))) {
        throw InputError(str("key 'rollout.horizons' holds ", h, ": expected whole frames"));
      }
    }
    for (const auto& [file, key] : {std::pair<std::string, const char*>{m.train_file, "data.train"},
                                    {m.test_file, "data.test"}}) {
      const std::string path = resolve_trajectory_file(m, file, key);
      const std::string extension = std::filesystem::path(path).extension().string();
      if (extension != ".h5" && extension != ".hdf5") continue;  // a mesh time series
      io::Hdf5Reader reader(path);
      if (!reader.has("/0")) {
        throw InputError(str("key '", key, "': ", path,
                             " has no trajectory group /0 (a MeshGraphNets-layout file)"));
      }
    }
    if (!m.checkpoint.empty()) {
      // The models as configured, on the training file's dimension, must load the stored
      // parameters: a checkpoint of another architecture is refused before the run.
      const std::string train = resolve_trajectory_file(m, m.train_file, "data.train");
      std::size_t dimension = 2;
      const std::string extension = std::filesystem::path(train).extension().string();
      if (extension == ".h5" || extension == ".hdf5") {
        const std::vector<std::uint64_t> positions = io::Hdf5Reader(train).shape("/0/mesh_pos");
        if (!positions.empty()) dimension = positions.back();
      } else {
        dimension = static_cast<std::size_t>(mesh::read_mesh(train).dimension);
      }
      const io::Hdf5Reader reader(resolve_trajectory_file(m, m.checkpoint, "model.checkpoint"));
      for (ModelKind kind : m.kinds) {
        const std::string group = str("/checkpoint/", model_kind_name(kind), "/parameters");
        if (!reader.has(group)) {
          throw InputError(str("key 'model.checkpoint': ", reader.path(), " has no ", group,
                               " (was ", model_kind_name(kind), " trained in that run?)"));
        }
        Surrogate<float>::Options options = m.model;
        options.kind = kind;
        options.transformer.inputs = options.meshgraphnet.node_inputs = dimension + 9;
        options.transformer.outputs = options.meshgraphnet.outputs = dimension;
        options.meshgraphnet.edge_inputs = dimension + 1;
        nn::ParameterStore<float> store;
        Surrogate<float> model;
        model.declare(store, options);
        store.finalize();
        store.load(reader, group);
      }
    }
  });
}

}  // namespace tessera::models::mesh_transformer
