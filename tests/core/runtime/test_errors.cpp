#include <sstream>

#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using namespace tessera::runtime;

namespace {
// Captures std::cerr while alive.
class CaptureErr {
 public:
  CaptureErr() : old_(std::cerr.rdbuf(buffer_.rdbuf())) {}
  ~CaptureErr() { std::cerr.rdbuf(old_); }
  std::string text() const { return buffer_.str(); }

 private:
  std::ostringstream buffer_;
  std::streambuf* old_;
};
}  // namespace

TEST_CASE("an error on one rank is agreed by all and printed once", "[errors_mpi]") {
  const int rank = comm_rank(MPI_COMM_WORLD);
  const int size = comm_size(MPI_COMM_WORLD);
  {
    CaptureErr capture;
    const int code = run_collectively(MPI_COMM_WORLD, [] {});
    CHECK(code == kExitOk);
    CHECK(capture.text().empty());
  }
  {
    // Every rank fails the same way: only rank 0 prints.
    CaptureErr capture;
    const int code =
        run_collectively(MPI_COMM_WORLD, [] { throw InputError("e.toml: key 'a' is bad"); });
    CHECK(code == kExitInputError);
    if (rank == 0) {
      CHECK(capture.text() == "tessera: error: e.toml: key 'a' is bad\n");
    } else {
      CHECK(capture.text().empty());
    }
  }
  {
    // Only the last rank fails: every rank returns the failure, that rank prints.
    CaptureErr capture;
    const int code = run_collectively(MPI_COMM_WORLD, [&] {
      if (rank == size - 1) throw std::runtime_error("disk full");
    });
    CHECK(code == kExitFailure);
    if (rank == size - 1) {
      CHECK_THAT(capture.text(), Catch::Matchers::Contains("disk full"));
    } else {
      CHECK(capture.text().empty());
    }
  }
}

TEST_CASE("a collective error ends a run without abort and prints once", "[errors_mpi]") {
  const int rank = comm_rank(MPI_COMM_WORLD);
  CaptureErr capture;
  const int code = run_or_abort(MPI_COMM_WORLD, [] { throw CollectiveError("NaN at step 12"); });
  CHECK(code == kExitFailure);
  if (rank == 0) {
    CHECK(capture.text() == "tessera: error: NaN at step 12\n");
  } else {
    CHECK(capture.text().empty());
  }
}
