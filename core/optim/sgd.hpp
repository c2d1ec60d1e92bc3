#pragma once
// Stochastic gradient descent with the exact update rule of torch.optim.SGD (momentum,
// dampening, Nesterov, weight decay as L2), applied to a ParameterStore's flat buffers
// in one kernel per step. The learning rate may change before any step (schedules).
//
// The optimiser convention of tessera::optim (SGD, Adam, AdamW follow it):
//   Optimiser(store, options)   sizes the state buffers from a finalised store;
//   step(store)                 one update from store.grads() (throws on NaN/Inf);
//   lr(), set_lr(lr)            the learning rate of the next step;
//   step_count()                steps taken so far (restored by load);
//   save(file, group), load(reader, group)   checkpoint of the state: one dataset per
//                                state buffer, plus `step` and `lr`.
#include <cstdint>
#include <string>
#include <vector>

#include "core/io/hdf5_reader.hpp"
#include "core/io/results_file.hpp"
#include "core/nn/parameter_store.hpp"
#include "core/optim/optimizer_state.hpp"
#include "core/runtime/error.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::optim {

using tensor::Vector;

struct SgdOptions {
  double lr = 1e-2;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;  // L2: added to the gradient as weight_decay * parameter
  bool nesterov = false;
};

template <class T>
class Sgd {
 public:
  explicit Sgd(const nn::ParameterStore<T>& store, SgdOptions options = {})
      : options_(options), size_(store.size()) {
    if (options.lr < 0 || options.momentum < 0 || options.weight_decay < 0) {
      throw InputError(str("SGD: lr = ", options.lr, ", momentum = ", options.momentum,
                           ", weight_decay = ", options.weight_decay, " must not be negative"));
    }
    if (options.nesterov && (options.momentum <= 0 || options.dampening != 0)) {
      throw InputError(str("SGD: nesterov needs momentum > 0 and dampening = 0 (got momentum = ",
                           options.momentum, ", dampening = ", options.dampening, ")"));
    }
    if (options.momentum != 0) momentum_buffer_ = Vector<T>("optim::sgd_momentum", size_);
  }

  void step(nn::ParameterStore<T>& store) {
    detail::check_store(store, size_, "SGD");
    store.check_finite(str("SGD step ", step_ + 1));
    const Vector<T> p = store.params();
    const Vector<T> g = store.grads();
    const Vector<T> buf = momentum_buffer_;
    const T lr = static_cast<T>(options_.lr);
    const T wd = static_cast<T>(options_.weight_decay);
    const T momentum = static_cast<T>(options_.momentum);
    const T keep = static_cast<T>(1 - options_.dampening);
    const bool use_momentum = options_.momentum != 0;
    const bool first = step_ == 0;  // torch starts the buffer as a copy of the gradient
    const bool nesterov = options_.nesterov;
    const bool decay = options_.weight_decay != 0;
    Kokkos::parallel_for(
        "optim::sgd_step", Kokkos::RangePolicy<tensor::ExecSpace>(0, size_),
        KOKKOS_LAMBDA(const int i) {
          T d = g(i);
          if (decay) d = d + wd * p(i);
          if (use_momentum) {
            const T b = first ? d : buf(i) * momentum + keep * d;
            buf(i) = b;
            d = nesterov ? d + momentum * b : b;
          }
          p(i) = p(i) + (-lr) * d;
        });
    ++step_;
  }

  double lr() const { return options_.lr; }
  void set_lr(double lr) { options_.lr = lr; }
  long long step_count() const { return step_; }
  const SgdOptions& options() const { return options_; }

  void save(io::ResultsFile& file, const std::string& group) const {
    if (options_.momentum != 0)
      detail::write_buffer(file, group + "/momentum_buffer", momentum_buffer_);
    detail::write_header(file, group, "sgd", step_, options_.lr);
  }
  void load(const io::Hdf5Reader& file, const std::string& group) {
    const detail::Header header = detail::read_header(file, group, "sgd");
    if (options_.momentum != 0 && header.step > 0) {
      detail::read_buffer(file, group + "/momentum_buffer", momentum_buffer_);
    }
    step_ = header.step;
    options_.lr = header.lr;
  }

 private:
  SgdOptions options_;
  std::size_t size_ = 0;
  long long step_ = 0;
  Vector<T> momentum_buffer_;
};

}  // namespace tessera::optim
