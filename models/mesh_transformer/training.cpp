#include "models/mesh_transformer/training.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>

#include "core/nn/losses.hpp"
#include "core/optim/adam.hpp"
#include "core/optim/clip.hpp"
#include "core/optim/schedule.hpp"
#include "core/parallel/gradient_allreduce.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/runtime.hpp"
#include "core/tensor/host_copy.hpp"
#include "core/tensor/random.hpp"
#include "models/mesh_transformer/domain.hpp"

namespace tessera::models::mesh_transformer {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Random streams of the counter RNG (tensor/random.hpp), one per use.
constexpr std::uint64_t kSampleStream = 0x5a3b1e;
constexpr std::uint64_t kNoiseStream = 0x7c4d2f;
constexpr std::uint64_t kPushforwardStream = 0x3e9a61;

std::vector<double> velocity_change(const Trajectory& t, std::size_t frame) {
  std::vector<double> out(t.velocity[frame].size());
  for (std::size_t k = 0; k < out.size(); ++k) {
    out[k] = t.velocity[frame + 1][k] - t.velocity[frame][k];
  }
  return out;
}

// What a trajectory gives the model that does not change between steps, on the device.
// With a mesh split over the ranks of a domain group, the rows are this rank's part.
template <class T>
struct PreparedTrajectory {
  MeshSample<T> sample;              // nodes filled per step
  Matrix<T> mask;                    // local rows x dimension: 1 on own NORMAL and OUTFLOW nodes
  std::vector<double> node_mask;     // per frame row: 1 on NORMAL and OUTFLOW
  double mask_count = 0;             // masked nodes of the whole mesh
  double edge_statistics_count = 0;  // of the edge normaliser the edges were scaled with
  std::unique_ptr<MeshPart> part;    // null: the whole mesh on this rank
  // With a part: for each local edge, its row of t.edge_features (the global edge, or on a
  // trajectory read in parts the edge of its own rows).
  std::vector<std::size_t> edge_rows;
  bool frames_in_parts = false;  // the trajectory holds its own nodes' frames only
  MeshLoad load;                 // the split's sizes, maxima over the domain group

