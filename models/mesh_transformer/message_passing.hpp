#pragma once
// The graph kernels of MeshGraphNet's message passing over a CSR graph whose row r lists
// the senders of the edges received by node r (edge k of row r: sender col_idx[k],
// receiver r; both directions of a mesh edge are two edges). Aggregation is a row sum;
// sender gradients are gathered through the transposed graph, so no kernel needs atomics
// and results are bitwise reproducible on any backend.
#include <string>

#include "core/graph/csr_graph.hpp"
#include "core/nn/activations.hpp"
#include "core/nn/layer_norm.hpp"
#include "core/nn/linear.hpp"
#include "core/runtime/error.hpp"
#include "core/tensor/gemm.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::models::mesh_transformer {

using tensor::Matrix;
using tensor::Vector;

// out = [a | b] (rows of a and b side by side).
template <class T>
void concat_columns(const Matrix<T>& a, const Matrix<T>& b, Matrix<T>& out,
                    const std::string& label) {
  const std::size_t rows = a.extent(0), ca = a.extent(1), cb = b.extent(1);
  if (b.extent(0) != rows) {
    throw std::invalid_argument(str(label, ": ", rows, " and ", b.extent(0), " rows"));
  }
  tensor::ensure_shape(out, label, rows, ca + cb);
  const Matrix<T> o = out;
  Kokkos::parallel_for(
      "mesh_transformer::concat_columns", Kokkos::RangePolicy<tensor::ExecSpace>(0, rows),
      KOKKOS_LAMBDA(const int i) {
        for (std::size_t j = 0; j < ca; ++j) o(i, j) = a(i, j);
        for (std::size_t j = 0; j < cb; ++j) o(i, ca + j) = b(i, j);
      });
}

// MeshGraphNet's edge MLP, m_k = LN(MLP([v_s | v_r | e_k])) for every edge k (sender s,
// receiver r), with its first Linear factorised: W [v_s | v_r | e_k] + b =
// (V W_s^T)_s + (V W_r^T)_r + e_k W_e^T + b, with W = [W_s | W_r | W_e]. The node
// projections are made once per node (N rows) instead of once per edge (about 6N rows),
// and the (edges x 3d) concatenation is never formed: the first layer costs
// (2N + E) d^2 multiply-adds instead of 3E d^2, forward and backward. Parameters as an
// nn::Mlp {3d, d, d, d} named `name` (name.0, name.1, name.2) and a LayerNorm
// `norm_name`, declared in that order: checkpoints and the PyTorch reference see the
// same model. Backward returns the node gradient (sender and receiver parts summed per
// node, gathered through the transposed graph: no atomics) and the edge gradient.
template <class T>
class EdgeMlp {
 public:
  void declare(nn::ParameterStore<T>& store, const std::string& name, const std::string& norm_name,
               std::size_t latent) {
    name_ = name;
    d_ = latent;
    first_.declare(store, name + ".0", 3 * latent, latent);
    second_.declare(store, name + ".1", latent, latent);
    third_.declare(store, name + ".2", latent, latent);
    act0_ = nn::Activation<T>(nn::ActivationKind::kRelu, name + ".act0");
    act1_ = nn::Activation<T>(nn::ActivationKind::kRelu, name + ".act1");
    norm_.declare(store, norm_name, latent);
  }
  void init(nn::ParameterStore<T>& store, std::uint64_t seed) const {
    first_.init(store, seed);
    second_.init(store, seed);
    third_.init(store, seed);
    norm_.init(store);
  }

  // v: (nodes, d), e: (edges, d) in the graph's CSR order. Returns m: (edges, d).
  const Matrix<T>& forward(const nn::ParameterStore<T>& store, const Matrix<T>& v,
                           const Matrix<T>& e, const graph::CsrGraph& graph) {
    if (graph.num_nodes() != v.extent(0) || graph.num_edges() != e.extent(0) ||
        v.extent(1) != d_ || e.extent(1) != d_) {
      throw std::invalid_argument(str(name_, ": graph of ", graph.num_nodes(), " nodes and ",
                                      graph.num_edges(), " edges for node rows ",
                                      tensor::shape_text(v), " and edge rows ",
                                      tensor::shape_text(e), " (latent ", d_, ")"));
    }
    if (graph.row_ptr.data() != graph_.row_ptr.data() || graph.num_edges() != graph_.num_edges()) {
      graph_ = graph;
      transpose_ = graph::CsrTranspose{};
    }
    v_ = v;
    e_ = e;
    split_first_weight(store);
    const std::size_t d = d_;
    // P = V [W_s; W_r]^T (nodes x 2d): the sender and receiver terms of every node.
    tensor::ensure_shape(projected_, name_ + ".node_projections", v.extent(0), 2 * d);
    tensor::gemm('N', 'T', T(1), v, w_nodes_, T(0), projected_);
    // h0 = E W_e^T + P_s + P_r + b, edge by edge in each receiver's row.
    tensor::ensure_shape(h0_, name_ + ".0.output", e.extent(0), d);
    tensor::gemm('N', 'T', T(1), e, w_edges_, T(0), h0_);
    add_node_terms(store.param_vector(first_.bias_id()));
    const Matrix<T>& h1 = second_.forward(store, act0_.forward(h0_));
    return norm_.forward(store, third_.forward(store, act1_.forward(h1)));
  }

