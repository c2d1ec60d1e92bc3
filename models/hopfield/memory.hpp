#pragma once
// Associative memory of a modern (continuous) Hopfield network, after "Hopfield Networks
// is All You Need" (Ramsauer et al. 2020): stored patterns X (N x d) and the update
//   xi <- X^T softmax(beta X xi)
// applied to a batch of state patterns (queries, rows) with two gemms per step, up to
// max_steps or until no entry moves by eps or more. The energy
//   E(xi) = -lse(beta, X xi) + xi^T xi / 2 + log(N) / beta + M^2 / 2,
//   lse(beta, z) = log(sum_i exp(beta z_i)) / beta,  M = max_i |x_i|,
// is reported for the start and after every update (the update never increases it).
//
// The patterns may be sharded over the ranks of a communicator (each rank holds a block
// of rows). The softmax then merges per-rank partials exactly: each rank computes, per
// query, its local max m_r, s_r = sum exp(beta z - m_r) and u_r = sum exp(beta z - m_r) x;
// a MAXLOC all-reduce gives m (and the index of the best pattern), and one SUM
// all-reduce of the d + 1 rescaled numbers exp(m_r - m) (u_r, s_r) gives xi = u / s.
// On one rank (MPI_COMM_SELF) there is no communication.
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>
#include <vector>

#include "core/nn/softmax.hpp"
#include "core/parallel/mpi_types.hpp"
#include "core/runtime/error.hpp"
#include "core/tensor/gemm.hpp"
#include "core/tensor/math.hpp"
#include "models/hopfield/exp_shift_sum.hpp"

namespace tessera::models::hopfield {

using tensor::Matrix;

struct RetrievalOptions {
  double beta = 1.0;               // inverse temperature, > 0
  int max_steps = 1;               // updates at most (>= 1); one step retrieves when beta is large
  double eps = 0.0;                // stop when max |xi_new - xi| < eps (0: run max_steps)
  bool energy = true;              // score the final state too: its energy and closest pattern
  bool association = false;        // keep the softmax matrix of the last update
  std::size_t chunk = 512;         // queries per block of scores
  std::size_t pattern_tile = 512;  // patterns per block of scores (without association)
};

template <class T>
struct Retrieval {
  Matrix<T> states;                         // (queries x d) retrieved patterns
  std::vector<long long> closest;           // per query: global index of argmax_i x_i . xi
  std::vector<std::vector<double>> energy;  // energy[step][query], step 0 = the start
  Matrix<T> association;                    // (queries x local patterns) softmax of the last update
  int steps = 0;                            // updates done
  double last_change = 0;                   // max |xi_new - xi| of the last update
};

// Rows [first, first + count) of n rows for `rank` of `ranks` (contiguous blocks).
inline void block_rows(std::size_t n, int ranks, int rank, std::size_t& first, std::size_t& count) {
  first = n * static_cast<std::size_t>(rank) / static_cast<std::size_t>(ranks);
  count = n * static_cast<std::size_t>(rank + 1) / static_cast<std::size_t>(ranks) - first;
}

template <class T>
class HopfieldMemory {
 public:
  // `local`: this rank's rows of the stored patterns, the rows [offset, offset + rows)
  // of the global N x d matrix. Collective over `comm`. InputError when the memory is
  // empty or the ranks disagree on d.
  HopfieldMemory(MPI_Comm comm, const Matrix<T>& local, std::size_t offset = 0)
      : comm_(comm), patterns_(local), offset_(offset) {
    MPI_Comm_size(comm, &ranks_);
    const long long local_rows = static_cast<long long>(local.extent(0));
    long long dims[2] = {static_cast<long long>(local.extent(1)),
                         -static_cast<long long>(local.extent(1))};
    MPI_Allreduce(&local_rows, &global_rows_, 1, MPI_LONG_LONG, MPI_SUM, comm);
    MPI_Allreduce(MPI_IN_PLACE, dims, 2, MPI_LONG_LONG, MPI_MAX, comm);
    if (global_rows_ == 0) {
      throw InputError(
          "Hopfield memory: no stored patterns (the memory is empty): store at least one pattern");
    }
    if (dims[0] != -dims[1]) {
      throw InputError(str("Hopfield memory: ranks hold patterns of different dimensions (",
                           -dims[1], " to ", dims[0], "): every stored pattern needs the same d"));
    }
    dim_ = static_cast<std::size_t>(dims[0]);
    if (dim_ == 0) throw InputError("Hopfield memory: the stored patterns have dimension 0");
    // M = the largest pattern norm, a constant of the energy.
    double largest = largest_squared_row_norm(patterns_);
    MPI_Allreduce(MPI_IN_PLACE, &largest, 1, MPI_DOUBLE, MPI_MAX, comm);
    max_norm_ = std::sqrt(largest);
  }

