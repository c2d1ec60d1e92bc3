#include "core/config/toml.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/runtime/error.hpp"

namespace tessera::config {
namespace {

// A cursor over the whole text; errors carry the source name and current line.
class Parser {
 public:
  Parser(const std::string& text, std::string source) : text_(text), source_(std::move(source)) {}

  TomlDocument parse_document() {
    TomlDocument doc;
    doc.source = source_;
    std::string table;
    while (true) {
      skip_blank_and_comments();
      if (at_end()) break;
      if (peek() == '[') {
        if (peek(1) == '[') fail("arrays of tables ([[...]]) are not supported");
        ++pos_;
        skip_spaces();
        table = parse_key_path();
        skip_spaces();
        expect(']', "']' closing the table header");
        expect_line_end();
        for (const auto& seen : doc.tables) {
          if (seen == table) fail(str("table [", table, "] is defined twice"));
        }
        doc.tables.push_back(table);
        continue;
      }
      const int key_line = line_;
      std::string key = parse_key_path();
      skip_spaces();
      expect('=', str("'=' after the key '", key, "'"));
      skip_spaces();
      TomlValue value = parse_value();
      value.line = key_line;
      expect_line_end();
      const std::string full = table.empty() ? key : table + "." + key;
      if (doc.values.count(full) != 0) {
        fail_at(key_line, str("key '", full, "' is defined twice (first on line ",
                              doc.values[full].line, ")"));
      }
      doc.values.emplace(full, std::move(value));
      doc.order.push_back(full);
    }
    return doc;
  }

  TomlValue parse_single_value() {
    skip_spaces();
    TomlValue value = parse_value();
    skip_spaces();
    if (!at_end()) fail(str("unexpected text after the value: '", text_.substr(pos_), "'"));
    return value;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  [[noreturn]] void fail(const std::string& message) const { fail_at(line_, message); }
  [[noreturn]] void fail_at(int line, const std::string& message) const {
    throw InputError(str(source_, ":", line, ": ", message));
  }

  void expect(char c, const std::string& what) {
    if (peek() != c) fail(str("expected ", what, found_text()));
    ++pos_;
  }

  std::string found_text() const {
    if (at_end()) return ", found the end of the file";
    if (peek() == '\n' || peek() == '\r') return ", found the end of the line";
    return str(", found '", peek(), "'");
  }

  void skip_spaces() {
    while (peek() == ' ' || peek() == '\t') ++pos_;
  }

  void skip_comment() {
    if (peek() == '#') {
      while (!at_end() && peek() != '\n') ++pos_;
    }
  }

  void skip_newline() {
    if (peek() == '\r' && peek(1) == '\n') ++pos_;
    if (peek() == '\n') {
      ++pos_;
      ++line_;
    }
  }

  void skip_blank_and_comments() {
    while (!at_end()) {
      skip_spaces();
      skip_comment();
      if (peek() == '\n' || (peek() == '\r' && peek(1) == '\n')) {
        skip_newline();
      } else {
        break;
      }
    }
  }

  void expect_line_end() {
    skip_spaces();
    skip_comment();
    if (at_end()) return;
    if (peek() == '\n' || (peek() == '\r' && peek(1) == '\n')) {
      skip_newline();
      return;
    }
    fail(str("expected the end of the line after the value", found_text()));
  }

  static bool is_bare_key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  }

  std::string parse_key_part() {
    if (peek() == '"' || peek() == '\'') return parse_string();
    const std::size_t begin = pos_;
    while (is_bare_key_char(peek())) ++pos_;
    if (pos_ == begin) fail(str("expected a key", found_text()));
    return text_.substr(begin, pos_ - begin);
  }

  std::string parse_key_path() {
    std::string key = parse_key_part();
    while (true) {
      skip_spaces();
      if (peek() != '.') break;
      ++pos_;
      skip_spaces();
      key += "." + parse_key_part();
    }
    return key;
  }

  std::string parse_string() {
    const char quote = peek();
    if (peek(1) == quote && peek(2) == quote) fail("multi-line strings are not supported");
    ++pos_;
    std::string out;
    while (true) {
      if (at_end() || peek() == '\n' || peek() == '\r') fail("unterminated string");
      const char c = text_[pos_++];
      if (c == quote) break;
      if (c == '\\' && quote == '"') {
        if (at_end() || peek() == '\n' || peek() == '\r') fail("unterminated string");
        const char e = text_[pos_++];
        switch (e) {
          case 'b':
            out += '\b';
            break;
          case 't':
            out += '\t';
            break;
          case 'n':
            out += '\n';
            break;
          case 'f':
            out += '\f';
            break;
          case 'r':
            out += '\r';
            break;
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case 'u':
            append_utf8(out, parse_code_point(4));
            break;
          case 'U':
            append_utf8(out, parse_code_point(8));
            break;
          default:
            fail(str("unknown escape '\\", e, "' in a string"));
        }
      } else {
        out += c;
      }
    }
    return out;
  }

  // The hex digits of a \\uXXXX or \\UXXXXXXXX escape: a Unicode scalar value.
  std::uint32_t parse_code_point(int digits) {
    std::uint32_t code = 0;
    for (int i = 0; i < digits; ++i) {
      const char h = peek();
      if (!std::isxdigit(static_cast<unsigned char>(h))) {
        fail(str("escape \\", digits == 4 ? 'u' : 'U', " needs ", digits, " hex digits"));
      }
      code = code * 16 + static_cast<std::uint32_t>(
                             std::isdigit(static_cast<unsigned char>(h))
                                 ? h - '0'
                                 : std::tolower(static_cast<unsigned char>(h)) - 'a' + 10);
      ++pos_;
    }
    if (code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      fail(str("escape for code point ", code, " is not a Unicode scalar value"));
    }
    return code;
  }

