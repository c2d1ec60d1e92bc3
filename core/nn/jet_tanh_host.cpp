#include "core/nn/jet_tanh_host.hpp"

#include "core/nn/host_clones.hpp"
#include "core/nn/jet_mlp.hpp"

namespace tessera::nn::detail {

bool tanh_jet_runs_cloned() {
  return TESSERA_HAS_VECTOR_CLONES != 0;
}

TESSERA_VECTOR_CLONES
void tanh_jet_forward_run(std::size_t count, float bias, const float* z, const float* z_x,
                          const float* z_t, const float* z_xx, float* a, float* a_x, float* a_t,
                          float* a_xx) {
  jet_activation_run<TanhJet, float>(count, bias, z, z_x, z_t, z_xx, a, a_x, a_t, a_xx, nullptr);
}

TESSERA_VECTOR_CLONES
void tanh_jet_backward_run(std::size_t count, float* g, float* g_x, float* g_t, float* g_xx,
                           const float* z_x, const float* z_t, const float* z_xx, const float* a) {
  jet_activation_backward_run<TanhJet, float>(count, g, g_x, g_t, g_xx, z_x, z_t, z_xx, a, nullptr);
}

}  // namespace tessera::nn::detail
