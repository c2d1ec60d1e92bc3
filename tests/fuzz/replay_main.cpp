// tessera_fuzz_replay TARGET PATH...: runs a fuzz target on saved inputs (files, or folders
// read recursively in name order) without libFuzzer, so the ordinary build and test suite
// check the seed corpora and every input that once broke a reader. --list names the
// targets. Each input is named before it runs, so a crash points at its file.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_targets.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--list") {
    for (const auto& target : tessera::fuzz::targets())
      std::printf("%-18s %s\n", target.name, target.what);
    return 0;
  }
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TARGET PATH... | --list\n", argv[0]);
    return 2;
  }
  const tessera::fuzz::Target* target = tessera::fuzz::find_target(argv[1]);
  if (target == nullptr) {
    std::fprintf(stderr, "%s: no fuzz target named '%s' (--list names them)\n", argv[0], argv[1]);
    return 2;
  }
  std::vector<fs::path> inputs;
  for (int a = 2; a < argc; ++a) {
    const fs::path path = argv[a];
    if (fs::is_directory(path)) {
      for (const auto& entry : fs::recursive_directory_iterator(path)) {
        if (entry.is_regular_file()) inputs.push_back(entry.path());
      }
    } else if (fs::is_regular_file(path)) {
      inputs.push_back(path);
    } else {
      // A target with no saved crashes yet has no regressions folder.
      std::printf("(nothing at %s)\n", path.c_str());
    }
  }
  std::sort(inputs.begin(), inputs.end());
  for (const fs::path& path : inputs) {
    std::printf("input %s\n", path.c_str());
    std::fflush(stdout);
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    target->run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    const std::string& refusal = tessera::fuzz::last_refusal();
    std::printf("  %s\n", refusal.empty() ? "accepted" : ("refused: " + refusal).c_str());
  }
  std::printf("%s: %zu inputs, none broke the reader\n", target->name, inputs.size());
  return 0;
}
