#pragma once
// Multi-head attention masked by a graph: node i attends only to its neighbours N(i)
// (row i of a CSR graph), the kernel of "Training Transformers for Mesh-Based
// Simulations", where N(i) comes from the mesh adjacency. For each head h:
//   s_ij = q_i . k_j / sqrt(d_head)   for j in N(i)
//   p_ij = softmax over j in N(i) of s_ij (max-shifted, so it cannot overflow)
//   o_i  = sum_j p_ij v_j
// and y = O(concat_h o_i), with q, k, v, O linear projections (nn::Linear, slices
// name.wq / .wk / .wv / .wo). A node without neighbours gets o_i = 0.
//
// Head groups: forward may take one graph per group of heads (G groups of heads / G
// consecutive heads each), so that some heads attend to the mesh neighbours and others
// to a wider or dilated neighbourhood in the same layer ("Training Transformers for
// Mesh-Based Simulations" dilates half the heads of its last layers). One graph is G = 1.
//
// The cost is O(E d) in the edge kernels plus four (N x d) x (d x d) gemms, against
// O(N^2 d) for dense attention. The probabilities (num_edges x heads) are kept for
// the backward pass.
//
// Split query rows (SplitQueryRows): rows whose keys are spread over processes, as the
// global attention nodes of a mesh split over ranks, whose queries attend to every node.
// Each process holds the same rows, attends them over its own keys, and `merge` combines
// the processes' softmaxes exactly by log-sum-exp (FlashAttention's rescaling, as the
// sharded Hopfield memory does): o = sum_r exp(lse_r - lse) o_r, lse = log sum_r exp(lse_r).
// The kept probabilities are then rescaled to the global softmax, so backward on each
// process gives its keys' exact gradients and its share of the rows' query gradients
// (summed by the caller), once `sum` has made the rows' output gradients global. The
// softmax backward of those rows uses sum_j p_ij dp_ij = do_i . o_i (the global o).
//
// Backward scatters to key and value nodes (dk_j, dv_j gather over every i with j in
// N(i)). It does so through the transposed graph, built once per graph on the first
// backward, so that each node gathers its own sum: no atomics, hence a result that is
// bitwise reproducible from run to run and across Serial/OpenMP/CUDA schedules (which
// a distributed run compared against one rank needs), and no atomic contention on the
// high-degree nodes of refined meshes.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/graph/csr_graph.hpp"
#include "core/nn/linear.hpp"
#include "core/nn/parameter_store.hpp"
#include "core/tensor/math.hpp"

namespace tessera::nn {

namespace detail {

// Short dot products and axpys over one head's features (d_head is often 8 to 32).
// Four partial sums let the compiler keep them in one SIMD register without
// -ffast-math; the summation order is fixed, so results stay reproducible.
template <class T>
KOKKOS_INLINE_FUNCTION T head_dot(const T* KOKKOS_RESTRICT a, const T* KOKKOS_RESTRICT b, int n) {
  T acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
  int c = 0;
  for (; c + 4 <= n; c += 4) {
    acc0 += a[c] * b[c];
    acc1 += a[c + 1] * b[c + 1];
    acc2 += a[c + 2] * b[c + 2];
    acc3 += a[c + 3] * b[c + 3];
  }
  for (; c < n; ++c) acc0 += a[c] * b[c];
  return (acc0 + acc1) + (acc2 + acc3);
}

// y += w x
template <class T>
KOKKOS_INLINE_FUNCTION void head_axpy(T* KOKKOS_RESTRICT y, T w, const T* KOKKOS_RESTRICT x,
                                      int n) {
  for (int c = 0; c < n; ++c) y[c] += w * x[c];
}

}  // namespace detail

// See "Split query rows" above. Rows [first, first + count) of the layer's input.
template <class T>
struct SplitQueryRows {
  std::size_t first = 0, count = 0;
  // Forward, collective: lse (count x heads) holds this process's log-sum-exp of each
  // row's scores per head (-infinity where it holds none of the row's keys) and context
  // (count x model_dim) its outputs; both must become the merged ones, the same on every
  // process.
  std::function<void(const Matrix<T>& lse, const Matrix<T>& context)> merge;
  // Backward, collective: the rows' output gradients (count x model_dim), summed over
  // the processes in place.
  std::function<void(const Matrix<T>& d_context)> sum;
};

template <class T>
class GraphMultiHeadAttention {
 public:
  // model_dim must be a multiple of heads (each head sees model_dim / heads features).
  void declare(ParameterStore<T>& store, const std::string& name, std::size_t model_dim,
               std::size_t heads) {
    if (heads == 0 || model_dim == 0 || model_dim % heads != 0) {
      throw InputError(str(name, ": model_dim = ", model_dim, " must be a positive multiple of ",
                           "heads = ", heads, " (each head gets model_dim / heads features)"));
    }
    name_ = name;
    dim_ = model_dim;
    heads_ = heads;
    wq_.declare(store, name + ".wq", model_dim, model_dim);
    wk_.declare(store, name + ".wk", model_dim, model_dim);
    wv_.declare(store, name + ".wv", model_dim, model_dim);
    wo_.declare(store, name + ".wo", model_dim, model_dim);
  }

