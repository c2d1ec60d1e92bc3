// The node model against flows computed by hand (Daganzo's merge and diverge rules, a
// 2 x 2 junction) and against the invariants every first-order node model must keep.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/tensor/random.hpp"
#include "solvers/lwr/network/node_model.hpp"
#include "tests/support/catch.hpp"

using namespace tessera::solvers::lwr::network;

namespace {

struct Result {
  std::vector<double> in, out;
};

Result evaluate(const std::vector<double>& demand, const std::vector<double>& priority,
                const std::vector<std::vector<double>>& beta, const std::vector<double>& supply) {
  const int n_in = static_cast<int>(demand.size()), n_out = static_cast<int>(supply.size());
  std::vector<double> b(kMaxNodeDegree * kMaxNodeDegree, 0.0);
  for (int i = 0; i < n_in; ++i) {
    for (int j = 0; j < n_out; ++j) b[i * kMaxNodeDegree + j] = beta[i][j];
  }
  Result r{std::vector<double>(n_in), std::vector<double>(n_out)};
  node_model(n_in, n_out, demand.data(), priority.data(), b.data(), supply.data(), r.in.data(),
             r.out.data());
  return r;
}

double mid(double a, double b, double c) {
  return std::max(std::min(a, b), std::min(std::max(a, b), c));
}

}  // namespace

TEST_CASE("merge: free flow below the supply, Daganzo's mid rule above it", "[node_model]") {
  const std::vector<double> capacity = {4000, 2000};  // priorities 2/3 and 1/3
  const std::vector<std::vector<double>> one_out = {{1.0}, {1.0}};
  // D1 + D2 <= S: everything passes.
  Result r = evaluate({700, 600}, capacity, one_out, {1500});
  CHECK(r.in[0] == 700);
  CHECK(r.in[1] == 600);
  CHECK(r.out[0] == 1300);
  // Both above their share: the supply is split 2:1.
  r = evaluate({1000, 800}, capacity, one_out, {1500});
  CHECK(r.in[0] == Approx(1000).epsilon(1e-14));
  CHECK(r.in[1] == Approx(500).epsilon(1e-14));
  // The ramp below its share: it sends everything, the mainline takes the rest.
  r = evaluate({1200, 300}, capacity, one_out, {1400});
  CHECK(r.in[1] == 300);
  CHECK(r.in[0] == Approx(1100).epsilon(1e-14));
  // Random cases against q_i = mid(D_i, S - D_k, p_i S).
  for (int k = 0; k < 200; ++k) {
    const double d1 = 3000 * tessera::tensor::counter_uniform(1, 1, k);
    const double d2 = 2000 * tessera::tensor::counter_uniform(1, 2, k);
    const double s = 4000 * tessera::tensor::counter_uniform(1, 3, k);
    r = evaluate({d1, d2}, capacity, one_out, {s});
    if (d1 + d2 <= s) {
      CHECK(r.in[0] == d1);
      CHECK(r.in[1] == d2);
    } else {
      CHECK(r.in[0] == Approx(mid(d1, s - d2, 2.0 / 3.0 * s)).epsilon(1e-12));
      CHECK(r.in[1] == Approx(mid(d2, s - d1, 1.0 / 3.0 * s)).epsilon(1e-12));
    }
  }
}

TEST_CASE("diverge: FIFO, the tightest out-link holds back every turn", "[node_model]") {
  // q = min(D, S_1 / 0.8, S_2 / 0.2) = min(2000, 3750, 1500) = 1500.
  Result r = evaluate({2000}, {6000}, {{0.8, 0.2}}, {3000, 300});
  CHECK(r.in[0] == Approx(1500).epsilon(1e-14));
  CHECK(r.out[0] == Approx(1200).epsilon(1e-14));
  CHECK(r.out[1] == Approx(300).epsilon(1e-14));
  // Enough supply: the whole demand passes.
  r = evaluate({2000}, {6000}, {{0.8, 0.2}}, {3000, 1000});
  CHECK(r.in[0] == 2000);
  CHECK(r.out[0] == Approx(1600).epsilon(1e-14));
}

TEST_CASE("a 2 x 2 junction, computed by hand", "[node_model]") {
  // C = (2, 1), D = (2, 1), beta = 1/2 everywhere, R = (1, 3): a_1 = 1 / 1.5 is the
  // tightest; neither in-link fits (2 > 4/3, 1 > 2/3), so q = a_1 C = (4/3, 2/3).
  const Result r = evaluate({2, 1}, {2, 1}, {{0.5, 0.5}, {0.5, 0.5}}, {1, 3});
  CHECK(r.in[0] == Approx(4.0 / 3.0).epsilon(1e-14));
  CHECK(r.in[1] == Approx(2.0 / 3.0).epsilon(1e-14));
  CHECK(r.out[0] == Approx(1.0).epsilon(1e-14));
  CHECK(r.out[1] == Approx(1.0).epsilon(1e-14));
}

