#pragma once
// Where real data files live. Never copied into the repository: experiments name
// files relative to a data root, found in this order:
//   1. the configuration key run.data_root (passed in as `configured`),
//   2. the environment variable TESSERA_DATA,
//   3. ../shared/data beside the project source tree, then relative to the current
//      directory, where it exists.
#include <optional>
#include <string>

namespace tessera::io {

// The data root, or nullopt when none of the above names an existing directory.
// A configured or TESSERA_DATA root that does not exist is an InputError.
std::optional<std::string> find_data_root(const std::string& configured);

// `relative` under the data root; InputError naming the root and how it was chosen
// when there is no root or the file is missing.
std::string resolve_data_file(const std::string& configured_root, const std::string& relative);

// A file named in a configuration key: as written when it exists there (absolute, or
// relative to the working directory), otherwise under the data root. InputError naming
// `key` and the file when neither exists.
std::string resolve_input_file(const std::string& configured_root, const std::string& file,
                               const std::string& key);

}  // namespace tessera::io