  // PyTorch's nn.Linear default for all four projections.
  void init(ParameterStore<T>& store, std::uint64_t seed) const {
    wq_.init(store, seed);
    wk_.init(store, seed);
    wv_.init(store, seed);
    wo_.init(store, seed);
  }

  // x: (num_nodes, model_dim), one row per graph node. The graph must stay alive and
  // unchanged until backward (the layer keeps views of it).
  const Matrix<T>& forward(const ParameterStore<T>& store, const Matrix<T>& x,
                           const graph::CsrGraph& graph) {
    one_graph_.assign(1, &graph);  // kept between calls: no allocation per step
    return forward(store, x, one_graph_);
  }

  // One graph per head group (heads must be a multiple of the group count): group g has
  // heads [g H/G, (g+1) H/G) and attends over group_graphs[g]. The same graph may repeat.
  // `split` (optional): rows whose keys are spread over processes (see above); alive
  // until backward.
  const Matrix<T>& forward(const ParameterStore<T>& store, const Matrix<T>& x,
                           const std::vector<const graph::CsrGraph*>& group_graphs,
                           const SplitQueryRows<T>* split = nullptr) {
    if (x.extent(1) != dim_) {
      throw std::invalid_argument(
          str(name_, ": input has ", x.extent(1), " features, expected model_dim = ", dim_));
    }
    if (group_graphs.empty() || heads_ % group_graphs.size() != 0) {
      throw std::invalid_argument(str(name_, ": ", group_graphs.size(), " head groups for ",
                                      heads_, " heads (the groups must split the heads evenly)"));
    }
    groups_.resize(group_graphs.size());
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      const graph::CsrGraph& graph = *group_graphs[g];
      if (graph.num_nodes() != x.extent(0)) {
        throw std::invalid_argument(str(name_, ": the graph", groups_.size() > 1 ? " of head group " : "",
                                        groups_.size() > 1 ? std::to_string(g) : "", " has ",
                                        graph.num_nodes(), " nodes but the input has ", x.extent(0),
                                        " rows (one row per node expected)"));
      }
      HeadGroup& group = groups_[g];
      if (graph.row_ptr.data() != group.graph.row_ptr.data() ||
          graph.col_idx.data() != group.graph.col_idx.data() ||
          graph.num_edges() != group.graph.num_edges()) {
        group.graph = graph;
        group.transpose = graph::CsrTranspose{};  // rebuilt by the next backward
      }
      tensor::ensure_shape(group.prob, name_ + ".probabilities", graph.num_edges(),
                           heads_ / groups_.size());
    }
    const std::size_t nodes = x.extent(0);
    split_ = split && split->count > 0 ? split : nullptr;
    if (split_ && split_->first + split_->count > nodes) {
      throw std::invalid_argument(str(name_, ": split rows [", split_->first, ", ",
                                      split_->first + split_->count, ") beyond the ", nodes,
                                      " input rows"));
    }
    tensor::ensure_shape(lse_local_, name_ + ".lse_local", split_ ? split_->count : 0, heads_);
    q_ = wq_.forward(store, x);
    k_ = wk_.forward(store, x);
    v_ = wv_.forward(store, x);
    tensor::ensure_shape(context_, name_ + ".context", nodes, dim_);