TEST_CASE("random junctions keep the node-model invariants", "[node_model]") {
  // Conservation, demand and supply constraints, FIFO, and no idle capacity: every in-link
  // either sends its whole demand or is held back by a full out-link it turns into.
  for (int k = 0; k < 500; ++k) {
    auto u = [&](int stream) { return tessera::tensor::counter_uniform(7, stream, k); };
    const int n_in = 1 + static_cast<int>(u(1) * 4), n_out = 1 + static_cast<int>(u(2) * 4);
    std::vector<double> demand(n_in), priority(n_in), supply(n_out);
    std::vector<std::vector<double>> beta(n_in, std::vector<double>(n_out));
    for (int i = 0; i < n_in; ++i) {
      demand[i] = u(10 + i) < 0.1 ? 0.0 : 2000 * u(20 + i);
      priority[i] = 1000 + 3000 * u(30 + i);
      double sum = 0;
      for (int j = 0; j < n_out; ++j) {
        beta[i][j] = u(40 + 8 * i + j) < 0.2 ? 0.0 : u(100 + 8 * i + j);
        sum += beta[i][j];
      }
      if (sum == 0) beta[i][0] = sum = 1;
      for (double& b : beta[i]) b /= sum;
    }
    for (int j = 0; j < n_out; ++j) supply[j] = 3000 * u(200 + j);
    const Result r = evaluate(demand, priority, beta, supply);
    double total_in = 0, total_out = 0;
    for (int i = 0; i < n_in; ++i) {
      CHECK(r.in[i] >= 0);
      CHECK(r.in[i] <= demand[i] * (1 + 1e-12));
      total_in += r.in[i];
    }
    for (int j = 0; j < n_out; ++j) {
      CHECK(r.out[j] <= supply[j] * (1 + 1e-12) + 1e-9);
      total_out += r.out[j];
    }
    CHECK(total_out == Approx(total_in).epsilon(1e-12).margin(1e-9));
    for (int i = 0; i < n_in; ++i) {
      if (r.in[i] >= demand[i] * (1 - 1e-12)) continue;
      bool blocked = false;
      for (int j = 0; j < n_out; ++j) {
        if (beta[i][j] > 0 && r.out[j] >= supply[j] * (1 - 1e-9) - 1e-9) blocked = true;
      }
      CHECK(blocked);
    }
  }
}

TEST_CASE("without FIFO a blocked movement holds back only itself", "[node_model]") {
  // Two in-links split 50/50 over two out-links; out-link 1 takes nothing.
  const std::vector<double> demand = {1000, 600}, priority = {2000, 2000}, supply = {5000, 0};
  const std::vector<std::vector<double>> beta = {{0.5, 0.5}, {0.5, 0.5}};
  const Result fifo = evaluate(demand, priority, beta, supply);
  CHECK(fifo.in[0] == 0.0);  // FIFO: the blocked half stops the whole in-link
  CHECK(fifo.in[1] == 0.0);
  std::vector<double> b(kMaxNodeDegree * kMaxNodeDegree, 0.0);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) b[i * kMaxNodeDegree + j] = beta[i][j];
  }
  Result free{std::vector<double>(2), std::vector<double>(2)};
  node_model_without_fifo(2, 2, demand.data(), priority.data(), b.data(), supply.data(),
                          free.in.data(), free.out.data());
  CHECK(free.in[0] == 500.0);  // the through half passes
  CHECK(free.in[1] == 300.0);
  CHECK(free.out[0] == 800.0);
  CHECK(free.out[1] == 0.0);
  // With enough supply both models pass everything; with a tight out-link 0 (400) its
  // movements share it by capacity (equal here), out-link 1 unaffected.
  const std::vector<double> tight = {400, 5000};
  node_model_without_fifo(2, 2, demand.data(), priority.data(), b.data(), tight.data(),
                          free.in.data(), free.out.data());
  CHECK(free.out[0] == Approx(400.0).epsilon(1e-14));
  CHECK(free.out[1] == Approx(800.0).epsilon(1e-14));
  CHECK(free.in[0] == Approx(200.0 + 500.0).epsilon(1e-14));
  CHECK(free.in[1] == Approx(200.0 + 300.0).epsilon(1e-14));
}
