#pragma once
// The float tanh jet's element-wise runs (core/nn/jet_mlp.hpp: jet_activation_run and
// jet_activation_backward_run with TanhJet) compiled for the widest vector unit the CPU
// has. The build targets baseline x86-64 (SSE2, 4 floats a vector), which leaves these
// loops, a third of a PINN training step, at a quarter of an AVX-512 unit's width; here
// GCC builds them once per ISA and picks one when the program loads (target_clones).
// The clones fuse no multiply and add (-ffp-contract=off), so every element gets the same
// operations in the same order: the results are bitwise those of the generic loops on any CPU.
#include <cstddef>

namespace tessera::nn::detail {

// True where this build has the ISA clones (x86-64 GCC or Clang, host code).
bool tanh_jet_runs_cloned();

// jet_activation_run<TanhJet, float> (no slope: tanh's follows from its value).
void tanh_jet_forward_run(std::size_t count, float bias, const float* z, const float* z_x,
                          const float* z_t, const float* z_xx, float* a, float* a_x, float* a_t,
                          float* a_xx);

// jet_activation_backward_run<TanhJet, float>.
void tanh_jet_backward_run(std::size_t count, float* g, float* g_x, float* g_t, float* g_xx,
                           const float* z_x, const float* z_t, const float* z_xx, const float* a);

}  // namespace tessera::nn::detail
