#pragma once
// A tanh or sine MLP u(x, t) for physics-informed networks that computes, in one forward
// pass, u and the derivatives a PDE residual needs (u_x, u_t, u_xx) by carrying a
// second-order Taylor jet through every layer, and a hand-written reverse sweep over
// that recursion for the parameter gradient of any loss built from the jets. This
// replaces nested autodiff (grad of grad), which is what makes PINN training slow.
//
// The jet of a layer is (a, a_x, a_t, a_xx). A linear layer acts on each part with the
// same weights (only the value gets the bias): z = W a + b, z_x = W a_x, z_t = W a_t,
// z_xx = W a_xx, so one gemm on the four parts side by side serves all; the activation
// s = sigma(z) then mixes the parts of each entry:
//   a = s, a_x = s' z_x, a_t = s' z_t, a_xx = s' z_xx + s'' z_x^2.
//
// Interface layout: a stacked jet is one row-major matrix (4n x width) whose row blocks
// are the parts: rows [0, n) values, [n, 2n) d/dx, [2n, 3n) d/dt, [3n, 4n) d2/dx2.
// Inside, points go in chunks and each chunk's jets are feature-major (width x 4c; part
// blocks side by side in each row): BLAS runs these short, wide products at ~100 GFLOP/s
// against ~65 for the row-major ones, and the element-wise loops run along contiguous
// points with one bias per row.
//
// The same file holds the LWR traffic residual r = u_t + f'(u) u_x - eps u_xx with the
// Greenshields flux f(u) = v_max u (1 - u / rho_max), and the data misfit, both as losses
// that also write the seeds dL/d(jet) that JetMlp::backward consumes.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "core/nn/activations.hpp"
#include "core/nn/jet_tanh_host.hpp"
#include "core/nn/parameter_store.hpp"
#include "core/runtime/error.hpp"
#include "core/tensor/gemm.hpp"
#include "core/tensor/math.hpp"

