#pragma once
// The Hopfield layer of hopfield-layers (ml-jku): one update of the modern Hopfield
// network in learned association spaces, i.e. attention with beta as the scale and
// separate inputs for the state (query) patterns R, the stored patterns Y and the
// pattern projection P:
//   R~ = norm_state(R), Y~ = norm_stored(Y), P~ = norm_projection(P)   (LayerNorm, optional)
//   Q = R~ Wq^T + bq,  K = Y~ Wk^T + bk,  V = P~ Wv^T + bv              (heads x hidden / pattern)
//   per batch b and head h:  A = softmax(beta Q_bh K_bh^T + mask),  O_bh = A V_bh
//   Z = concat_h(O_bh) Wo^T + bo
// beta defaults to 1 / sqrt(hidden_size), as in the paper's layer. Rows are ordered
// batch-major (row = b * len + t). The heads' core is nn::DotProductAttention, the same
// code as MultiHeadAttention's; this layer differs by beta, the three separate inputs
// (with their norms) and their own sizes.
#include <cmath>
#include <string>

#include "core/nn/dot_product_attention.hpp"
#include "core/nn/layer_norm.hpp"
#include "core/nn/linear.hpp"
#include "core/nn/residual.hpp"
#include "core/nn/softmax.hpp"
#include "core/tensor/gemm.hpp"

namespace tessera::nn {

using tensor::Matrix;
using tensor::Tensor3;

struct HopfieldOptions {
  std::size_t state_size = 0;       // features of the state patterns R (required)
  std::size_t stored_size = 0;      // features of the stored patterns Y (0: state_size)
  std::size_t projection_size = 0;  // features of the pattern projection P (0: stored_size)
  std::size_t hidden_size = 0;      // per head, of Q and K (0: state_size / heads)
  std::size_t pattern_size = 0;     // per head, of V (0: hidden_size)
  std::size_t output_size = 0;      // features of Z (0: state_size)
  std::size_t heads = 1;
  double beta = 0;  // 0: 1 / sqrt(hidden_size)
  bool normalize_state = true;
  bool normalize_stored = true;
  bool normalize_projection = true;
  bool bias = true;
};

template <class T>
struct HopfieldInputGrads {
  Matrix<T> state;       // (batch * query_len, state_size)
  Matrix<T> stored;      // (batch * key_len, stored_size)
  Matrix<T> projection;  // (batch * key_len, projection_size)
};

template <class T>
class Hopfield {
 public:
  // InputError for sizes that do not fit (a configuration mistake) or beta < 0.
  void declare(ParameterStore<T>& store, const std::string& name, HopfieldOptions o) {
    if (o.state_size == 0) throw InputError(str(name, ": state_size must be at least 1"));
    if (o.heads == 0) throw InputError(str(name, ": heads must be at least 1"));
    if (!(o.beta >= 0) || !std::isfinite(o.beta)) {
      throw InputError(str(name, ": beta = ", o.beta,
                           " is not allowed: expected > 0 (or 0 for 1/sqrt(hidden_size))"));
    }
    if (o.stored_size == 0) o.stored_size = o.state_size;
    if (o.projection_size == 0) o.projection_size = o.stored_size;
    if (o.hidden_size == 0) {
      if (o.state_size % o.heads != 0) {
        throw InputError(str(name, ": state_size ", o.state_size, " is not divisible by heads ",
                             o.heads, ": set hidden_size (per head) explicitly"));
      }
      o.hidden_size = o.state_size / o.heads;
    }
    if (o.pattern_size == 0) o.pattern_size = o.hidden_size;
    if (o.output_size == 0) o.output_size = o.state_size;
    if (o.beta == 0) o.beta = 1.0 / std::sqrt(static_cast<double>(o.hidden_size));
    name_ = name;
    options_ = o;
    if (o.normalize_state) norm_state_.declare(store, name + ".norm_state", o.state_size);
    if (o.normalize_stored) norm_stored_.declare(store, name + ".norm_stored", o.stored_size);
    if (o.normalize_projection) {
      norm_projection_.declare(store, name + ".norm_projection", o.projection_size);
    }
    wq_.declare(store, name + ".wq", o.state_size, o.heads * o.hidden_size, o.bias);
    wk_.declare(store, name + ".wk", o.stored_size, o.heads * o.hidden_size, o.bias);
    wv_.declare(store, name + ".wv", o.projection_size, o.heads * o.pattern_size, o.bias);
    wo_.declare(store, name + ".wo", o.heads * o.pattern_size, o.output_size, o.bias);
    core_ = nn::DotProductAttention<T>(name);
  }