  // This rank's rows of a per-node array of `width` values, given as the trajectory's
  // frames hold it (all nodes, or this part's own: its ghosts are then left zero, which
  // no layer reads: the first block's gather overwrites them).
  std::vector<double> local_rows(std::vector<double> rows, std::size_t width) const {
    if (!part) return rows;
    if (!frames_in_parts) return part->local_rows(rows, width);
    rows.resize(part->local() * width, 0.0);
    return rows;
  }
};

// The trajectory's edge features under the current edge statistics, on the device.
template <class T>
void normalise_edges(const Trajectory& t, const Normalizers& normalizers,
                     PreparedTrajectory<T>& p) {
  const std::size_t width = static_cast<std::size_t>(t.dimension) + 1;
  std::vector<double> edges = t.edge_features;
  normalizers.edges.normalise(edges);
  if (p.part) edges = MeshPart::pick_rows(edges, width, p.edge_rows);
  p.sample.edges =
      tensor::from_host<T>(edges, edges.size() / width, width, "mesh_transformer::edges");
  p.edge_statistics_count = normalizers.edges.count();
}

// `domain`: the ranks that share this mesh (one: the whole mesh here).
template <class T>
PreparedTrajectory<T> prepare(const Trajectory& t, std::size_t index, const Surrogate<T>& model,
                              const Normalizers& normalizers, MPI_Comm domain) {
  PreparedTrajectory<T> p;
  const bool transformer = model.options().kind == ModelKind::kTransformer;
  const std::size_t global_nodes = transformer ? model.options().transformer.global_nodes : 0;
  const bool self_loops = model.options().attention.self_loops;
  const int parts = runtime::comm_size(domain);
  if (t.in_parts() && (t.parts != parts || t.part != runtime::comm_rank(domain))) {
    throw std::invalid_argument(str(t.name, ": read as part ", t.part, " of ", t.parts,
                                    ", used by rank ", runtime::comm_rank(domain), " of ", parts));
  }
  if (parts > 1 && static_cast<std::size_t>(parts) > t.num_nodes()) {
    throw InputError(str(t.name, ": ", t.num_nodes(), " nodes cannot be split over ", parts,
                         " ranks (train.domain_ranks)"));
  }
  if (t.in_parts()) {
    // Nothing global: the attention graphs' and the part's rows from this rank's own mesh
    // rows (the same part, numbering and graphs as the replicated path below).
    AttentionRows rows;
    if (transformer) {
      rows = attention_rows(domain, t.own_graph, model.options().attention,
                            model.options().transformer.layers, index,
                            model.options().transformer.heads);
    }
    std::vector<const parallel::OwnedRows*> reach = {&t.own_graph};
    for (const auto& g : rows.graphs) reach.push_back(&g);
    p.part = std::make_unique<MeshPart>(domain, parallel::rows_union(reach));
    p.sample.mesh = graph::to_device(p.part->local_graph(t.own_graph, &p.edge_rows));
    for (const auto& g : rows.graphs) {
      p.sample.attention.push_back(device_attention_graph(*p.part, g, global_nodes, self_loops));
    }
    p.sample.block_graph = rows.block_graph;
  } else {
    AttentionGraphs graphs;  // on the mesh nodes: the tokens are appended per rank below
    if (transformer) {
      graphs =
          attention_graphs(t.graph, model.options().attention, model.options().transformer.layers,
                           index, 0, model.options().transformer.heads);
    }
    if (parts > 1) p.part = split_mesh(domain, t.graph, graphs.graphs);
    p.sample.mesh = device_graph(p.part.get(), t.graph, &p.edge_rows);
    for (const auto& g : graphs.graphs) {
      p.sample.attention.push_back(
          device_attention_graph(p.part.get(), g, global_nodes, self_loops));
    }
    p.sample.block_graph = graphs.block_graph;
  }
  if (p.part) {
    p.frames_in_parts = t.in_parts();
    p.sample.halo = &p.part->halo();
    if (global_nodes > 0) p.sample.global_rows = split_global_rows<T>(*p.part, global_nodes);
  }
  p.load.nodes = static_cast<double>(t.num_nodes());
  p.load.max_local = p.load.nodes;
  if (p.part) {
    double sizes[3] = {static_cast<double>(p.part->local()),
                       static_cast<double>(p.part->local() - p.part->owned()),
                       static_cast<double>(p.part->halo().neighbours().size())};
    MPI_Allreduce(MPI_IN_PLACE, sizes, 3, MPI_DOUBLE, MPI_MAX, domain);
    p.load.max_local = sizes[0];
    p.load.max_ghosts = sizes[1];
    p.load.max_neighbours = sizes[2];
  }
  normalise_edges(t, normalizers, p);
  p.node_mask = loss_mask(t);
  const std::vector<double>& mask = p.node_mask;
  const auto d = static_cast<std::size_t>(t.dimension);
  std::vector<double> entries(mask.size() * d);
  for (std::size_t i = 0; i < mask.size(); ++i) {
    p.mask_count += mask[i];
    for (std::size_t c = 0; c < d; ++c) entries[i * d + c] = mask[i];
  }
  if (t.in_parts()) MPI_Allreduce(MPI_IN_PLACE, &p.mask_count, 1, MPI_DOUBLE, MPI_SUM, domain);
  if (p.mask_count == 0) {
    throw InputError(str(t.name, ": no NORMAL or OUTFLOW node: nothing to learn or advance"));
  }
  if (p.part) {  // own rows only: a ghost's loss is its owner's
    entries = p.local_rows(std::move(entries), d);
    std::fill(entries.begin() + static_cast<std::ptrdiff_t>(p.part->owned() * d), entries.end(),
              0.0);
  }
  p.mask = tensor::from_host<T>(entries, entries.size() / d, d, "mesh_transformer::mask");
  return p;
}

// Collective over comm: the mean of the prepared trajectories' loads over every rank's.
template <class T>
MeshLoad mean_load(const std::map<std::size_t, PreparedTrajectory<T>>& prepared, MPI_Comm comm) {
  double sums[5] = {0, 0, 0, 0, static_cast<double>(prepared.size())};
  for (const auto& [k, p] : prepared) {
    sums[0] += p.load.nodes;
    sums[1] += p.load.max_local;
    sums[2] += p.load.max_ghosts;
    sums[3] += p.load.max_neighbours;
  }
  MPI_Allreduce(MPI_IN_PLACE, sums, 5, MPI_DOUBLE, MPI_SUM, comm);
  MeshLoad mean;
  if (sums[4] == 0) return mean;
  mean.nodes = sums[0] / sums[4];
  mean.max_local = sums[1] / sums[4];
  mean.max_ghosts = sums[2] / sums[4];
  mean.max_neighbours = sums[3] / sums[4];
  return mean;
}

// Collective over the part's ranks: how the first mesh was split (on the first rank).
void log_split(const Trajectory& t, const MeshPart& part) {
  long long counts[2] = {static_cast<long long>(part.owned()),
                         static_cast<long long>(part.local() - part.owned())};
  MPI_Allreduce(MPI_IN_PLACE, counts, 2, MPI_LONG_LONG, MPI_SUM, part.halo().comm());
  if (runtime::comm_rank(part.halo().comm()) != 0) return;
  runtime::log::info(str("mesh models: ", t.name, " split over ",
                         runtime::comm_size(part.halo().comm()), " ranks (METIS): ", counts[1],
                         " ghost rows for ", counts[0], " nodes (",
                         100.0 * static_cast<double>(counts[1]) / static_cast<double>(counts[0]),
                         " %), exchanged before every block"));
}

// The model's output (the normalised change) for `state` (per node, as the frames hold
// it): its features, normalised, this rank's rows of them.
template <class T>
const Matrix<T>& run_model(const Trajectory& t, PreparedTrajectory<T>& p, Surrogate<T>& model,
                           const nn::ParameterStore<T>& store, const Normalizers& normalizers,
                           const std::vector<double>& state) {
  std::vector<double> nodes = node_features(t, state);
  normalizers.nodes.normalise(nodes);
  nodes = p.local_rows(std::move(nodes), t.node_inputs());
  p.sample.nodes = tensor::from_host<T>(nodes, nodes.size() / t.node_inputs(), t.node_inputs(),
                                        "mesh_transformer::nodes");
  return model.forward(store, p.sample);
}

// One step of the model: from `state`, given as the trajectory's frames hold it (every
// node's, or on frames read in parts this rank's own nodes'), to the state at frame f's
// time, held the same way. NORMAL and OUTFLOW nodes advance by the denormalised
// predicted change; the others take frame f's truth (boundary conditions). Collective
// over the domain group of a split mesh.
template <class T>
std::vector<double> advance(const Trajectory& t, PreparedTrajectory<T>& p, Surrogate<T>& model,
                            const nn::ParameterStore<T>& store, const Normalizers& normalizers,
                            const std::vector<double>& state, std::size_t f) {
  const std::size_t d = static_cast<std::size_t>(t.dimension);
  std::vector<double> change = tensor::to_host(run_model(t, p, model, store, normalizers, state));
  normalizers.targets.denormalise(change);
  // The nodes this rank advances: all, or its own part's (put together below unless the
  // frames are in parts, whose rows are this rank's own nodes, its first rows).
  const std::size_t advanced = p.part ? p.part->owned() : t.num_nodes();
  std::vector<double> next(advanced * d);
  for (std::size_t l = 0; l < advanced; ++l) {
    const auto i = p.part ? static_cast<std::size_t>(p.part->rows()[l]) : l;
    const std::size_t row = p.frames_in_parts ? l : i;  // of the state and the frames
    for (std::size_t c = 0; c < d; ++c) {
      const std::size_t k = row * d + c;
      next[l * d + c] = p.node_mask[row] > 0 ? state[k] + change[l * d + c] : t.velocity[f][k];
    }
  }
  if (p.part && !p.frames_in_parts) next = p.part->allgather_owned(next, d);
  return next;
}

// One sample trained through `steps` model steps (TrainingOptions::unrolled_steps) on a
// whole mesh: from `state` at frame f (its noise added), state j + 1 is the model's step
// from state j (boundary nodes set to the truth, as in a rollout). Step j's loss is the
// masked MSE of its output against the normalised change from state j to the true frame
// f + j + 1, weighted weight / steps. Adds the gradient of the summed loss through every
// step to store's grads and returns the loss.
//
// The reverse sweep runs the model again on each state (one cache of activations), and
// carries a = dL/d(state j + 1) back on the host: on NORMAL and OUTFLOW nodes state j + 1 =
// state j + (std y_j + mean), so y_j's seed gains a std and a passes on unchanged; the
// target of step j depends on state j (dL/d(state j) += seed / std); the model's input
// gradient of the velocity features, over the input std, adds the rest. Boundary nodes
// are reset to the truth: nothing passes through them.
template <class T>
double unrolled_sample(const Trajectory& t, PreparedTrajectory<T>& p, Surrogate<T>& model,
                       nn::ParameterStore<T>& store, const Normalizers& normalizers,
                       const std::vector<double>& state, std::size_t f, std::size_t steps,
                       double weight, Matrix<T>& target, Matrix<T>& grad) {
  if (p.part) {
    throw std::invalid_argument("unrolled training runs on whole meshes (domain_ranks = 1)");
  }
  if (steps == 0 || f + steps >= t.frames()) {
    throw std::invalid_argument(str(t.name, ": ", steps, " unrolled steps from frame ", f,
                                    " run past its ", t.frames(), " frames"));
  }
  const std::size_t n = t.num_nodes(), d = static_cast<std::size_t>(t.dimension);
  const std::size_t width = t.node_inputs();
  const std::vector<double> input_std = normalizers.nodes.stddev();
  const std::vector<double> output_std = normalizers.targets.stddev();
  std::vector<std::vector<double>> states{state};
  for (std::size_t j = 1; j < steps; ++j) {
    states.push_back(advance(t, p, model, store, normalizers, states.back(), f + j));
  }
  const double denominator = p.mask_count * static_cast<double>(steps) / weight;
  std::vector<double> adjoint(n * d, 0.0), earlier(n * d);  // dL/d(state j + 1), dL/d(state j)
  double loss = 0;
  for (std::size_t j = steps; j-- > 0;) {
    const Matrix<T>& y = run_model(t, p, model, store, normalizers, states[j]);
    std::vector<double> change = t.velocity[f + j + 1];
    for (std::size_t k = 0; k < change.size(); ++k) change[k] -= states[j][k];
    normalizers.targets.normalise(change);
    target = tensor::from_host<T>(change, n, d, "mesh_transformer::target");
    loss += nn::masked_mse_loss(y, target, p.mask, grad, denominator);
    std::vector<double> seed = tensor::to_host(grad);  // dL_j/dy_j: zero off the mask
    std::fill(earlier.begin(), earlier.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      if (p.node_mask[i] <= 0) continue;
      for (std::size_t c = 0; c < d; ++c) {
        const std::size_t k = i * d + c;
        earlier[k] = adjoint[k] + seed[k] / output_std[c];
        seed[k] += adjoint[k] * output_std[c];
      }
    }
    grad = tensor::from_host<T>(seed, n, d, "mesh_transformer::unrolled_seed");
    const Matrix<T>& input_grad = model.backward(store, grad, j > 0);
    if (j == 0) break;
    const std::vector<double> features = tensor::to_host(input_grad);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t c = 0; c < d; ++c) {
        earlier[i * d + c] += features[i * width + c] / input_std[c];
      }
    }
    std::swap(adjoint, earlier);
  }
  return loss;
}

}  // namespace

