#pragma once
// Gated MLP (GEGLU, as in "GLU Variants Improve Transformer"):
//   y = W3 (gate(W1 x) * (W2 x)),
// three Linear layers name.w1, name.w2 (in -> hidden) and name.w3 (hidden -> out), with
// gate = GELU in its erf or tanh form (any ActivationKind works: kSilu gives SwiGLU).
#include <string>

#include "core/nn/activations.hpp"
#include "core/nn/linear.hpp"

namespace tessera::nn {

template <class T>
class GatedMlp {
 public:
  void declare(ParameterStore<T>& store, const std::string& name, std::size_t in,
               std::size_t hidden, std::size_t out, ActivationKind gate = ActivationKind::kGeluErf,
               bool bias = true) {
    name_ = name;
    gate_ = gate;
    gate_act_ = Activation<T>(gate, name + ".gate");
    w1_.declare(store, name + ".w1", in, hidden, bias);
    w2_.declare(store, name + ".w2", in, hidden, bias);
    w3_.declare(store, name + ".w3", hidden, out, bias);
  }

  void init(ParameterStore<T>& store, std::uint64_t seed) const {
    w1_.init(store, seed);
    w2_.init(store, seed);
    w3_.init(store, seed);
  }

  const Matrix<T>& forward(const ParameterStore<T>& store, const Matrix<T>& x) {
    if (x.extent(1) != w1_.in_features()) {
      throw std::invalid_argument(str(name_, ": input ", tensor::shape_text(x),
                                      " does not match the layer's [rows x ", w1_.in_features(),
                                      "]"));
    }
    const Matrix<T>& pre_gate = w1_.forward(store, x);
    pre_value_ = w2_.forward(store, x);
    // The gate through nn::Activation, which keeps gate'(a) from the forward pass (one
    // transcendental per element in all, none in backward).
    gate_value_ = gate_act_.forward(pre_gate);
    const Matrix<T> g = gate_value_, b = pre_value_;
    tensor::ensure_shape(hidden_, name_ + ".hidden", g.extent(0), g.extent(1));
    const Matrix<T> h = hidden_;
    const std::size_t cols = g.extent(1);
    Kokkos::parallel_for(
        "nn::gated_mlp_gate", Kokkos::RangePolicy<tensor::ExecSpace>(0, g.extent(0)),
        KOKKOS_LAMBDA(const int i) {
          for (std::size_t j = 0; j < cols; ++j) h(i, j) = g(i, j) * b(i, j);
        });
    return w3_.forward(store, hidden_);
  }

  const Matrix<T>& backward(ParameterStore<T>& store, const Matrix<T>& dy,
                            bool need_input_grad = true) {
    const Matrix<T> dh = w3_.backward(store, dy);
    const Matrix<T> g = gate_value_, b = pre_value_, slope = gate_act_.derivative();
    tensor::ensure_shape(grad_a_, name_ + ".grad_a", g.extent(0), g.extent(1));
    tensor::ensure_shape(grad_b_, name_ + ".grad_b", g.extent(0), g.extent(1));
    const Matrix<T> da = grad_a_, db = grad_b_;
    const std::size_t cols = g.extent(1);
    // h = gate(a) * b: da = dh * b * gate'(a) (gate' kept by the forward pass), db = dh * g.
    Kokkos::parallel_for(
        "nn::gated_mlp_gate_backward", Kokkos::RangePolicy<tensor::ExecSpace>(0, g.extent(0)),
        KOKKOS_LAMBDA(const int i) {
          for (std::size_t j = 0; j < cols; ++j) {
            da(i, j) = dh(i, j) * b(i, j) * slope(i, j);
            db(i, j) = dh(i, j) * g(i, j);
          }
        });
    // Parameter gradients only; dx = da W1 + db W2 as two gemms into one buffer (the
    // second accumulates), with no third pass to add them.
    w1_.backward(store, grad_a_, false);
    w2_.backward(store, grad_b_, false);
    if (!need_input_grad) return input_grad_;
    tensor::ensure_shape(input_grad_, name_ + ".input_grad", dy.extent(0), w1_.in_features());
    w1_.input_grad_into(store, grad_a_, input_grad_, false);
    w2_.input_grad_into(store, grad_b_, input_grad_, true);
    return input_grad_;
  }

  const std::string& name() const { return name_; }
  const Linear<T>& w1() const { return w1_; }
  const Linear<T>& w2() const { return w2_; }
  const Linear<T>& w3() const { return w3_; }

 private:
  std::string name_;
  ActivationKind gate_ = ActivationKind::kGeluErf;
  Linear<T> w1_, w2_, w3_;
  Activation<T> gate_act_;
  // Views of the outputs of w2 and the gate (buffers owned by those layers).
  Matrix<T> pre_value_, gate_value_;
  Matrix<T> hidden_, grad_a_, grad_b_, input_grad_;
};

}  // namespace tessera::nn
