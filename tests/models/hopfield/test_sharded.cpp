// Sharded memory: patterns split over the ranks of MPI_COMM_WORLD retrieve what the
// whole memory on one rank retrieves (to round-off), with the memory per rank ~ N / P.
#include <mpi.h>

#include <cmath>
#include <cstdlib>
#include <iostream>

#include "core/runtime/runtime.hpp"
#include "models/hopfield/memory.hpp"
#include "models/hopfield/patterns.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using namespace tessera::models::hopfield;

namespace {
template <class T>
void compare(double tolerance) {
  const int rank = runtime::comm_rank(MPI_COMM_WORLD), size = runtime::comm_size(MPI_COMM_WORLD);
  const std::size_t n = 37, d = 12, b = 9;
  const PatternSet x = random_patterns(PatternKind::kGaussian, n, d, 21);
  const PatternSet q = random_patterns(PatternKind::kGaussian, b, d, 22);
  std::size_t first = 0, count = 0;
  block_rows(n, size, rank, first, count);
  HopfieldMemory<T> sharded(MPI_COMM_WORLD, to_device<T>(rows_of(x, first, count)), first);
  HopfieldMemory<T> whole(MPI_COMM_SELF, to_device<T>(x));
  CHECK(sharded.size() == n);
  CHECK(sharded.max_norm() == Approx(whole.max_norm()));
  CHECK(sharded.local_bytes() == count * d * sizeof(T));
  RetrievalOptions options;
  options.beta = 0.4;
  options.max_steps = 4;
  options.association = true;
  const Retrieval<T> a = sharded.retrieve(to_device<T>(q), options);
  const Retrieval<T> e = whole.retrieve(to_device<T>(q), options);
  REQUIRE(a.steps == e.steps);
  const PatternSet sa = to_host(a.states), se = to_host(e.states);
  double worst = 0;
  for (std::size_t i = 0; i < sa.values.size(); ++i) {
    worst = std::max(worst, std::abs(sa.values[i] - se.values[i]));
  }
  CHECK(worst < tolerance);
  for (std::size_t t = 0; t < e.energy.size(); ++t) {
    for (std::size_t i = 0; i < b; ++i) {
      CHECK(a.energy[t][i] == Approx(e.energy[t][i]).epsilon(tolerance));
    }
  }
  CHECK(a.closest == e.closest);
  // This rank's columns of the association are the whole memory's columns.
  auto ha = Kokkos::create_mirror_view(a.association);
  auto he = Kokkos::create_mirror_view(e.association);
  Kokkos::deep_copy(ha, a.association);
  Kokkos::deep_copy(he, e.association);
  REQUIRE(ha.extent(1) == count);
  for (std::size_t i = 0; i < b; ++i) {
    for (std::size_t j = 0; j < count; ++j)
      CHECK(ha(i, j) == Approx(he(i, first + j)).margin(tolerance));
  }
  if (rank == 0 && std::getenv("TESSERA_TEST_VERBOSE")) {
    std::cout << size << " ranks: max |state difference| " << worst << ", bytes per rank "
              << sharded.local_bytes() << " of " << whole.local_bytes() << "\n";
  }
}
}  // namespace

TEST_CASE("sharded retrieval equals the one-rank result", "[sharded]") {
  compare<double>(1e-12);
  compare<float>(2e-6);
}