Normalizers make_normalizers(const Trajectory& t) {
  const std::size_t d = static_cast<std::size_t>(t.dimension);
  return Normalizers{Normalizer("node", t.node_inputs()), Normalizer("edge", d + 1),
                     Normalizer("target", d)};
}

void accumulate_exact(Normalizers& n, const std::vector<Trajectory>& trajectories,
                      MPI_Comm domain) {
  bool in_parts = false;
  for (const Trajectory& t : trajectories) {
    in_parts = in_parts || t.in_parts();
    n.edges.accumulate(t.edge_features);
    for (std::size_t f = 0; f + 1 < t.frames(); ++f) {
      n.nodes.accumulate(node_features(t, t.velocity[f]));
      n.targets.accumulate(velocity_change(t, f));
    }
  }
  // Every rank read every trajectory: no sums to exchange, but for a mesh read in parts
  // (each rank of the domain group holds its own nodes' frames and edges).
  n.nodes.merge(in_parts ? domain : MPI_COMM_NULL);
  n.edges.merge(in_parts ? domain : MPI_COMM_NULL);
  n.targets.merge(in_parts ? domain : MPI_COMM_NULL);
}

template <class T>
TrainingSummary train(MPI_Comm comm, const std::vector<Trajectory>& trajectories,
                      Surrogate<T>& model, nn::ParameterStore<T>& store, const TrainingOptions& o,
                      Normalizers& normalizers,
                      const std::function<void(const TrainingRecord&)>& observer,
                      runtime::Timers* timers, const TrainingCheckpoints* checkpoints) {
  if (trajectories.empty()) throw InputError("mesh models: no training trajectory");
  if (o.batch < 1) throw InputError(str("train.batch = ", o.batch, ": expected at least 1"));
  if (o.unrolled_steps > 1 && (o.domain_ranks > 1 || !o.noise_corrected_target)) {
    throw InputError(str("train.unrolled_steps = ", o.unrolled_steps,
                         ": needs train.domain_ranks = 1 and train.noise_corrected_target"));
  }
  const RankGroups groups = split_ranks(comm, o.domain_ranks);
  const auto start = Clock::now();
  double seconds_before = 0;  // a resumed training: the seconds of the runs before
  const auto elapsed = [&] { return seconds_before + seconds_since(start); };
  const bool resuming = checkpoints && checkpoints->resume;
  if (o.exact_normalizer && !o.normalizers_ready && !resuming) {
    accumulate_exact(normalizers, trajectories, groups.domain);
  }

  // Samples: every (trajectory, frame) with a successor.
  std::vector<std::pair<std::size_t, std::size_t>> samples;
  for (std::size_t k = 0; k < trajectories.size(); ++k) {
    for (std::size_t f = 0; f + 1 < trajectories[k].frames(); ++f) samples.emplace_back(k, f);
  }

  optim::AdamOptions adam_options;
  adam_options.lr = o.lr;
  adam_options.beta1 = o.beta1;
  adam_options.beta2 = o.beta2;
  adam_options.weight_decay = o.weight_decay;
  adam_options.decoupled_weight_decay = true;
  optim::Adam<T> adam(store, adam_options);
  const optim::Schedule schedule =
      o.schedule == "warmup_cosine"
          ? optim::Schedule::warmup_cosine(o.lr, std::min(o.warmup, std::max(o.steps, 1LL)),
                                           std::max(o.steps, 1LL), o.min_lr)
      : o.schedule == "exponential"
          ? optim::Schedule::exponential(o.lr, o.decay_steps, o.decay_gamma, o.min_lr)
          : optim::Schedule::constant(o.lr);
  parallel::GradientAllreduce<T> allreduce(comm);
  model.set_timers(timers);

  // Kept for the run; made again from the normalisers' statistics (and the trajectory
  // index, for random attention edges) after a resume.
  std::map<std::size_t, PreparedTrajectory<T>> prepared;
  Matrix<T> target, grad;
  TrainingSummary summary;
  long long step = 0;
  double window_loss = 0;
  long long window_steps = 0;
  bool first_window = true;
  TrainingRecord record;

  const std::string group = checkpoints ? checkpoints->group : std::string();
  const auto normalizer_groups = [&] {
    return std::array<std::pair<std::string, Normalizer*>, 3>{
        {{group + "/normalizers/node", &normalizers.nodes},
         {group + "/normalizers/edge", &normalizers.edges},
         {group + "/normalizers/target", &normalizers.targets}}};
  };
  if (resuming) {
    const io::Hdf5Reader& state = *checkpoints->resume;
    store.load(state, group + "/parameters");
    adam.load(state, group + "/adam");
    for (const auto& [path, n] : normalizer_groups()) n->load(state, path);
    const std::vector<double> loop = state.read(group + "/loop");
    if (loop.size() != 7) {
      throw InputError(str(state.path(), ": ", group, "/loop holds ", loop.size(),
                           " values, expected 7 (a checkpoint of another version)"));
    }
    step = static_cast<long long>(loop[0]);
    window_loss = loop[1];
    window_steps = static_cast<long long>(loop[2]);
    first_window = loop[3] != 0;
    summary.first_loss = loop[4];
    summary.final_loss = loop[5];
    seconds_before = loop[6];
  }
  const auto write_state = [&](io::ResultsFile& state) {
    store.save(state, group + "/parameters");
    adam.save(state, group + "/adam");
    for (const auto& [path, n] : normalizer_groups()) n->save(state, path);
    state.write_root_array(
        group + "/loop", {7},
        {static_cast<double>(step), window_loss, static_cast<double>(window_steps),
         first_window ? 1.0 : 0.0, summary.first_loss, summary.final_loss, elapsed()});
  };

  // The device form of trajectory k, made at its first use.
  const auto prepared_for = [&](std::size_t k) -> PreparedTrajectory<T>& {
    auto it = prepared.find(k);
    if (it == prepared.end()) {
      it = prepared.emplace(k, prepare<T>(trajectories[k], k, model, normalizers, groups.domain))
               .first;
      if (it->second.part && prepared.size() == 1) log_split(trajectories[k], *it->second.part);
    }
    PreparedTrajectory<T>& p = it->second;
    // While running statistics change, the edges are scaled anew; the graphs stay.
    if (p.edge_statistics_count != normalizers.edges.count()) {
      normalise_edges(trajectories[k], normalizers, p);
    }
    return p;
  };

  while (step < o.steps) {
    const bool accumulating =
        !o.exact_normalizer && !o.normalizers_ready && step < o.normalizer_steps;
    // This rank's sample group's share of the global batch: positions b = group,
    // group + groups, ... (each sample whole here: the mesh is split below).
    struct Local {
      std::size_t trajectory, frame;
      std::vector<double> nodes, target;
      std::size_t unrolled = 1;   // model steps the sample learns
      std::vector<double> state;  // unrolled > 1: its noisy velocity
    };
    std::vector<Local> local;
    for (long long b = groups.sample_group; b < o.batch; b += groups.sample_groups) {
      const std::uint64_t draw = static_cast<std::uint64_t>(step * o.batch + b);
      const auto pick =
          static_cast<std::size_t>(tensor::counter_uniform(o.seed, kSampleStream, draw) *
                                   static_cast<double>(samples.size()));
      auto [k, f] = samples[std::min(pick, samples.size() - 1)];
      const Trajectory& t = trajectories[k];
      // Pushforward: u ~ U{0..pushforward} model steps from frame f without gradient (fewer
      // where the trajectory ends first); the sample then starts from the model's state
      // and learns the step to the true frame after it. Not while running normalisers
      // still gather their statistics: the model cannot be run on unfinished ones.
      std::size_t unroll = 0;
      if (o.pushforward > 0 && !accumulating) {
        unroll = std::min(
            static_cast<std::size_t>(tensor::counter_uniform(o.seed, kPushforwardStream, draw) *
                                     static_cast<double>(o.pushforward + 1)),
            static_cast<std::size_t>(o.pushforward));
        unroll = std::min(unroll, t.frames() - 2 - f);
      }
      std::vector<double> velocity = t.velocity[f];
      if (unroll > 0) {
        runtime::Timers::Scope scope(timers, "mesh.pushforward");
        PreparedTrajectory<T>& p = prepared_for(k);
        for (std::size_t j = 1; j <= unroll; ++j) {
          velocity = advance(t, p, model, store, normalizers, velocity, f + j);
        }
        f += unroll;
      }
      std::vector<double> change = t.velocity[f + 1];  // the sample's target
      for (std::size_t r = 0; r < change.size(); ++r) change[r] -= velocity[r];
      const std::size_t d = static_cast<std::size_t>(t.dimension);
      for (std::size_t r = 0; r < t.frame_rows(); ++r) {
        const std::size_t i = t.frame_node(r);  // the noise is keyed by the global node
        if (t.node_types[r] != mesh::NodeType::kNormal) continue;
        for (std::size_t c = 0; c < d; ++c) {
          const double noise =
              o.noise * tensor::counter_normal(o.seed, kNoiseStream + draw, i * d + c);
          velocity[r * d + c] += noise;
          if (o.noise_corrected_target) change[r * d + c] -= noise;
        }
      }
      Local sample{k, f, node_features(t, velocity), std::move(change), 1, {}};
      // Unrolled training (the model's steps need finished normalisers, as pushforward's).
      if (o.unrolled_steps > 1 && !accumulating) {
        sample.unrolled = std::min(static_cast<std::size_t>(o.unrolled_steps), t.frames() - 1 - f);
        if (sample.unrolled > 1) sample.state = std::move(velocity);
      }
      local.push_back(std::move(sample));
    }
    if (accumulating) {
      for (const Local& s : local) {
        normalizers.nodes.accumulate(s.nodes);
        normalizers.targets.accumulate(s.target);
        normalizers.edges.accumulate(trajectories[s.trajectory].edge_features);
      }
      // Over the sample groups: a domain group's ranks hold the same samples (the mesh
      // whole), or each its own nodes' part of them (read in parts).
      const MPI_Comm over = trajectories.front().in_parts() ? comm : groups.samples.get();
      normalizers.nodes.merge(over);
      normalizers.targets.merge(over);
      normalizers.edges.merge(over);
    }

    store.zero_grad();
    double local_loss = 0;
    // Each sample weighs 1 / batch in the mean; each rank's loss and gradient are its
    // share (its samples, its own nodes), summed over all ranks.
    const double weight = 1.0 / static_cast<double>(o.batch);
    for (Local& s : local) {
      const Trajectory& t = trajectories[s.trajectory];
      PreparedTrajectory<T>& p = prepared_for(s.trajectory);
      if (s.unrolled > 1) {
        runtime::Timers::Scope scope(timers, "mesh.forward_backward");
        local_loss += unrolled_sample(t, p, model, store, normalizers, s.state, s.frame, s.unrolled,
                                      weight, target, grad);
        continue;
      }
      normalizers.nodes.normalise(s.nodes);
      normalizers.targets.normalise(s.target);
      const std::vector<double> nodes = p.local_rows(std::move(s.nodes), t.node_inputs());
      const auto d = static_cast<std::size_t>(t.dimension);
      const std::vector<double> change = p.local_rows(std::move(s.target), d);
      p.sample.nodes = tensor::from_host<T>(nodes, nodes.size() / t.node_inputs(), t.node_inputs(),
                                            "mesh_transformer::nodes");
      target = tensor::from_host<T>(change, change.size() / d, d, "mesh_transformer::target");
      runtime::Timers::Scope scope(timers, "mesh.forward_backward");
      const Matrix<T>& y = model.forward(store, p.sample);
      // The squared error summed over components, averaged over masked nodes, times
      // `weight` (in the loss and its gradient) through the denominator.
      local_loss += nn::masked_mse_loss(y, target, p.mask, grad, p.mask_count / weight);
      model.backward(store, grad);
    }
    {
      runtime::Timers::Scope scope(timers, "mesh.allreduce");
      allreduce.sum(store);
    }
    double loss = local_loss;
    MPI_Allreduce(MPI_IN_PLACE, &loss, 1, MPI_DOUBLE, MPI_SUM, comm);
    record.grad_norm = optim::global_grad_norm(store);
    if (o.clip > 0) optim::clip_grad_norm(store, o.clip);
    record.lr = schedule.lr(step);
    adam.set_lr(record.lr);
    {
      runtime::Timers::Scope scope(timers, "mesh.optimizer");
      adam.step(store);
    }
    if (!std::isfinite(loss)) {
      throw CollectiveError(str("mesh models: the training loss is ", loss, " at step ", step + 1,
                                " (lower train.lr or raise train.warmup)"));
    }
    window_loss += loss;
    ++window_steps;
    const bool log = (step + 1) % o.log_every == 0 || step + 1 == o.steps;
    if (log) {
      record.step = step + 1;
      record.loss = window_loss / static_cast<double>(window_steps);
      record.seconds = elapsed();
      if (first_window) summary.first_loss = record.loss;
      first_window = false;
      summary.final_loss = record.loss;
      if (observer) observer(record);
      window_loss = 0;
      window_steps = 0;
    }
    ++step;
    if (checkpoints && checkpoints->boundary) checkpoints->boundary(step, write_state);
  }
  summary.steps = o.steps;
  // Unsplit meshes: the mean over every training trajectory, which a resumed run knows as
  // well as an uninterrupted one. Split meshes: over the trajectories this run prepared
  // (after a resume, those used since).
  if (o.domain_ranks > 1) {
    summary.mesh = mean_load(prepared, comm);
  } else {
    for (const Trajectory& t : trajectories)
      summary.mesh.nodes += static_cast<double>(t.num_nodes());
    summary.mesh.nodes /= static_cast<double>(trajectories.size());
    summary.mesh.max_local = summary.mesh.nodes;
  }
  summary.seconds = elapsed();
  summary.seconds_per_step = o.steps > 0 ? summary.seconds / static_cast<double>(o.steps) : 0;
  return summary;
}

