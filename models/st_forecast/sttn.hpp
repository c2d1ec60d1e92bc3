#pragma once
// The spatial-temporal transformer (STTN, Xu et al. 2020) in pre-norm form:
//   x0 = input(reading, time of day[, day before]) + tod[slot] + dow[weekday] + pos[t]
//        + spatial[n] (day before: with daily_input, the day-before forecast of
//        horizon t in the row of step t, batch.hpp)
//        (dow only with weekday_embedding: a table row of a weekday the training part
//        never shows stays at its random initial value and corrupts every forecast of
//        that day, so a run turns it off when the training part lacks a weekday);
//        with spatial = eig(32 Laplacian eigenvectors) -> d, a learned node table, or both;
//   per block l, spatial part (per time step, over sensors):
//        h = LN(x);  U = TransformerBlock(h) (attention over sensors + FFN d-2d-d, GELU);
//        the attention dense over all sensors, or (spatial_hops = K > 0) over each
//        sensor's K-hop neighbourhood in the graph, itself included (graph attention:
//        memory and time in the edges instead of sensors^2, for graphs of thousands of
//        sensors; the same parameters, and the dense block when K reaches every sensor);
//        with memory_patterns = M > 0 the FFN is a Hopfield layer of M learned stored
//        patterns instead (the Hopfield ablation), random at first or, after
//        seed_memory, rows of encoded training windows;
//        G = ChebConv_K(h);  x = x + g U + (1 - g) G,  g = sigmoid(U Wa + G Wb + b);
//   temporal part (per sensor, over the input steps): x = TransformerBlock(x);
//   head (per sensor): the steps' features side by side, T d -> 256 (ReLU) -> horizons.
// The output is the z-scored forecast (windows * sensors, horizons). Parameter names:
// input, tod, dow, pos, eig, node, block<l>.{norm, spatial, cheb, fusion, temporal}, head
// (the PyTorch twin in analysis/reference/reference_st_forecast.py uses the same).
#include <string>
#include <vector>

#include "core/graph/csr_graph.hpp"
#include "core/graph/neighbourhoods.hpp"
#include "core/graph/sparse_matrix.hpp"
#include "core/nn/chebyshev_conv.hpp"
#include "core/nn/embedding.hpp"
#include "core/nn/gated_fusion.hpp"
#include "core/nn/layer_norm.hpp"
#include "core/nn/mlp.hpp"
#include "core/nn/transformer_block.hpp"
#include "core/parallel/graph_part.hpp"
#include "core/tensor/host_copy.hpp"
#include "core/tensor/transpose_rows.hpp"
#include "models/st_forecast/batch.hpp"
#include "models/st_forecast/sensor_split.hpp"

