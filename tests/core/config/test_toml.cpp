#include "core/config/toml.hpp"

#include <cmath>

#include "core/runtime/error.hpp"
#include "tests/support/catch.hpp"

using namespace tessera::config;
using Catch::Matchers::Contains;

TEST_CASE("TOML values, tables and comments are read", "[toml]") {
  const std::string text =
      "# an experiment\n"
      "top = 1\n"
      "[run]\n"
      "name = \"ring\"  # trailing comment\n"
      "literal = 'C:\\path'\n"
      "[solver]\r\n"
      "cells = 1_000\r\n"
      "cfl = 0.9\n"
      "t_end = 2e-1\n"
      "negative = -3\n"
      "flag = true\n"
      "big = +inf\n"
      "positions = [0.1, 0.5,\n"
      "   0.9, # third\n"
      "]\n"
      "nested.key = \"x\"\n";
  const TomlDocument doc = parse_toml(text, "test.toml");
  CHECK(std::get<std::int64_t>(doc.values.at("top").data) == 1);
  CHECK(std::get<std::string>(doc.values.at("run.name").data) == "ring");
  CHECK(std::get<std::string>(doc.values.at("run.literal").data) == "C:\\path");
  CHECK(std::get<std::int64_t>(doc.values.at("solver.cells").data) == 1000);
  CHECK(std::get<double>(doc.values.at("solver.cfl").data) == 0.9);
  CHECK(std::get<double>(doc.values.at("solver.t_end").data) == 0.2);
  CHECK(std::get<std::int64_t>(doc.values.at("solver.negative").data) == -3);
  CHECK(std::get<bool>(doc.values.at("solver.flag").data));
  CHECK(std::isinf(std::get<double>(doc.values.at("solver.big").data)));
  const auto& positions = std::get<TomlArray>(doc.values.at("solver.positions").data);
  REQUIRE(positions.size() == 3);
  CHECK(std::get<double>(positions[2].data) == 0.9);
  CHECK(std::get<std::string>(doc.values.at("solver.nested.key").data) == "x");
  CHECK(doc.values.at("solver.cells").line == 7);
  CHECK(doc.tables == std::vector<std::string>{"run", "solver"});
}

TEST_CASE("TOML values round-trip through to_toml", "[toml]") {
  for (const std::string text :
       {"1", "-2", "0.5", "1e-07", "\"a \\\"b\\\"\"", "[1, 2.5, \"x\"]", "true"}) {
    const TomlValue value = parse_toml_value(text, "test");
    const TomlValue again = parse_toml_value(value.to_toml(), "test");
    CHECK(again.to_toml() == value.to_toml());
    CHECK(again.type_name() == value.type_name());
  }
  CHECK(parse_toml_value("3.0", "t").to_toml() == "3.0");
}

TEST_CASE("TOML string escapes: TOML 1.0's set, written back so they read the same", "[toml]") {
  const auto string_of = [](const std::string& text) {
    return std::get<std::string>(parse_toml_value(text, "test").data);
  };
  CHECK(string_of(R"("a\tb\nc\rd\be\ff\"g\\")") == "a\tb\nc\rd\be\ff\"g\\");
  CHECK(string_of(R"("caf\u00e9")") == "caf\xC3\xA9");
  CHECK(string_of(R"("\U0001F600")") == "\xF0\x9F\x98\x80");
  CHECK(string_of(R"("\u0041\u07FF\uFFFD")") == "A\xDF\xBF\xEF\xBF\xBD");
  using tessera::InputError;
  CHECK_THROWS_WITH(parse_toml("x = \"\\uD800\"\n", "bad.toml"),
                    Contains("bad.toml:1") && Contains("not a Unicode scalar value"));
  CHECK_THROWS_WITH(parse_toml("x = \"\\u12\"\n", "bad.toml"), Contains("4 hex digits"));
  CHECK_THROWS_WITH(parse_toml("x = \"\\q\"\n", "bad.toml"), Contains("unknown escape"));
  CHECK_THROWS_WITH(parse_toml("x = \"ab\\", "bad.toml"), Contains("unterminated string"));
  // Control characters go out as \u escapes and come back unchanged.
  const std::string controls = std::string("a\x01") + "b\x1F" + '\0' + "c\x7F\b\f";
  TomlValue value;
  value.data = controls;
  CHECK(value.to_toml() == R"("a\u0001b\u001F\u0000c\u007F\u0008\u000C")");
  CHECK(string_of(value.to_toml()) == controls);
}

TEST_CASE("malformed TOML is reported with file and line", "[toml]") {
  using tessera::InputError;
  CHECK_THROWS_WITH(parse_toml("[run]\nname = \"ring\n", "bad.toml"),
                    Contains("bad.toml:2") && Contains("unterminated string"));
  CHECK_THROWS_WITH(parse_toml("[run\n", "bad.toml"), Contains("bad.toml:1") && Contains("']'"));
  CHECK_THROWS_WITH(parse_toml("a = 1\na = 2\n", "bad.toml"),
                    Contains("bad.toml:2") && Contains("defined twice"));
  CHECK_THROWS_WITH(parse_toml("[s]\nx = ring\n", "bad.toml"),
                    Contains("bad.toml:2") && Contains("strings need quotes"));
  CHECK_THROWS_WITH(parse_toml("x = 1 2\n", "bad.toml"), Contains("end of the line"));
  CHECK_THROWS_WITH(parse_toml("x = {a = 1}\n", "bad.toml"), Contains("inline tables"));
  CHECK_THROWS_WITH(parse_toml("[[runs]]\n", "bad.toml"), Contains("arrays of tables"));
  CHECK_THROWS_WITH(parse_toml("x = [1, 2\n", "bad.toml"), Contains("bad.toml:2"));
  CHECK_THROWS_WITH(parse_toml("x = 99999999999999999999\n", "bad.toml"), Contains("64-bit"));
  CHECK_THROWS_WITH(parse_toml_file("/nonexistent/x.toml"),
                    Contains("/nonexistent/x.toml") && Contains("cannot open"));
  CHECK_THROWS_AS(parse_toml("= 1\n", "bad.toml"), InputError);
}