namespace tessera::nn {

// Row blocks of a stacked jet matrix.
enum class JetPart : int { kValue = 0, kDx = 1, kDt = 2, kDxx = 3 };
inline constexpr std::size_t kJetParts = 4;

// The rows of `part` in a stacked matrix of `points` points (an unmanaged view).
template <class T>
Matrix<T> jet_part(const Matrix<T>& stacked, std::size_t points, JetPart part) {
  const std::size_t block = static_cast<std::size_t>(part);
  if (stacked.extent(0) < (block + 1) * points) {
    throw std::invalid_argument(str("jet_part: ", tensor::shape_text(stacked), " has no block ",
                                    block, " of ", points, " points"));
  }
  return Matrix<T>(stacked.data() + block * points * stacked.extent(1), points, stacked.extent(1));
}

namespace detail {

// The float tanh is math::fast_tanh (vectorisable); double keeps the library tanh.

// sigma and its first three derivatives, the higher ones written through s = sigma(z) and
// s1 = sigma'(z) so that the backward pass needs no transcendental function. For tanh, s1
// follows from s, so the forward pass does not store it (one buffer less to stream).
struct TanhJet {
  static constexpr bool kSlopeFromValue = true;
  template <class T>
  KOKKOS_INLINE_FUNCTION static T slope_from_value(T s) {
    return T(1) - s * s;
  }
  template <class T>
  KOKKOS_INLINE_FUNCTION static void eval(T z, T& s, T& s1) {
    s = math::fast_tanh(z);
    s1 = T(1) - s * s;
  }
  template <class T>
  KOKKOS_INLINE_FUNCTION static T second(T s, T s1) {
    return T(-2) * s * s1;
  }
  template <class T>
  KOKKOS_INLINE_FUNCTION static T third(T s, T s1) {
    return (T(6) * s * s - T(2)) * s1;
  }
};

struct SineJet {
  static constexpr bool kSlopeFromValue = false;
  template <class T>
  KOKKOS_INLINE_FUNCTION static T slope_from_value(T /*s*/) {
    return T(0);  // not used: cos z is stored
  }
  template <class T>
  KOKKOS_INLINE_FUNCTION static void eval(T z, T& s, T& s1) {
    s = math::sin(z);
    s1 = math::cos(z);
  }
  template <class T>
  KOKKOS_INLINE_FUNCTION static T second(T s, T /*s1*/) {
    return -s;
  }
  template <class T>
  KOKKOS_INLINE_FUNCTION static T third(T /*s*/, T s1) {
    return -s1;
  }
};

// Points per run of the element-wise kernels: a run is contiguous entries of one feature
// (a vectorised loop on the host); features x runs is the parallel range (device threads).
inline constexpr std::size_t kRun = 128;

// Input jet of the chunk of `count` points from `first` (feature-major, 2 x parts count):
// row 0 = (x | 1 | 0 | 0), row 1 = (t | 0 | 1 | 0).
template <class T>
void jet_input(const Matrix<T>& points, std::size_t first, std::size_t count, std::size_t parts,
               const Matrix<T>& jet) {
  Kokkos::parallel_for(
      "nn::jet_input", Kokkos::RangePolicy<tensor::ExecSpace>(0, count),
      KOKKOS_LAMBDA(const int i) {
        jet(0, i) = points(first + i, 0);
        jet(1, i) = points(first + i, 1);
        if (parts == kJetParts) {
          jet(0, count + i) = T(1);
          jet(1, count + i) = T(0);
          jet(0, 2 * count + i) = T(0);
          jet(1, 2 * count + i) = T(1);
          jet(0, 3 * count + i) = T(0);
          jet(1, 3 * count + i) = T(0);
        }
      });
}

// Float tanh jets on a host backend take the ISA clones of jet_tanh_host.hpp.
template <class Sigma, class T>
inline constexpr bool kHostTanhJet =
    (std::is_same_v<Sigma, TanhJet> && std::is_same_v<T, float> &&
     Kokkos::SpaceAccessibility<tensor::ExecSpace, Kokkos::HostSpace>::accessible);

// run(j, first, length) for every run of kRun entries (the last one shorter) in each of
// `rows` rows of `count` entries, on the host backend's threads.
template <class Run>
void host_runs(const char* label, std::size_t rows, std::size_t count, const Run& run) {
  const std::size_t runs = (count + kRun - 1) / kRun;
  Kokkos::parallel_for(label,
                       Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, rows * runs),
                       [=](const int k) {
                         const std::size_t j = k / runs;
                         const std::size_t first = (k - j * runs) * kRun;
                         run(j, first, count - first < kRun ? count - first : kRun);
                       });
}

// One run of the activation jet. Restrict pointers so that the loop vectorises (the parts
// are distinct ranges of distinct buffers, never aliased).
template <class Sigma, class T>
KOKKOS_INLINE_FUNCTION void jet_activation_run(std::size_t count, T bias,
                                               const T* KOKKOS_RESTRICT z,
                                               const T* KOKKOS_RESTRICT z_x,
                                               const T* KOKKOS_RESTRICT z_t,
                                               const T* KOKKOS_RESTRICT z_xx, T* KOKKOS_RESTRICT a,
                                               T* KOKKOS_RESTRICT a_x, T* KOKKOS_RESTRICT a_t,
                                               T* KOKKOS_RESTRICT a_xx, T* KOKKOS_RESTRICT slope) {
  for (std::size_t i = 0; i < count; ++i) {
    T s, s1;
    Sigma::eval(z[i] + bias, s, s1);
    const T zx = z_x[i];
    a[i] = s;
    a_x[i] = s1 * zx;
    a_t[i] = s1 * z_t[i];
    a_xx[i] = s1 * z_xx[i] + Sigma::second(s, s1) * zx * zx;
    if (!Sigma::kSlopeFromValue) slope[i] = s1;
  }
}

template <class Sigma, class T>
KOKKOS_INLINE_FUNCTION void value_activation_run(std::size_t count, T bias,
                                                 const T* KOKKOS_RESTRICT z, T* KOKKOS_RESTRICT a,
                                                 T* KOKKOS_RESTRICT slope) {
  for (std::size_t i = 0; i < count; ++i) {
    T s, s1;
    Sigma::eval(z[i] + bias, s, s1);
    a[i] = s;
    if (!Sigma::kSlopeFromValue) slope[i] = s1;
  }
}

// Bias and activation on a chunk's jet (feature-major, width x parts count): post gets
// (s, s' z_x, s' z_t, s' z_xx + s'' z_x^2) with s = sigma(z + b), slope (width x count)
// gets s' unless it follows from s (then `slope` may be empty). `pre` keeps z without
// the bias (backward does not read its value part).
template <class Sigma, class T>
void jet_activation_forward(const Matrix<T>& pre, const Vector<T>& bias, std::size_t count,
                            std::size_t parts, const Matrix<T>& post, const Matrix<T>& slope) {
  const std::size_t runs = (count + kRun - 1) / kRun;
  if constexpr (kHostTanhJet<Sigma, T>) {
    if (parts == kJetParts) {  // the ISA clones (jet_tanh_host.hpp)
      host_runs("nn::jet_activation_forward", pre.extent(0), count,
                [=](std::size_t j, std::size_t first, std::size_t length) {
                  const float* const z = &pre(j, first);
                  float* const a = &post(j, first);
                  tanh_jet_forward_run(length, bias(j), z, z + count, z + 2 * count, z + 3 * count,
                                       a, a + count, a + 2 * count, a + 3 * count);
                });
      return;
    }
  }
  Kokkos::parallel_for(
      "nn::jet_activation_forward", Kokkos::RangePolicy<tensor::ExecSpace>(0, pre.extent(0) * runs),
      KOKKOS_LAMBDA(const int k) {
        const std::size_t j = k / runs;
        const std::size_t first = (k - j * runs) * kRun;
        const std::size_t length = count - first < kRun ? count - first : kRun;
        T* const slope_run = Sigma::kSlopeFromValue ? nullptr : &slope(j, first);
        const T* const z = &pre(j, first);
        T* const a = &post(j, first);
        if (parts == kJetParts) {
          jet_activation_run<Sigma>(length, bias(j), z, z + count, z + 2 * count, z + 3 * count, a,
                                    a + count, a + 2 * count, a + 3 * count, slope_run);
        } else {
          value_activation_run<Sigma>(length, bias(j), z, a, slope_run);
        }
      });
}

// One run of the reverse sweep through the activation: the adjoints g of the post jet
// (a, a_x, a_t, a_xx) become those of the pre jet (z, z_x, z_t, z_xx), in place.
template <class Sigma, class T>
KOKKOS_INLINE_FUNCTION void jet_activation_backward_run(
    std::size_t count, T* KOKKOS_RESTRICT g, T* KOKKOS_RESTRICT g_x, T* KOKKOS_RESTRICT g_t,
    T* KOKKOS_RESTRICT g_xx, const T* KOKKOS_RESTRICT z_x, const T* KOKKOS_RESTRICT z_t,
    const T* KOKKOS_RESTRICT z_xx, const T* KOKKOS_RESTRICT a, const T* KOKKOS_RESTRICT slope) {
  for (std::size_t i = 0; i < count; ++i) {
    const T s = a[i];
    const T s1 = Sigma::kSlopeFromValue ? Sigma::slope_from_value(s) : slope[i];
    const T s2 = Sigma::second(s, s1);
    const T s3 = Sigma::third(s, s1);
    const T gx = g_x[i], gt = g_t[i], gxx = g_xx[i];
    const T zx = z_x[i];
    g[i] = g[i] * s1 + (gx * zx + gt * z_t[i] + gxx * z_xx[i]) * s2 + gxx * zx * zx * s3;
    g_x[i] = gx * s1 + T(2) * gxx * s2 * zx;
    g_t[i] = gt * s1;
    g_xx[i] = gxx * s1;
  }
}

template <class Sigma, class T>
KOKKOS_INLINE_FUNCTION void value_activation_backward_run(std::size_t count, T* KOKKOS_RESTRICT g,
                                                          const T* KOKKOS_RESTRICT a,
                                                          const T* KOKKOS_RESTRICT slope) {
  for (std::size_t i = 0; i < count; ++i) {
    g[i] *= Sigma::kSlopeFromValue ? Sigma::slope_from_value(a[i]) : slope[i];
  }
}

template <class Sigma, class T>
void jet_activation_backward(const Matrix<T>& grad, const Matrix<T>& pre, const Matrix<T>& post,
                             const Matrix<T>& slope, std::size_t count, std::size_t parts) {
  const std::size_t runs = (count + kRun - 1) / kRun;
  if constexpr (kHostTanhJet<Sigma, T>) {
    if (parts == kJetParts) {  // the ISA clones (jet_tanh_host.hpp)
      host_runs("nn::jet_activation_backward", grad.extent(0), count,
                [=](std::size_t j, std::size_t first, std::size_t length) {
                  float* const g = &grad(j, first);
                  const float* const z = &pre(j, first);
                  tanh_jet_backward_run(length, g, g + count, g + 2 * count, g + 3 * count,
                                        z + count, z + 2 * count, z + 3 * count, &post(j, first));
                });
      return;
    }
  }
  Kokkos::parallel_for(
      "nn::jet_activation_backward",
      Kokkos::RangePolicy<tensor::ExecSpace>(0, grad.extent(0) * runs), KOKKOS_LAMBDA(const int k) {
        const std::size_t j = k / runs;
        const std::size_t first = (k - j * runs) * kRun;
        const std::size_t length = count - first < kRun ? count - first : kRun;
        const T* const slope_run = Sigma::kSlopeFromValue ? nullptr : &slope(j, first);
        T* const g = &grad(j, first);
        const T* const z = &pre(j, first);
        if (parts == kJetParts) {
          jet_activation_backward_run<Sigma>(length, g, g + count, g + 2 * count, g + 3 * count,
                                             z + count, z + 2 * count, z + 3 * count,
                                             &post(j, first), slope_run);
        } else {
          value_activation_backward_run<Sigma>(length, g, &post(j, first), slope_run);
        }
      });
}

// The output layer's bias, on the value part (the first `count` columns).
template <class T>
void add_bias_columns(const Matrix<T>& m, const Vector<T>& bias, std::size_t count) {
  Kokkos::parallel_for(
      "nn::jet_output_bias", Kokkos::RangePolicy<tensor::ExecSpace>(0, m.extent(0) * count),
      KOKKOS_LAMBDA(const int k) {
        const std::size_t j = k / count;
        m(j, k - j * count) += bias(j);
      });
}

// (parts count) x 1 column with ones on the value part: the bias gradient of a chunk is
// then one gemm, db += G mask.
template <class T>
void fill_value_mask(const Matrix<T>& mask, std::size_t count) {
  Kokkos::parallel_for(
      "nn::jet_value_mask", Kokkos::RangePolicy<tensor::ExecSpace>(0, mask.extent(0)),
      KOKKOS_LAMBDA(const int i) {
        mask(i, 0) = static_cast<std::size_t>(i) < count ? T(1) : T(0);
      });
}

// Between the interface layout (rows b n + first + i of a stacked (parts n x m) matrix)
// and a chunk's feature-major (m x parts count) matrix.
template <class T>
void stacked_to_chunk(const Matrix<T>& stacked, std::size_t n, std::size_t first, std::size_t count,
                      std::size_t parts, const Matrix<T>& chunk) {
  const std::size_t m = stacked.extent(1);
  Kokkos::parallel_for(
      "nn::jet_stacked_to_chunk", Kokkos::RangePolicy<tensor::ExecSpace>(0, count),
      KOKKOS_LAMBDA(const int i) {
        for (std::size_t b = 0; b < parts; ++b) {
          for (std::size_t k = 0; k < m; ++k)
            chunk(k, b * count + i) = stacked(b * n + first + i, k);
        }
      });
}
template <class T>
void chunk_to_stacked(const Matrix<T>& chunk, std::size_t n, std::size_t first, std::size_t count,
                      std::size_t parts, const Matrix<T>& stacked) {
  const std::size_t m = stacked.extent(1);
  Kokkos::parallel_for(
      "nn::jet_chunk_to_stacked", Kokkos::RangePolicy<tensor::ExecSpace>(0, count),
      KOKKOS_LAMBDA(const int i) {
        for (std::size_t b = 0; b < parts; ++b) {
          for (std::size_t k = 0; k < m; ++k)
            stacked(b * n + first + i, k) = chunk(k, b * count + i);
        }
      });
}

}  // namespace detail