namespace tessera::models::st_forecast {

using tensor::Matrix;

enum class SpatialEmbedding { kLaplacian, kLearned, kBoth };

struct SttnOptions {
  std::size_t sensors = 0, input_steps = 12, horizons = 12, steps_per_day = 288;
  std::size_t dim = 64, heads = 4, blocks = 2, ffn_hidden = 128, cheb_order = 3;
  std::size_t head_hidden = 256, eigenvectors = 32;
  SpatialEmbedding spatial = SpatialEmbedding::kBoth;
  bool weekday_embedding = true;
  std::size_t spatial_hops = 0;  // 0: dense spatial attention; K: over K-hop neighbourhoods
  // 0: the spatial part's feed-forward network; M: a Hopfield layer of M learned stored
  // patterns in its place (the Hopfield ablation).
  std::size_t memory_patterns = 0;
  bool memory_from_windows = false;  // the driver seeds the memory (seed_memory)
  // The batches' third column, the day-before forecast (model.daily_input; the
  // STID and the MLP take it too, from these options).
  bool daily_input = false;
};

template <class T>
class Sttn {
 public:
  void declare(nn::ParameterStore<T>& store, const SttnOptions& o) {
    options_ = o;
    const std::size_t d = o.dim;
    input_.declare(store, "input", input_columns(o.daily_input), d);
    tod_.declare(store, "tod", o.steps_per_day, d);
    if (o.weekday_embedding) dow_.declare(store, "dow", 7, d);
    pos_.declare(store, "pos", o.input_steps, d);
    if (uses_eigenvectors()) eig_.declare(store, "eig", o.eigenvectors, d);
    if (uses_node_table()) node_.declare(store, "node", o.sensors, d);
    blocks_.assign(o.blocks, Block());
    for (std::size_t l = 0; l < o.blocks; ++l) {
      const std::string name = "block" + std::to_string(l);
      Block& b = blocks_[l];
      b.norm.declare(store, name + ".norm", d);
      nn::TransformerBlockOptions spatial;
      spatial.graph_attention = o.spatial_hops > 0;
      spatial.memory_patterns = o.memory_patterns;
      b.spatial.declare(store, name + ".spatial", d, o.heads, o.ffn_hidden, spatial);
      b.cheb.declare(store, name + ".cheb", d, d, o.cheb_order);
      b.fusion.declare(store, name + ".fusion", d);
      b.temporal.declare(store, name + ".temporal", d, o.heads, o.ffn_hidden);
    }
    head_.declare(store, "head", {o.input_steps * d, o.head_hidden, o.horizons},
                  nn::ActivationKind::kRelu);
  }

  void init(nn::ParameterStore<T>& store, std::uint64_t seed) const {
    input_.init(store, seed);
    tod_.init(store, seed);
    if (options_.weekday_embedding) dow_.init(store, seed);
    pos_.init(store, seed);
    if (uses_eigenvectors()) eig_.init(store, seed);
    if (uses_node_table()) node_.init(store, seed);
    for (const Block& b : blocks_) {
      b.norm.init(store, seed);
      b.spatial.init(store, seed);
      b.cheb.init(store, seed);
      b.fusion.init(store, seed);
      b.temporal.init(store, seed);
    }
    head_.init(store, seed);
  }

  // The sensors split over the ranks of a group (sensor_split.hpp), before set_graph:
  // batches then hold the part's local sensors (local_batch), the forecasts are the local
  // sensors' (the own ones exact), output gradients must be 0 on the ghosts' rows, and
  // the parameter gradients sum to the whole graph's over the group. Graph attention only
  // (dense attention reads every sensor: its split is set_spatial_key_shard).
  void set_sensor_part(const parallel::GraphPart& part) {
    if (options_.spatial_hops == 0) {
      throw InputError("sttn: splitting the sensors over ranks needs graph attention "
                       "(model.spatial_hops > 0)");
    }
    if (options_.memory_patterns > 0) {
      throw InputError("sttn: the Hopfield ablation (model.memory_patterns) runs whole");
    }
    if (part.owner().size() != options_.sensors) {
      throw std::invalid_argument(str("sttn: a split of ", part.owner().size(),
                                      " sensors for a model of ", options_.sensors));
    }
    part_ = &part;
  }

