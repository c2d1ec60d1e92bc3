#pragma once
// HopfieldLayer (hopfield-layers): a Hopfield layer whose stored patterns are learned
// (`quantity` rows, slice name.lookup), a lookup table the input rows query; the same
// learned rows serve as pattern projection. Every input row is a state pattern, so all
// rows share one memory (internally one batch of rows x quantity associations).
// Unlike hopfield-layers' default, the lookup rows pass the key and value projections
// like any stored patterns.
#include <string>

#include "core/nn/hopfield.hpp"

namespace tessera::nn {

template <class T>
class HopfieldLayer {
 public:
  // options.state_size is the input width; the lookup rows have stored_size features
  // (0: state_size).
  void declare(ParameterStore<T>& store, const std::string& name, HopfieldOptions options,
               std::size_t quantity) {
    if (quantity == 0) throw InputError(str(name, ": quantity (stored patterns) must be >= 1"));
    name_ = name;
    quantity_ = quantity;
    if (options.stored_size == 0) options.stored_size = options.state_size;
    options.projection_size = options.stored_size;
    lookup_ = store.add(name + ".lookup", {quantity, options.stored_size});
    hopfield_.declare(store, name + ".hopfield", options);
  }

  void init(ParameterStore<T>& store, std::uint64_t seed) const {
    store.init_normal(lookup_, T(0), T(1), seed);
    hopfield_.init(store, seed);
  }

  // x: (rows, state_size); mask: empty or (rows x quantity). Returns (rows, output_size).
  const Matrix<T>& forward(const ParameterStore<T>& store, const Matrix<T>& x,
                           const Matrix<T>& mask = Matrix<T>()) {
    const Matrix<T> lookup = store.param_matrix(lookup_);
    return hopfield_.forward(store, x, lookup, lookup, 1, x.extent(0), quantity_, mask);
  }

  // Returns dx; the lookup rows' gradient (as stored patterns and as projection) goes to
  // the store.
  const Matrix<T>& backward(ParameterStore<T>& store, const Matrix<T>& dz) {
    const HopfieldInputGrads<T> grads = hopfield_.backward(store, dz);
    const Matrix<T> dl = store.grad_matrix(lookup_);
    add_in_place(dl, grads.stored, name_);
    add_in_place(dl, grads.projection, name_);
    state_grad_ = grads.state;
    return state_grad_;
  }

  const Hopfield<T>& hopfield() const { return hopfield_; }
  std::size_t quantity() const { return quantity_; }
  int lookup_id() const { return lookup_; }

 private:
  std::string name_;
  std::size_t quantity_ = 0;
  int lookup_ = -1;
  Hopfield<T> hopfield_;
  Matrix<T> state_grad_;
};

}  // namespace tessera::nn