  // max_i |x_i|^2 over the rows of x (0 for none). A static function and not inside the
  // constructor: nvcc cannot compile a device lambda in a constructor.
  static double largest_squared_row_norm(const Matrix<T>& x) {
    const std::size_t d = x.extent(1);
    double largest = 0;
    Kokkos::parallel_reduce(
        "hopfield::pattern_norm", Kokkos::RangePolicy<tensor::ExecSpace>(0, x.extent(0)),
        KOKKOS_LAMBDA(const int i, double& acc) {
          double sq = 0;
          for (std::size_t k = 0; k < d; ++k) sq += static_cast<double>(x(i, k)) * x(i, k);
          if (sq > acc) acc = sq;
        },
        Kokkos::Max<double>(largest));
    return largest;
  }

  std::size_t dim() const { return dim_; }
  std::size_t size() const { return static_cast<std::size_t>(global_rows_); }  // N, all ranks
  std::size_t local_size() const { return patterns_.extent(0); }
  std::size_t offset() const { return offset_; }
  double max_norm() const { return max_norm_; }
  const Matrix<T>& local_patterns() const { return patterns_; }
  // Bytes of patterns this rank stores (falls as 1/P).
  std::size_t local_bytes() const { return patterns_.size() * sizeof(T); }

  // Collective. `queries`: (B x d), the same on every rank. InputError on a wrong
  // dimension or beta <= 0.
  Retrieval<T> retrieve(const Matrix<T>& queries, const RetrievalOptions& options) {
    check(queries, options);
    chunk_ = options.chunk;
    pattern_tile_ = std::max<std::size_t>(1, options.pattern_tile);
    const std::size_t b = queries.extent(0), d = dim_;
    Retrieval<T> out;
    out.states = Matrix<T>("hopfield::states", b, d);
    Kokkos::deep_copy(out.states, queries);
    tensor::ensure_shape(next_, "hopfield::next", b, d);
    out.closest.assign(b, -1);
    for (int step = 0; step < options.max_steps; ++step) {
      const bool keep = options.association && step + 1 == options.max_steps;
      partials(out.states, options.beta, keep ? &out.association : nullptr);
      merge(options.beta, out.closest);
      out.energy.push_back(energies(out.states, options.beta));
      const double change = finish_update(out.states);
      ++out.steps;
      out.last_change = change;
      if (keep) normalise_association(out.association);
      if (change < options.eps) {
        if (options.association && !keep) {
          // Stopped early: redo the last step's softmax for the association.
          partials(out.states, options.beta, &out.association, true);
          merge(options.beta, out.closest);
          normalise_association(out.association);
        }
        break;
      }
    }
    if (options.energy) {
      partials(out.states, options.beta, nullptr, true);
      merge(options.beta, out.closest);
      out.energy.push_back(energies(out.states, options.beta));
    }
    return out;
  }

  // Energies of given states (one entry per query), without updating them. Collective.
  std::vector<double> energy(const Matrix<T>& states, double beta) {
    RetrievalOptions options;
    options.beta = beta;
    check(states, options);
    std::vector<long long> closest;
    partials(states, beta, nullptr, true);
    merge(beta, closest);
    return energies(states, beta);
  }