  // The graph (every sensor's): its scaled Laplacian and (sensors x eigenvectors)
  // Laplacian eigenvectors (empty unless the spatial embedding uses them). On a part,
  // the model keeps the local sensors' rows of each.
  void set_graph(const graph::SparseMatrix<T>& laplacian, const Matrix<T>& eigenvectors) {
    // The Laplacian's pattern on the host, where a split or the K-hop graphs need it.
    parallel::HostSparse host;
    if (part_ || options_.spatial_hops > 0) {
      host.row_ptr = to_host_indices(laplacian.row_ptr);
      host.col_idx = to_host_indices(laplacian.col_idx);
    }
    laplacian_ = laplacian;
    eigenvectors_ = eigenvectors;
    if (part_) {
      auto values = Kokkos::create_mirror_view(laplacian.values);
      Kokkos::deep_copy(values, laplacian.values);
      host.values.assign(values.data(), values.data() + values.extent(0));
      const parallel::HostSparse local = part_->local_submatrix(host);
      laplacian_ = graph::sparse_from_host<T>(local.row_ptr, local.col_idx, local.values);
      if (eigenvectors.extent(0) > 0) {
        const std::size_t cols = eigenvectors.extent(1);
        eigenvectors_ = tensor::from_host<T>(part_->local_rows(tensor::to_host(eigenvectors), cols),
                                             part_->local(), cols, "sttn.eigenvectors");
      }
    }
    if (options_.spatial_hops > 0) {
      // The sensor graph is the Laplacian's off-diagonal pattern.
      neighbourhoods_ = graph::k_hop(laplacian_pattern(host.row_ptr, host.col_idx),
                                     static_cast<int>(options_.spatial_hops), /*self_loops=*/true);
      if (part_) neighbourhoods_ = part_->local_graph(neighbourhoods_);
      spatial_graph_copies_ = 0;  // rebuilt by the next forward
    }
    const std::size_t n = local_sensors();
    node_ids_ = tensor::Vector<int>("sttn.node_ids", n);
    auto ids = Kokkos::create_mirror_view(node_ids_);
    for (std::size_t i = 0; i < n; ++i) ids(i) = static_cast<int>(part_ ? part_->rows()[i] : i);
    Kokkos::deep_copy(node_ids_, ids);
  }

  const Matrix<T>& forward(const nn::ParameterStore<T>& store, const ForecastBatch<T>& batch) {
    const SttnOptions& o = options_;
    const std::size_t sensors = local_sensors();
    check_batch("sttn", batch, sensors, o.input_steps);
    check_input_columns("sttn", batch, o.daily_input);
    windows_ = batch.windows;
    const std::size_t rows = windows_ * sensors * o.input_steps, d = o.dim;
    tensor::ensure_shape(x0_, "sttn.x0", rows, d);
    Kokkos::deep_copy(x0_, input_.forward(store, batch.inputs));
    nn::add_in_place(x0_, tod_.forward(store, batch.slot), "sttn.tod");
    if (o.weekday_embedding) nn::add_in_place(x0_, dow_.forward(store, batch.weekday), "sttn.dow");
    nn::add_in_place(x0_, pos_.forward(store, batch.position), "sttn.pos");
    tensor::ensure_shape(spatial_, "sttn.spatial", sensors, d);
    Kokkos::deep_copy(spatial_, T(0));
    if (uses_eigenvectors()) nn::add_in_place(spatial_, eig_.forward(store, eigenvectors_));
    if (uses_node_table()) nn::add_in_place(spatial_, node_.forward(store, node_ids_));
    broadcast_sensors(spatial_, x0_);

    const Matrix<T>* x = &x0_;
    for (Block& b : blocks_) {
      if (part_) {  // the ghosts' rows from their owners
        tensor::ensure_shape(b.xg, "sttn.xg", x->extent(0), d);
        exchange_ghosts(*x, b.xg, false);  // the reordering copies: x itself is kept
        x = &b.xg;
      }
      // (window, sensor, step) -> (window, step, sensor): attention over sensors.
      tensor::transpose_rows(*x, windows_, sensors, o.input_steps, b.xs, "sttn.xs");
      const Matrix<T>& h = b.norm.forward(store, b.xs);
      const Matrix<T>& u = o.spatial_hops > 0
                               ? b.spatial.forward(store, h, spatial_graph(windows_ * o.input_steps))
                               : b.spatial.forward(store, h, windows_ * o.input_steps, sensors);
      const Matrix<T>& g = b.cheb.forward(store, h, laplacian_);
      tensor::ensure_shape(b.ys, "sttn.ys", b.xs.extent(0), d);
      nn::add(b.xs, b.fusion.forward(store, u, g), b.ys, "sttn.spatial_residual");
      tensor::transpose_rows(b.ys, windows_, o.input_steps, sensors, b.xt, "sttn.xt");
      x = &b.temporal.forward(store, b.xt, windows_ * sensors, o.input_steps);
    }
    // Each sensor's steps side by side: the same memory seen as (windows * sensors, T d).
    const Matrix<T> features =
        tensor::matrix_view(x->data(), windows_ * sensors, o.input_steps * d);
    return head_.forward(store, features);
  }

