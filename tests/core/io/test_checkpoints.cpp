// Checkpoints: the results file continues from a snapshot (metric rows and field steps
// counted, objects written again replaced), checkpoint folders appear complete or not at
// all, only the newest are kept, and a stop signal makes the next boundary write one and
// throw Preempted on every rank.
#include "core/io/checkpoints.hpp"

#include <csignal>
#include <filesystem>

#include "core/io/hdf5_reader.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"
#include "core/runtime/stop_signal.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tessera;
namespace fs = std::filesystem;

TEST_CASE("a results file continues from its snapshot", "[checkpoints]") {
  const int rank = runtime::comm_rank(MPI_COMM_WORLD);
  const testing::ScopedTempDir dir("snapshot");
  const std::string path = dir.path() + "/run.h5";
  const std::string snapshot = dir.path() + "/snapshot.h5";
  {
    io::ResultsFile results(MPI_COMM_WORLD, path);
    results.write_root_array("/fields/x", {2}, {0.25, 0.75});
    results.set_attribute("/", "dt", 0.5);
    results.begin_field_step(0.0);
    results.write_field("density", 2, 0,
                        rank == 0 ? std::vector<double>{1, 2} : std::vector<double>{});
    results.append_metric("mass", 0.0, 3.0);
    results.snapshot(snapshot);
    // Written after the snapshot: lost when the run resumes from it.
    results.append_metric("mass", 1.0, 99.0);
    results.begin_field_step(1.0);
    results.write_field("density", 2, 0,
                        rank == 0 ? std::vector<double>{9, 9} : std::vector<double>{});
  }  // the run dies here: run.h5.partial stays
  {
    io::ResultsFile results(MPI_COMM_WORLD, path, snapshot);
    CHECK(results.metric_rows("mass") == 1);
    CHECK(results.field_steps() == 1);
    results.write_root_array("/fields/x", {2}, {0.25, 0.75});  // written again: replaced
    results.set_attribute("/", "dt", 0.5);
    results.append_metric("mass", 1.0, 4.0);
    results.begin_field_step(1.0);
    results.write_field("density", 2, 0,
                        rank == 0 ? std::vector<double>{5, 6} : std::vector<double>{});
    results.close();
  }
  const io::Hdf5Reader reader(path);
  CHECK(reader.read("/metrics/mass") == std::vector<double>{0, 3, 1, 4});
  CHECK(reader.read("/fields/density") == std::vector<double>{1, 2, 5, 6});
  CHECK(reader.read("/fields/time") == std::vector<double>{0, 1});
  CHECK(reader.read("/fields/x") == std::vector<double>{0.25, 0.75});
  CHECK(reader.read_attribute("/", "dt") == 0.5);
}

TEST_CASE("checkpoint folders: complete or absent, the newest kept, signals stop the run",
          "[checkpoints]") {
  const int rank = runtime::comm_rank(MPI_COMM_WORLD);
  const testing::ScopedTempDir dir("checkpoints");
  io::ResultsFile results(MPI_COMM_WORLD, dir.path() + "/run.h5");
  io::CheckpointPolicy policy;
  policy.every_steps = 10;
  policy.keep = 2;
  io::Checkpoints checkpoints(MPI_COMM_WORLD, dir.path(), policy, "[run]\nexperiment = \"lwr\"\n");
  auto state = [&](long long step) {
    return [&, step](io::ResultsFile& file) {
      file.write_root_array("/step", {1}, {static_cast<double>(step)});
    };
  };
  for (long long step = 1; step <= 35; ++step) {
    results.append_metric("loss", static_cast<double>(step), 1.0 / static_cast<double>(step));
    checkpoints.at_boundary(step, results, state(step));
  }
  CHECK(checkpoints.written() == 3);  // steps 10, 20, 30
  const auto folders = io::list_checkpoints(dir.path());
  REQUIRE(folders.size() == 2);
  CHECK(folders[0].step == 20);
  CHECK(folders[1].step == 30);
  const io::Hdf5Reader saved(folders[1].path + "/state.h5");
  CHECK(saved.read("/step") == std::vector<double>{30});
  CHECK(saved.read_attribute("/", "step") == 30);
  CHECK(io::Hdf5Reader(folders[1].path + "/run.h5").shape("/metrics/loss")[0] == 30);
  CHECK(fs::exists(folders[1].path + "/config.toml"));

  // A folder still being written (or left by a killed run) is not a checkpoint.
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) fs::create_directories(dir.path() + "/checkpoints/step_000000000099.partial");
  MPI_Barrier(MPI_COMM_WORLD);
  CHECK(io::list_checkpoints(dir.path()).back().step == 30);

  // A stop signal on one rank: the next boundary writes a checkpoint on all, then stops.
  runtime::install_stop_handlers();
  if (rank == runtime::comm_size(MPI_COMM_WORLD) - 1) std::raise(SIGUSR1);
  CHECK_THROWS_AS(checkpoints.at_boundary(36, results, state(36)), Preempted);
  runtime::clear_stop_signal();
  std::signal(SIGUSR1, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  CHECK(io::list_checkpoints(dir.path()).back().step == 36);
  CHECK_FALSE(fs::exists(dir.path() + "/checkpoints/step_000000000099.partial"));
  CHECK(io::list_checkpoints(dir.path()).size() == 2);
}