    for (std::size_t g = 0; g < groups_.size(); ++g) edge_forward(g);
    if (split_) merge_split_rows();
    return wo_.forward(store, context_);
  }

  // dy: (num_nodes, model_dim). Adds the gradients of all four projections to
  // store.grads() and returns dL/dx (through q, k and v), or an empty matrix when
  // need_input_grad is false (first layer of a network: skips three gemms).
  const Matrix<T>& backward(ParameterStore<T>& store, const Matrix<T>& dy,
                            bool need_input_grad = true) {
    if (dy.extent(0) != context_.extent(0) || dy.extent(1) != dim_) {
      throw std::invalid_argument(str(name_, ": output gradient ", tensor::shape_text(dy),
                                      " does not match the forward output [", context_.extent(0),
                                      " x ", dim_, "]"));
    }
    d_context_ = wo_.backward(store, dy);
    if (split_) {
      split_->sum(tensor::matrix_view(d_context_.data() + split_->first * dim_, split_->count, dim_));
    }
    const std::size_t nodes = dy.extent(0);
    tensor::ensure_shape(dq_, name_ + ".q_grad", nodes, dim_);
    tensor::ensure_shape(dk_, name_ + ".k_grad", nodes, dim_);
    tensor::ensure_shape(dv_, name_ + ".v_grad", nodes, dim_);
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      HeadGroup& group = groups_[g];
      if (group.transpose.row_ptr.data() == nullptr) {
        group.transpose = graph::csr_transpose(group.graph);
      }
      tensor::ensure_shape(group.d_score, name_ + ".score_grad", group.graph.num_edges(),
                           heads_ / groups_.size());
      edge_backward(g);
    }

