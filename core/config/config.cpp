#include "core/config/config.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/runtime/error.hpp"

namespace tessera::config {

bool Range::contains(double v) const {
  if (std::isnan(v)) return false;
  if (low) {
    if (low_open ? !(v > *low) : !(v >= *low)) return false;
  }
  if (high) {
    if (high_open ? !(v < *high) : !(v <= *high)) return false;
  }
  return true;
}

namespace {
std::string number_text(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}
}  // namespace

std::string Range::describe() const {
  if (low && high) {
    return str(low_open ? "(" : "[", number_text(*low), ", ", number_text(*high),
               high_open ? ")" : "]");
  }
  if (low) return str(low_open ? "> " : ">= ", number_text(*low));
  if (high) return str(high_open ? "< " : "<= ", number_text(*high));
  return "any";
}

Range any_value() {
  return Range{};
}
Range at_least(double low) {
  return Range{low, std::nullopt, false, false};
}
Range greater_than(double low) {
  return Range{low, std::nullopt, true, false};
}
Range between(double low, double high) {
  return Range{low, high, false, false};
}
Range open_closed(double low, double high) {
  return Range{low, high, true, false};
}

std::string KeySpec::expected() const {
  const bool ranged = range.low || range.high;
  switch (type) {
    case KeyType::kBool:
      return "a boolean (true or false)";
    case KeyType::kInt:
      return ranged ? str("an integer ", range.describe()) : "an integer";
    case KeyType::kReal:
      return ranged ? str("a real number in ", range.describe()) : "a real number";
    case KeyType::kString: {
      if (choices.empty()) return "a string";
      std::string out = "one of ";
      for (std::size_t i = 0; i < choices.size(); ++i) {
        out += (i > 0 ? ", \"" : "\"") + choices[i] + "\"";
      }
      return out;
    }
    case KeyType::kRealList:
      return ranged ? str("an array of real numbers, each in ", range.describe())
                    : "an array of real numbers";
  }
  return "";
}

Schema& Schema::add(KeySpec spec) {
  if (find(spec.key) != nullptr) throw std::logic_error(str("schema key ", spec.key, " twice"));
  keys_.push_back(std::move(spec));
  return *this;
}

Schema& Schema::add_bool(const std::string& key, bool default_value, const std::string& help) {
  KeySpec spec;
  spec.key = key;
  spec.type = KeyType::kBool;
  spec.default_value = TomlValue{default_value};
  spec.help = help;
  return add(std::move(spec));
}

Schema& Schema::add_int(const std::string& key, std::optional<std::int64_t> default_value,
                        Range range, const std::string& help) {
  KeySpec spec;
  spec.key = key;
  spec.type = KeyType::kInt;
  if (default_value) spec.default_value = TomlValue{*default_value};
  spec.range = range;
  spec.help = help;
  return add(std::move(spec));
}

Schema& Schema::add_real(const std::string& key, std::optional<double> default_value, Range range,
                         const std::string& help) {
  KeySpec spec;
  spec.key = key;
  spec.type = KeyType::kReal;
  if (default_value) spec.default_value = TomlValue{*default_value};
  spec.range = range;
  spec.help = help;
  return add(std::move(spec));
}

Schema& Schema::add_string(const std::string& key, std::optional<std::string> default_value,
                           std::vector<std::string> choices, const std::string& help) {
  KeySpec spec;
  spec.key = key;
  spec.type = KeyType::kString;
  if (default_value) spec.default_value = TomlValue{*default_value};
  spec.choices = std::move(choices);
  spec.help = help;
  return add(std::move(spec));
}

Schema& Schema::add_real_list(const std::string& key,
                              std::optional<std::vector<double>> default_value, Range range,
                              const std::string& help) {
  KeySpec spec;
  spec.key = key;
  spec.type = KeyType::kRealList;
  if (default_value) {
    TomlArray items;
    for (double v : *default_value) items.push_back(TomlValue{v});
    spec.default_value = TomlValue{items};
  }
  spec.range = range;
  spec.help = help;
  return add(std::move(spec));
}

const KeySpec* Schema::find(const std::string& key) const {
  for (const auto& spec : keys_) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

Schema& Schema::add_renamed(const std::string& old_key, const std::string& new_key) {
  if (find(new_key) == nullptr) {
    throw std::logic_error(str("schema: renamed key '", old_key, "' points to '", new_key,
                               "', which is not declared"));
  }
  renamed_[old_key] = new_key;
  return *this;
}

const std::string* Schema::renamed(const std::string& old_key) const {
  auto it = renamed_.find(old_key);
  return it == renamed_.end() ? nullptr : &it->second;
}

std::string Schema::describe_as_toml() const {
  std::ostringstream out;
  std::string section;
  for (const auto& spec : keys_) {
    const auto dot = spec.key.find('.');
    const std::string key_section = spec.key.substr(0, dot);
    if (key_section != section) {
      out << (section.empty() ? "" : "\n") << "[" << key_section << "]\n";
      section = key_section;
    }
    out << "# " << spec.help << " (" << spec.expected() << ")\n";
    const std::string name = spec.key.substr(dot + 1);
    if (spec.default_value) {
      out << name << " = " << spec.default_value->to_toml() << "\n";
    } else {
      out << "# " << name << " = ...  (required)\n";
    }
  }
  return out.str();
}

namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::string where(const std::string& source, const TomlValue& value) {
  return value.line > 0 ? str(source, ":", value.line) : source;
}

// Checks one value against its spec and converts integers given for real keys.
TomlValue checked(const KeySpec& spec, TomlValue value, const std::string& place) {
  auto wrong = [&](const std::string& what) {
    return InputError(str(place, ": key '", spec.key, "' = ", value.to_toml(), " ", what,
                          ": expected ", spec.expected()));
  };
  switch (spec.type) {
    case KeyType::kBool:
      if (!value.is_bool()) throw wrong(str("is a ", value.type_name()));
      break;
    case KeyType::kInt:
      if (!value.is_int()) throw wrong(str("is a ", value.type_name()));
      if (!spec.range.contains(static_cast<double>(std::get<std::int64_t>(value.data)))) {
        throw wrong("is out of range");
      }
      break;
    case KeyType::kReal: {
      if (value.is_int()) value.data = static_cast<double>(std::get<std::int64_t>(value.data));
      if (!value.is_real()) throw wrong(str("is a ", value.type_name()));
      const double v = std::get<double>(value.data);
      if (!std::isfinite(v)) throw wrong("is not finite");
      if (!spec.range.contains(v)) throw wrong("is out of range");
      break;
    }
    case KeyType::kString: {
      if (!value.is_string()) throw wrong(str("is a ", value.type_name()));
      const auto& s = std::get<std::string>(value.data);
      if (!spec.choices.empty() &&
          std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end()) {
        throw wrong("is not an allowed value");
      }
      break;
    }
    case KeyType::kRealList: {
      if (!value.is_array()) throw wrong(str("is a ", value.type_name()));
      auto& items = std::get<TomlArray>(value.data);
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (items[i].is_int()) {
          items[i].data = static_cast<double>(std::get<std::int64_t>(items[i].data));
        }
        if (!items[i].is_real() || !std::isfinite(std::get<double>(items[i].data)) ||
            !spec.range.contains(std::get<double>(items[i].data))) {
          throw wrong(str("has entry ", i, " = ", items[i].to_toml(), " that does not fit"));
        }
      }
      break;
    }
  }
  return value;
}

}  // namespace

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    const auto last = item.find_last_not_of(" \t");
    items.push_back(item.substr(first, last - first + 1));
  }
  return items;
}