  static void append_utf8(std::string& out, std::uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  TomlValue parse_value() {
    TomlValue value;
    value.line = line_;
    const char c = peek();
    if (c == '"' || c == '\'') {
      value.data = parse_string();
    } else if (c == '[') {
      value.data = parse_array();
    } else if (c == '{') {
      fail("inline tables ({...}) are not supported; use a [table] section");
    } else if (text_.compare(pos_, 4, "true") == 0 && !is_bare_key_char(peek(4))) {
      pos_ += 4;
      value.data = true;
    } else if (text_.compare(pos_, 5, "false") == 0 && !is_bare_key_char(peek(5))) {
      pos_ += 5;
      value.data = false;
    } else {
      value.data = parse_number_token();
    }
    return value;
  }

  TomlArray parse_array() {
    expect('[', "'['");
    TomlArray items;
    while (true) {
      skip_blank_and_comments();
      if (peek() == ']') {
        ++pos_;
        return items;
      }
      items.push_back(parse_value());
      skip_blank_and_comments();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return items;
      }
      fail(str("expected ',' or ']' in an array", found_text()));
    }
  }

  std::variant<bool, std::int64_t, double, std::string, TomlArray> parse_number_token() {
    const std::size_t begin = pos_;
    while (!at_end()) {
      const char c = peek();
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '#' || c == ',' || c == ']') {
        break;
      }
      ++pos_;
    }
    std::string token = text_.substr(begin, pos_ - begin);
    if (token.empty()) fail(str("expected a value", found_text()));
    std::string digits;
    for (std::size_t i = 0; i < token.size(); ++i) {
      if (token[i] == '_') {
        const bool between_digits = i > 0 && i + 1 < token.size() && std::isdigit(token[i - 1]) &&
                                    std::isdigit(token[i + 1]);
        if (!between_digits) fail(str("'", token, "' is not a valid number"));
        continue;
      }
      digits += token[i];
    }
    std::string unsigned_part = digits;
    if (!unsigned_part.empty() && (unsigned_part[0] == '+' || unsigned_part[0] == '-')) {
      unsigned_part.erase(0, 1);
    }
    if (unsigned_part == "inf" || unsigned_part == "nan") {
      const double v = unsigned_part == "inf" ? std::numeric_limits<double>::infinity()
                                              : std::numeric_limits<double>::quiet_NaN();
      return digits[0] == '-' ? -v : v;
    }
    const bool looks_real = digits.find_first_of(".eE") != std::string::npos;
    errno = 0;
    char* end = nullptr;
    if (!looks_real) {
      const long long v = std::strtoll(digits.c_str(), &end, 10);
      if (end != digits.c_str() + digits.size() || unsigned_part.empty() ||
          !std::isdigit(static_cast<unsigned char>(unsigned_part[0]))) {
        fail(str("'", token, "' is not a valid value (strings need quotes: \"", token, "\")"));
      }
      if (errno == ERANGE) fail(str("integer '", token, "' is out of the 64-bit range"));
      return static_cast<std::int64_t>(v);
    }
    const double v = std::strtod(digits.c_str(), &end);
    if (end != digits.c_str() + digits.size() || unsigned_part.empty() ||
        !(std::isdigit(static_cast<unsigned char>(unsigned_part[0])))) {
      fail(str("'", token, "' is not a valid value (strings need quotes: \"", token, "\")"));
    }
    return v;
  }

  const std::string& text_;
  std::string source_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        // Other control characters as \\u escapes, so the text reads back the same.
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04X", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace

std::string TomlValue::to_toml() const {
  if (is_bool()) return std::get<bool>(data) ? "true" : "false";
  if (is_int()) return std::to_string(std::get<std::int64_t>(data));
  if (is_real()) {
    const double v = std::get<double>(data);
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    // Shortest text that reads back to the same double.
    std::string text;
    for (int precision = 15; precision <= 17; ++precision) {
      std::ostringstream out;
      out.precision(precision);
      out << v;
      text = out.str();
      if (std::strtod(text.c_str(), nullptr) == v) break;
    }
    // Keep it a float when read back.
    if (text.find_first_of(".eE") == std::string::npos) text += ".0";
    return text;
  }
  if (is_string()) return quote(std::get<std::string>(data));
  std::string out = "[";
  const auto& items = std::get<TomlArray>(data);
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += items[i].to_toml();
  }
  return out + "]";
}

std::string TomlValue::type_name() const {
  if (is_bool()) return "boolean";
  if (is_int()) return "integer";
  if (is_real()) return "real number";
  if (is_string()) return "string";
  return "array";
}

TomlDocument parse_toml(const std::string& text, const std::string& source_name) {
  Parser parser(text, source_name);
  return parser.parse_document();
}

TomlDocument parse_toml_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(str(path, ": cannot open the experiment file (does it exist?)"));
  std::ostringstream content;
  content << in.rdbuf();
  std::string text = content.str();
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);  // UTF-8 BOM
  return parse_toml(text, path);
}

TomlValue parse_toml_value(const std::string& text, const std::string& what) {
  Parser parser(text, what);
  return parser.parse_single_value();
}

}  // namespace tessera::config
