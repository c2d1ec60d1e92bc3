#pragma once
// Experiment configuration: a Schema declares every key an experiment understands
// (type, default, allowed range or choices, one line of help); resolve() checks a
// TOML document plus --set overrides against it and yields a Config of typed values.
// Unknown keys, wrong types, values out of range and missing required keys are
// InputErrors naming the file, the line, the key and what was expected.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config/toml.hpp"
#include "core/runtime/error.hpp"

namespace tessera::config {

enum class KeyType { kBool, kInt, kReal, kString, kRealList };

struct Range {
  std::optional<double> low, high;
  bool low_open = false, high_open = false;  // (low, ...] when low_open
  bool contains(double v) const;
  std::string describe() const;  // "(0, 1]", ">= 1", "any"
};

struct KeySpec {
  std::string key;  // "solver.cfl"
  KeyType type = KeyType::kReal;
  std::optional<TomlValue> default_value;  // none: required
  Range range;                             // numbers, and each entry of a real list
  std::vector<std::string> choices;        // strings; empty: any
  std::string help;
  std::string expected() const;  // "a real number in (0, 1]"
};

class Schema {
 public:
  Schema& add_bool(const std::string& key, bool default_value, const std::string& help);
  Schema& add_int(const std::string& key, std::optional<std::int64_t> default_value, Range range,
                  const std::string& help);
  Schema& add_real(const std::string& key, std::optional<double> default_value, Range range,
                   const std::string& help);
  Schema& add_string(const std::string& key, std::optional<std::string> default_value,
                     std::vector<std::string> choices, const std::string& help);
  Schema& add_real_list(const std::string& key, std::optional<std::vector<double>> default_value,
                        Range range, const std::string& help);

  // A key that was renamed: `old_key` in a file or --set still sets `new_key` (which must
  // be declared), and the resolved Config records a one-line deprecation warning.
  Schema& add_renamed(const std::string& old_key, const std::string& new_key);
  // The new name of a renamed key, or nullptr.
  const std::string* renamed(const std::string& old_key) const;

  const KeySpec* find(const std::string& key) const;
  const std::vector<KeySpec>& keys() const { return keys_; }
  // A commented TOML file listing every key with its default and help.
  std::string describe_as_toml() const;

 private:
  Schema& add(KeySpec spec);
  std::vector<KeySpec> keys_;
  std::map<std::string, std::string> renamed_;
};

// Range helpers: at_least(1), greater_than(0), between(0, 1), in_open_closed(0, 1)...
Range any_value();
Range at_least(double low);
Range greater_than(double low);
Range between(double low, double high);      // [low, high]
Range open_closed(double low, double high);  // (low, high]

class Config {
 public:
  bool get_bool(const std::string& key) const;
  std::int64_t get_int(const std::string& key) const;
  double get_real(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;
  std::vector<double> get_real_list(const std::string& key) const;
  bool was_set(const std::string& key) const;  // given in the file or by --set

  const std::string& source() const { return source_; }
  // One line per renamed key used ("... is deprecated: use ..."), for the log.
  const std::vector<std::string>& deprecations() const { return deprecations_; }
  // The resolved configuration (every key, defaults included) as TOML text.
  std::string to_toml() const;
  const std::map<std::string, TomlValue>& values() const { return values_; }

 private:
  friend Config resolve(const Schema&, const TomlDocument&, const std::vector<std::string>&);
  const TomlValue& value(const std::string& key, KeyType type) const;
  std::string source_;
  std::map<std::string, TomlValue> values_;
  std::map<std::string, KeyType> types_;
  std::map<std::string, bool> set_;
  std::vector<std::string> deprecations_;
};

// Overrides are "section.key=value" with the value in TOML syntax; a value that is not
// valid TOML is taken as a bare string (--set solver.flux=triangular).
Config resolve(const Schema& schema, const TomlDocument& document,
               const std::vector<std::string>& overrides);

// Runs f(); an InputError thrown inside (by a solver, a reader, a check) is rethrown with
// "<source>: " in front, so that the message names the experiment file as well as the key.
template <class F>
void with_source(const std::string& source, F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    throw InputError(str(source, ": ", e.what()));
  }
}

// The items of a comma-separated string key ("sttn, mlp"), spaces and tabs around each
// trimmed, empty items dropped.
std::vector<std::string> split_list(const std::string& text);

// "did you mean 'solver.cfl'?" or empty, by edit distance over the schema's keys.
std::string suggest_key(const Schema& schema, const std::string& key);

}  // namespace tessera::config
