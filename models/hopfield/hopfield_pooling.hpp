#pragma once
// HopfieldPooling (hopfield-layers): a Hopfield layer whose state patterns are learned
// static queries (`quantity` of them, slice name.query), shared by every batch, and
// whose stored patterns and pattern projection are the input set. Pools a set of
// `len` rows per batch into `quantity` rows (attention pooling / multiple-instance
// learning).
#include <string>

#include "core/nn/hopfield.hpp"

namespace tessera::models::hopfield {

// The Hopfield layer itself is shared (core/nn: the STTN uses it too).
using nn::Hopfield;
using nn::HopfieldInputGrads;
using nn::HopfieldOptions;
using nn::ParameterStore;
using tensor::Matrix;
using tensor::Tensor3;

template <class T>
class HopfieldPooling {
 public:
  // options.state_size is the input width (the queries live in the input space);
  // stored_size and projection_size are set to it.
  void declare(ParameterStore<T>& store, const std::string& name, HopfieldOptions options,
               std::size_t quantity = 1) {
    if (quantity == 0) throw InputError(str(name, ": quantity (pooling queries) must be >= 1"));
    name_ = name;
    quantity_ = quantity;
    options.stored_size = options.state_size;
    options.projection_size = options.state_size;
    query_ = store.add(name + ".query", {quantity, options.state_size});
    hopfield_.declare(store, name + ".hopfield", options);
  }

  // Queries ~ N(0, 1) (they pass a LayerNorm by default), projections as PyTorch.
  void init(ParameterStore<T>& store, std::uint64_t seed) const {
    store.init_normal(query_, T(0), T(1), seed);
    hopfield_.init(store, seed);
  }

  // x: (batch * len, state_size); mask: empty or (quantity x len). Returns
  // (batch * quantity, output_size).
  const Matrix<T>& forward(const ParameterStore<T>& store, const Matrix<T>& x, std::size_t batch,
                           std::size_t len, const Matrix<T>& mask = Matrix<T>()) {
    const std::size_t width = hopfield_.options().state_size, q = quantity_;
    tensor::ensure_shape(state_, name_ + ".state", batch * q, width);
    const Matrix<T> query = store.param_matrix(query_), state = state_;
    Kokkos::parallel_for(
        "hopfield::pooling_queries", Kokkos::RangePolicy<tensor::ExecSpace>(0, batch * q),
        KOKKOS_LAMBDA(const int row) {
          for (std::size_t k = 0; k < width; ++k) state(row, k) = query(row % q, k);
        });
    return hopfield_.forward(store, state_, x, x, batch, q, len, mask);
  }

  // Returns dx (batch * len, state_size); the queries' gradient (summed over batches)
  // goes to the store.
  const Matrix<T>& backward(ParameterStore<T>& store, const Matrix<T>& dz) {
    const HopfieldInputGrads<T> grads = hopfield_.backward(store, dz);
    nn::add(grads.stored, grads.projection, input_grad_buffer(grads.stored), name_);
    const std::size_t width = hopfield_.options().state_size, q = quantity_;
    const std::size_t batch = grads.state.extent(0) / q;
    const Matrix<T> dq = store.grad_matrix(query_), ds = grads.state;
    Kokkos::parallel_for(
        "hopfield::pooling_query_grad", Kokkos::RangePolicy<tensor::ExecSpace>(0, q),
        KOKKOS_LAMBDA(const int i) {
          for (std::size_t b = 0; b < batch; ++b) {
            for (std::size_t k = 0; k < width; ++k) dq(i, k) += ds(b * q + i, k);
          }
        });
    return input_grad_;
  }

  const Hopfield<T>& hopfield() const { return hopfield_; }
  std::size_t quantity() const { return quantity_; }
  int query_id() const { return query_; }

 private:
  const Matrix<T>& input_grad_buffer(const Matrix<T>& like) {
    tensor::ensure_shape(input_grad_, name_ + ".input_grad", like.extent(0), like.extent(1));
    return input_grad_;
  }

  std::string name_;
  std::size_t quantity_ = 1;
  int query_ = -1;
  Hopfield<T> hopfield_;
  Matrix<T> state_, input_grad_;
};

}  // namespace tessera::models::hopfield