template <class T>
class JetMlp {
 public:
  // sizes = {2, h1, ..., hk, m}: inputs (x, t), hidden widths, output width. The
  // activation follows every hidden layer, none follows the output layer. Slices are
  // "<name>.linear<l>.weight" (out x in, as torch.nn.Linear) and "<name>.linear<l>.bias".
  void declare(ParameterStore<T>& store, const std::string& name, std::vector<std::size_t> sizes,
               ActivationKind activation = ActivationKind::kTanh) {
    if (sizes.size() < 2 || sizes.front() != 2) {
      throw InputError(str(name,
                           ": a jet MLP maps (x, t) to u, so its sizes must start with 2 "
                           "and have at least an output width"));
    }
    for (std::size_t width : sizes) {
      if (width == 0) throw InputError(str(name, ": layer widths must be positive"));
    }
    if (activation != ActivationKind::kTanh && activation != ActivationKind::kSine) {
      throw InputError(str(name, ": activation '", activation_name(activation),
                           "' has no jet here; use tanh or sine (smooth, with cheap second "
                           "derivatives)"));
    }
    name_ = name;
    sizes_ = std::move(sizes);
    activation_ = activation;
    layers_.clear();
    for (std::size_t l = 0; l + 1 < sizes_.size(); ++l) {
      Layer layer;
      layer.in = sizes_[l];
      layer.out = sizes_[l + 1];
      const std::string prefix = name + ".linear" + std::to_string(l);
      layer.weight = store.add(prefix + ".weight", {layer.out, layer.in});
      layer.bias = store.add(prefix + ".bias", {layer.out});
      layers_.push_back(layer);
    }
  }

