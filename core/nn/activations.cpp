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

// One loop per kind, so that each clone's loop has no branch on the kind.
TESSERA_VECTOR_CLONES
void activation_forward_run(ActivationKind kind, std::size_t count, const float* x, float* y,
                            float* derivative) {
  switch (kind) {
    case ActivationKind::kRelu:
      return activation_run<ActivationKind::kRelu>(count, x, y, derivative);
    case ActivationKind::kGeluTanh:
      return activation_run<ActivationKind::kGeluTanh>(count, x, y, derivative);
    case ActivationKind::kGeluErf:
      return activation_run<ActivationKind::kGeluErf>(count, x, y, derivative);
    case ActivationKind::kTanh:
      return activation_run<ActivationKind::kTanh>(count, x, y, derivative);
    case ActivationKind::kSilu:
      return activation_run<ActivationKind::kSilu>(count, x, y, derivative);
    case ActivationKind::kSine:
      return activation_run<ActivationKind::kSine>(count, x, y, derivative);
    case ActivationKind::kIdentity:
      return activation_run<ActivationKind::kIdentity>(count, x, y, derivative);
  }
}

}  // namespace detail

}  // namespace tessera::nn
