// Retrieval of the modern Hopfield memory against a direct evaluation of the update and
// the energy; the energy never increases; one-step retrieval of corrupted patterns.
#include <cmath>
#include <vector>

#include "models/hopfield/memory.hpp"
#include "models/hopfield/patterns.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using namespace tessera::models::hopfield;

namespace {

// xi <- X^T softmax(beta X xi) and E(xi) for one query, in long double on the host.
std::vector<double> direct_update(const PatternSet& x, const std::vector<double>& xi, double beta,
                                  double* energy) {
  std::vector<long double> z(x.count);
  long double m = -1e300L, max_norm = 0;
  for (std::size_t i = 0; i < x.count; ++i) {
    long double dot = 0, sq = 0;
    for (std::size_t k = 0; k < x.dim; ++k) {
      dot += x.values[i * x.dim + k] * xi[k];
      sq += x.values[i * x.dim + k] * x.values[i * x.dim + k];
    }
    z[i] = beta * dot;
    m = std::max(m, z[i]);
    max_norm = std::max(max_norm, std::sqrt(sq));
  }
  long double s = 0;
  for (auto& v : z) s += (v = std::exp(v - m));
  std::vector<double> out(x.dim, 0.0);
  for (std::size_t i = 0; i < x.count; ++i) {
    for (std::size_t k = 0; k < x.dim; ++k) {
      out[k] += static_cast<double>(z[i] / s * x.values[i * x.dim + k]);
    }
  }
  long double norm = 0;
  for (double v : xi) norm += v * v;
  *energy = static_cast<double>(-(m + std::log(s)) / beta + norm / 2 +
                                std::log(static_cast<long double>(x.count)) / beta +
                                max_norm * max_norm / 2);
  return out;
}

}  // namespace

TEST_CASE("one update and its energy match a direct evaluation", "[retrieval]") {
  const PatternSet x = random_patterns(PatternKind::kGaussian, 50, 16, 1);
  const PatternSet q = random_patterns(PatternKind::kGaussian, 7, 16, 2);
  HopfieldMemory<double> memory(MPI_COMM_SELF, to_device<double>(x));
  RetrievalOptions options;
  options.beta = 0.7;
  options.max_steps = 1;
  options.association = true;
  options.chunk = 3;  // several blocks of queries
  const Retrieval<double> r = memory.retrieve(to_device<double>(q), options);
  const PatternSet out = to_host(r.states);
  REQUIRE(r.energy.size() == 2);
  auto assoc = Kokkos::create_mirror_view(r.association);
  Kokkos::deep_copy(assoc, r.association);
  for (std::size_t b = 0; b < q.count; ++b) {
    std::vector<double> xi(q.values.begin() + b * 16, q.values.begin() + (b + 1) * 16);
    double e0 = 0, e1 = 0;
    const std::vector<double> expected = direct_update(x, xi, 0.7, &e0);
    direct_update(x, expected, 0.7, &e1);
    for (std::size_t k = 0; k < 16; ++k)
      CHECK(out.values[b * 16 + k] == Approx(expected[k]).margin(1e-12));
    CHECK(r.energy[0][b] == Approx(e0).epsilon(1e-12));
    CHECK(r.energy[1][b] == Approx(e1).epsilon(1e-12));
    double row = 0;
    for (std::size_t j = 0; j < 50; ++j) row += assoc(b, j);
    CHECK(row == Approx(1.0).epsilon(1e-12));
  }
}

// The tiled path (online softmax over tiles of patterns, no association kept) against
// the direct evaluation, with tiles of 7 patterns so that the running maximum moves
// between tiles, and in float through the processor-specific exp clones.
TEST_CASE("tiled retrieval matches a direct evaluation", "[retrieval]") {
  const PatternSet x = random_patterns(PatternKind::kGaussian, 61, 16, 5);
  const PatternSet q = random_patterns(PatternKind::kGaussian, 9, 16, 6);
  RetrievalOptions options;
  options.beta = 0.9;
  options.max_steps = 1;
  options.chunk = 4;
  options.pattern_tile = 7;
  HopfieldMemory<double> memory(MPI_COMM_SELF, to_device<double>(x));
  const Retrieval<double> r = memory.retrieve(to_device<double>(q), options);
  HopfieldMemory<float> memory_f(MPI_COMM_SELF, to_device<float>(x));
  const Retrieval<float> rf = memory_f.retrieve(to_device<float>(q), options);
  const PatternSet out = to_host(r.states), out_f = to_host(rf.states);
  for (std::size_t b = 0; b < q.count; ++b) {
    std::vector<double> xi(q.values.begin() + b * 16, q.values.begin() + (b + 1) * 16);
    double e0 = 0;
    const std::vector<double> expected = direct_update(x, xi, 0.9, &e0);
    for (std::size_t k = 0; k < 16; ++k) {
      CHECK(out.values[b * 16 + k] == Approx(expected[k]).margin(1e-12));
      CHECK(out_f.values[b * 16 + k] == Approx(expected[k]).margin(2e-5));
    }
    CHECK(r.energy[0][b] == Approx(e0).epsilon(1e-12));
    CHECK(rf.energy[0][b] == Approx(e0).epsilon(1e-5));
    // The closest pattern of the retrieved state: the argmax over all tiles.
    std::size_t best = 0;
    double best_dot = -1e300;
    for (std::size_t i = 0; i < x.count; ++i) {
      double dot = 0;
      for (std::size_t k = 0; k < 16; ++k) dot += x.values[i * 16 + k] * out.values[b * 16 + k];
      if (dot > best_dot) best_dot = dot, best = i;
    }
    CHECK(r.closest[b] == static_cast<long long>(best));
  }
}

