#pragma once
// Multi-layer perceptron: Linear layers of sizes {in, h1, ..., out} with one activation
// between consecutive layers and none after the last (a regression head or a residual
// branch wants the raw output). Layers are named name.0, name.1, ...
#include <string>
#include <vector>

#include "core/nn/activations.hpp"
#include "core/nn/linear.hpp"

namespace tessera::nn {

template <class T>
class Mlp {
 public:
  void declare(ParameterStore<T>& store, const std::string& name,
               const std::vector<std::size_t>& sizes, ActivationKind activation, bool bias = true) {
    if (sizes.size() < 2) {
      throw std::invalid_argument(str(name, ": an MLP needs at least an input and an output size, ",
                                      "got ", sizes.size(), " sizes"));
    }
    name_ = name;
    sizes_ = sizes;
    layers_.assign(sizes.size() - 1, Linear<T>());
    activations_.clear();
    for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
      layers_[l].declare(store, name + "." + std::to_string(l), sizes[l], sizes[l + 1], bias);
      if (l + 2 < sizes.size()) {
        activations_.emplace_back(activation, name + ".act" + std::to_string(l));
      }
    }
  }

  // PyTorch's default initialisation for every layer (streams differ per slice).
  void init(ParameterStore<T>& store, std::uint64_t seed) const {
    for (const auto& layer : layers_) layer.init(store, seed);
  }

  const Matrix<T>& forward(const ParameterStore<T>& store, const Matrix<T>& x) {
    if (x.extent(1) != sizes_.front()) {
      throw std::invalid_argument(str(name_, ": input ", tensor::shape_text(x),
                                      " does not match the MLP's [rows x ", sizes_.front(), "]"));
    }
    const Matrix<T>* h = &layers_[0].forward(store, x);
    for (std::size_t l = 1; l < layers_.size(); ++l) {
      h = &layers_[l].forward(store, activations_[l - 1].forward(*h));
    }
    return *h;
  }

  // Returns dx, or an empty matrix when need_input_grad is false (first block of a
  // network: skips one gemm).
  const Matrix<T>& backward(ParameterStore<T>& store, const Matrix<T>& dy,
                            bool need_input_grad = true) {
    const std::size_t last = layers_.size() - 1;
    if (dy.extent(1) != sizes_.back()) {
      throw std::invalid_argument(str(name_, ": output gradient ", tensor::shape_text(dy),
                                      " does not match the MLP's [rows x ", sizes_.back(), "]"));
    }
    const Matrix<T>* g = &dy;
    for (std::size_t l = last + 1; l-- > 0;) {
      if (l < last) g = &activations_[l].backward(*g);
      g = &layers_[l].backward(store, *g, need_input_grad || l > 0);
    }
    return *g;
  }

  const std::string& name() const { return name_; }
  const std::vector<std::size_t>& sizes() const { return sizes_; }
  const Linear<T>& layer(std::size_t l) const { return layers_.at(l); }
  std::size_t depth() const { return layers_.size(); }

 private:
  std::string name_;
  std::vector<std::size_t> sizes_;
  std::vector<Linear<T>> layers_;
  std::vector<Activation<T>> activations_;
};

}  // namespace tessera::nn