  // Glorot (Xavier) normal weights, N(0, 2 / (fan_in + fan_out)), as in Raissi's PINN
  // code (there truncated at two standard deviations; not here), and zero biases.
  void init(ParameterStore<T>& store, std::uint64_t seed) const {
    for (const Layer& layer : layers_) {
      const double stddev = std::sqrt(2.0 / static_cast<double>(layer.in + layer.out));
      store.init_normal(layer.weight, T(0), static_cast<T>(stddev), seed);
      store.init_constant(layer.bias, T(0));
    }
  }

  // Points per chunk (0: automatic, see chunk_points()). Results do not depend on it
  // beyond round-off.
  void set_chunk_points(std::size_t points) { chunk_points_ = points; }

  // The chunk used for n points. Automatic: on the host, at most 1e6 / (4 max(in x out))
  // points and at least 64 (OpenBLAS 0.3.21 takes its unpacked small-matrix kernels for
  // m n k <= 1e6: ~100 GFLOP/s against ~70 for the packed ones on 20-wide layers, and a
  // chunk's jets stay in cache from the forward to the backward pass); on devices all
  // points at once.
  std::size_t chunk_points(std::size_t n) const {
    std::size_t chunk = chunk_points_;
    if (chunk == 0) {
      constexpr bool kHost = std::is_same<tensor::MemSpace, Kokkos::HostSpace>::value;
      std::size_t widest_product = 1;
      for (const Layer& layer : layers_) {
        widest_product =
            layer.in * layer.out > widest_product ? layer.in * layer.out : widest_product;
      }
      chunk = kHost ? 1000000 / (kJetParts * widest_product) : n;
      if (chunk < 64) chunk = 64;
    }
    return chunk < n ? chunk : n;
  }

