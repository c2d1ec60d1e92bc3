#pragma once
// Embedding table lookup (as torch.nn.Embedding): row r of the output is row ids(r) of
// the table name.weight (count x dim). Backward scatter-adds dy into the table's
// gradient; ids repeat, so the adds are atomic. Ids are integers and get no gradient.
#include <string>

#include "core/nn/parameter_store.hpp"

namespace tessera::nn {

template <class T>
class Embedding {
 public:
  using Ids = tensor::Vector<int>;

  void declare(ParameterStore<T>& store, const std::string& name, std::size_t count,
               std::size_t dim) {
    name_ = name;
    count_ = count;
    dim_ = dim;
    weight_ = store.add(name + ".weight", {count, dim});
  }

  // N(0, 1), as PyTorch.
  void init(ParameterStore<T>& store, std::uint64_t seed) const {
    store.init_normal(weight_, T(0), T(1), seed);
  }

  // std::out_of_range naming the layer, the position and the id when an id is outside
  // [0, count).
  const Matrix<T>& forward(const ParameterStore<T>& store, const Ids& ids) {
    check_ids(ids);
    ids_ = ids;
    tensor::ensure_shape(output_, name_ + ".output", ids.extent(0), dim_);
    const Matrix<T> y = output_, table = store.param_matrix(weight_);
    const std::size_t dim = dim_;
    Kokkos::parallel_for(
        "nn::embedding_forward", Kokkos::RangePolicy<tensor::ExecSpace>(0, ids.extent(0)),
        KOKKOS_LAMBDA(const int i) {
          const int row = ids(i);
          for (std::size_t j = 0; j < dim; ++j) y(i, j) = table(row, j);
        });
    return output_;
  }

  void backward(ParameterStore<T>& store, const Matrix<T>& dy) {
    if (dy.extent(0) != ids_.extent(0) || dy.extent(1) != dim_) {
      throw std::invalid_argument(str(name_, ": output gradient ", tensor::shape_text(dy),
                                      " does not match the forward output ",
                                      tensor::shape_text(output_)));
    }
    const Matrix<T> grad = store.grad_matrix(weight_);
    const Ids ids = ids_;
    const std::size_t dim = dim_;
    // One thread per column, the rows in order: a row id that occurs several times sums
    // in the same order on any thread count (atomics would sum in the order threads
    // arrive, and a resumed run would differ from an uninterrupted one in the last bits).
    const std::size_t n = ids.extent(0);
    Kokkos::parallel_for(
        "nn::embedding_backward", Kokkos::RangePolicy<tensor::ExecSpace>(0, dim),
        KOKKOS_LAMBDA(const int j) {
          for (std::size_t i = 0; i < n; ++i) grad(ids(i), j) += dy(i, j);
        });
  }

  const std::string& name() const { return name_; }
  int weight_id() const { return weight_; }

 public:
  // Public only for nvcc, which cannot compile a device lambda inside a private or
  // protected member function; not part of the interface.
  void check_ids(const Ids& ids) const {
    const long long count = static_cast<long long>(count_);
    long long first_bad = 0;
    Kokkos::parallel_reduce(
        "nn::embedding_check_ids", Kokkos::RangePolicy<tensor::ExecSpace>(0, ids.extent(0)),
        KOKKOS_LAMBDA(const int i, long long& acc) {
          if ((ids(i) < 0 || ids(i) >= count) && i < acc) acc = i;
        },
        Kokkos::Min<long long>(first_bad));
    if (first_bad >= static_cast<long long>(ids.extent(0))) return;
    int bad_id = 0;
    Kokkos::deep_copy(bad_id, Kokkos::subview(ids, first_bad));
    throw std::out_of_range(str(name_, ": id ", bad_id, " at position ", first_bad,
                                " is outside the table's [0, ", count_, ")"));
  }

 private:
  std::string name_;
  std::size_t count_ = 0, dim_ = 0;
  int weight_ = -1;
  Ids ids_;
  Matrix<T> output_;
};

}  // namespace tessera::nn