template <class T>
Rollout rollout(const Trajectory& t, Surrogate<T>& model, const nn::ParameterStore<T>& store,
                const Normalizers& normalizers, std::size_t frames, std::size_t trajectory_index,
                MPI_Comm domain) {
  const auto start = Clock::now();
  if (frames == 0 || frames > t.frames()) frames = t.frames();
  PreparedTrajectory<T> p = prepare<T>(t, trajectory_index, model, normalizers, domain);
  const std::size_t n = t.num_nodes(), d = static_cast<std::size_t>(t.dimension);
  // Frames read in parts hold this rank's own nodes, and so do the predicted states: the
  // RMSE sums its squares over the domain group's ranks. Otherwise the states are whole
  // on every rank.
  const bool in_parts = p.frames_in_parts;
  auto squared_error = [](const std::vector<double>& a, const std::vector<double>& b) {
    double total = 0;
    for (std::size_t k = 0; k < a.size(); ++k) total += (a[k] - b[k]) * (a[k] - b[k]);
    return total;
  };
  Rollout out;
  out.prediction.push_back(t.velocity[0]);
  out.rmse.push_back(0.0);
  out.persistence_rmse.push_back(0.0);
  for (std::size_t f = 1; f < frames; ++f) {
    std::vector<double> next = advance(t, p, model, store, normalizers, out.prediction.back(), f);
    // The model's and persistence's squared errors, summed over the group in one call.
    double totals[2] = {squared_error(next, t.velocity[f]),
                        squared_error(t.velocity[0], t.velocity[f])};
    if (in_parts) MPI_Allreduce(MPI_IN_PLACE, totals, 2, MPI_DOUBLE, MPI_SUM, domain);
    out.rmse.push_back(std::sqrt(totals[0] / static_cast<double>(n * d)));
    out.persistence_rmse.push_back(std::sqrt(totals[1] / static_cast<double>(n * d)));
    out.prediction.push_back(std::move(next));
  }
  out.seconds = seconds_since(start);
  if (p.part) out.owner = p.part->owner();
  return out;
}