  // points: (n x 2), columns (x, t). Returns the stacked jet (4n x m) of u: u, u_x, u_t,
  // u_xx (see part()). Keeps what backward needs.
  const Matrix<T>& forward(const ParameterStore<T>& store, const Matrix<T>& points) {
    return forward_all(store, points, kJetParts);
  }

  // u alone (n x m), for observation points and predictions: a quarter of the work.
  // backward then takes a seed of the same shape.
  const Matrix<T>& forward_values(const ParameterStore<T>& store, const Matrix<T>& points) {
    return forward_all(store, points, 1);
  }

  // seed: dL/d(output of the last forward), same shape (stacked like it). Adds dL/dparams
  // into store.grads(). No gradient for the points: they are data, and one would need a
  // third-order jet.
  void backward(ParameterStore<T>& store, const Matrix<T>& seed) {
    if (points_ == 0) throw std::logic_error(str(name_, ": backward called before forward"));
    if (seed.extent(0) != output_.extent(0) || seed.extent(1) != output_.extent(1)) {
      throw std::invalid_argument(str(name_, ": seed ", tensor::shape_text(seed),
                                      " does not match the forward output ",
                                      tensor::shape_text(output_)));
    }
    const std::size_t n = points_, chunk = chunk_;
    for (std::size_t first = 0; first < n; first += chunk) {
      const std::size_t count = n - first < chunk ? n - first : chunk;
      const Matrix<T> grad(chunk_seed_.data(), output_width(), parts_ * count);
      detail::stacked_to_chunk(seed, n, first, count, parts_, grad);
      backward_chunk(store, grad, first, count);
    }
  }

