#include "models/st_forecast/laplacian_eigen.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/runtime/error.hpp"
#include "core/tensor/random.hpp"

extern "C" void dsyevr_(const char* jobz, const char* range, const char* uplo, const int* n,
                        double* a, const int* lda, const double* vl, const double* vu,
                        const int* il, const int* iu, const double* abstol, int* m, double* w,
                        double* z, const int* ldz, int* isuppz, double* work, const int* lwork,
                        int* iwork, const int* liwork, int* info);

namespace tessera::models::st_forecast {

namespace {

// LAPACK dsyevr on a dense symmetric column-major n x n matrix `a` (destroyed): the
// eigenpairs `first` .. `last` (0-based, ascending); vectors column-major n x count.
void dense_eigenpairs(std::size_t n, std::vector<double>& a, std::size_t first, std::size_t last,
                      std::vector<double>& values, std::vector<double>& vectors) {
  const int size = static_cast<int>(n), il = static_cast<int>(first + 1),
            iu = static_cast<int>(last + 1);
  const std::size_t count = last - first + 1;
  const double none = 0, abstol = 0;
  int found = 0, info = 0;
  std::vector<double> w(n);
  vectors.assign(n * count, 0.0);
  std::vector<int> support(2 * count);
  int lwork = -1, liwork = -1, iwork_query = 0;
  double work_query = 0;
  dsyevr_("V", "I", "U", &size, a.data(), &size, &none, &none, &il, &iu, &abstol, &found, w.data(),
          vectors.data(), &size, support.data(), &work_query, &lwork, &iwork_query, &liwork, &info);
  lwork = static_cast<int>(work_query);
  liwork = iwork_query;
  std::vector<double> work(static_cast<std::size_t>(std::max(lwork, 1)));
  std::vector<int> iwork(static_cast<std::size_t>(std::max(liwork, 1)));
  dsyevr_("V", "I", "U", &size, a.data(), &size, &none, &none, &il, &iu, &abstol, &found, w.data(),
          vectors.data(), &size, support.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  if (info != 0 || found != static_cast<int>(count)) {
    throw std::runtime_error(str("LAPACK dsyevr failed on a ", n, " x ", n,
                                 " symmetric matrix (info ", info, ", ", found, " of ", count,
                                 " eigenpairs found)"));
  }
  values.assign(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(count));
}

}  // namespace

std::vector<double> laplacian_off_diagonal(const WeightedCsr& g) {
  const auto& row_ptr = *g.row_ptr;
  const auto& col_idx = *g.col_idx;
  const auto& w = *g.weights;
  std::vector<double> scale(g.nodes, 0.0);
  for (std::size_t i = 0; i < g.nodes; ++i) {
    double degree = 0;
    for (auto k = row_ptr[i]; k < row_ptr[i + 1]; ++k) degree += w[static_cast<std::size_t>(k)];
    scale[i] = degree > 0 ? 1.0 / std::sqrt(degree) : 0.0;
  }
  std::vector<double> a(w.size());
  for (std::size_t i = 0; i < g.nodes; ++i) {
    for (auto k = row_ptr[i]; k < row_ptr[i + 1]; ++k) {
      const auto q = static_cast<std::size_t>(k);
      a[q] = -(scale[i] * w[q] * scale[static_cast<std::size_t>(col_idx[q])]);
    }
  }
  return a;
}

namespace {

Eigenpairs dense_solve(const WeightedCsr& g, std::size_t count) {
  const std::size_t n = g.nodes;
  const std::vector<double> off = laplacian_off_diagonal(g);
  std::vector<double> l(n * n, 0.0);  // symmetric: row- or column-major alike
  for (std::size_t i = 0; i < n; ++i) {
    l[i * n + i] = 1.0;
    for (auto k = (*g.row_ptr)[i]; k < (*g.row_ptr)[i + 1]; ++k) {
      const auto q = static_cast<std::size_t>(k);
      l[i * n + static_cast<std::size_t>((*g.col_idx)[q])] = off[q];
    }
  }
  Eigenpairs out;
  std::vector<double> columns;
  dense_eigenpairs(n, l, 0, count - 1, out.values, columns);
  out.vectors.resize(n * count);
  for (std::size_t k = 0; k < count; ++k) {
    for (std::size_t i = 0; i < n; ++i) out.vectors[i * count + k] = columns[k * n + i];
  }
  return out;
}

// A block of p vectors of length n, column-major (column k at data[k * n]).
struct Block {
  std::size_t n = 0, p = 0;
  std::vector<double> data;
  Block(std::size_t rows, std::size_t cols) : n(rows), p(cols), data(rows * cols, 0.0) {}
  double* column(std::size_t k) { return data.data() + k * n; }
  const double* column(std::size_t k) const { return data.data() + k * n; }
};

double dot(const double* x, const double* y, std::size_t n) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += x[i] * y[i];
  return s;
}

// The filtered solver's operator: y = L x, column by column.
class LaplacianOperator {
 public:
  explicit LaplacianOperator(const WeightedCsr& g) : g_(g), off_(laplacian_off_diagonal(g)) {}