 private:
  void check(const Matrix<T>& queries, const RetrievalOptions& options) const {
    if (!(options.beta > 0) || !std::isfinite(options.beta)) {
      throw InputError(str("Hopfield retrieval: beta = ", options.beta,
                           " is not allowed: expected a finite inverse temperature > 0"));
    }
    if (options.max_steps < 1) {
      throw InputError(str("Hopfield retrieval: max_steps = ", options.max_steps,
                           ": expected at least 1 update"));
    }
    if (queries.extent(1) != dim_) {
      throw InputError(str("Hopfield retrieval: queries ", tensor::shape_text(queries), " have ",
                           queries.extent(1),
                           " entries per pattern but the stored patterns have d = ", dim_,
                           ": give queries of shape [batch x ", dim_, "]"));
    }
  }

 public:
  // Public only for nvcc, which cannot compile a device lambda inside a private or
  // protected member function; not part of the interface.
  // Per query row: local max m of beta x_i . xi (and its global index), local sum s of
  // exp(beta z - m), and u = sum exp(beta z - m) x_i (into next_). score_only: only m
  // and s (for energies and the closest pattern), no second gemm.
  //
  // Without an association to keep, the scores are made tile by tile, `chunk_` queries
  // times `pattern_tile_` patterns (512 x 512 floats by default: 1 MB, the L2 of a Zen 4
  // core; measured fastest among 64-1024 x 128-1024, by 2-5 % over 256 x 256 and 10-20 %
  // over 64 x 512, since each gemm call packs its operands again), with the online softmax
  // of flash attention: a tile whose maximum beats the running one rescales s and u by
  // exp(m_old - m_new) first. A whole row of scores (N floats per query, 16 MB for 256
  // queries at N = 16k) would instead stream through memory three times, which at
  // d = 64 cost more than both gemms.
  void partials(const Matrix<T>& states, double beta, Matrix<T>* association,
                bool score_only = false) {
    const std::size_t b = states.extent(0), n = patterns_.extent(0), d = dim_;
    row_max_.assign(b, 0);
    row_sum_.assign(b, 0);
    row_arg_.assign(b, -1);
    tensor::ensure_size(max_view_, "hopfield::row_max", b);
    tensor::ensure_size(sum_view_, "hopfield::row_sum", b);
    Kokkos::View<long long*, tensor::MemSpace> arg_view("hopfield::row_arg", b);
    // Empty tiles leave the identities of the merge: exp(-inf) = 0 in every sum.
    Kokkos::deep_copy(max_view_, -Kokkos::Experimental::infinity<T>::value);
    Kokkos::deep_copy(sum_view_, T(0));
    Kokkos::deep_copy(arg_view, -1);
    if (!score_only) Kokkos::deep_copy(next_, T(0));
    if (association) *association = Matrix<T>("hopfield::association", b, n);
    const std::size_t chunk = association ? b : std::max<std::size_t>(1, chunk_);
    const std::size_t tile = association ? std::max<std::size_t>(n, 1) : pattern_tile_;
    for (std::size_t r0 = 0; r0 < b && n > 0; r0 += chunk) {
      const std::size_t rows = std::min(chunk, b - r0);
      const Matrix<T> q(states.data() + r0 * d, rows, d);
      const Matrix<T> u(score_only ? nullptr : next_.data() + r0 * d, rows, d);
      for (std::size_t j0 = 0; j0 < n; j0 += tile) {
        const std::size_t cols = std::min(tile, n - j0);
        Matrix<T> scores;
        if (association) {
          scores = *association;
        } else {
          tensor::ensure_shape(scores_, "hopfield::scores", std::min(chunk, b) * tile, 1);
          scores = Matrix<T>(scores_.data(), rows, cols);
        }
        const Matrix<T> x(patterns_.data() + j0 * d, cols, d);
        tensor::gemm('N', 'T', static_cast<T>(beta), q, x, T(0), scores);
        const Matrix<T> s = scores;
        const tensor::Vector<T> mx = max_view_, sm = sum_view_;
        const std::size_t first = offset_ + j0;
        const bool with_u = !score_only;
        Kokkos::parallel_for(
            "hopfield::softmax_partials", Kokkos::RangePolicy<tensor::ExecSpace>(0, rows),
            KOKKOS_LAMBDA(const int i) {
              T* row = &s(i, 0);
              const T tile_max = nn::row_max4(row, cols);
              const T old_max = mx(r0 + i);
              // Strictly greater: on ties the earlier (smaller) index stays the argmax.
              if (tile_max > old_max) {
                std::size_t arg = 0;
                while (row[arg] != tile_max) ++arg;
                arg_view(r0 + i) = static_cast<long long>(first + arg);
                mx(r0 + i) = tile_max;
                const T rescale = old_max == -Kokkos::Experimental::infinity<T>::value
                                      ? T(0)
                                      : math::fast_exp(old_max - tile_max);
                sm(r0 + i) *= rescale;
                if (with_u) {
                  for (std::size_t k = 0; k < d; ++k) u(i, k) *= rescale;
                }
              }
              sm(r0 + i) += exp_shift_sum(row, cols, mx(r0 + i));
            });
        if (with_u) tensor::gemm('N', 'N', T(1), scores, x, T(1), u);
      }
    }
    auto host_max = Kokkos::create_mirror_view(max_view_);
    auto host_sum = Kokkos::create_mirror_view(sum_view_);
    auto host_arg = Kokkos::create_mirror_view(arg_view);
    Kokkos::deep_copy(host_max, max_view_);
    Kokkos::deep_copy(host_sum, sum_view_);
    Kokkos::deep_copy(host_arg, arg_view);
    for (std::size_t i = 0; i < b; ++i) {
      row_max_[i] = static_cast<double>(host_max(i));
      row_sum_[i] = static_cast<double>(host_sum(i));
      row_arg_[i] = host_arg(i);
    }
    score_only_ = score_only;
  }

