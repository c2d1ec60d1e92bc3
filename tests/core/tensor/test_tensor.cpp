#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>

#include "core/tensor/gemm.hpp"
#include "core/tensor/random.hpp"
#include "core/tensor/reduce.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/host_view.hpp"

using namespace tessera::tensor;
using tessera::testing::host;

namespace {
// Reference product in double on the host.
template <class T>
std::vector<double> naive(char ta, char tb, const Matrix<T>& a, const Matrix<T>& b) {
  const std::size_t m = ta == 'N' ? a.extent(0) : a.extent(1);
  const std::size_t k = ta == 'N' ? a.extent(1) : a.extent(0);
  const std::size_t n = tb == 'N' ? b.extent(1) : b.extent(0);
  const auto ha = host(a), hb = host(b);
  std::vector<double> c(m * n, 0.0);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      for (std::size_t p = 0; p < k; ++p) {
        const double av = ta == 'N' ? ha(i, p) : ha(p, i);
        const double bv = tb == 'N' ? hb(p, j) : hb(j, p);
        c[i * n + j] += av * bv;
      }
    }
  }
  return c;
}

// Random operands for C (m x n) = op(A) op(B) with inner size k, and C filled with ones.
template <class T>
struct Operands {
  Matrix<T> a, b, c;
  Operands(char ta, char tb, std::size_t m, std::size_t n, std::size_t k, std::uint64_t seed)
      : a("a", ta == 'N' ? m : k, ta == 'N' ? k : m),
        b("b", tb == 'N' ? k : n, tb == 'N' ? n : k),
        c("c", m, n) {
    fill_normal(Vector<T>(a.data(), a.size()), T(0), T(1), seed, 0);
    fill_normal(Vector<T>(b.data(), b.size()), T(0), T(1), seed, 1);
    Kokkos::deep_copy(c, T(1));
  }
};
}  // namespace

TEMPLATE_TEST_CASE("gemm matches a naive product for every transpose", "[gemm]", float, double) {
  using T = TestType;
  for (char ta : {'N', 'T'}) {
    for (char tb : {'N', 'T'}) {
      const std::size_t m = 7, k = 5, n = 3;
      const Operands<T> operands(ta, tb, m, n, k, 1);
      const Matrix<T>&a = operands.a, &b = operands.b, &c = operands.c;
      gemm('N' == ta ? 'N' : 'T', tb, T(2), a, b, T(0.5), c);
      const auto expected = naive(ta, tb, a, b);
      const auto hc = host(c);
      for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
          CHECK(hc(i, j) == Approx(2 * expected[i * n + j] + 0.5).epsilon(1e-5));
        }
      }
    }
  }
}

// The split a threaded host backend (OpenMP) makes: blocks of rows of C (or of columns,
// when C is wide), each a single-threaded BLAS call. Run here on whatever host space the
// build has (on Serial the blocks run one after another), with 2, 3 and 5 blocks.
TEMPLATE_TEST_CASE("gemm split over host threads matches a naive product", "[gemm]", float,
                   double) {
  using T = TestType;
  if constexpr (!Kokkos::SpaceAccessibility<Kokkos::HostSpace, MemSpace>::accessible) {
    WARN("host-only path: skipped on a device build");
    return;
  }
  struct Shape {
    std::size_t m, n, k;
  };
  for (const Shape shape : {Shape{37, 5, 11}, Shape{3, 29, 7}}) {  // split by rows, by columns
    for (char ta : {'N', 'T'}) {
      for (char tb : {'N', 'T'}) {
        for (int threads : {2, 3, 5}) {
          const std::size_t m = shape.m, n = shape.n, k = shape.k;
          const Operands<T> operands(ta, tb, m, n, k, 2);
          const Matrix<T>&a = operands.a, &b = operands.b, &c = operands.c;
          REQUIRE(detail::gemm_on_host_threads(threads, ta, tb, m, n, k, T(2), a, b, T(0.5), c));
          const auto expected = naive(ta, tb, a, b);
          const auto hc = host(c);
          for (std::size_t i = 0; i < m; ++i) {
            for (std::size_t j = 0; j < n; ++j) {
              INFO(ta << tb << " " << m << "x" << n << "x" << k << " threads " << threads);
              // A margin as well: some entries cancel to near zero in float.
              CHECK(hc(i, j) == Approx(2 * expected[i * n + j] + 0.5)
                                    .epsilon(1e-5)
                                    .margin(std::is_same<T, float>::value ? 1e-5 : 1e-12));
            }
          }
        }
      }
    }
  }
  // Column-major storage is not split (KokkosBlas takes it).
  Kokkos::View<T**, Kokkos::LayoutLeft, MemSpace> left("left", 4, 4);
  Matrix<T> right("right", 4, 4), out("out", 4, 4);
  CHECK_FALSE(detail::gemm_on_host_threads(2, 'N', 'N', 4, 4, 4, T(1), left, right, T(0), out));
}

TEST_CASE("batched gemm on host threads multiplies each batch", "[gemm]") {
  for (char ta : {'N', 'T'}) {
    for (char tb : {'N', 'T'}) {
      const std::size_t batches = 5, m = 3, n = 4, k = 6;
      Tensor3<double> a("a", batches, ta == 'N' ? m : k, ta == 'N' ? k : m);
      Tensor3<double> b("b", batches, tb == 'N' ? k : n, tb == 'N' ? n : k);
      Tensor3<double> c("c", batches, m, n);
      fill_uniform(Vector<double>(a.data(), a.size()), -1.0, 1.0, 6, 0);
      fill_uniform(Vector<double>(b.data(), b.size()), -1.0, 1.0, 6, 1);
      Kokkos::deep_copy(c, 1.0);
      detail::batched_gemm_on_host_threads(ta, tb, 2.0, a, b, 0.5, c);
      const auto hc = host(c);
      for (std::size_t batch = 0; batch < batches; ++batch) {
        const auto expected =
            naive(ta, tb, detail::batch_matrix(a, batch), detail::batch_matrix(b, batch));
        for (std::size_t i = 0; i < m; ++i) {
          for (std::size_t j = 0; j < n; ++j) {
            CHECK(hc(batch, i, j) == Approx(2 * expected[i * n + j] + 0.5).epsilon(1e-12));
          }
        }
      }
    }
  }
}

