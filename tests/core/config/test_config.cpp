#include "core/config/config.hpp"

#include "core/runtime/error.hpp"
#include "tests/support/catch.hpp"

using namespace tessera::config;
using Catch::Matchers::Contains;

namespace {
Schema example_schema() {
  Schema s;
  s.add_int("solver.cells", 100, at_least(1), "cells");
  s.add_real("solver.cfl", 0.9, open_closed(0, 1), "CFL number");
  s.add_string("solver.flux", std::string("greenshields"), {"greenshields", "triangular"}, "flux");
  s.add_bool("output.vtk", true, "vtk");
  s.add_real_list("detectors.positions", std::vector<double>{}, at_least(0), "positions");
  s.add_string("run.experiment", std::nullopt, {}, "which experiment");
  return s;
}
}  // namespace

TEST_CASE("defaults, file values and overrides resolve in that order", "[schema]") {
  const auto doc = parse_toml("[run]\nexperiment = \"lwr\"\n[solver]\ncells = 50\n", "e.toml");
  const Config c = resolve(example_schema(), doc, {});
  CHECK(c.get_int("solver.cells") == 50);
  CHECK(c.get_real("solver.cfl") == 0.9);
  CHECK(c.get_string("solver.flux") == "greenshields");
  CHECK(c.get_bool("output.vtk"));
  CHECK(c.get_real_list("detectors.positions").empty());
  CHECK(c.was_set("solver.cells"));
  CHECK_FALSE(c.was_set("solver.cfl"));
  // The resolved text parses back to the same values.
  const Config again = resolve(example_schema(), parse_toml(c.to_toml(), "resolved"), {});
  CHECK(again.to_toml() == c.to_toml());
}

TEST_CASE("integers are accepted for real keys and lists", "[schema]") {
  const auto doc = parse_toml(
      "[run]\nexperiment = \"x\"\n[solver]\ncfl = 1\n[detectors]\npositions = [0, 0.5]\n", "e");
  const Config c = resolve(example_schema(), doc, {});
  CHECK(c.get_real("solver.cfl") == 1.0);
  CHECK(c.get_real_list("detectors.positions") == std::vector<double>{0.0, 0.5});
}

TEST_CASE("bad keys and values name the file, line, key and expectation", "[schema]") {
  const Schema s = example_schema();
  auto resolve_text = [&](const std::string& text) {
    return resolve(s, parse_toml("[run]\nexperiment = \"x\"\n" + text, "e.toml"), {});
  };
  CHECK_THROWS_WITH(resolve_text("[solver]\ncfll = 0.5\n"),
                    Contains("e.toml:4") && Contains("unknown key 'solver.cfll'") &&
                        Contains("did you mean 'solver.cfl'"));
  CHECK_THROWS_WITH(resolve_text("[solverx]\nfoo = 0.5\n"),
                    Contains("unknown key") && Contains("no section [solverx]"));
  CHECK_THROWS_WITH(resolve_text("[solver]\ncfl = 1.5\n"),
                    Contains("e.toml:4") && Contains("'solver.cfl' = 1.5") &&
                        Contains("out of range") && Contains("(0, 1]"));
  CHECK_THROWS_WITH(resolve_text("[solver]\ncells = -5\n"),
                    Contains("'solver.cells' = -5") && Contains(">= 1"));
  CHECK_THROWS_WITH(resolve_text("[solver]\ncells = 2.5\n"),
                    Contains("is a real number") && Contains("expected an integer"));
  CHECK_THROWS_WITH(resolve_text("[solver]\nflux = \"linear\"\n"),
                    Contains("not an allowed value") && Contains("\"triangular\""));
  CHECK_THROWS_WITH(resolve_text("[output]\nvtk = \"yes\"\n"), Contains("expected a boolean"));
  CHECK_THROWS_WITH(resolve_text("[detectors]\npositions = [0.1, -1]\n"), Contains("entry 1 = -1"));
  CHECK_THROWS_WITH(resolve(s, parse_toml("[solver]\ncells = 5\n", "e.toml"), {}),
                    Contains("e.toml") && Contains("required key 'run.experiment' is missing"));
}

TEST_CASE("--set overrides are typed and checked", "[overrides]") {
  const Schema s = example_schema();
  const auto doc = parse_toml("[run]\nexperiment = \"x\"\n[solver]\ncells = 50\n", "e.toml");
  const Config c = resolve(s, doc,
                           {"solver.cells=70", "solver.flux=triangular",
                            "detectors.positions=[0.25]", "output.vtk=false"});
  CHECK(c.get_int("solver.cells") == 70);
  CHECK(c.get_string("solver.flux") == "triangular");
  CHECK(c.get_real_list("detectors.positions") == std::vector<double>{0.25});
  CHECK_FALSE(c.get_bool("output.vtk"));
  CHECK_THROWS_WITH(resolve(s, doc, {"solver.cfl=2"}),
                    Contains("--set solver.cfl") && Contains("out of range"));
  CHECK_THROWS_WITH(resolve(s, doc, {"solver.cells=many"}), Contains("--set solver.cells"));
  CHECK_THROWS_WITH(resolve(s, doc, {"solver.nope=1"}), Contains("unknown key 'solver.nope'"));
  CHECK_THROWS_WITH(resolve(s, doc, {"justtext"}), Contains("expected section.key=value"));
}

TEST_CASE("the schema describes itself as commented TOML", "[schema]") {
  const std::string text = example_schema().describe_as_toml();
  CHECK_THAT(text, Contains("[solver]") && Contains("cfl = 0.9") && Contains("(required)"));
}

TEST_CASE("a renamed key still works, with one deprecation note naming the new key", "[schema]") {
  Schema s = example_schema();
  s.add_renamed("solver.cell_count", "solver.cells");
  const auto doc =
      parse_toml("[run]\nexperiment = \"lwr\"\n[solver]\ncell_count = 50\n", "old.toml");
  const Config c = resolve(s, doc, {});
  CHECK(c.get_int("solver.cells") == 50);
  REQUIRE(c.deprecations().size() == 1);
  CHECK_THAT(c.deprecations()[0], Contains("old.toml:4") && Contains("'solver.cell_count'") &&
                                      Contains("use 'solver.cells'"));
  // --set with the old spelling overrides the file, and is noted too.
  const Config overridden = resolve(s, doc, {"solver.cell_count=70"});
  CHECK(overridden.get_int("solver.cells") == 70);
  CHECK(overridden.deprecations().size() == 2);
  // The new spelling leaves no note.
  CHECK(resolve(s, parse_toml("[solver]\ncells = 5\n[run]\nexperiment = \"x\"\n", "new.toml"), {})
            .deprecations()
            .empty());
  // A rename must point at a declared key.
  CHECK_THROWS_AS(s.add_renamed("solver.x", "solver.missing"), std::logic_error);
}

TEST_CASE("with_source names the experiment file in front of an input error", "[schema]") {
  CHECK_THROWS_WITH(
      with_source("e.toml", [] { throw tessera::InputError("key 'solver.cells' is bad"); }),
      "e.toml: key 'solver.cells' is bad");
  CHECK_NOTHROW(with_source("e.toml", [] {}));
}
