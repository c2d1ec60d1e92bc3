#include "core/runtime/timers.hpp"

#include <thread>

#include "core/runtime/runtime.hpp"
#include "tests/support/catch.hpp"

using tessera::runtime::Timers;

TEST_CASE("timers accumulate calls and time", "[timers]") {
  Timers timers;
  for (int i = 0; i < 3; ++i) {
    Timers::Scope scope(timers, "work");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  CHECK(timers.calls("work") == 3);
  CHECK(timers.total_seconds("work") >= 0.005);
  CHECK(timers.calls("missing") == 0);
  CHECK_THROWS(timers.stop("never"));
  timers.start("twice");
  CHECK_THROWS(timers.start("twice"));
  timers.stop("twice");
}

TEST_CASE("timer statistics reduce over ranks", "[timers_mpi]") {
  const int rank = tessera::runtime::comm_rank(MPI_COMM_WORLD);
  const int size = tessera::runtime::comm_size(MPI_COMM_WORLD);
  Timers timers;
  timers.start("common");
  std::this_thread::sleep_for(std::chrono::milliseconds(1 + 3 * rank));
  timers.stop("common");
  // A region only the last rank knows must still appear everywhere.
  if (rank == size - 1) {
    timers.start("last_only");
    timers.stop("last_only");
  }
  const auto stats = timers.reduce(MPI_COMM_WORLD);
  REQUIRE(stats.size() == 2);
  CHECK(stats[0].name == "common");
  CHECK(stats[0].min_seconds <= stats[0].mean_seconds);
  CHECK(stats[0].mean_seconds <= stats[0].max_seconds);
  CHECK(stats[0].max_seconds >= 0.001 + 0.003 * (size - 1) - 1e-4);
  CHECK(stats[0].calls == 1);
  CHECK(stats[1].name == "last_only");
  CHECK(stats[1].calls == 1);
  if (size > 1) CHECK(stats[1].min_seconds == 0.0);
}
