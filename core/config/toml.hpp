#pragma once
// A small TOML reader for experiment files: tables ([section], [a.b]), key = value
// with bare, quoted and dotted keys, strings (basic, with TOML 1.0's escapes, and
// literal), integers, floats (including inf/nan), booleans and arrays (possibly over
// several lines), comments.
// Not supported (and reported as such): inline tables, arrays of tables, dates,
// multi-line strings. Errors name the file and line.
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace tessera::config {

struct TomlValue;
using TomlArray = std::vector<TomlValue>;

struct TomlValue {
  std::variant<bool, std::int64_t, double, std::string, TomlArray> data;
  int line = 0;  // where it was defined (0 for command-line overrides)

  bool is_bool() const { return std::holds_alternative<bool>(data); }
  bool is_int() const { return std::holds_alternative<std::int64_t>(data); }
  bool is_real() const { return std::holds_alternative<double>(data); }
  bool is_string() const { return std::holds_alternative<std::string>(data); }
  bool is_array() const { return std::holds_alternative<TomlArray>(data); }
  // The value written back as TOML (strings quoted and escaped).
  std::string to_toml() const;
  // "integer", "real number", "string", "boolean", "array"
  std::string type_name() const;
};

// Flat view of a document: full dotted key ("solver.cfl") -> value, in file order.
struct TomlDocument {
  std::string source;  // file name (or "<string>") for messages
  std::map<std::string, TomlValue> values;
  std::vector<std::string> order;   // keys in the order they were defined
  std::vector<std::string> tables;  // table headers in order, e.g. "solver"
};

TomlDocument parse_toml(const std::string& text, const std::string& source_name);
// Reads and parses a file; InputError when it cannot be read.
TomlDocument parse_toml_file(const std::string& path);
// One value as it would appear right of '=' ("1e-3", "\"a\"", "[1, 2]"). Throws
// InputError naming `what` when the text is not a TOML value.
TomlValue parse_toml_value(const std::string& text, const std::string& what);

}  // namespace tessera::config
