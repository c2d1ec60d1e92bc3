#include "models/hopfield/exp_shift_sum.hpp"

namespace tessera::models::hopfield {

#ifdef TESSERA_HOPFIELD_CLONED_EXP
// GCC and Clang emit one body per target and an ifunc resolver that picks the widest the
// processor has, once, at load time.
__attribute__((target_clones("avx512f", "avx2", "default"))) float exp_shift_sum_cloned(
    float* row, std::size_t n, float shift) {
  return exp_shift_sum_portable(row, n, shift);
}
#endif

}  // namespace tessera::models::hopfield
