// Initial conditions: exact cell averages, and the same road for any block of cells.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "solvers/lwr/initial_conditions.hpp"
#include "tests/support/catch.hpp"

using namespace tessera::solvers::lwr;

namespace {

LwrParameters road(long long cells, double length) {
  LwrParameters p;
  p.cells = cells;
  p.road_length = length;
  p.diagram.rho_max = 1.0;
  return p;
}

double sum(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x;
  return s;
}

// Concatenated averages of a few uneven blocks, as ranks would compute them.
std::vector<double> in_blocks(const InitialCondition& ic, const LwrParameters& p) {
  std::vector<double> all;
  const long long cuts[] = {0, 1, p.cells / 3, p.cells / 3 + 7, p.cells};
  for (int k = 0; k < 4; ++k) {
    const std::vector<double> block = initial_cell_averages(ic, p, cuts[k], cuts[k + 1] - cuts[k]);
    all.insert(all.end(), block.begin(), block.end());
  }
  return all;
}

}  // namespace

TEST_CASE("splitmix64 is the reference stream", "[initial]") {
  std::uint64_t state = 0;
  CHECK(splitmix64(state) == 0xE220A8397B1DCDAFULL);
  CHECK(splitmix64(state) == 0x6E789E6AA1B965F4ULL);
  std::uint64_t other = 12345;
  for (int k = 0; k < 1000; ++k) {
    const double u = uniform01(other);
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
  }
}

TEST_CASE("uniform and Riemann initial data are exact", "[initial]") {
  const LwrParameters p = road(10, 1.0);
  InitialCondition ic;
  ic.kind = InitialCondition::Kind::kUniform;
  ic.density = 0.35;
  for (double rho : initial_cell_averages(ic, p, 0, 10)) CHECK(rho == 0.35);

  ic.kind = InitialCondition::Kind::kRiemann;
  ic.rho_left = 0.8;
  ic.rho_right = 0.2;
  ic.x0 = 0.425;  // a quarter into cell 4
  const std::vector<double> rho = initial_cell_averages(ic, p, 0, 10);
  CHECK(rho[3] == 0.8);
  CHECK(rho[4] == Approx(0.25 * 0.8 + 0.75 * 0.2));
  CHECK(rho[5] == 0.2);
  CHECK(sum(rho) * 0.1 == Approx(0.8 * 0.425 + 0.2 * 0.575));
  CHECK(in_blocks(ic, p) == rho);
}

TEST_CASE("bell cell averages match the exact integral", "[initial]") {
  const LwrParameters p = road(40, 4.0);
  InitialCondition ic;
  ic.kind = InitialCondition::Kind::kBell;
  ic.base = 0.1;
  ic.amplitude = 0.6;
  ic.center = 1.7;
  ic.width = 0.4;
  const std::vector<double> rho = initial_cell_averages(ic, p, 0, 40);
  const double dx = 0.1;
  const double half_sqrt_pi = 0.5 * std::sqrt(std::acos(-1.0));
  for (long long i = 0; i < 40; ++i) {
    const double a = (ic.center - i * dx) / ic.width;
    const double b = (ic.center - (i + 1) * dx) / ic.width;
    const double exact =
        ic.base + ic.amplitude * ic.width * half_sqrt_pi * (std::erf(a) - std::erf(b)) / dx;
    CHECK(rho[static_cast<std::size_t>(i)] == Approx(exact).epsilon(1e-6));
  }
  CHECK(in_blocks(ic, p) == rho);
}

TEST_CASE("random platoons are reproducible and do not overlap", "[initial]") {
  const LwrParameters p = road(500, 10.0);
  InitialCondition ic;
  ic.kind = InitialCondition::Kind::kPlatoons;
  ic.base = 0.05;
  ic.platoons = 8;
  ic.platoon_density = 0.6;
  ic.platoon_length = 0.73;
  ic.seed = 2024;

  const std::vector<double> starts = platoon_starts(ic, p.road_length);
  REQUIRE(starts.size() == 8);
  CHECK(std::is_sorted(starts.begin(), starts.end()));
  CHECK(starts.front() >= 0.0);
  CHECK(starts.back() + ic.platoon_length <= p.road_length);
  for (std::size_t k = 1; k < starts.size(); ++k) {
    CHECK(starts[k] >= starts[k - 1] + ic.platoon_length);
  }

  const std::vector<double> rho = initial_cell_averages(ic, p, 0, p.cells);
  CHECK(sum(rho) * 0.02 == Approx(0.05 * 10.0 + (0.6 - 0.05) * 8 * 0.73).epsilon(1e-12));
  CHECK(*std::max_element(rho.begin(), rho.end()) == 0.6);
  CHECK(*std::min_element(rho.begin(), rho.end()) == 0.05);
  CHECK(in_blocks(ic, p) == rho);
  CHECK(initial_cell_averages(ic, p, 0, p.cells) == rho);

  InitialCondition other = ic;
  other.seed = 2025;
  CHECK(initial_cell_averages(other, p, 0, p.cells) != rho);

  SECTION("too many platoons to fit overlap and merge") {
    ic.platoons = 20;  // 20 * 0.73 > 10
    const std::vector<double> crowded = initial_cell_averages(ic, p, 0, p.cells);
    CHECK(*std::max_element(crowded.begin(), crowded.end()) == 0.6);
    CHECK(sum(crowded) * 0.02 <= 0.6 * 10.0 + 1e-12);
    CHECK(in_blocks(ic, p) == crowded);
  }
}