TEST_CASE("gemm shape errors name the operands", "[gemm]") {
  Matrix<double> a("a", 2, 3), b("b", 4, 5), c("c", 2, 5);
  CHECK_THROWS_WITH(gemm('N', 'N', 1.0, a, b, 0.0, c),
                    Catch::Matchers::Contains("[2 x 3]") && Catch::Matchers::Contains("[4 x 5]"));
}

TEST_CASE("batched gemm multiplies each batch", "[gemm]") {
  Tensor3<double> a("a", 3, 2, 4), b("b", 3, 4, 2), c("c", 3, 2, 2);
  fill_uniform(Vector<double>(a.data(), a.size()), -1.0, 1.0, 5, 0);
  fill_uniform(Vector<double>(b.data(), b.size()), -1.0, 1.0, 5, 1);
  batched_gemm('N', 'N', 1.0, a, b, 0.0, c);
  const auto ha = host(a), hb = host(b), hc = host(c);
  for (int batch = 0; batch < 3; ++batch) {
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 2; ++j) {
        double expected = 0;
        for (int p = 0; p < 4; ++p) expected += ha(batch, i, p) * hb(batch, p, j);
        CHECK(hc(batch, i, j) == Approx(expected).epsilon(1e-12));
      }
    }
  }
}

TEST_CASE("counter RNG: values depend on (seed, stream, index) only", "[random]") {
  Vector<double> whole("whole", 1000), tail("tail", 400);
  fill_uniform(whole, 0.0, 1.0, 42, 7);
  fill_uniform(tail, 0.0, 1.0, 42, 7, 600);  // the same counters, filled separately
  const auto h_whole = host(whole), h_tail = host(tail);
  for (int i = 0; i < 400; ++i) CHECK(h_tail(i) == h_whole(600 + i));
  const double mean = sum(whole) / 1000;
  CHECK(mean == Approx(0.5).margin(0.05));
  Vector<double> other("other", 1000);
  fill_uniform(other, 0.0, 1.0, 42, 8);
  CHECK(host(other)(0) != h_whole(0));
  Vector<double> normal("normal", 20000);
  fill_normal(normal, 0.0, 2.0, 3, 0);
  const double m = sum(normal) / 20000;
  const double var = squared_norm(normal) / 20000 - m * m;
  CHECK(m == Approx(0.0).margin(0.05));
  CHECK(std::sqrt(var) == Approx(2.0).epsilon(0.03));
}

TEST_CASE("reductions and the finiteness check", "[reduce]") {
  Vector<float> x("x", 5);
  {
    auto hx = host(x);
    for (int i = 0; i < 5; ++i) hx(i) = static_cast<float>(i);
    Kokkos::deep_copy(x, hx);
  }
  CHECK(sum(x) == 10.0);
  CHECK(dot(x, x) == 30.0);
  CHECK(first_non_finite(x) == -1);
  Kokkos::deep_copy(Kokkos::subview(x, 3), std::nanf(""));
  CHECK(first_non_finite(x) == 3);
}

TEST_CASE("math::copysign is std::copysign bit for bit, -0.0 included", "[math]") {
  for (double magnitude : {0.0, -0.0, 1.5, -2.25, std::numeric_limits<double>::infinity()}) {
    for (double sign : {1.0, -1.0, 0.0, -0.0, -std::numeric_limits<double>::infinity()}) {
      const double expected = std::copysign(magnitude, sign);
      const double got = tessera::math::copysign(magnitude, sign);
      CHECK(std::memcmp(&got, &expected, sizeof(double)) == 0);
      const float expected_f = std::copysign(float(magnitude), float(sign));
      const float got_f = tessera::math::copysign(float(magnitude), float(sign));
      CHECK(std::memcmp(&got_f, &expected_f, sizeof(float)) == 0);
    }
  }
}

TEST_CASE("vectorisable float exp and tanh are accurate", "[math]") {
  double worst_exp = 0, worst_tanh = 0;
  for (double x = -87; x <= 87; x += 0.0137) {
    const float xf = static_cast<float>(x);
    const double exact = std::exp(static_cast<double>(xf));
    worst_exp = std::max(worst_exp, std::abs(tessera::math::fast_exp(xf) - exact) / exact);
    worst_tanh = std::max(
        worst_tanh, std::abs(tessera::math::fast_tanh(xf) - std::tanh(static_cast<double>(xf))));
  }
  INFO("exp relative error " << worst_exp << ", tanh absolute error " << worst_tanh);
  CHECK(worst_exp < 3e-7);
  CHECK(worst_tanh < 5e-7);
  CHECK(std::isnan(tessera::math::fast_exp(std::nanf(""))));
  CHECK(std::isnan(tessera::math::fast_tanh(std::nanf(""))));
  // tanh(9) in float: within one ulp of 1.
  CHECK(tessera::math::fast_tanh(std::numeric_limits<float>::infinity()) ==
        Approx(1.0f).epsilon(2e-7));
  CHECK(tessera::math::fast_exp(-1000.0f) == 0.0f);
  CHECK(tessera::math::fast_exp(-std::numeric_limits<float>::infinity()) == 0.0f);
  CHECK(tessera::math::fast_exp(0.0f) == 1.0f);
}