  // Merges the ranks' partials: after it row_max_ and row_sum_ are global, next_ holds
  // the global u (when the last partials() had one) and `closest` the global argmax.
  void merge(double /*beta*/, std::vector<long long>& closest) {
    const std::size_t b = row_max_.size(), d = dim_;
    closest.assign(b, -1);
    if (ranks_ == 1) {
      for (std::size_t i = 0; i < b; ++i) closest[i] = row_arg_[i];
      return;
    }
    // MAXLOC on (max, -index): ties go to the smallest global index, as on one rank.
    struct DoubleInt {
      double value;
      int index;
    };
    std::vector<DoubleInt> best(b);
    for (std::size_t i = 0; i < b; ++i) {
      best[i].value = row_max_[i];
      best[i].index = row_arg_[i] < 0 ? -INT_MAX : -static_cast<int>(row_arg_[i]);
    }
    MPI_Allreduce(MPI_IN_PLACE, best.data(), static_cast<int>(b), MPI_DOUBLE_INT, MPI_MAXLOC,
                  comm_);
    // Rescale this rank's partials to the global max, then one sum of d + 1 per query.
    const std::size_t width = score_only_ ? 1 : d + 1;
    packed_.assign(b * width, 0);
    auto host_next = Kokkos::create_mirror_view(next_);
    if (!score_only_) Kokkos::deep_copy(host_next, next_);
    for (std::size_t i = 0; i < b; ++i) {
      const double factor = std::isinf(row_max_[i]) ? 0.0 : std::exp(row_max_[i] - best[i].value);
      if (!score_only_) {
        for (std::size_t k = 0; k < d; ++k) {
          packed_[i * width + k] = factor * static_cast<double>(host_next(i, k));
        }
      }
      packed_[i * width + width - 1] = factor * row_sum_[i];
      local_factor_.resize(b);
      local_factor_[i] = factor;
    }
    MPI_Allreduce(MPI_IN_PLACE, packed_.data(), static_cast<int>(packed_.size()), MPI_DOUBLE,
                  MPI_SUM, comm_);
    for (std::size_t i = 0; i < b; ++i) {
      row_max_[i] = best[i].value;
      row_sum_[i] = packed_[i * width + width - 1];
      closest[i] = -static_cast<long long>(best[i].index);
      if (!score_only_) {
        for (std::size_t k = 0; k < d; ++k)
          host_next(i, k) = static_cast<T>(packed_[i * width + k]);
      }
    }
    if (!score_only_) Kokkos::deep_copy(next_, host_next);
  }