  // A whole training pass for a loss that is a mean over points of a function of the
  // jets (the PDE residual, say): forward, loss and backward chunk by chunk, so that each
  // chunk's jets stay in cache from the forward to the backward pass and need no storage
  // for all points. Adds dL/dparams to store.grads() and returns L.
  //   loss(jet, seed, weight) -> double: jet is the stacked (4c x m) jet of a chunk of c
  //   points; returns the chunk's mean loss and writes seed = weight * d(mean)/d(jet),
  //   resized to jet's shape; models/pinn_traffic's lwr_residual_loss has this form. weight = c /
  //   n, so the chunks add up to the mean over all n points.
  // Leaves nothing for part() or backward().
  template <class Loss>
  double forward_backward(ParameterStore<T>& store, const Matrix<T>& points, Loss&& loss) {
    const std::size_t n = check_points(points);
    const std::size_t chunk = chunk_points(n);
    const std::size_t m = output_width();
    points_ = 0;
    parts_ = kJetParts;
    chunk_ = chunk;
    reserve(chunk, chunk);
    double total = 0;
    for (std::size_t first = 0; first < n; first += chunk) {
      const std::size_t count = n - first < chunk ? n - first : chunk;
      const std::size_t cols = kJetParts * count;
      forward_chunk(store, points, first, count, 0);
      const Matrix<T> out(layers_.back().pre.data(), m, cols);
      // For a scalar u the feature-major chunk (1 x 4c) is already the stacked (4c x 1).
      Matrix<T> jet(out.data(), cols, 1);
      if (m != 1) {
        jet = Matrix<T>(chunk_jet_.data(), cols, m);
        detail::chunk_to_stacked(out, count, 0, count, kJetParts, jet);
      }
      const double weight = static_cast<double>(count) / static_cast<double>(n);
      total += weight * loss(static_cast<const Matrix<T>&>(jet), seed_, weight);
      if (seed_.extent(0) != cols || seed_.extent(1) != m) {
        throw std::logic_error(str(name_, ": the loss wrote a seed ", tensor::shape_text(seed_),
                                   " for a jet ", tensor::shape_text(jet)));
      }
      Matrix<T> grad(seed_.data(), 1, cols);
      if (m != 1) {
        grad = Matrix<T>(chunk_seed_.data(), m, cols);
        detail::stacked_to_chunk(seed_, count, 0, count, kJetParts, grad);
      }
      backward_chunk(store, grad, 0, count);
    }
    return total;
  }

  // Blocks of the last forward's output (n x m views): JetPart::kValue, kDx, kDt, kDxx.
  Matrix<T> part(JetPart which) const {
    if (points_ == 0) throw std::logic_error(str(name_, ": no forward output to read"));
    if (static_cast<std::size_t>(which) >= parts_) {
      throw std::logic_error(str(name_, ": the last forward computed values only"));
    }
    return jet_part(output_, points_, which);
  }

  const std::string& name() const { return name_; }
  const std::vector<std::size_t>& sizes() const { return sizes_; }
  ActivationKind activation() const { return activation_; }
  std::size_t layer_count() const { return layers_.size(); }
  int weight_id(std::size_t l) const { return layers_.at(l).weight; }
  int bias_id(std::size_t l) const { return layers_.at(l).bias; }
  std::size_t points() const { return points_; }
  std::size_t output_width() const { return sizes_.back(); }

 private:
  // Per layer, the chunks' feature-major jets one after the other (the chunk of points
  // [first, first + c) at offset width x parts x first), in buffers that only grow.
  struct Layer {
    std::size_t in = 0, out = 0;
    int weight = -1, bias = -1;
    Vector<T> pre;    // z jet (out x parts c per chunk); the network output for the last layer
    Vector<T> post;   // activation jet (hidden layers)
    Vector<T> slope;  // sigma'(z) (out x c per chunk; sine only: tanh's follows from post)
  };

  static void grow(Vector<T>& buffer, const std::string& label, std::size_t size) {
    if (buffer.extent(0) < size || buffer.data() == nullptr) buffer = Vector<T>(label, size);
  }