  // dy: (windows * sensors, horizons). Adds every parameter gradient to the store.
  void backward(nn::ParameterStore<T>& store, const Matrix<T>& dy) {
    const SttnOptions& o = options_;
    const std::size_t d = o.dim, sensors = local_sensors();
    const Matrix<T>& d_features = head_.backward(store, dy);
    Matrix<T> dx = tensor::matrix_view(d_features.data(), windows_ * sensors * o.input_steps, d);
    for (std::size_t l = blocks_.size(); l-- > 0;) {
      Block& b = blocks_[l];
      const Matrix<T>& d_xt = b.temporal.backward(store, dx);
      tensor::transpose_rows(d_xt, windows_, sensors, o.input_steps, b.d_ys, "sttn.d_ys");
      const nn::FusionInputGrads<T> fused = b.fusion.backward(store, b.d_ys);
      tensor::ensure_shape(b.d_h, "sttn.d_h", b.d_ys.extent(0), d);
      nn::add(b.spatial.backward(store, fused.a), b.cheb.backward(store, fused.b), b.d_h,
              "sttn.d_h");
      tensor::ensure_shape(b.d_xs, "sttn.d_xs", b.d_ys.extent(0), d);
      nn::add(b.d_ys, b.norm.backward(store, b.d_h), b.d_xs, "sttn.d_xs");
      tensor::transpose_rows(b.d_xs, windows_, o.input_steps, sensors, b.d_x, "sttn.d_x");
      if (part_) exchange_ghosts(b.d_x, b.d_x, true);  // the ghosts' gradients to their owners
      dx = b.d_x;
    }
    input_.backward(store, dx, false);
    tod_.backward(store, dx);
    if (o.weekday_embedding) dow_.backward(store, dx);
    pos_.backward(store, dx);
    sum_over_sensor_rows(dx, d_spatial_);
    if (uses_eigenvectors()) eig_.backward(store, d_spatial_, false);
    if (uses_node_table()) node_.backward(store, d_spatial_);
  }

  // Dense spatial attention with its keys (the sensors of each (window, step)) sharded
  // over the processes of `shard` (nn::KeyShard): every process runs the whole model on
  // the same windows but scores only its block of sensors as keys, so the attention's
  // probabilities and score gradients, (windows x steps x heads) x sensors^2 values
  // whole, fall with the process count; the merged results are exact and the same on
  // every process. Graph attention (spatial_hops > 0) has no such mode.
  void set_spatial_key_shard(const nn::KeyShard<T>& shard) {
    if (options_.spatial_hops > 0) {
      throw InputError(
          "sttn: sharded spatial attention needs dense attention (model.spatial_hops = 0)");
    }
    if (shard.first + shard.count > options_.sensors) {
      throw std::invalid_argument(str("sttn: key shard beyond ", options_.sensors, " sensors"));
    }
    for (Block& b : blocks_) b.spatial.set_key_shard(shard);
  }

  const SttnOptions& options() const { return options_; }

  // The Hopfield ablation with stored patterns that start as encoded training windows:
  // block by block, a forward pass over `batch`, then M rows of the block's memory input
  // (LN2 of its attention half), spread evenly over the batch's (window, step, sensor)
  // rows, become its stored patterns. The same on every rank given the same batch.
  void seed_memory(nn::ParameterStore<T>& store, const ForecastBatch<T>& batch) {
    if (options_.memory_patterns == 0) return;
    for (Block& b : blocks_) {
      forward(store, batch);
      copy_spread_rows(b.spatial.feed_forward_input(),
                       store.param_matrix(b.spatial.memory_patterns_slice()));
    }
  }

