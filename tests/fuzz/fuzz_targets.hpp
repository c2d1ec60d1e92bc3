#pragma once
// Fuzz targets: every reader of the files users hand to Tessera, fed arbitrary bytes. A
// target returns normally when the reader accepted the input or refused it with an
// InputError (the one clear error a user should see); anything else is a bug: another
// exception (reported, then abort()), a crash, a hang, or a sanitizer report.
//
// The same targets are built twice: into one libFuzzer binary each (fuzz_<name>, with
// -DTESSERA_FUZZ=ON and clang; analysis/fuzz_study.sh runs them) and into
// tessera_fuzz_replay, which the ordinary test suite runs on the seed inputs and on every
// input that ever broke a target (tests/fuzz/regressions/<name>/).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::fuzz {

using TargetFunction = void (*)(const std::uint8_t* data, std::size_t size);

struct Target {
  const char* name;
  TargetFunction run;
  const char* what;  // which reader(s), for --list and the study's report
};

const std::vector<Target>& targets();
// nullptr when there is no target of that name.
const Target* find_target(const std::string& name);

// The InputError message of the last run that refused its input; empty when the last run
// accepted it (the replay prints it, to show which seeds reach past the first checks).
const std::string& last_refusal();

}  // namespace tessera::fuzz
