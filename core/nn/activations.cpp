#include "core/nn/activations.hpp"

#include "core/nn/host_clones.hpp"
#include "core/runtime/error.hpp"

namespace tessera::nn {

ActivationKind activation_from_name(const std::string& name) {
  if (name == "relu") return ActivationKind::kRelu;
  if (name == "gelu_tanh") return ActivationKind::kGeluTanh;
  if (name == "gelu") return ActivationKind::kGeluErf;
  if (name == "tanh") return ActivationKind::kTanh;
  if (name == "silu") return ActivationKind::kSilu;
  if (name == "sine") return ActivationKind::kSine;
  if (name == "identity") return ActivationKind::kIdentity;
  throw InputError(str("activation '", name,
                       "' is not known: expected one of relu, gelu, gelu_tanh, tanh, silu, sine, "
                       "identity"));
}

std::string activation_name(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::kRelu:
      return "relu";
    case ActivationKind::kGeluTanh:
      return "gelu_tanh";
    case ActivationKind::kGeluErf:
      return "gelu";
    case ActivationKind::kTanh:
      return "tanh";
    case ActivationKind::kSilu:
      return "silu";
    case ActivationKind::kSine:
      return "sine";
    case ActivationKind::kIdentity:
      return "identity";
  }
  return "identity";
}

namespace detail {

bool activation_runs_cloned() {
  return TESSERA_HAS_VECTOR_CLONES != 0;
}

// The runtime dispatch of activations.hpp, inlined into each clone.
TESSERA_VECTOR_CLONES
void activation_forward_run(ActivationKind kind, std::size_t count, const float* x, float* y,
                            float* derivative) {
  activation_run(kind, count, x, y, derivative);
}

}  // namespace detail

}  // namespace tessera::nn
