// Collocation samplers: the Sobol sequence against its known first points and its net
// property, Latin hypercube strata, boxes, epochs, and shards that do not depend on the
// rank count.
#include <algorithm>
#include <array>
#include <set>
#include <vector>

#include "core/runtime/error.hpp"
#include "models/pinn_traffic/collocation.hpp"
#include "models/pinn_traffic/sobol.hpp"
#include "tests/support/catch.hpp"

using namespace tessera::models::pinn_traffic;

namespace {

// Points in [0, 1)^2 of the unit box (sample_points works on [-1, 1]^2 boxes).
std::vector<double> unit_points(SamplerKind kind, std::size_t n, std::uint64_t seed,
                                std::uint64_t stream, std::uint64_t epoch) {
  Box box;
  box.x_low = box.t_low = 0.0;
  box.x_high = box.t_high = 1.0;
  return sample_points(kind, n, box, seed, stream, epoch);
}

// Every elementary interval [a 2^-i, (a+1) 2^-i) x [b 2^-j, (b+1) 2^-j) with i + j = m
// holds exactly one of the 2^m points: the (0, m, 2)-net property of Sobol' points.
bool is_net(const std::vector<double>& p, int m) {
  const std::size_t n = std::size_t(1) << m;
  for (int i = 0; i <= m; ++i) {
    const int j = m - i;
    std::vector<int> count(n, 0);
    for (std::size_t k = 0; k < n; ++k) {
      const auto a = static_cast<std::size_t>(p[2 * k] * (1 << i));
      const auto b = static_cast<std::size_t>(p[2 * k + 1] * (1 << j));
      count[a * (std::size_t(1) << j) + b] += 1;
    }
    if (std::any_of(count.begin(), count.end(), [](int c) { return c != 1; })) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("Sobol points are the standard sequence", "[sampling]") {
  const Sobol2d sobol;
  // scipy.stats.qmc.Sobol(d=2, scramble=False).random(8)
  const double expected[8][2] = {{0, 0},         {0.5, 0.5},     {0.75, 0.25},   {0.25, 0.75},
                                 {0.375, 0.375}, {0.875, 0.875}, {0.625, 0.125}, {0.125, 0.625}};
  for (int i = 0; i < 8; ++i) {
    const auto p = sobol.point(static_cast<std::uint64_t>(i));
    CHECK(p[0] == expected[i][0]);
    CHECK(p[1] == expected[i][1]);
  }
  // Direction numbers of the second coordinate: m = 1, 3, 5, 15, 17, 51 (Joe-Kuo, x + 1).
  const std::array<std::uint32_t, 6> m = {1, 3, 5, 15, 17, 51};
  for (int k = 0; k < 6; ++k) CHECK(sobol.directions(1)[k] == (m[k] << (31 - k)));
  CHECK_THROWS_AS(sobol.point(std::uint64_t(1) << 33), std::out_of_range);
}

TEST_CASE("Sobol blocks are (0, m, 2)-nets, shifted or not", "[sampling]") {
  std::vector<double> plain(2 * 64);
  const Sobol2d sobol;
  for (std::size_t k = 0; k < 64; ++k) {
    const auto p = sobol.point(k);
    plain[2 * k] = p[0];
    plain[2 * k + 1] = p[1];
  }
  CHECK(is_net(plain, 6));
  // A digital shift keeps the property, and so does every later block of 2^m points.
  CHECK(is_net(unit_points(SamplerKind::kSobol, 64, 3, 0, 0), 6));
  CHECK(is_net(unit_points(SamplerKind::kSobol, 64, 3, 0, 5), 6));
  CHECK(unit_points(SamplerKind::kSobol, 64, 3, 0, 0) !=
        unit_points(SamplerKind::kSobol, 64, 3, 1, 0));
}

TEST_CASE("Latin hypercube puts one point in each stratum of each coordinate", "[sampling]") {
  for (std::size_t n : {1, 7, 100}) {
    const std::vector<double> p = unit_points(SamplerKind::kLatinHypercube, n, 11, 2, 1);
    for (int d = 0; d < 2; ++d) {
      std::set<std::size_t> strata;
      for (std::size_t i = 0; i < n; ++i) strata.insert(static_cast<std::size_t>(p[2 * i + d] * n));
      CHECK(strata.size() == n);
      CHECK(*strata.rbegin() == n - 1);
    }
  }
  // Not the identity pairing of strata.
  const std::vector<double> p = unit_points(SamplerKind::kLatinHypercube, 100, 11, 2, 1);
  std::size_t diagonal = 0;
  for (std::size_t i = 0; i < 100; ++i) {
    diagonal +=
        static_cast<std::size_t>(p[2 * i] * 100) == static_cast<std::size_t>(p[2 * i + 1] * 100);
  }
  CHECK(diagonal < 10);
}

TEST_CASE("samples stay in their box; seeds, streams and epochs give new sets", "[sampling]") {
  Box box;
  box.t_high = 0.0;  // the first half of the time window
  for (SamplerKind kind :
       {SamplerKind::kUniform, SamplerKind::kLatinHypercube, SamplerKind::kSobol}) {
    const std::vector<double> p = sample_points(kind, 500, box, 1, 0, 0);
    double mean_x = 0;
    for (std::size_t i = 0; i < 500; ++i) {
      CHECK(p[2 * i] >= -1.0);
      CHECK(p[2 * i] < 1.0);
      CHECK(p[2 * i + 1] >= -1.0);
      CHECK(p[2 * i + 1] < 0.0);
      mean_x += p[2 * i] / 500;
    }
    CHECK(std::abs(mean_x) < 0.1);
    CHECK(sample_points(kind, 500, box, 1, 0, 0) == p);  // reproducible
    CHECK(sample_points(kind, 500, box, 1, 0, 1) != p);  // resampled
    CHECK(sample_points(kind, 500, box, 2, 0, 0) != p);  // another seed
    CHECK(sampler_from_name(sampler_name(kind)) == kind);
  }
  CHECK_THROWS_AS(sampler_from_name("halton"), tessera::InputError);
}

TEST_CASE("shards cover the rows once, in order, for any rank count", "[sampling]") {
  for (std::size_t total : {0, 1, 5, 97, 1000}) {
    for (int ranks : {1, 2, 3, 4, 7}) {
      std::size_t next = 0, smallest = total, largest = 0;
      for (int r = 0; r < ranks; ++r) {
        const Shard s = shard_of(total, r, ranks);
        CHECK(s.first == next);
        next += s.count;
        smallest = std::min(smallest, s.count);
        largest = std::max(largest, s.count);
      }
      CHECK(next == total);
      CHECK(largest - std::min(smallest, largest) <= 1);
    }
  }
}