  // dm: (edges, d), the gradient of the output. Adds every parameter gradient to
  // store.grads(); node_grad() and edge_grad() then hold the input gradients.
  void backward(nn::ParameterStore<T>& store, const Matrix<T>& dm) {
    const Matrix<T>& g2 = third_.backward(store, norm_.backward(store, dm));
    const Matrix<T>& dh0 = act0_.backward(second_.backward(store, act1_.backward(g2)));
    if (transpose_.row_ptr.data() == nullptr) transpose_ = graph::csr_transpose(graph_);
    const std::size_t d = d_, nodes = v_.extent(0);
    // D = [sum of dh0 over the edges each node sends | over the edges it receives].
    tensor::ensure_shape(node_sums_, name_ + ".node_sums", nodes, 2 * d);
    sum_per_node(dh0);
    // Weight gradient, in three (d x d) blocks of the (d x 3d) weight: D^T V for the
    // sender and receiver blocks, dh0^T E for the edge block; bias: the column sums.
    tensor::ensure_shape(dw_nodes_, name_ + ".0.node_weight_grad", 2 * d, d);
    tensor::ensure_shape(dw_edges_, name_ + ".0.edge_weight_grad", d, d);
    tensor::gemm('T', 'N', T(1), node_sums_, v_, T(0), dw_nodes_);
    tensor::gemm('T', 'N', T(1), dh0, e_, T(0), dw_edges_);
    add_weight_grads(store.grad_matrix(first_.weight_id()));
    nn::detail::add_column_sums(dh0, ones_, store.grad_matrix(first_.bias_id()), name_ + ".0");
    // Input gradients: dV = D [W_s; W_r], dE = dh0 W_e.
    tensor::ensure_shape(node_grad_, name_ + ".node_grad", nodes, d);
    tensor::ensure_shape(edge_grad_, name_ + ".edge_grad", dh0.extent(0), d);
    tensor::gemm('N', 'N', T(1), node_sums_, w_nodes_, T(0), node_grad_);
    tensor::gemm('N', 'N', T(1), dh0, w_edges_, T(0), edge_grad_);
  }

  const Matrix<T>& node_grad() const { return node_grad_; }
  const Matrix<T>& edge_grad() const { return edge_grad_; }

