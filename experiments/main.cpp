// The `tessera` command: info, validate, run (and keys, to list an experiment's keys).
// Every rank parses the same command line; messages are printed once, by rank 0.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "core/io/run_directory.hpp"
#include "core/runtime/build_info.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/runtime.hpp"
#include "experiments/bench_command.hpp"
#include "experiments/experiment.hpp"
#include "solvers/flow/pressure_amg.hpp"

namespace {

using namespace tessera;
namespace fs = std::filesystem;

int command_info(const runtime::Runtime& rt) {
  auto info = runtime::build_info(rt.comm());
  // Optional libraries of the solver libraries (core's build_info does not link them).
  info.emplace_back("hypre", solvers::flow::hypre_available()
                                 ? "yes (flow: solver.pressure_solver = \"amg\")"
                                 : "no (flow: Jacobi-CG pressure only; install libhypre-dev)");
  if (rt.is_root()) {
    for (const auto& [label, value] : info) {
      std::cout << label << ":" << std::string(18 - std::min<std::size_t>(17, label.size()), ' ')
                << value << "\n";
    }
    std::cout << std::flush;
  }
  return runtime::kExitOk;
}

int command_validate(const runtime::Runtime& rt, const std::string& path,
                     const std::vector<std::string>& overrides) {
  experiments::LoadedExperiment loaded;
  int code = runtime::run_collectively(rt.comm(), [&] {
    loaded = experiments::load_experiment(path, overrides);
    loaded.kind->check(loaded.config, rt.size());
  });
  if (code == runtime::kExitOk) {
    for (const auto& note : loaded.config.deprecations()) runtime::log::warn(note);
  }
  if (code == runtime::kExitOk && rt.is_root()) {
    std::cout << path << ": valid " << loaded.kind->name << " experiment for " << rt.size()
              << " rank(s)\n";
  }
  return code;
}

int command_keys(const runtime::Runtime& rt, const std::string& kind_name) {
  return runtime::run_collectively(rt.comm(), [&] {
    const auto& kind = experiments::find_experiment_kind(kind_name, "tessera keys");
    config::Schema schema;
    experiments::add_common_keys(schema, "<file stem>");
    kind.add_keys(schema);
    if (rt.is_root()) {
      std::cout << "# " << kind.name << ": " << kind.description << "\n"
                << schema.describe_as_toml();
    }
  });
}

int command_run(const runtime::Runtime& rt, const std::string& path,
                const std::vector<std::string>& overrides, const std::string& out, bool overwrite) {
  experiments::LoadedExperiment loaded;
  int code = runtime::run_collectively(rt.comm(), [&] {
    loaded = experiments::load_experiment(path, overrides);
    loaded.kind->check(loaded.config, rt.size());
  });
  if (code != runtime::kExitOk) return code;

  const config::Config& config = loaded.config;
  std::string directory;
  code = runtime::run_collectively(rt.comm(), [&] {
    io::RunDirectoryRequest request;
    request.results_root = config.get_string("output.dir");
    request.experiment_name = config.get_string("run.name");
    request.explicit_directory = out;
    request.overwrite = overwrite;
    directory = io::prepare_run_directory(rt.comm(), request);
  });
  if (code != runtime::kExitOk) return code;

  runtime::log::set_file((fs::path(directory) / "log.txt").string());
  runtime::log::info(str("tessera ", TESSERA_VERSION, ": ", loaded.kind->name, " experiment '",
                         config.get_string("run.name"), "' from ", path, " on ", rt.size(),
                         " rank(s)"));
  runtime::log::info(str("output: ", directory));
  for (const auto& note : config.deprecations()) runtime::log::warn(note);
  const std::string warning = runtime::oversubscription_warning(rt.comm());
  if (!warning.empty()) runtime::log::warn(warning);
  const auto info = runtime::build_info(rt.comm());

  return runtime::run_or_abort(rt.comm(), [&] {
    runtime::Timers timers;
    io::ResultsFile results(rt.comm(), (fs::path(directory) / "run.h5").string());
    std::map<std::string, std::string> attributes = {
        {"experiment", loaded.kind->name},
        {"name", config.get_string("run.name")},
        {"source", path},
        {"ranks", std::to_string(rt.size())},
        {"run_id", fs::path(directory).filename().string()}};
    for (const auto& [label, value] : info) attributes["build: " + label] = value;
    results.write_config(config.to_toml(), attributes);

    experiments::RunContext context{rt.comm(), directory, config.get_string("run.name"), &results,
                                    &timers};
    timers.start("total");
    loaded.kind->run(config, context);
    timers.stop("total");
    const auto stats = timers.reduce(rt.comm());
    results.write_timings(stats);
    results.close();
    for (const auto& region : stats) {
      runtime::log::info(str("  time ", region.name, ": mean ", region.mean_seconds, " s, max ",
                             region.max_seconds, " s over ranks, ", region.calls, " call(s)"));
    }
    runtime::log::info(str("results: ", results.path()));
  });
}

}  // namespace