TEST_CASE("ties go to the smallest index across tiles", "[retrieval]") {
  // Patterns 2 and 9 are equal (different tiles of 4): the closest is 2.
  PatternSet x = random_patterns(PatternKind::kGaussian, 12, 8, 7);
  for (std::size_t k = 0; k < 8; ++k) x.values[9 * 8 + k] = x.values[2 * 8 + k];
  PatternSet q;
  q.count = 1;
  q.dim = 8;
  q.values.assign(x.values.begin() + 2 * 8, x.values.begin() + 3 * 8);
  RetrievalOptions options;
  options.beta = 50.0;
  options.pattern_tile = 4;
  HopfieldMemory<double> memory(MPI_COMM_SELF, to_device<double>(x));
  const Retrieval<double> r = memory.retrieve(to_device<double>(q), options);
  CHECK(r.closest[0] == 2);
}

TEST_CASE("the energy never increases between updates", "[energy]") {
  for (double beta : {0.05, 0.3, 2.0}) {
    const PatternSet x = random_patterns(PatternKind::kGaussian, 40, 8, 3);
    const PatternSet q = random_patterns(PatternKind::kGaussian, 12, 8, 4);
    HopfieldMemory<double> memory(MPI_COMM_SELF, to_device<double>(x));
    RetrievalOptions options;
    options.beta = beta;
    options.max_steps = 25;
    const Retrieval<double> r = memory.retrieve(to_device<double>(q), options);
    REQUIRE(r.energy.size() == static_cast<std::size_t>(r.steps) + 1);
    for (std::size_t t = 1; t < r.energy.size(); ++t) {
      for (std::size_t b = 0; b < q.count; ++b) {
        INFO("beta " << beta << " step " << t << " query " << b);
        CHECK(r.energy[t][b] <= r.energy[t - 1][b] + 1e-12 * std::abs(r.energy[t - 1][b]));
      }
    }
  }
}

TEST_CASE("one step retrieves masked and flipped binary patterns; eps stops early", "[retrieval]") {
  const std::size_t n = 64, d = 64;
  const PatternSet x = random_patterns(PatternKind::kBinary, n, d, 5);
  HopfieldMemory<float> memory(MPI_COMM_SELF, to_device<float>(x));
  for (Corruption kind : {Corruption::kMask, Corruption::kFlip}) {
    const PatternSet q = corrupt(x, 0.2, kind, 6);
    RetrievalOptions options;
    options.beta = 1.0;
    options.max_steps = 5;
    options.eps = 1e-4;
    const Retrieval<float> r = memory.retrieve(to_device<float>(q), options);
    CHECK(r.steps <= 3);  // one step retrieves; the next ones only confirm
    const PatternSet out = to_host(r.states);
    double worst = 0;
    for (std::size_t i = 0; i < out.values.size(); ++i) {
      worst = std::max(worst, std::abs(out.values[i] - x.values[i]));
    }
    CHECK(worst < 1e-4);
    for (std::size_t b = 0; b < n; ++b) CHECK(r.closest[b] == static_cast<long long>(b));
  }
}

TEST_CASE("float retrieval (fast exp) agrees with double", "[retrieval]") {
  const PatternSet x = random_patterns(PatternKind::kGaussian, 300, 32, 7);
  const PatternSet q = random_patterns(PatternKind::kGaussian, 20, 32, 8);
  RetrievalOptions options;
  options.beta = 0.25;
  options.max_steps = 3;
  HopfieldMemory<float> mf(MPI_COMM_SELF, to_device<float>(x));
  HopfieldMemory<double> md(MPI_COMM_SELF, to_device<double>(x));
  const PatternSet a = to_host(mf.retrieve(to_device<float>(q), options).states);
  const PatternSet b = to_host(md.retrieve(to_device<double>(q), options).states);
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < a.values.size(); ++i) {
    diff += (a.values[i] - b.values[i]) * (a.values[i] - b.values[i]);
    norm += b.values[i] * b.values[i];
  }
  CHECK(std::sqrt(diff / norm) < 1e-5);
  // The softmax pass: shifted exponentials and their sum.
  std::vector<float> row = {0.0f, -1e-3f, -0.5f, -1.0f, -10.0f, -50.0f, -86.0f, -1e30f, 0.25f};
  std::vector<float> original = row;
  const float total = exp_shift_sum(row.data(), row.size(), 0.25f);
  double expected = 0;
  for (std::size_t j = 0; j < row.size(); ++j) {
    const double e = std::exp(static_cast<double>(original[j]) - 0.25);
    CHECK(row[j] == Approx(e).epsilon(3e-7).margin(1e-37));
    expected += e;
  }
  CHECK(total == Approx(expected).epsilon(1e-6));
}