 public:
  // Public only for nvcc, which cannot compile a device lambda inside a private or
  // protected member function; not part of the interface.
  // w_nodes_ = [W_s; W_r] (2d x d), w_edges_ = W_e (d x d), from W (d x 3d).
  void split_first_weight(const nn::ParameterStore<T>& store) {
    const std::size_t d = d_;
    tensor::ensure_shape(w_nodes_, name_ + ".0.node_weight", 2 * d, d);
    tensor::ensure_shape(w_edges_, name_ + ".0.edge_weight", d, d);
    const Matrix<T> w = store.param_matrix(first_.weight_id()), wn = w_nodes_, we = w_edges_;
    Kokkos::parallel_for(
        "mesh_transformer::edge_mlp_split_weight", Kokkos::RangePolicy<tensor::ExecSpace>(0, d),
        KOKKOS_LAMBDA(const int o) {
          for (std::size_t c = 0; c < d; ++c) {
            wn(o, c) = w(o, c);
            wn(d + o, c) = w(o, d + c);
            we(o, c) = w(o, 2 * d + c);
          }
        });
  }
  // h0(k) += P(sender, :d) + P(receiver, d:) + b.
  void add_node_terms(const Vector<T>& bias) {
    const std::size_t d = d_;
    const Matrix<T> h = h0_, p = projected_;
    const graph::IndexView row_ptr = graph_.row_ptr, col = graph_.col_idx;
    Kokkos::parallel_for(
        "mesh_transformer::edge_mlp_node_terms",
        Kokkos::RangePolicy<tensor::ExecSpace>(0, graph_.num_nodes()), KOKKOS_LAMBDA(const int r) {
          for (graph::Index k = row_ptr(r); k < row_ptr(r + 1); ++k) {
            const graph::Index s = col(k);
            for (std::size_t j = 0; j < d; ++j) h(k, j) += p(s, j) + p(r, d + j) + bias(j);
          }
        });
  }
  // node_sums_(n) = [sum over the edges n sends | over the edges it receives] of dh0.
  void sum_per_node(const Matrix<T>& dh0) {
    const std::size_t d = d_;
    const Matrix<T> sums = node_sums_;
    const graph::IndexView row_ptr = graph_.row_ptr;
    const graph::IndexView t_ptr = transpose_.row_ptr, t_edge = transpose_.edge_id;
    Kokkos::parallel_for(
        "mesh_transformer::edge_mlp_node_sums",
        Kokkos::RangePolicy<tensor::ExecSpace>(0, graph_.num_nodes()), KOKKOS_LAMBDA(const int n) {
          for (std::size_t j = 0; j < d; ++j) {
            T sent = 0, received = 0;
            for (graph::Index t = t_ptr(n); t < t_ptr(n + 1); ++t) sent += dh0(t_edge(t), j);
            for (graph::Index k = row_ptr(n); k < row_ptr(n + 1); ++k) received += dh0(k, j);
            sums(n, j) = sent;
            sums(n, d + j) = received;
          }
        });
  }
  // grad W += [dW_s | dW_r | dW_e].
  void add_weight_grads(const Matrix<T>& grad) {
    const std::size_t d = d_;
    const Matrix<T> dn = dw_nodes_, de = dw_edges_;
    Kokkos::parallel_for(
        "mesh_transformer::edge_mlp_weight_grad", Kokkos::RangePolicy<tensor::ExecSpace>(0, d),
        KOKKOS_LAMBDA(const int o) {
          for (std::size_t c = 0; c < d; ++c) {
            grad(o, c) += dn(o, c);
            grad(o, d + c) += dn(d + o, c);
            grad(o, 2 * d + c) += de(o, c);
          }
        });
  }

 private:
  std::string name_;
  std::size_t d_ = 0;
  nn::Linear<T> first_, second_, third_;  // first_: parameters only (factorised above)
  nn::Activation<T> act0_, act1_;
  nn::LayerNorm<T> norm_;
  graph::CsrGraph graph_;
  graph::CsrTranspose transpose_;
  Matrix<T> v_, e_, w_nodes_, w_edges_, projected_, h0_;
  Matrix<T> node_sums_, dw_nodes_, dw_edges_, node_grad_, edge_grad_, ones_;
};

// out(r) = sum of m(k) over the edges k received by r (a row sum).
template <class T>
void sum_received(const Matrix<T>& m, const graph::CsrGraph& graph, Matrix<T>& out,
                  const std::string& label) {
  const std::size_t cols = m.extent(1);
  tensor::ensure_shape(out, label, graph.num_nodes(), cols);
  const Matrix<T> o = out;
  const graph::IndexView row_ptr = graph.row_ptr;
  Kokkos::parallel_for(
      "mesh_transformer::sum_received", Kokkos::RangePolicy<tensor::ExecSpace>(0, o.extent(0)),
      KOKKOS_LAMBDA(const int r) {
        for (std::size_t j = 0; j < cols; ++j) {
          T acc = 0;
          for (graph::Index k = row_ptr(r); k < row_ptr(r + 1); ++k) acc += m(k, j);
          o(r, j) = acc;
        }
      });
}

// dm(k) += d_out(receiver of k): the backward of sum_received, added in place.
template <class T>
void add_received_grad(const Matrix<T>& d_out, const graph::CsrGraph& graph, const Matrix<T>& dm) {
  const std::size_t cols = dm.extent(1);
  const graph::IndexView row_ptr = graph.row_ptr;
  Kokkos::parallel_for(
      "mesh_transformer::add_received_grad",
      Kokkos::RangePolicy<tensor::ExecSpace>(0, graph.num_nodes()), KOKKOS_LAMBDA(const int r) {
        for (graph::Index k = row_ptr(r); k < row_ptr(r + 1); ++k) {
          for (std::size_t j = 0; j < cols; ++j) dm(k, j) += d_out(r, j);
        }
      });
}

}  // namespace tessera::models::mesh_transformer
