#include "core/runtime/progress.hpp"

#include <cstdlib>

#include "tests/support/catch.hpp"

using tessera::runtime::Progress;

TEST_CASE("durations are formatted for people", "[progress]") {
  CHECK(Progress::format_duration(12.34) == "12.3s");
  CHECK(Progress::format_duration(185) == "3m05s");
  CHECK(Progress::format_duration(3720) == "1h02m");
  CHECK(Progress::format_duration(-1) == "--");
}

TEST_CASE("the progress style follows the terminal and TESSERA_PROGRESS", "[progress]") {
  const char* saved = std::getenv("TESSERA_PROGRESS");
  const std::string saved_value = saved ? saved : "";
  unsetenv("TESSERA_PROGRESS");
  CHECK(Progress::style_from_environment(true) == Progress::Style::kBar);
  CHECK(Progress::style_from_environment(false) == Progress::Style::kLines);
  setenv("TESSERA_PROGRESS", "off", 1);
  CHECK(Progress::style_from_environment(true) == Progress::Style::kOff);
  setenv("TESSERA_PROGRESS", "lines", 1);
  CHECK(Progress::style_from_environment(true) == Progress::Style::kLines);
  if (saved) {
    setenv("TESSERA_PROGRESS", saved_value.c_str(), 1);
  } else {
    unsetenv("TESSERA_PROGRESS");
  }
  // A disabled bar (ranks other than 0) draws nothing and does not fail.
  Progress quiet("test", 10, false);
  quiet.update(5);
  quiet.finish();
}
