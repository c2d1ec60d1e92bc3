#pragma once
// Training the mesh models on one-step samples and scoring them by autoregressive
// rollouts, as graph-physics and MeshGraphNets do:
//   sample   a (trajectory, frame t) pair drawn from a counter RNG keyed by (seed, step,
//            position in the batch), so the global batch does not depend on the ranks;
//   input    velocity at t plus Gaussian noise (std `noise`, NORMAL nodes only) and the
//            one-hot node type, normalised; target: the change from the noisy input to the
//            velocity at t + 1 (DeepMind's and graph-physics' code: the model learns to
//            undo the noise, which is what keeps rollouts from drifting), or with
//            `noise_corrected_target` false the clean change, normalised;
//            pushforward P > 0 (Brandstetter, Worrall & Welling, ICLR 2022): from frame t
//            the model first advances u ~ U{0..P} steps without gradient (boundary nodes
//            set to the truth, as in a rollout), and the sample starts from its state
//            there and learns the step to the true frame t + u + 1, so the model trains on
//            the inputs its own rollouts give it (the noise is added on top);
//            unrolled_steps S > 1: the sample then takes S model steps from its state
//            (boundary nodes set to the truth) and learns each step's change to the true
//            next frame, the gradient flowing back through the states (the loss is the
//            mean over the S steps), so the model learns what its errors do S steps on;
//   loss     mean over NORMAL and OUTFLOW nodes of the squared error summed over
//            components (MeshGraphNets' loss), averaged over the batch;
//   step     AdamW on the batch gradient (samples split over ranks, or over groups of
//            ranks that split each mesh: domain.hpp; gradients summed),
//            clipped by global norm, learning rate from the schedule.
// Rollout: from the first true frame, each step adds the denormalised predicted change;
// nodes that are not NORMAL or OUTFLOW are reset to the truth (boundary conditions).
#include <mpi.h>

#include <functional>
#include <string>
#include <vector>

#include "core/io/training_checkpoints.hpp"
#include "core/nn/parameter_store.hpp"
#include "core/runtime/timers.hpp"
#include "models/mesh_transformer/dataset.hpp"
#include "models/mesh_transformer/normalizer.hpp"
#include "models/mesh_transformer/surrogate.hpp"