 private:
  struct Block {
    nn::LayerNorm<T> norm;
    nn::TransformerBlock<T> spatial, temporal;
    nn::ChebyshevConv<T> cheb;
    nn::GatedFusion<T> fusion;
    Matrix<T> xg, xs, ys, xt, d_ys, d_h, d_xs, d_x;  // xg: the input, ghosts exchanged
  };

  std::size_t local_sensors() const { return part_ ? part_->local() : options_.sensors; }

  static std::vector<graph::Index> to_host_indices(const graph::IndexView& v) {
    auto h = Kokkos::create_mirror_view(v);
    Kokkos::deep_copy(h, v);
    return std::vector<graph::Index>(h.data(), h.data() + h.extent(0));
  }

  // `out` = rows (window, sensor, step) of `x` (d columns, same shape; may be x) with the
  // ghost sensors' rows set from their owners, or (backward) added to their owners' and
  // zeroed. The halo exchanges one row per sensor: x is reordered to (sensor, window) rows
  // of its T d values, exchanged, and reordered back into out.
  void exchange_ghosts(const Matrix<T>& x, const Matrix<T>& out, bool backward) {
    const std::size_t n = local_sensors(), w = windows_;
    const std::size_t width = options_.input_steps * options_.dim;
    const Matrix<T> in_rows = tensor::matrix_view(x.data(), w * n, width);
    Matrix<T> rows = tensor::matrix_view(out.data(), w * n, width);
    tensor::transpose_rows(in_rows, 1, w, n, by_sensor_, "sttn.by_sensor");
    const Matrix<T> halo = tensor::matrix_view(by_sensor_.data(), n, w * width);
    if (backward) {
      part_->halo().scatter_add(halo);
    } else {
      part_->halo().gather(halo);
    }
    tensor::transpose_rows(by_sensor_, 1, n, w, rows, "sttn.by_window");
  }

  // The K-hop neighbourhoods repeated for `copies` (window, step) pairs on the rows of
  // the spatial attention ((window, step, sensor) order): block diagonal. Made once for
  // the largest batch; a smaller one (the last of an epoch, an evaluation batch) is a
  // prefix of it, so batch sizes that alternate rebuild nothing.
  const graph::CsrGraph& spatial_graph(std::size_t copies) {
    if (neighbourhoods_.row_ptr.empty()) {
      throw std::logic_error("sttn: spatial_hops > 0 needs set_graph before forward");
    }
    if (copies > spatial_graph_copies_) {
      const std::size_t n = neighbourhoods_.num_nodes();
      graph::HostCsr g;
      g.row_ptr.reserve(copies * n + 1);
      g.col_idx.reserve(copies * neighbourhoods_.col_idx.size());
      g.row_ptr.push_back(0);
      for (std::size_t c = 0; c < copies; ++c) {
        const auto offset = static_cast<graph::Index>(c * n);
        for (std::size_t i = 0; i < n; ++i) {
          for (auto e = neighbourhoods_.row_ptr[i]; e < neighbourhoods_.row_ptr[i + 1]; ++e) {
            g.col_idx.push_back(offset + neighbourhoods_.col_idx[e]);
          }
          g.row_ptr.push_back(static_cast<graph::Index>(g.col_idx.size()));
        }
      }
      spatial_graph_ = graph::to_device(g);
      spatial_graph_copies_ = copies;
    }
    if (copies == spatial_graph_copies_) return spatial_graph_;
    const std::size_t rows = copies * neighbourhoods_.num_nodes();
    const std::size_t edges = copies * neighbourhoods_.col_idx.size();
    spatial_graph_prefix_.row_ptr = Kokkos::subview(spatial_graph_.row_ptr, std::make_pair(std::size_t{0}, rows + 1));
    spatial_graph_prefix_.col_idx = Kokkos::subview(spatial_graph_.col_idx, std::make_pair(std::size_t{0}, edges));
    return spatial_graph_prefix_;
  }