    const Matrix<T> dx_q = wq_.backward(store, dq_, need_input_grad);
    const Matrix<T> dx_k = wk_.backward(store, dk_, need_input_grad);
    const Matrix<T> dx_v = wv_.backward(store, dv_, need_input_grad);
    if (!need_input_grad) return no_input_grad_;
    tensor::ensure_shape(input_grad_, name_ + ".input_grad", nodes, dim_);
    const Matrix<T> dx = input_grad_;
    const int dim = static_cast<int>(dim_);
    Kokkos::parallel_for(
        "nn::graph_attention_input_grad", Kokkos::RangePolicy<tensor::ExecSpace>(0, nodes),
        KOKKOS_LAMBDA(const int i) {
          for (int c = 0; c < dim; ++c) dx(i, c) = dx_q(i, c) + dx_k(i, c) + dx_v(i, c);
        });
    return input_grad_;
  }

  // Attention weights of the last forward: (num_edges, heads), p(e, h) for edge e of
  // the graph's col_idx order; with head groups, group g's (its edges, its heads).
  const Matrix<T>& probabilities(std::size_t group = 0) const { return groups_.at(group).prob; }
  std::size_t head_groups() const { return groups_.size(); }
  std::size_t model_dim() const { return dim_; }
  std::size_t heads() const { return heads_; }
  const std::string& name() const { return name_; }
  const Linear<T>& query() const { return wq_; }
  const Linear<T>& key() const { return wk_; }
  const Linear<T>& value() const { return wv_; }
  const Linear<T>& output() const { return wo_; }

 public:
  // Public only for nvcc, which cannot compile a device lambda inside a private or
  // protected member function; not part of the interface.
  // Scores, softmax per neighbourhood and weighted sum of values, per query node, for
  // the heads of group g (context columns of those heads only).
  void edge_forward(std::size_t g) {
    const HeadGroup& group = groups_[g];
    const graph::IndexView row_ptr = group.graph.row_ptr, col_idx = group.graph.col_idx;
    const Matrix<T> q = q_, k = k_, v = v_, p = group.prob, out = context_, lse = lse_local_;
    const int heads = static_cast<int>(heads_ / groups_.size()), dh = static_cast<int>(dim_ / heads_);
    const int first = static_cast<int>(g) * heads * dh;  // the group's first column
    const int first_head = static_cast<int>(g) * heads;
    const T scale = T(1) / math::sqrt(static_cast<T>(dh));
    // Split rows [split_begin, split_end) keep their log-sum-exp (none: an empty range).
    const int split_begin = split_ ? static_cast<int>(split_->first) : 0;
    const int split_end = split_ ? static_cast<int>(split_->first + split_->count) : 0;
    Kokkos::parallel_for(
        "nn::graph_attention_forward",
        Kokkos::RangePolicy<tensor::ExecSpace>(0, group.graph.num_nodes()),
        KOKKOS_LAMBDA(const int i) {
          const graph::Index begin = row_ptr(i), end = row_ptr(i + 1);
          const T* qi = &q(i, first);
          // Scores, edge by edge so that each neighbour's key row is read once.
          for (graph::Index e = begin; e < end; ++e) {
            const T* kj = &k(col_idx(e), first);
            for (int h = 0; h < heads; ++h) {
              p(e, h) = scale * detail::head_dot(qi + h * dh, kj + h * dh, dh);
            }
          }
          for (int h = 0; h < heads; ++h) {
            T top = begin < end ? p(begin, h) : T(0);
            for (graph::Index e = begin + 1; e < end; ++e) top = math::max(top, p(e, h));
            T total = 0;
            for (graph::Index e = begin; e < end; ++e) {
              const T w = math::fast_exp(p(e, h) - top);
              p(e, h) = w;
              total += w;
            }
            const T inv = begin < end ? T(1) / total : T(0);
            for (graph::Index e = begin; e < end; ++e) p(e, h) *= inv;
            if (i >= split_begin && i < split_end) {
              lse(i - split_begin, first_head + h) =
                  begin < end ? top + math::log(total) : -Kokkos::Experimental::infinity<T>::value;
            }
          }
          T* oi = &out(i, first);
          for (int c = 0; c < heads * dh; ++c) oi[c] = 0;
          for (graph::Index e = begin; e < end; ++e) {
            const T* vj = &v(col_idx(e), first);
            for (int h = 0; h < heads; ++h)
              detail::head_axpy(oi + h * dh, p(e, h), vj + h * dh, dh);
          }
        });
  }

  // Score gradients through the softmax and dq per query node, then dk and dv per
  // key/value node, for the heads (columns) of group g.
  void edge_backward(std::size_t g) {
    const HeadGroup& group = groups_[g];
    const graph::IndexView row_ptr = group.graph.row_ptr, col_idx = group.graph.col_idx;
    const graph::IndexView t_row_ptr = group.transpose.row_ptr,
                           t_col_idx = group.transpose.col_idx, t_edge = group.transpose.edge_id;
    const Matrix<T> q = q_, k = k_, v = v_, p = group.prob, ds = group.d_score, dout = d_context_;
    const Matrix<T> dq = dq_, dk = dk_, dv = dv_, out = context_;
    const int heads = static_cast<int>(heads_ / groups_.size()), dh = static_cast<int>(dim_ / heads_);
    const int first = static_cast<int>(g) * heads * dh;
    const T scale = T(1) / math::sqrt(static_cast<T>(dh));
    const int split_begin = split_ ? static_cast<int>(split_->first) : 0;
    const int split_end = split_ ? static_cast<int>(split_->first + split_->count) : 0;

    // Per query node: score gradients through the softmax, then dq_i = sum_j ds_ij k_j.
    Kokkos::parallel_for(
        "nn::graph_attention_backward_query",
        Kokkos::RangePolicy<tensor::ExecSpace>(0, group.graph.num_nodes()),
        KOKKOS_LAMBDA(const int i) {
          const graph::Index begin = row_ptr(i), end = row_ptr(i + 1);
          const T* doi = &dout(i, first);
          for (graph::Index e = begin; e < end; ++e) {
            const T* vj = &v(col_idx(e), first);
            for (int h = 0; h < heads; ++h) {
              ds(e, h) = detail::head_dot(doi + h * dh, vj + h * dh, dh);
            }
          }
          // Softmax backward: ds = p (dp - sum_j p dp); the 1/sqrt(d_head) of the
          // scores is folded in here, so that dq and dk need no further scaling.
          // A split row holds only part of its neighbours: its mean is do_i . o_i.
          const bool split_row = i >= split_begin && i < split_end;
          for (int h = 0; h < heads; ++h) {
            T mean = 0;
            if (split_row) {
              mean = detail::head_dot(doi + h * dh, &out(i, first) + h * dh, dh);
            } else {
              for (graph::Index e = begin; e < end; ++e) mean += p(e, h) * ds(e, h);
            }
            for (graph::Index e = begin; e < end; ++e) {
              ds(e, h) = scale * p(e, h) * (ds(e, h) - mean);
            }
          }
          T* dqi = &dq(i, first);
          for (int c = 0; c < heads * dh; ++c) dqi[c] = 0;
          for (graph::Index e = begin; e < end; ++e) {
            const T* kj = &k(col_idx(e), first);
            for (int h = 0; h < heads; ++h)
              detail::head_axpy(dqi + h * dh, ds(e, h), kj + h * dh, dh);
          }
        });
    // Per key/value node j, over the nodes i that attend to it (transposed graph):
    // dk_j = sum_i ds_ij q_i, dv_j = sum_i p_ij dout_i.
    Kokkos::parallel_for(
        "nn::graph_attention_backward_key_value",
        Kokkos::RangePolicy<tensor::ExecSpace>(0, group.graph.num_nodes()),
        KOKKOS_LAMBDA(const int j) {
          T* dkj = &dk(j, first);
          T* dvj = &dv(j, first);
          for (int c = 0; c < heads * dh; ++c) {
            dkj[c] = 0;
            dvj[c] = 0;
          }
          for (graph::Index t = t_row_ptr(j); t < t_row_ptr(j + 1); ++t) {
            const graph::Index i = t_col_idx(t);
            const graph::Index e = t_edge(t);
            const T* qi = &q(i, first);
            const T* doi = &dout(i, first);
            for (int h = 0; h < heads; ++h) {
              detail::head_axpy(dkj + h * dh, ds(e, h), qi + h * dh, dh);
              detail::head_axpy(dvj + h * dh, p(e, h), doi + h * dh, dh);
            }
          }
        });
  }

  // The split rows' outputs and log-sum-exps merged over the processes, and their kept
  // probabilities rescaled from this process's softmax to the global one:
  // p_ij * exp(lse_local - lse).
  void merge_split_rows() {
    const std::size_t rows = split_->count;
    tensor::ensure_shape(lse_, name_ + ".lse", rows, heads_);
    Kokkos::deep_copy(lse_, lse_local_);
    split_->merge(lse_, tensor::matrix_view(context_.data() + split_->first * dim_, rows, dim_));
    const Matrix<T> local = lse_local_, merged = lse_;
    const int split_begin = static_cast<int>(split_->first);
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      const HeadGroup& group = groups_[g];
      const graph::IndexView row_ptr = group.graph.row_ptr;
      const Matrix<T> p = group.prob;
      const int heads = static_cast<int>(heads_ / groups_.size());
      const int first_head = static_cast<int>(g) * heads;
      Kokkos::parallel_for(
          "nn::graph_attention_rescale_split_rows",
          Kokkos::RangePolicy<tensor::ExecSpace>(0, rows), KOKKOS_LAMBDA(const int r) {
            const int i = split_begin + r;
            for (int h = 0; h < heads; ++h) {
              const T factor = math::exp(local(r, first_head + h) - merged(r, first_head + h));
              for (graph::Index e = row_ptr(i); e < row_ptr(i + 1); ++e) p(e, h) *= factor;
            }
          });
    }
  }

 private:
  std::string name_;
  std::size_t dim_ = 0, heads_ = 0;
  Linear<T> wq_, wk_, wv_, wo_;
  // A group of heads, its graph (the transposed graph built on its first backward), its
  // probabilities and score gradients (its edges x its heads).
  struct HeadGroup {
    graph::CsrGraph graph;
    graph::CsrTranspose transpose;
    Matrix<T> prob, d_score;
  };
  std::vector<HeadGroup> groups_;
  std::vector<const graph::CsrGraph*> one_graph_;
  const SplitQueryRows<T>* split_ = nullptr;  // the last forward's, or null
  Matrix<T> lse_local_, lse_;                 // split rows x heads: this process's, merged
  Matrix<T> q_, k_, v_, context_;
  Matrix<T> d_context_, dq_, dk_, dv_, input_grad_, no_input_grad_;
};

}  // namespace tessera::nn
