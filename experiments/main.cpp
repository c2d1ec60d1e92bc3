// The `tessera` command: info, validate, run (and keys, to list an experiment's keys).
// Every rank parses the same command line; messages are printed once, by rank 0.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>

#include "core/io/checkpoints.hpp"
#include "core/io/run_directory.hpp"
#include "core/runtime/build_info.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/runtime.hpp"
#include "core/runtime/stop_signal.hpp"
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

// A write that fails because the output's file system is full says so (an input error:
// the user's to fix), instead of the HDF5 or stream call that happened to fail.
void run_with_disk_check(const std::string& directory, const std::function<void()>& work) {
  try {
    work();
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    std::error_code ec;
    const auto space = fs::space(directory, ec);
    constexpr std::uintmax_t kFull = 1 << 20;  // less than 1 MiB left: that is why
    if (!ec && space.available < kFull) {
      throw InputError(str(directory, ": no space left on its file system (", space.available,
                           " bytes free) while writing the run's output (", e.what(),
                           "); free some space or write elsewhere (output.dir, --out)"));
    }
    throw;
  }
}

// Where `tessera run --resume DIR` starts: the newest complete checkpoint of DIR and the
// configuration stored with it.
struct ResumePoint {
  io::CheckpointFolder folder;
  experiments::LoadedExperiment loaded;
};

ResumePoint find_resume_point(const std::string& directory) {
  if (!fs::is_directory(directory)) {
    throw InputError(str("--resume ", directory, ": no such run directory"));
  }
  if (fs::exists(fs::path(directory) / "run.h5")) {
    throw InputError(str("--resume ", directory, ": the run is finished already (",
                         (fs::path(directory) / "run.h5").string(),
                         " exists); nothing to continue"));
  }
  const auto folders = io::list_checkpoints(directory);
  if (folders.empty()) {
    throw InputError(str("--resume ", directory, ": no complete checkpoint in ",
                         (fs::path(directory) / "checkpoints").string(),
                         " (a run writes them with output.checkpoint_every or "
                         "output.checkpoint_seconds, or when it gets SIGTERM/SIGUSR1)"));
  }
  ResumePoint point;
  point.folder = folders.back();
  const std::string config_path = (fs::path(point.folder.path) / "config.toml").string();
  std::ifstream in(config_path);
  if (!in) throw InputError(str(config_path, ": cannot read the checkpoint's configuration"));
  std::stringstream text;
  text << in.rdbuf();
  point.loaded = experiments::load_experiment_text(text.str(), config_path, "resumed");
  if (!point.loaded.kind->resumable) {
    throw InputError(str(config_path, ": experiment '", point.loaded.kind->name,
                         "' cannot resume from checkpoints"));
  }
  return point;
}

