#pragma once
// Tests on the real data in ../shared/data. A user's clone has none: the test then
// prints a line that ctest turns into a visible "Skipped" (SKIP_REGULAR_EXPRESSION).
#include <iostream>
#include <optional>
#include <string>

#include "core/io/data_root.hpp"

namespace tessera::testing {

inline std::optional<std::string> shared_data_file(const std::string& relative) {
  const std::optional<std::string> root = tessera::io::find_data_root("");
  if (!root) {
    std::cout << "TESSERA_SKIP: no shared data root (set TESSERA_DATA or place ../shared/data "
                 "beside the project); skipping the test on "
              << relative << std::endl;
    return std::nullopt;
  }
  return *root + "/" + relative;
}

}  // namespace tessera::testing