  bool uses_eigenvectors() const { return options_.spatial != SpatialEmbedding::kLearned; }
  bool uses_node_table() const { return options_.spatial != SpatialEmbedding::kLaplacian; }

 public:
  // Public only for nvcc, which cannot compile a device lambda inside a private or
  // protected member function; not part of the interface.
  // x(row of sensor n, :) += s(n, :) for rows in (window, sensor, step) order.
  void broadcast_sensors(const Matrix<T>& s, const Matrix<T>& x) const {
    const std::size_t sensors = local_sensors(), steps = options_.input_steps, d = options_.dim;
    Kokkos::parallel_for(
        "sttn::broadcast_sensors", Kokkos::RangePolicy<tensor::ExecSpace>(0, x.extent(0)),
        KOKKOS_LAMBDA(const int r) {
          const std::size_t n = (static_cast<std::size_t>(r) / steps) % sensors;
          for (std::size_t j = 0; j < d; ++j) x(r, j) += s(n, j);
        });
  }

  // to(k, :) = from(k * rows / M, :) for the M rows of `to`.
  static void copy_spread_rows(const Matrix<T>& from, const Matrix<T>& to) {
    const std::size_t rows = from.extent(0), m = to.extent(0), d = to.extent(1);
    if (rows < m || from.extent(1) != d) {
      throw std::invalid_argument(str("sttn: ", m, " stored patterns from ", rows,
                                      " rows of ", from.extent(1), " features"));
    }
    Kokkos::parallel_for(
        "sttn::copy_spread_rows", Kokkos::RangePolicy<tensor::ExecSpace>(0, m),
        KOKKOS_LAMBDA(const int k) {
          const std::size_t r = static_cast<std::size_t>(k) * rows / m;
          for (std::size_t j = 0; j < d; ++j) to(k, j) = from(r, j);
        });
  }

  // out(n, :) = sum over windows and steps of dx(row of sensor n, :).
  void sum_over_sensor_rows(const Matrix<T>& dx, Matrix<T>& out) const {
    const std::size_t sensors = local_sensors(), steps = options_.input_steps, d = options_.dim;
    const std::size_t windows = windows_;
    tensor::ensure_shape(out, "sttn.d_spatial", sensors, d);
    const Matrix<T> o = out;
    Kokkos::parallel_for(
        "sttn::sum_over_sensor_rows", Kokkos::RangePolicy<tensor::ExecSpace>(0, sensors),
        KOKKOS_LAMBDA(const int n) {
          for (std::size_t j = 0; j < d; ++j) o(n, j) = 0;
          for (std::size_t w = 0; w < windows; ++w) {
            for (std::size_t t = 0; t < steps; ++t) {
              const std::size_t r = (w * sensors + static_cast<std::size_t>(n)) * steps + t;
              for (std::size_t j = 0; j < d; ++j) o(n, j) += dx(r, j);
            }
          }
        });
  }

 private:
  SttnOptions options_;
  nn::Linear<T> input_, eig_;
  nn::Embedding<T> tod_, dow_, pos_, node_;
  std::vector<Block> blocks_;
  nn::Mlp<T> head_;
  graph::SparseMatrix<T> laplacian_;
  graph::HostCsr neighbourhoods_;   // spatial_hops > 0: each sensor's K-hop neighbours
  graph::CsrGraph spatial_graph_;   // ... repeated for spatial_graph_copies_ (window, step)s
  std::size_t spatial_graph_copies_ = 0;
  graph::CsrGraph spatial_graph_prefix_;  // its first copies, for a smaller batch
  Matrix<T> eigenvectors_;
  tensor::Vector<int> node_ids_;
  std::size_t windows_ = 0;
  Matrix<T> x0_, spatial_, d_spatial_;
  const parallel::GraphPart* part_ = nullptr;  // the sensors split over ranks, or none
  Matrix<T> by_sensor_;                        // exchange_ghosts' reordered rows
};

}  // namespace tessera::models::st_forecast
