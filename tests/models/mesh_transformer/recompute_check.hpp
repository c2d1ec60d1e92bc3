#pragma once
// Gradient checkpointing (model.recompute) of the mesh models: two training steps with the
// blocks' activations kept and with them recomputed must give the same output and
// gradients bit for bit, and call the block hooks in the same order. Two steps, so that
// the second forward runs on blocks whose buffers the first backward freed.
#include <functional>
#include <vector>

#include "core/nn/parameter_store.hpp"
#include "core/tensor/host_copy.hpp"
#include "tests/support/catch.hpp"

namespace tessera::testing {

using BlockHook = std::function<void(std::size_t, const tensor::Matrix<double>&)>;

struct TwoSteps {
  std::vector<double> output, gradients;  // of the second step
};

// `step(k, hook)` runs forward (returning the output) with `hook` before every block;
// `backward(k, hook)` runs backward with `hook` after every block.
template <class Forward, class Backward>
TwoSteps two_steps(nn::ParameterStore<double>& store, std::size_t blocks, Forward&& forward,
                   Backward&& backward) {
  std::vector<std::size_t> calls, expected;
  const BlockHook hook = [&](std::size_t l, const tensor::Matrix<double>&) { calls.push_back(l); };
  TwoSteps out;
  for (std::uint64_t k = 0; k < 2; ++k) {
    store.zero_grad();
    out.output = tensor::to_host(forward(k, hook));
    backward(k, hook);
    for (std::size_t l = 0; l < blocks; ++l) expected.push_back(l);
    for (std::size_t l = blocks; l-- > 0;) expected.push_back(l);
  }
  out.gradients = tensor::to_host(store.grads());
  CHECK(calls == expected);
  return out;
}

// run(recompute) -> TwoSteps.
template <class Run>
void check_recompute_bitwise(Run&& run) {
  const TwoSteps kept = run(false), recomputed = run(true);
  CHECK(kept.output == recomputed.output);
  CHECK(kept.gradients == recomputed.gradients);
}

}  // namespace tessera::testing
