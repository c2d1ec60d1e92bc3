// A minimal Kokkos Tools library for the test `cluster_kokkos_tools_regions`: it records
// every profiling region Tessera pushes, as the stack path "total/solver", one per line,
// to the file named by TESSERA_REGION_TOOL_OUT. Loaded by Kokkos from
// KOKKOS_PROFILE_LIBRARY (Kokkos 3.x) or KOKKOS_TOOLS_LIBS (4.x), as the space-time-stack
// connector is (docs/cluster.md); it shows that Tessera's /timings regions reach any tool.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

namespace {
std::vector<std::string> stack;
std::set<std::string> paths;
}  // namespace

extern "C" void kokkosp_init_library(int, uint64_t, uint32_t, void*) {}

extern "C" void kokkosp_push_profile_region(const char* name) {
  stack.push_back(stack.empty() ? std::string(name) : stack.back() + "/" + name);
  paths.insert(stack.back());
}

extern "C" void kokkosp_pop_profile_region() {
  if (!stack.empty()) stack.pop_back();
}

extern "C" void kokkosp_finalize_library() {
  const char* out = std::getenv("TESSERA_REGION_TOOL_OUT");
  if (out == nullptr) return;
  std::FILE* file = std::fopen(out, "a");
  if (file == nullptr) return;
  for (const std::string& path : paths) std::fprintf(file, "%s\n", path.c_str());
  std::fclose(file);
}