int command_run(const runtime::Runtime& rt, const std::string& path,
                const std::vector<std::string>& overrides, const std::string& out, bool overwrite,
                const std::string& resume) {
  experiments::LoadedExperiment loaded;
  io::CheckpointFolder resume_folder;
  int code = runtime::run_collectively(rt.comm(), [&] {
    if (!resume.empty()) {
      if (!path.empty() || !overrides.empty() || !out.empty()) {
        throw InputError(
            "--resume RUN_DIR takes the experiment and its keys from the run's checkpoint: "
            "give no experiment file, --set or --out with it");
      }
      ResumePoint point = find_resume_point(resume);
      loaded = std::move(point.loaded);
      resume_folder = point.folder;
    } else {
      if (path.empty())
        throw InputError("tessera run: give an experiment file or --resume RUN_DIR");
      loaded = experiments::load_experiment(path, overrides);
    }
    loaded.kind->check(loaded.config, rt.size());
  });
  if (code != runtime::kExitOk) return code;

  const config::Config& config = loaded.config;
  std::string directory = resume;
  if (resume.empty()) {
    code = runtime::run_collectively(rt.comm(), [&] {
      io::RunDirectoryRequest request;
      request.results_root = config.get_string("output.dir");
      request.experiment_name = config.get_string("run.name");
      request.explicit_directory = out;
      request.overwrite = overwrite;
      directory = io::prepare_run_directory(rt.comm(), request);
    });
    if (code != runtime::kExitOk) return code;
  }
  const std::string source = resume.empty() ? path : config.source();

  runtime::log::set_file((fs::path(directory) / "log.txt").string());
  if (resume.empty()) {
    runtime::log::info(str("tessera ", TESSERA_VERSION, ": ", loaded.kind->name, " experiment '",
                           config.get_string("run.name"), "' from ", path, " on ", rt.size(),
                           " rank(s)"));
  } else {
    runtime::log::info(str("tessera ", TESSERA_VERSION, ": resuming ", loaded.kind->name,
                           " experiment '", config.get_string("run.name"), "' from step ",
                           resume_folder.step, " (", resume_folder.path, ") on ", rt.size(),
                           " rank(s)"));
  }
  runtime::log::info(str("output: ", directory));
  for (const auto& note : config.deprecations()) runtime::log::warn(note);
  const std::string warning = runtime::oversubscription_warning(rt.comm());
  if (!warning.empty()) runtime::log::warn(warning);
  const auto info = runtime::build_info(rt.comm());

  std::unique_ptr<io::Checkpoints> checkpoints;
  if (loaded.kind->resumable) {
    checkpoints = std::make_unique<io::Checkpoints>(
        rt.comm(), directory, experiments::checkpoint_policy(config), config.to_toml());
    if (!resume.empty()) checkpoints->resume_from(resume_folder.path, resume_folder.step);
    // From here SIGTERM/SIGUSR1 mean "checkpoint and stop" rather than "die".
    runtime::install_stop_handlers();
  }

  return runtime::run_or_abort(rt.comm(), [&] {
    runtime::Timers timers;
    const std::string snapshot =
        resume.empty() ? std::string() : (fs::path(resume_folder.path) / "run.h5").string();
    io::ResultsFile results(rt.comm(), (fs::path(directory) / "run.h5").string(), snapshot);
    std::map<std::string, std::string> attributes = {
        {"experiment", loaded.kind->name},
        {"name", config.get_string("run.name")},
        {"source", source},
        {"ranks", std::to_string(rt.size())},
        {"run_id", fs::path(directory).filename().string()}};
    if (!resume.empty()) attributes["resumed_from"] = resume_folder.path;
    for (const auto& [label, value] : info) attributes["build: " + label] = value;
    results.write_config(config.to_toml(), attributes);

    experiments::RunContext context{rt.comm(), directory, config.get_string("run.name"),
                                    &results,  &timers,   checkpoints.get()};
    timers.start("total");
    run_with_disk_check(directory, [&] { loaded.kind->run(config, context); });
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
  // Kokkos prints its options on --kokkos-help (in Runtime); nothing else to do then.
  bool kokkos_help = false;
  for (int i = 1; i < argc; ++i)
    kokkos_help = kokkos_help || std::string(argv[i]) == "--kokkos-help";
  runtime::Runtime rt(argc, argv);
  if (kokkos_help) return runtime::kExitOk;
  runtime::log::set_rank(rt.rank(), rt.size());

  CLI::App app{"Tessera: simulations, neural surrogates and benchmarks for scientific ML"};
  app.set_version_flag("--version", std::string("tessera ") + TESSERA_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Kokkos runtime options go before or after the command, e.g. --kokkos-threads=2 on an "
      "OpenMP build; --kokkos-help lists them. Exit codes: 0 done, 1 failure, 2 bad input, " +
      std::to_string(runtime::kExitPreempted) +
      " stopped on SIGTERM/SIGUSR1 after a checkpoint (resume with tessera run --resume).");

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
  run->add_option("experiment", path, "experiment TOML file");
  run->add_option("--set", overrides, "override a key: section.key=value (repeatable)");
  run->add_option("--out", out, "output directory (default: <output.dir>/<run.name>/<run-id>)");
  run->add_flag("--overwrite", overwrite, "allow --out to replace an earlier run there");
  std::string resume;
  run->add_option("--resume", resume,
                  "continue the run in this directory from its newest checkpoint (exit code " +
                      std::to_string(runtime::kExitPreempted) +
                      " means a run stopped on SIGTERM/SIGUSR1 after writing one)");

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
  bench->add_option("--only", only,
                    "run one part of the suite: " + experiments::bench_parts_text());

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
  if (*run) return command_run(rt, path, overrides, out, overwrite, resume);
  if (*bench) return experiments::command_bench(rt, suite, quick, out, only);
  return runtime::kExitFailure;
}
