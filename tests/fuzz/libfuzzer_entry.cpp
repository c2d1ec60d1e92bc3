// The libFuzzer entry point of one target (TESSERA_FUZZ_TARGET, set by CMake per binary).
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const tessera::fuzz::Target* target = tessera::fuzz::find_target(TESSERA_FUZZ_TARGET);
  if (target == nullptr) {
    std::fprintf(stderr, "no fuzz target named %s\n", TESSERA_FUZZ_TARGET);
    std::abort();
  }
  target->run(data, size);
  return 0;
}