  std::size_t check_points(const Matrix<T>& points) const {
    if (layers_.empty()) throw std::logic_error("JetMlp used before declare()");
    if (points.extent(1) != 2) {
      throw std::invalid_argument(
          str(name_, ": points ", tensor::shape_text(points), " must have two columns (x, t)"));
    }
    if (points.extent(0) == 0) throw std::invalid_argument(str(name_, ": no points"));
    return points.extent(0);
  }

  // Buffers for `stored` points of jets (all chunks kept) and chunks of `chunk` points.
  void reserve(std::size_t stored, std::size_t chunk) {
    const std::size_t p = parts_;
    std::size_t widest = 0;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      Layer& layer = layers_[l];
      const std::string prefix = name_ + ".linear" + std::to_string(l);
      grow(layer.pre, prefix + ".pre", layer.out * p * stored);
      if (l + 1 < layers_.size()) grow(layer.post, prefix + ".post", layer.out * p * stored);
      if (l + 1 < layers_.size() && activation_ == ActivationKind::kSine) {
        grow(layer.slope, prefix + ".slope", layer.out * stored);
      }
      widest = layer.in > widest ? layer.in : widest;
    }
    grow(input_, name_ + ".input_jet", 2 * p * stored);
    for (auto& buffer : adjoint_) grow(buffer, name_ + ".adjoint", widest * p * chunk);
    grow(chunk_seed_, name_ + ".chunk_seed", output_width() * p * chunk);
    if (output_width() != 1) grow(chunk_jet_, name_ + ".chunk_jet", output_width() * p * chunk);
    if (mask_.extent(0) < p * chunk) {
      mask_ = Matrix<T>(name_ + ".value_mask", p * chunk, 1);
      mask_count_ = 0;  // refill on first use
    }
  }

  const Matrix<T>& forward_all(const ParameterStore<T>& store, const Matrix<T>& points,
                               std::size_t parts) {
    const std::size_t n = check_points(points);
    const std::size_t chunk = chunk_points(n);
    points_ = n;
    parts_ = parts;
    chunk_ = chunk;
    reserve(n, chunk);
    tensor::ensure_shape(output_, name_ + ".output", parts * n, output_width());
    const Layer& last = layers_.back();
    for (std::size_t first = 0; first < n; first += chunk) {
      const std::size_t count = n - first < chunk ? n - first : chunk;
      forward_chunk(store, points, first, count, first);
      const Matrix<T> out(last.pre.data() + last.out * parts * first, last.out, parts * count);
      detail::chunk_to_stacked(out, n, first, count, parts, output_);
    }
    return output_;
  }

  // Forward of points [first, first + count) into the buffers' chunk at point offset `slot`.
  void forward_chunk(const ParameterStore<T>& store, const Matrix<T>& points, std::size_t first,
                     std::size_t count, std::size_t slot) {
    const std::size_t p = parts_, cols = p * count;
    Matrix<T> a(input_.data() + 2 * p * slot, 2, cols);
    detail::jet_input(points, first, count, p, a);
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      Layer& layer = layers_[l];
      const Matrix<T> z(layer.pre.data() + layer.out * p * slot, layer.out, cols);
      tensor::gemm('N', 'N', T(1), store.param_matrix(layer.weight), a, T(0), z);
      const Vector<T> bias = store.param_vector(layer.bias);
      if (l + 1 == layers_.size()) {
        detail::add_bias_columns(z, bias, count);
        break;
      }
      const Matrix<T> post(layer.post.data() + layer.out * p * slot, layer.out, cols);
      if (activation_ == ActivationKind::kTanh) {
        detail::jet_activation_forward<detail::TanhJet>(z, bias, count, p, post, Matrix<T>());
      } else {
        const Matrix<T> slope(layer.slope.data() + layer.out * slot, layer.out, count);
        detail::jet_activation_forward<detail::SineJet>(z, bias, count, p, post, slope);
      }
      a = post;
    }
  }

  // Reverse sweep of the chunk at point offset `slot`; grad: dL/d(output), (m x parts count).
  void backward_chunk(ParameterStore<T>& store, const Matrix<T>& output_grad, std::size_t slot,
                      std::size_t count) {
    const std::size_t p = parts_, cols = p * count;
    const Matrix<T> mask(mask_.data(), cols, 1);
    if (mask_count_ != count || mask_parts_ != p) {
      detail::fill_value_mask(mask, count);
      mask_count_ = count;
      mask_parts_ = p;
    }
    Matrix<T> grad = output_grad;  // adjoint of the current layer's pre-activation jet
    int buffer = 0;
    for (std::size_t l = layers_.size(); l-- > 0;) {
      const Layer& layer = layers_[l];
      if (l + 1 < layers_.size()) {
        const Matrix<T> pre(layer.pre.data() + layer.out * p * slot, layer.out, cols);
        const Matrix<T> post(layer.post.data() + layer.out * p * slot, layer.out, cols);
        if (activation_ == ActivationKind::kTanh) {
          detail::jet_activation_backward<detail::TanhJet>(grad, pre, post, Matrix<T>(), count, p);
        } else {
          const Matrix<T> slope(layer.slope.data() + layer.out * slot, layer.out, count);
          detail::jet_activation_backward<detail::SineJet>(grad, pre, post, slope, count, p);
        }
      }
      const Matrix<T> input =
          l == 0 ? Matrix<T>(input_.data() + 2 * p * slot, 2, cols)
                 : Matrix<T>(layers_[l - 1].post.data() + layer.in * p * slot, layer.in, cols);
      tensor::gemm('N', 'T', T(1), grad, input, T(1), store.grad_matrix(layer.weight));
      const Matrix<T> db(store.grad_vector(layer.bias).data(), layer.out, 1);
      tensor::gemm('N', 'N', T(1), grad, mask, T(1), db);
      if (l == 0) break;
      const Matrix<T> next(adjoint_[buffer].data(), layer.in, cols);
      tensor::gemm('T', 'N', T(1), store.param_matrix(layer.weight), grad, T(0), next);
      grad = next;
      buffer = 1 - buffer;
    }
  }

  std::string name_;
  std::vector<std::size_t> sizes_;
  ActivationKind activation_ = ActivationKind::kTanh;
  std::vector<Layer> layers_;
  std::size_t chunk_points_ = 0;                    // set_chunk_points
  std::size_t points_ = 0, parts_ = 0, chunk_ = 0;  // of the last forward
  Vector<T> input_;                                 // input jets (2 x parts c per chunk)
  Vector<T> adjoint_[2];                            // ping-pong adjoints of a chunk's layer inputs
  Vector<T> chunk_seed_, chunk_jet_;                // a chunk's seed and (m > 1) jet, relaid
  Matrix<T> mask_;                                  // see detail::fill_value_mask
  std::size_t mask_count_ = 0, mask_parts_ = 0;
  Matrix<T> output_;  // stacked output of forward / forward_values
  Matrix<T> seed_;    // forward_backward's seeds (the loss writes them)
};