namespace tessera::models::mesh_transformer {

struct TrainingOptions {
  long long steps = 1000;
  long long batch = 2;
  double lr = 1e-3;
  std::string schedule = "warmup_cosine";  // or "constant", "exponential"
  long long warmup = 1000;                 // warmup_cosine
  double min_lr = 1e-6;                    // warmup_cosine: final; exponential: added
  long long decay_steps = 5000000;         // exponential: lr x gamma^(step / decay_steps)
  double decay_gamma = 0.1;
  double beta1 = 0.9, beta2 = 0.95, weight_decay = 1e-4;
  double clip = 1.0;  // global gradient norm; 0: off
  double noise = 0.02;
  bool noise_corrected_target = true;  // target from the noisy input (false: clean change)
  // Pushforward: model steps (at most) taken without gradient before each sample's step;
  // 0: off. Each costs one more forward pass for the samples that draw it.
  long long pushforward = 0;
  // Unrolled training: each sample takes this many model steps from its (noisy) state and
  // learns all of them, the gradient going back through every step (backpropagation
  // through time); 1: one step. Needs domain_ranks = 1 and the noise-corrected target.
  // A sample of S steps costs 2 S - 1 forward passes and S backward passes.
  long long unrolled_steps = 1;
  std::uint64_t seed = 1;
  // Ranks that share one mesh (domain.hpp): its METIS partition over them, with a halo
  // exchange before every layer; the run's ranks are domain_ranks x sample groups, and
  // the sample groups split the batch. 1: every rank holds whole meshes.
  int domain_ranks = 1;
  // Normalisers: one exact pass over the training frames, or running statistics of the
  // samples of the first `normalizer_steps` steps (MeshGraphNets: 1,000).
  bool exact_normalizer = true;
  long long normalizer_steps = 1000;
  long long log_every = 100;
  // The normalisers were loaded (a checkpoint): no statistics are accumulated.
  bool normalizers_ready = false;
};

struct Normalizers {
  Normalizer nodes, edges, targets;
};

// Empty normalisers shaped for `t`'s features.
Normalizers make_normalizers(const Trajectory& t);
// One pass over every frame of every trajectory (noise-free): the exact statistics.
// Collective over `domain` when the trajectories were read in parts (its ranks hold the
// parts); otherwise this rank's alone.
void accumulate_exact(Normalizers& n, const std::vector<Trajectory>& trajectories,
                      MPI_Comm domain = MPI_COMM_NULL);

struct TrainingRecord {
  long long step = 0;  // optimiser steps done
  double loss = 0;     // mean batch loss since the previous record
  double lr = 0;
  double grad_norm = 0;  // before clipping, last step
  double seconds = 0;    // since training started
};

// The meshes a training ran on, as the ranks held them: means over the trajectories
// trained on (each counted once per rank that used it). Unsplit meshes: local = nodes,
// no ghosts, no neighbours. What a performance model of the split needs besides time.
struct MeshLoad {
  double nodes = 0;           // of the whole mesh
  double max_local = 0;       // the most rows a rank of the domain group holds: own + ghosts
  double max_ghosts = 0;      // the most ghost rows of a rank (exchanged before every block)
  double max_neighbours = 0;  // the most ranks a rank exchanges with
};

struct TrainingSummary {
  long long steps = 0;
  double first_loss = 0, final_loss = 0;  // means over the first and last log windows
  double seconds = 0;
  double seconds_per_step = 0;
  MeshLoad mesh;
};

// Checkpoints of a training (`tessera run --resume`). `boundary(step, write_state)` is
// called on every rank after every optimiser step (`step`: the steps done), where the
// state is whole; `write_state` writes it into a checkpoint's state file (collective),
// under `group`: the parameters, AdamW's moments and step, the normalisers' statistics so
// far (running ones keep accumulating after a resume), the loss of the log window so far
// and of the first one, and the training seconds. The samples and their noise are drawn
// from a counter RNG keyed by the step and the learning rate follows from it, so there is
// no generator state to keep. `resume`: a state file written so; training continues from
// it and, with the same options and rank count, ends bitwise equal to a training never
// interrupted.
using TrainingCheckpoints = io::TrainingCheckpoints;

// Collective over comm. `normalizers` are filled (exact: before the first step; running:
// during the first steps). `observer` gets a record every log_every steps and at the end.
template <class T>
TrainingSummary train(MPI_Comm comm, const std::vector<Trajectory>& trajectories,
                      Surrogate<T>& model, nn::ParameterStore<T>& store,
                      const TrainingOptions& options, Normalizers& normalizers,
                      const std::function<void(const TrainingRecord&)>& observer = {},
                      runtime::Timers* timers = nullptr,
                      const TrainingCheckpoints* checkpoints = nullptr);

// One sample's loss through `steps` unrolled model steps from `state` (a velocity per
// node, noise included) at frame f of a whole mesh, as train() weighs it with
// unrolled_steps = steps at batch 1; adds its gradient to store's grads (checked against
// finite differences in the tests).
template <class T>
double unrolled_loss(const Trajectory& t, Surrogate<T>& model, nn::ParameterStore<T>& store,
                     const Normalizers& normalizers, const std::vector<double>& state,
                     std::size_t f, std::size_t steps);

struct Rollout {
  // Frames (frame 0 = the truth), as the trajectory's frames hold them: every node's, or
  // on a trajectory read in parts this rank's own nodes' (t.frame_nodes).
  std::vector<std::vector<double>> prediction;
  std::vector<double> rmse;              // per frame, against the truth (0 at frame 0)
  std::vector<double> persistence_rmse;  // the state held at frame 0 (baseline)
  double seconds = 0;
  // A whole trajectory split over the domain: the domain rank of each node; else (one
  // rank, or a trajectory read in parts, which holds its own piece) empty.
  std::vector<int> owner;
};

// Autoregressive rollout over `frames` frames (0: all of the trajectory's).
// `trajectory_index` keys the random attention edges (model.random_edges) of this mesh.
// `domain`: the ranks the mesh is split over (collective over them; each advances its
// own nodes and every one gets the whole predicted state, unless the trajectory was read
// in parts: then each keeps its own); MPI_COMM_SELF: on this rank.
template <class T>
Rollout rollout(const Trajectory& t, Surrogate<T>& model, const nn::ParameterStore<T>& store,
                const Normalizers& normalizers, std::size_t frames = 0,
                std::size_t trajectory_index = 0, MPI_Comm domain = MPI_COMM_SELF);

// RMSE over all nodes and components of the frames 1..h (h = horizon, clamped to the
// rollout), i.e. sqrt(mean of the squared errors); horizon 0: the whole rollout.
double rmse_to_horizon(const std::vector<double>& per_frame_rmse, std::size_t horizon);

}  // namespace tessera::models::mesh_transformer