std::string suggest_key(const Schema& schema, const std::string& key) {
  std::string best;
  std::size_t best_distance = 4;  // suggest only close matches
  for (const auto& spec : schema.keys()) {
    const std::size_t d = edit_distance(key, spec.key);
    if (d < best_distance) {
      best_distance = d;
      best = spec.key;
    }
  }
  return best.empty() ? "" : str("did you mean '", best, "'?");
}

Config resolve(const Schema& schema, const TomlDocument& document,
               const std::vector<std::string>& overrides) {
  auto unknown = [&](const std::string& place, const std::string& key) {
    std::string message = str(place, ": unknown key '", key, "'");
    const std::string hint = suggest_key(schema, key);
    if (!hint.empty()) {
      message += "; " + hint;
    } else {
      const std::string section = key.substr(0, key.find('.'));
      std::string known;
      for (const auto& spec : schema.keys()) {
        if (spec.key.rfind(section + ".", 0) == 0) known += (known.empty() ? "" : ", ") + spec.key;
      }
      message += known.empty() ? str("; there is no section [", section, "] in this experiment")
                               : str("; keys of [", section, "] are: ", known);
    }
    return InputError(message);
  };

  Config config;
  config.source_ = document.source;
  // An old spelling of a renamed key sets the new key and leaves a deprecation note.
  auto current_name = [&](const std::string& key, const std::string& place) {
    const std::string* renamed = schema.renamed(key);
    if (renamed == nullptr) return key;
    const std::string note = str(place, ": key '", key, "' is deprecated: use '", *renamed, "'");
    if (std::find(config.deprecations_.begin(), config.deprecations_.end(), note) ==
        config.deprecations_.end()) {
      config.deprecations_.push_back(note);
    }
    return *renamed;
  };
  for (const auto& written : document.order) {
    const TomlValue& value = document.values.at(written);
    const std::string key = current_name(written, where(document.source, value));
    const KeySpec* spec = schema.find(key);
    if (spec == nullptr) throw unknown(where(document.source, value), key);
    config.values_[key] = checked(*spec, value, where(document.source, value));
    config.set_[key] = true;
  }
  for (const auto& item : overrides) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw InputError(str("--set ", item, ": expected section.key=value"));
    }
    const std::string written = item.substr(0, eq);
    const std::string text = item.substr(eq + 1);
    const std::string place = str("--set ", written);
    const std::string key = current_name(written, place);
    const KeySpec* spec = schema.find(key);
    if (spec == nullptr) throw unknown(place, key);
    TomlValue value;
    try {
      value = parse_toml_value(text, place);
    } catch (const InputError&) {
      if (spec->type != KeyType::kString) throw;
      value.data = text;  // a bare word for a string key
    }
    config.values_[key] = checked(*spec, value, place);
    config.set_[key] = true;
  }
  for (const auto& spec : schema.keys()) {
    config.types_[spec.key] = spec.type;
    if (config.values_.count(spec.key) != 0) continue;
    if (!spec.default_value) {
      throw InputError(str(document.source, ": required key '", spec.key, "' is missing: expected ",
                           spec.expected(), " (", spec.help, ")"));
    }
    config.values_[spec.key] = *spec.default_value;
    config.set_[spec.key] = false;
  }
  return config;
}