  void apply(const Block& x, Block& y) {
    const auto& row_ptr = *g_.row_ptr;
    const auto& col_idx = *g_.col_idx;
    for (std::size_t k = 0; k < x.p; ++k) {
      const double* in = x.column(k);
      double* out = y.column(k);
      for (std::size_t i = 0; i < x.n; ++i) {
        double acc = in[i];
        for (auto e = row_ptr[i]; e < row_ptr[i + 1]; ++e) {
          const auto q = static_cast<std::size_t>(e);
          acc += off_[q] * in[static_cast<std::size_t>(col_idx[q])];
        }
        out[i] = acc;
      }
    }
    ++products_;
  }
  std::size_t products() const { return products_; }

 private:
  const WeightedCsr& g_;
  std::vector<double> off_;
  std::size_t products_ = 0;
};

void fill_random(Block& x, std::size_t k, std::uint64_t stream) {
  double* c = x.column(k);
  for (std::size_t i = 0; i < x.n; ++i) c[i] = tensor::counter_uniform(29, stream, i) - 0.5;
}

// Modified Gram-Schmidt, twice (the filter leaves the columns' scales up to 1e8 apart);
// a column that falls into the span of the ones before is replaced by a random one.
void orthonormalise(Block& x, std::uint64_t& refills) {
  for (std::size_t k = 0; k < x.p; ++k) {
    double* c = x.column(k);
    for (int attempt = 0;; ++attempt) {
      const double before = std::sqrt(dot(c, c, x.n));
      for (int pass = 0; pass < 2; ++pass) {
        for (std::size_t j = 0; j < k; ++j) {
          const double* q = x.column(j);
          const double r = dot(q, c, x.n);
          for (std::size_t i = 0; i < x.n; ++i) c[i] -= r * q[i];
        }
      }
      const double norm = std::sqrt(dot(c, c, x.n));
      if (norm > 1e-10 * before && norm > 0) {
        for (std::size_t i = 0; i < x.n; ++i) c[i] /= norm;
        break;
      }
      if (attempt == 3)
        throw std::runtime_error("eigen-solver: cannot complete an orthonormal block");
      fill_random(x, k, 1000 + refills++);
    }
  }
}

// x <- x v for the p x p column-major rotation v.
void rotate(Block& x, const std::vector<double>& v) {
  std::vector<double> rotated(x.data.size(), 0.0);
  for (std::size_t k = 0; k < x.p; ++k) {
    double* out = rotated.data() + k * x.n;
    for (std::size_t j = 0; j < x.p; ++j) {
      const double c = v[k * x.p + j];
      const double* in = x.column(j);
      for (std::size_t i = 0; i < x.n; ++i) out[i] += c * in[i];
    }
  }
  x.data.swap(rotated);
}

// y = p_m(L) x for the Chebyshev polynomial of degree m that is small on [cut, 2] and 1
// at 0 (the bottom of the spectrum), by the scaled three-term recurrence (no overflow).
void chebyshev_filter(LaplacianOperator& op, Block& x, int m, double cut) {
  const double upper = 2.0, bottom = 0.0;
  const double e = (upper - cut) / 2, c = (upper + cut) / 2;
  double sigma = e / (bottom - c);
  const double tau = 2 / sigma;
  Block lx(x.n, x.p), y(x.n, x.p), next(x.n, x.p);
  op.apply(x, lx);
  for (std::size_t q = 0; q < x.data.size(); ++q)
    y.data[q] = (lx.data[q] - c * x.data[q]) * sigma / e;
  for (int degree = 2; degree <= m; ++degree) {
    const double sigma_next = 1 / (tau - sigma);
    op.apply(y, lx);
    for (std::size_t q = 0; q < x.data.size(); ++q) {
      next.data[q] =
          (lx.data[q] - c * y.data[q]) * (2 * sigma_next / e) - sigma * sigma_next * x.data[q];
    }
    x.data.swap(y.data);
    y.data.swap(next.data);
    sigma = sigma_next;
  }
  x.data.swap(y.data);
}

Eigenpairs filtered_solve(const WeightedCsr& g, std::size_t count, EigenStats& stats) {
  const std::size_t n = g.nodes;
  const std::size_t guard = std::min(std::max<std::size_t>(10, count / 2), n - count - 1);
  const std::size_t p = count + guard;
  LaplacianOperator op(g);
  Block x(n, p), lx(n, p);
  std::uint64_t refills = 0;
  for (std::size_t k = 0; k < p; ++k) fill_random(x, k, k);
  orthonormalise(x, refills);
  std::vector<double> theta, v, h(p * p);
  const int max_iterations = 1000;
  for (int iteration = 0;; ++iteration) {
    // Rayleigh-Ritz: the best approximations to eigenpairs within span(x).
    op.apply(x, lx);
    for (std::size_t a = 0; a < p; ++a) {
      for (std::size_t b = a; b < p; ++b) {
        // L is symmetric: one product per pair (dsyevr reads the upper triangle).
        h[a * p + b] = h[b * p + a] = dot(x.column(a), lx.column(b), n);
      }
    }
    std::vector<double> small = h;
    dense_eigenpairs(p, small, 0, p - 1, theta, v);
    rotate(x, v);
    rotate(lx, v);
    double worst = 0;
    for (std::size_t k = 0; k < count; ++k) {
      const double* xk = x.column(k);
      const double* lk = lx.column(k);
      double r = 0;
      for (std::size_t i = 0; i < n; ++i)
        r += (lk[i] - theta[k] * xk[i]) * (lk[i] - theta[k] * xk[i]);
      worst = std::max(worst, std::sqrt(r));
    }
    stats.iterations = iteration;
    stats.max_residual = worst;
    if (worst <= kResidualTolerance) break;
    if (iteration == max_iterations) {
      throw std::runtime_error(str("eigen-solver: the ", count, " smallest eigenpairs of a ", n,
                                   "-node graph Laplacian did not converge in ", max_iterations,
                                   " filtered iterations (largest residual ", worst, ")"));
    }
    // Damp [cut, 2], cut the largest Ritz value: a degree that shrinks it by at most
    // 1e8 relative to the bottom keeps the columns apart for Gram-Schmidt.
    const double cut = std::min(theta[p - 1], 1.99);
    const double ratio = (2.0 + cut) / (2.0 - cut);
    const int degree = std::clamp(static_cast<int>(std::acosh(1e8) / std::acosh(ratio)), 2, 100);
    chebyshev_filter(op, x, degree, cut);
    orthonormalise(x, refills);
  }
  stats.products = op.products();
  Eigenpairs out;
  out.values.assign(theta.begin(), theta.begin() + static_cast<std::ptrdiff_t>(count));
  out.vectors.resize(n * count);
  for (std::size_t k = 0; k < count; ++k) {
    for (std::size_t i = 0; i < n; ++i) out.vectors[i * count + k] = x.column(k)[i];
  }
  return out;
}

}  // namespace

Eigenpairs smallest_laplacian_eigenpairs(const WeightedCsr& g, std::size_t count,
                                         EigenMethod method, EigenStats* stats) {
  if (count == 0 || count > g.nodes) {
    throw std::invalid_argument(str("smallest_laplacian_eigenpairs: ", count,
                                    " eigenpairs asked of a ", g.nodes, "-node graph"));
  }
  EigenStats local;
  EigenStats& s = stats ? *stats : local;
  s = EigenStats{};
  if (method == EigenMethod::kAuto) {
    method = g.nodes <= kDenseMaxNodes ? EigenMethod::kDense : EigenMethod::kFiltered;
  }
  s.method = method;
  if (method == EigenMethod::kDense) return dense_solve(g, count);
  if (count + 1 >= g.nodes) {
    throw std::invalid_argument(str("the filtered eigen-solver needs more nodes (", g.nodes,
                                    ") than the ", count, " eigenpairs asked plus one"));
  }
  return filtered_solve(g, count, s);
}

}  // namespace tessera::models::st_forecast
