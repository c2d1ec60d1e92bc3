#include "core/io/data_root.hpp"

#include <cstdlib>
#include <filesystem>

#include "core/runtime/error.hpp"

namespace tessera::io {
namespace fs = std::filesystem;

namespace {

std::optional<std::string> existing_directory(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return fs::weakly_canonical(path, ec).string();
  return std::nullopt;
}

}  // namespace

std::optional<std::string> find_data_root(const std::string& configured) {
  if (!configured.empty()) {
    if (auto dir = existing_directory(configured)) return dir;
    throw InputError(str("run.data_root = \"", configured, "\" is not a directory"));
  }
  if (const char* env = std::getenv("TESSERA_DATA"); env != nullptr && *env != '\0') {
    if (auto dir = existing_directory(env)) return dir;
    throw InputError(str("TESSERA_DATA=\"", env, "\" is not a directory"));
  }
  if (auto dir = existing_directory(fs::path(TESSERA_SOURCE_DIR) / ".." / "shared" / "data")) {
    return dir;
  }
  if (auto dir = existing_directory(fs::path("..") / "shared" / "data")) return dir;
  return std::nullopt;
}

std::string resolve_data_file(const std::string& configured_root, const std::string& relative) {
  if (fs::path(relative).is_absolute()) {
    if (!fs::exists(relative)) throw InputError(str("data file ", relative, " does not exist"));
    return relative;
  }
  const std::optional<std::string> root = find_data_root(configured_root);
  if (!root) {
    throw InputError(str("data file ", relative,
                         ": no data root (set run.data_root in the experiment, or the TESSERA_DATA "
                         "environment variable, to the folder holding the data)"));
  }
  const fs::path path = fs::path(*root) / relative;
  if (!fs::exists(path)) {
    throw InputError(str("data file ", relative, " not found under the data root ", *root));
  }
  return path.string();
}

std::string resolve_input_file(const std::string& configured_root, const std::string& file,
                               const std::string& key) {
  if (file.empty()) throw InputError(str("key '", key, "' is empty: expected a file"));
  std::error_code ec;
  if (fs::exists(file, ec)) return file;
  try {
    return resolve_data_file(configured_root, file);
  } catch (const InputError& e) {
    throw InputError(str("key '", key, "' = \"", file, "\": ", e.what()));
  }
}

}  // namespace tessera::io