int main(int argc, char** argv) {
  runtime::Runtime rt(argc, argv);
  runtime::log::set_rank(rt.rank(), rt.size());

  CLI::App app{"Tessera: simulations, neural surrogates and benchmarks for scientific ML"};
  app.set_version_flag("--version", std::string("tessera ") + TESSERA_VERSION);
  app.require_subcommand(1);

  auto* info = app.add_subcommand("info", "Show Kokkos, MPI, HDF5, VTK and BLAS of this build");

  std::string path;
  std::vector<std::string> overrides;
  auto* validate = app.add_subcommand("validate", "Check an experiment file without running it");
  validate->add_option("experiment", path, "experiment TOML file")->required();
  validate->add_option("--set", overrides, "override a key: section.key=value (repeatable)");

  std::string out;
  bool overwrite = false;
  auto* run =
      app.add_subcommand("run", "Run an experiment (under MPI: mpirun -np N tessera run FILE)");
  run->add_option("experiment", path, "experiment TOML file")->required();
  run->add_option("--set", overrides, "override a key: section.key=value (repeatable)");
  run->add_option("--out", out, "output directory (default: <output.dir>/<run.name>/<run-id>)");
  run->add_flag("--overwrite", overwrite, "allow --out to replace an earlier run there");

  std::string kind_name;
  auto* keys = app.add_subcommand("keys", "List the keys of an experiment kind with defaults");
  std::string kinds_text;
  for (const auto& kind : experiments::experiment_kinds()) {
    kinds_text += (kinds_text.empty() ? "" : ", ") + kind.name;
  }
  keys->add_option("kind", kind_name, "experiment kind: " + kinds_text)->required();

  std::string suite;
  bool quick = false;
  auto* bench = app.add_subcommand(
      "bench",
      "Run a benchmark suite (under MPI for the parallel ones); see analysis/bench_report.py");
  bench->add_option("suite", suite, "suite: " + experiments::bench_suites_text())->required();
  bench->add_flag("--quick", quick, "small shapes and few repeats (checks the benchmark code)");
  bench->add_option("--out", out, "output directory (default: results/bench_<suite>/<run-id>)");
  std::string only;
  bench->add_option("--only", only, "run one part of the suite (e.g. 'hopfield' of 'nn')");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and version are "errors" with exit code 0.
    if (rt.is_root()) return app.exit(e);
    return e.get_exit_code() == 0 ? 0 : runtime::kExitInputError;
  }

  if (*info) return command_info(rt);
  if (*validate) return command_validate(rt, path, overrides);
  if (*keys) return command_keys(rt, kind_name);
  if (*run) return command_run(rt, path, overrides, out, overwrite);
  if (*bench) return experiments::command_bench(rt, suite, quick, out, only);
  return runtime::kExitFailure;
}