  void init(ParameterStore<T>& store, std::uint64_t seed) const {
    if (options_.normalize_state) norm_state_.init(store);
    if (options_.normalize_stored) norm_stored_.init(store);
    if (options_.normalize_projection) norm_projection_.init(store);
    wq_.init(store, seed);
    wk_.init(store, seed);
    wv_.init(store, seed);
    wo_.init(store, seed);
  }

  // state: (batch * query_len, state_size); stored: (batch * key_len, stored_size);
  // projection: (batch * key_len, projection_size); mask: empty or (query_len x key_len)
  // added to beta Q K^T (-inf forbids a pair). Returns (batch * query_len, output_size).
  const Matrix<T>& forward(const ParameterStore<T>& store, const Matrix<T>& state,
                           const Matrix<T>& stored, const Matrix<T>& projection, std::size_t batch,
                           std::size_t query_len, std::size_t key_len,
                           const Matrix<T>& mask = Matrix<T>()) {
    const HopfieldOptions& o = options_;
    check_rows("state patterns", state, batch * query_len, o.state_size);
    check_rows("stored patterns", stored, batch * key_len, o.stored_size);
    check_rows("pattern projection", projection, batch * key_len, o.projection_size);
    if (key_len == 0) throw InputError(str(name_, ": no stored patterns (key_len = 0)"));
    batch_ = batch;
    query_len_ = query_len;
    key_len_ = key_len;
    const Matrix<T>& r = o.normalize_state ? norm_state_.forward(store, state) : state;
    const Matrix<T>& y = o.normalize_stored ? norm_stored_.forward(store, stored) : stored;
    const Matrix<T>& p =
        o.normalize_projection ? norm_projection_.forward(store, projection) : projection;
    const Matrix<T>& q = wq_.forward(store, r);
    const Matrix<T>& k = wk_.forward(store, y);
    const Matrix<T>& v = wv_.forward(store, p);
    return wo_.forward(
        store,
        core_.forward(q, k, v, {batch, query_len, key_len, o.heads, o.hidden_size, o.pattern_size},
                      beta(), mask));
  }

  // dz: (batch * query_len, output_size). Adds parameter gradients to the store; returns
  // the gradients of the three inputs (buffers owned by the layer).
  HopfieldInputGrads<T> backward(ParameterStore<T>& store, const Matrix<T>& dz) {
    const HopfieldOptions& o = options_;
    if (dz.extent(0) != batch_ * query_len_ || dz.extent(1) != o.output_size) {
      throw std::invalid_argument(str(name_, ": output gradient ", tensor::shape_text(dz),
                                      " does not match the forward output [", batch_ * query_len_,
                                      " x ", o.output_size, "]"));
    }
    core_.backward(wo_.backward(store, dz));
    HopfieldInputGrads<T> grads;
    grads.state = wq_.backward(store, core_.d_q());
    if (o.normalize_state) grads.state = norm_state_.backward(store, grads.state);
    grads.stored = wk_.backward(store, core_.d_k());
    if (o.normalize_stored) grads.stored = norm_stored_.backward(store, grads.stored);
    grads.projection = wv_.backward(store, core_.d_v());
    if (o.normalize_projection) {
      grads.projection = norm_projection_.backward(store, grads.projection);
    }
    return grads;
  }

  // The association (softmax) matrices of the last forward, (batch * heads, query_len,
  // key_len): which stored patterns each state retrieved.
  const Tensor3<T>& association() const { return core_.probabilities(); }
  const HopfieldOptions& options() const { return options_; }
  const std::string& name() const { return name_; }
  T beta() const { return static_cast<T>(options_.beta); }

 private:
  void check_rows(const char* what, const Matrix<T>& rows, std::size_t expected_rows,
                  std::size_t features) const {
    if (rows.extent(1) != features) {
      throw InputError(str(name_, ": ", what, " ", tensor::shape_text(rows), " have ",
                           rows.extent(1), " features, expected ", features));
    }
    if (rows.extent(0) != expected_rows) {
      throw std::invalid_argument(str(name_, ": ", what, " ", tensor::shape_text(rows),
                                      " do not have batch * len = ", expected_rows, " rows"));
    }
  }

  std::string name_;
  HopfieldOptions options_;
  std::size_t batch_ = 0, query_len_ = 0, key_len_ = 0;
  nn::LayerNorm<T> norm_state_, norm_stored_, norm_projection_;
  nn::Linear<T> wq_, wk_, wv_, wo_;
  nn::DotProductAttention<T> core_;
};

}  // namespace tessera::nn