// Mean over observations of (u - data)^2 (all columns), where u is the value block of
// `output` (the first data.extent(0) rows: the output of forward_values, or of forward
// on the same points). Writes seed = weight * dL/d(output), shaped like `output` (zero on
// derivative blocks).
template <class T>
double data_misfit_loss(const Matrix<T>& output, const Matrix<T>& data, Matrix<T>& seed,
                        double weight = 1.0) {
  const std::size_t n = data.extent(0);
  const std::size_t m = data.extent(1);
  if (n == 0 || output.extent(1) != m ||
      (output.extent(0) != n && output.extent(0) != kJetParts * n)) {
    throw std::invalid_argument(str(
        "data_misfit_loss: data ", tensor::shape_text(data), " does not match the network output ",
        tensor::shape_text(output), " (one row per observation point, in the same order)"));
  }
  tensor::ensure_shape(seed, "nn::data_misfit_seed", output.extent(0), m);
  if (output.extent(0) != n) Kokkos::deep_copy(seed, T(0));
  const Matrix<T> g = seed;
  const double count = static_cast<double>(n * m);
  const double scale = 2.0 * weight / count;
  double total = 0;
  Kokkos::parallel_reduce(
      "nn::data_misfit_loss", Kokkos::RangePolicy<tensor::ExecSpace>(0, n),
      KOKKOS_LAMBDA(const int i, double& acc) {
        for (std::size_t j = 0; j < m; ++j) {
          const double diff = static_cast<double>(output(i, j)) - static_cast<double>(data(i, j));
          acc += diff * diff;
          g(i, j) = static_cast<T>(scale * diff);
        }
      },
      total);
  return total / count;
}

}  // namespace tessera::nn