template <class T>
double unrolled_loss(const Trajectory& t, Surrogate<T>& model, nn::ParameterStore<T>& store,
                     const Normalizers& normalizers, const std::vector<double>& state,
                     std::size_t f, std::size_t steps) {
  PreparedTrajectory<T> p = prepare<T>(t, 0, model, normalizers, MPI_COMM_SELF);
  Matrix<T> target, grad;
  return unrolled_sample(t, p, model, store, normalizers, state, f, steps, 1.0, target, grad);
}

double rmse_to_horizon(const std::vector<double>& per_frame, std::size_t horizon) {
  if (per_frame.size() < 2) return 0;
  const std::size_t last =
      horizon == 0 ? per_frame.size() - 1 : std::min(horizon, per_frame.size() - 1);
  double total = 0;
  for (std::size_t f = 1; f <= last; ++f) total += per_frame[f] * per_frame[f];
  return std::sqrt(total / static_cast<double>(last));
}

#define TESSERA_MESH_TRAINING(T)                                                                  \
  template TrainingSummary train<T>(MPI_Comm, const std::vector<Trajectory>&, Surrogate<T>&,      \
                                    nn::ParameterStore<T>&, const TrainingOptions&, Normalizers&, \
                                    const std::function<void(const TrainingRecord&)>&,            \
                                    runtime::Timers*, const TrainingCheckpoints*);                \
  template Rollout rollout<T>(const Trajectory&, Surrogate<T>&, const nn::ParameterStore<T>&,     \
                              const Normalizers&, std::size_t, std::size_t, MPI_Comm);            \
  template double unrolled_loss<T>(const Trajectory&, Surrogate<T>&, nn::ParameterStore<T>&,      \
                                   const Normalizers&, const std::vector<double>&, std::size_t,   \
                                   std::size_t);
TESSERA_MESH_TRAINING(float)
TESSERA_MESH_TRAINING(double)
#undef TESSERA_MESH_TRAINING

}  // namespace tessera::models::mesh_transformer
