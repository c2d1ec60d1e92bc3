#pragma once
// The graph kernels of MeshGraphNet's message passing over a CSR graph whose row r lists
// the senders of the edges received by node r (edge k of row r: sender col_idx[k],
// receiver r; both directions of a mesh edge are two edges). Aggregation is a row sum;
// sender gradients are gathered through the transposed graph, so no kernel needs atomics
// and results are bitwise reproducible on any backend.
#include <string>

#include "core/graph/csr_graph.hpp"
#include "core/runtime/error.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::models::mesh_transformer {

using tensor::Matrix;

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

// For every edge k (sender s, receiver r): x_k = [v_s | v_r | e_k]; backward returns
// dv (sender and receiver parts summed per node) and de.
template <class T>
class EdgeGather {
 public:
  explicit EdgeGather(std::string name = "edge_gather") : name_(std::move(name)) {}

  const Matrix<T>& forward(const Matrix<T>& v, const Matrix<T>& e, const graph::CsrGraph& graph) {
    if (graph.num_nodes() != v.extent(0) || graph.num_edges() != e.extent(0)) {
      throw std::invalid_argument(str(name_, ": graph of ", graph.num_nodes(), " nodes and ",
                                      graph.num_edges(), " edges for ", v.extent(0),
                                      " node rows and ", e.extent(0), " edge rows"));
    }
    if (graph.row_ptr.data() != graph_.row_ptr.data() || graph.num_edges() != graph_.num_edges()) {
      graph_ = graph;
      transpose_ = graph::CsrTranspose{};
    }
    nodes_ = v.extent(0);
    dv_cols_ = v.extent(1);
    de_cols_ = e.extent(1);
    const std::size_t d = dv_cols_, de = de_cols_;
    tensor::ensure_shape(output_, name_ + ".output", e.extent(0), 2 * d + de);
    const Matrix<T> x = output_;
    const graph::IndexView row_ptr = graph.row_ptr, col = graph.col_idx;
    Kokkos::parallel_for(
        "mesh_transformer::edge_gather", Kokkos::RangePolicy<tensor::ExecSpace>(0, nodes_),
        KOKKOS_LAMBDA(const int r) {
          for (graph::Index k = row_ptr(r); k < row_ptr(r + 1); ++k) {
            const graph::Index s = col(k);
            for (std::size_t j = 0; j < d; ++j) x(k, j) = v(s, j);
            for (std::size_t j = 0; j < d; ++j) x(k, d + j) = v(r, j);
            for (std::size_t j = 0; j < de; ++j) x(k, 2 * d + j) = e(k, j);
          }
        });
    return output_;
  }

  // dx: (edges, 2d + de) -> node_grad (nodes, d) and edge_grad (edges, de), owned here.
  void backward(const Matrix<T>& dx) {
    if (dx.extent(0) != output_.extent(0) || dx.extent(1) != output_.extent(1)) {
      throw std::invalid_argument(str(name_, ": gradient ", tensor::shape_text(dx),
                                      " does not match the forward output ",
                                      tensor::shape_text(output_)));
    }
    if (transpose_.row_ptr.data() == nullptr) transpose_ = graph::csr_transpose(graph_);
    const std::size_t d = dv_cols_, de = de_cols_;
    tensor::ensure_shape(node_grad_, name_ + ".node_grad", nodes_, d);
    tensor::ensure_shape(edge_grad_, name_ + ".edge_grad", dx.extent(0), de);
    const Matrix<T> dv = node_grad_, dE = edge_grad_;
    const graph::IndexView row_ptr = graph_.row_ptr;
    const graph::IndexView t_ptr = transpose_.row_ptr, t_edge = transpose_.edge_id;
    Kokkos::parallel_for(
        "mesh_transformer::edge_gather_backward", Kokkos::RangePolicy<tensor::ExecSpace>(0, nodes_),
        KOKKOS_LAMBDA(const int n) {
          for (std::size_t j = 0; j < d; ++j) {
            T acc = 0;
            // As receiver: the edges of row n; as sender: the edges of transposed row n.
            for (graph::Index k = row_ptr(n); k < row_ptr(n + 1); ++k) acc += dx(k, d + j);
            for (graph::Index t = t_ptr(n); t < t_ptr(n + 1); ++t) acc += dx(t_edge(t), j);
            dv(n, j) = acc;
          }
          for (graph::Index k = row_ptr(n); k < row_ptr(n + 1); ++k) {
            for (std::size_t j = 0; j < de; ++j) dE(k, j) = dx(k, 2 * d + j);
          }
        });
  }

  const Matrix<T>& node_grad() const { return node_grad_; }
  const Matrix<T>& edge_grad() const { return edge_grad_; }

 private:
  std::string name_;
  graph::CsrGraph graph_;
  graph::CsrTranspose transpose_;
  std::size_t nodes_ = 0, dv_cols_ = 0, de_cols_ = 0;
  Matrix<T> output_, node_grad_, edge_grad_;
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