const TomlValue& Config::value(const std::string& key, KeyType type) const {
  auto it = values_.find(key);
  auto type_it = types_.find(key);
  if (it == values_.end() || type_it == types_.end() || type_it->second != type) {
    throw std::logic_error(str("configuration key '", key,
                               "' read with the wrong type or not in "
                               "the schema"));
  }
  return it->second;
}

bool Config::get_bool(const std::string& key) const {
  return std::get<bool>(value(key, KeyType::kBool).data);
}
std::int64_t Config::get_int(const std::string& key) const {
  return std::get<std::int64_t>(value(key, KeyType::kInt).data);
}
double Config::get_real(const std::string& key) const {
  return std::get<double>(value(key, KeyType::kReal).data);
}
const std::string& Config::get_string(const std::string& key) const {
  return std::get<std::string>(value(key, KeyType::kString).data);
}
std::vector<double> Config::get_real_list(const std::string& key) const {
  std::vector<double> out;
  for (const auto& item : std::get<TomlArray>(value(key, KeyType::kRealList).data)) {
    out.push_back(std::get<double>(item.data));
  }
  return out;
}
bool Config::was_set(const std::string& key) const {
  auto it = set_.find(key);
  return it != set_.end() && it->second;
}

std::string Config::to_toml() const {
  std::ostringstream out;
  std::string section;
  for (const auto& [key, value] : values_) {
    const auto dot = key.find('.');
    const std::string key_section = key.substr(0, dot);
    if (key_section != section) {
      out << (section.empty() ? "" : "\n") << "[" << key_section << "]\n";
      section = key_section;
    }
    out << key.substr(dot + 1) << " = " << value.to_toml() << "\n";
  }
  return out.str();
}

}  // namespace tessera::config