  // Energy per query from the merged max and sum: lse = (m + log s) / beta.
  std::vector<double> energies(const Matrix<T>& states, double beta) const {
    const std::size_t b = states.extent(0), d = dim_;
    Kokkos::View<double*, tensor::MemSpace> norms("hopfield::state_norms", b);
    Kokkos::parallel_for(
        "hopfield::state_norms", Kokkos::RangePolicy<tensor::ExecSpace>(0, b),
        KOKKOS_LAMBDA(const int i) {
          double sq = 0;
          for (std::size_t k = 0; k < d; ++k)
            sq += static_cast<double>(states(i, k)) * states(i, k);
          norms(i) = sq;
        });
    auto host = Kokkos::create_mirror_view(norms);
    Kokkos::deep_copy(host, norms);
    const double constant =
        std::log(static_cast<double>(global_rows_)) / beta + 0.5 * max_norm_ * max_norm_;
    std::vector<double> e(b);
    for (std::size_t i = 0; i < b; ++i) {
      const double lse = (row_max_[i] + std::log(row_sum_[i])) / beta;
      e[i] = -lse + 0.5 * host(i) + constant;
    }
    return e;
  }

  // states <- u / s; returns max |change| over all entries.
  double finish_update(const Matrix<T>& states) {
    const std::size_t b = states.extent(0), d = dim_;
    auto host_sum = Kokkos::create_mirror_view(sum_view_);
    for (std::size_t i = 0; i < b; ++i) host_sum(i) = static_cast<T>(1.0 / row_sum_[i]);
    Kokkos::deep_copy(sum_view_, host_sum);
    const tensor::Vector<T> inverse = sum_view_;
    const Matrix<T> u = next_;
    double change = 0;
    Kokkos::parallel_reduce(
        "hopfield::finish_update", Kokkos::RangePolicy<tensor::ExecSpace>(0, b),
        KOKKOS_LAMBDA(const int i, double& acc) {
          for (std::size_t k = 0; k < d; ++k) {
            const T value = u(i, k) * inverse(i);
            const double delta = math::abs(static_cast<double>(value - states(i, k)));
            if (delta > acc) acc = delta;
            states(i, k) = value;
          }
        },
        Kokkos::Max<double>(change));
    return change;
  }

  // The association of a step: local exp(beta z - m_r) times exp(m_r - m) / s.
  void normalise_association(const Matrix<T>& a) const {
    const std::size_t n = a.extent(1);
    std::vector<double> factor(a.extent(0));
    for (std::size_t i = 0; i < factor.size(); ++i) {
      const double f = ranks_ == 1 ? 1.0 : local_factor_[i];
      factor[i] = f / row_sum_[i];
    }
    Kokkos::View<double*, Kokkos::HostSpace> host(factor.data(), factor.size());
    Kokkos::View<double*, tensor::MemSpace> scale("hopfield::association_scale", factor.size());
    Kokkos::deep_copy(scale, host);
    Kokkos::parallel_for(
        "hopfield::normalise_association", Kokkos::RangePolicy<tensor::ExecSpace>(0, a.extent(0)),
        KOKKOS_LAMBDA(const int i) {
          const T f = static_cast<T>(scale(i));
          for (std::size_t j = 0; j < n; ++j) a(i, j) *= f;
        });
  }

 private:
  MPI_Comm comm_;
  int ranks_ = 1;
  Matrix<T> patterns_;
  std::size_t offset_ = 0, dim_ = 0;
  long long global_rows_ = 0;
  double max_norm_ = 0;
  // A score tile, chunk_ x pattern_tile_ floats, stays in L2 between the gemm that writes
  // it and the softmax and the gemm that read it.
  std::size_t pattern_tile_ = 512;
  std::size_t chunk_ = 512;
  Matrix<T> scores_, next_;
  tensor::Vector<T> max_view_, sum_view_;
  std::vector<double> row_max_, row_sum_, packed_, local_factor_;
  std::vector<long long> row_arg_;
  bool score_only_ = false;
};

}  // namespace tessera::models::hopfield
