#pragma once
// The classical binary Hopfield network (Hopfield 1982), the baseline of the modern one:
// Hebbian weights W = (1/d) sum_mu x_mu x_mu^T with a zero diagonal for +-1 patterns, and
// sign updates s_i <- sign(sum_j W_ij s_j) (a zero field keeps s_i), either synchronous
// (all units at once: one gemm per sweep for the whole batch) or asynchronous (units
// one at a time in a random order per sweep, which never increases E = -s^T W s / 2).
// Its capacity is about 0.14 d random patterns; correlated patterns (images) merge into
// spurious states far sooner.
#include <cstdint>
#include <string>
#include <vector>

#include "core/runtime/error.hpp"
#include "core/tensor/gemm.hpp"
#include "core/tensor/random.hpp"

namespace tessera::models::hopfield {

using tensor::Matrix;

enum class ClassicalUpdate { kSynchronous, kAsynchronous };

struct ClassicalRecall {
  Matrix<double> states;       // (queries x d) of +-1
  std::vector<int> sweeps;     // per query: sweeps until stable (max_sweeps if never)
  std::vector<double> energy;  // per query, of the final state
};

class ClassicalHopfield {
 public:
  // `patterns`: (N x d) with entries +-1 (anything else is binarised by sign, 0 -> +1).
  explicit ClassicalHopfield(const Matrix<double>& patterns) {
    const std::size_t n = patterns.extent(0), d = patterns.extent(1);
    if (n == 0 || d == 0) {
      throw InputError(str("classical Hopfield: no patterns to store (", n, " x ", d, ")"));
    }
    weights_ = hebbian_weights(patterns);
  }

  // W = X^T X / d with a zero diagonal, X the patterns binarised to +-1. A static function
  // and not inside the constructor: nvcc cannot compile a device lambda in a constructor.
  static Matrix<double> hebbian_weights(const Matrix<double>& patterns) {
    const std::size_t n = patterns.extent(0), d = patterns.extent(1);
    Matrix<double> x("hopfield::classical_patterns", n, d);
    Kokkos::parallel_for(
        "hopfield::classical_binarise", Kokkos::RangePolicy<tensor::ExecSpace>(0, n),
        KOKKOS_LAMBDA(const int i) {
          for (std::size_t k = 0; k < d; ++k) x(i, k) = patterns(i, k) < 0 ? -1.0 : 1.0;
        });
    const Matrix<double> w("hopfield::classical_weights", d, d);
    tensor::gemm('T', 'N', 1.0 / static_cast<double>(d), x, x, 0.0, w);
    Kokkos::parallel_for(
        "hopfield::classical_zero_diagonal", Kokkos::RangePolicy<tensor::ExecSpace>(0, d),
        KOKKOS_LAMBDA(const int i) { w(i, i) = 0.0; });
    return w;
  }

  std::size_t dim() const { return weights_.extent(0); }
  const Matrix<double>& weights() const { return weights_; }

  ClassicalRecall recall(const Matrix<double>& queries, ClassicalUpdate update, int max_sweeps,
                         std::uint64_t seed = 1) const {
    const std::size_t b = queries.extent(0), d = dim();
    if (queries.extent(1) != d) {
      throw InputError(str("classical Hopfield: queries ", tensor::shape_text(queries), " have ",
                           queries.extent(1), " entries per pattern, expected d = ", d));
    }
    ClassicalRecall out;
    out.states = Matrix<double>("hopfield::classical_states", b, d);
    const Matrix<double> s = out.states;
    Kokkos::parallel_for(
        "hopfield::classical_start", Kokkos::RangePolicy<tensor::ExecSpace>(0, b),
        KOKKOS_LAMBDA(const int i) {
          // A masked (zero) entry starts as +1: the network only knows two states.
          for (std::size_t k = 0; k < d; ++k) s(i, k) = queries(i, k) < 0 ? -1.0 : 1.0;
        });
    out.sweeps.assign(b, max_sweeps);
    if (update == ClassicalUpdate::kSynchronous) {
      synchronous(s, max_sweeps, out.sweeps);
    } else {
      asynchronous(s, max_sweeps, seed, out.sweeps);
    }
    out.energy = energy(s);
    return out;
  }

