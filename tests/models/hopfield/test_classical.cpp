// The classical binary Hopfield network: recall below capacity, asynchronous updates
// never raise the energy, failure far above capacity.
#include <vector>

#include "models/hopfield/classical.hpp"
#include "models/hopfield/patterns.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using namespace tessera::models::hopfield;

namespace {
std::size_t exact_recalls(const PatternSet& stored, const Matrix<double>& states) {
  const PatternSet out = to_host(states);
  std::size_t ok = 0;
  for (std::size_t b = 0; b < stored.count; ++b) {
    bool same = true;
    for (std::size_t k = 0; k < stored.dim; ++k) {
      same = same && out.values[b * stored.dim + k] == stored.values[b * stored.dim + k];
    }
    ok += same;
  }
  return ok;
}
}  // namespace

TEST_CASE("classical network recalls a few patterns, sync and async", "[classical]") {
  const PatternSet x = random_patterns(PatternKind::kBinary, 5, 128, 11);
  const ClassicalHopfield net(to_device<double>(x));
  const PatternSet q = corrupt(x, 0.1, Corruption::kFlip, 12);
  for (ClassicalUpdate update : {ClassicalUpdate::kSynchronous, ClassicalUpdate::kAsynchronous}) {
    const ClassicalRecall r = net.recall(to_device<double>(q), update, 20, 3);
    CHECK(exact_recalls(x, r.states) == 5);
    const std::vector<double> start = net.energy(to_device<double>(q));
    for (std::size_t b = 0; b < 5; ++b) {
      CHECK(r.energy[b] <= start[b]);
      CHECK(r.sweeps[b] <= 20);
    }
  }
}

TEST_CASE("classical network fails far above 0.14 d patterns", "[classical]") {
  const PatternSet x = random_patterns(PatternKind::kBinary, 40, 64, 13);
  const ClassicalHopfield net(to_device<double>(x));
  const ClassicalRecall r = net.recall(to_device<double>(x), ClassicalUpdate::kAsynchronous, 50, 1);
  CHECK(exact_recalls(x, r.states) < 10);
}