  // E = -s^T W s / 2 per row of `states`.
  std::vector<double> energy(const Matrix<double>& states) const {
    const std::size_t b = states.extent(0), d = dim();
    Matrix<double> field("hopfield::classical_field", b, d);
    tensor::gemm('N', 'N', 1.0, states, weights_, 0.0, field);
    auto hs = Kokkos::create_mirror_view(states);
    auto hf = Kokkos::create_mirror_view(field);
    Kokkos::deep_copy(hs, states);
    Kokkos::deep_copy(hf, field);
    std::vector<double> e(b, 0.0);
    for (std::size_t i = 0; i < b; ++i) {
      for (std::size_t k = 0; k < d; ++k) e[i] -= 0.5 * hs(i, k) * hf(i, k);
    }
    return e;
  }

 public:
  // Public only for nvcc, which cannot compile a device lambda inside a private or
  // protected member function; not part of the interface.
  void synchronous(const Matrix<double>& s, int max_sweeps, std::vector<int>& sweeps) const {
    const std::size_t b = s.extent(0), d = dim();
    Matrix<double> field("hopfield::classical_field", b, d);
    Kokkos::View<int*, tensor::MemSpace> stable("hopfield::classical_stable", b);
    auto host_stable = Kokkos::create_mirror_view(stable);
    std::vector<bool> done(b, false);
    for (int sweep = 1; sweep <= max_sweeps; ++sweep) {
      tensor::gemm('N', 'N', 1.0, s, weights_, 0.0, field);
      Kokkos::parallel_for(
          "hopfield::classical_sync", Kokkos::RangePolicy<tensor::ExecSpace>(0, b),
          KOKKOS_LAMBDA(const int i) {
            int unchanged = 1;
            for (std::size_t k = 0; k < d; ++k) {
              const double h = field(i, k);
              const double next = h > 0 ? 1.0 : (h < 0 ? -1.0 : s(i, k));
              if (next != s(i, k)) unchanged = 0;
              s(i, k) = next;
            }
            stable(i) = unchanged;
          });
      Kokkos::deep_copy(host_stable, stable);
      bool all = true;
      for (std::size_t i = 0; i < b; ++i) {
        if (!done[i] && host_stable(i)) {
          done[i] = true;
          sweeps[i] = sweep;
        }
        all = all && done[i];
      }
      if (all) break;
    }
  }

  void asynchronous(const Matrix<double>& s, int max_sweeps, std::uint64_t seed,
                    std::vector<int>& sweeps) const {
    const std::size_t b = s.extent(0), d = dim();
    const Matrix<double> w = weights_;
    Kokkos::View<int*, tensor::MemSpace> used("hopfield::classical_sweeps", b);
    Kokkos::parallel_for(
        "hopfield::classical_async", Kokkos::RangePolicy<tensor::ExecSpace>(0, b),
        KOKKOS_LAMBDA(const int i) {
          used(i) = max_sweeps;
          for (int sweep = 1; sweep <= max_sweeps; ++sweep) {
            bool changed = false;
            // A random visiting order per sweep: d units from a random start with a
            // random stride coprime to d.
            const std::uint64_t h = tensor::counter_hash(seed, i, sweep);
            std::size_t stride = 1 + (h >> 32) % d;
            while (gcd(stride, d) != 1) stride = stride % d + 1;
            std::size_t unit = (h & 0xffffffffULL) % d;
            for (std::size_t step = 0; step < d; ++step, unit = (unit + stride) % d) {
              double field = 0;
              for (std::size_t k = 0; k < d; ++k) field += w(unit, k) * s(i, k);
              const double next = field > 0 ? 1.0 : (field < 0 ? -1.0 : s(i, unit));
              if (next != s(i, unit)) changed = true;
              s(i, unit) = next;
            }
            if (!changed) {
              used(i) = sweep;
              break;
            }
          }
        });
    auto host = Kokkos::create_mirror_view(used);
    Kokkos::deep_copy(host, used);
    for (std::size_t i = 0; i < b; ++i) sweeps[i] = host(i);
  }

 private:
  KOKKOS_INLINE_FUNCTION static std::size_t gcd(std::size_t a, std::size_t b) {
    while (b != 0) {
      const std::size_t t = a % b;
      a = b;
      b = t;
    }
    return a;
  }

  Matrix<double> weights_;
};

}  // namespace tessera::models::hopfield
