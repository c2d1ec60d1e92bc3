#pragma once
// All trainable parameters of a model in one flat buffer, all gradients in another
// (as in llm.c): optimiser steps, gradient all-reduce, clipping and checkpoints are
// each one operation on the flat buffers. Layers declare named slices first, then the
// store is finalised (allocated, zeroed) and layers take views of their slices.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/io/hdf5_reader.hpp"
#include "core/io/results_file.hpp"
#include "core/runtime/error.hpp"
#include "core/tensor/random.hpp"
#include "core/tensor/reduce.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::nn {

using tensor::Matrix;
using tensor::Vector;

struct Slice {
  std::string name;                // "block0.attention.wq"
  std::size_t offset = 0;          // into the flat buffers
  std::vector<std::size_t> shape;  // 1-D or 2-D
  std::size_t size() const {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

template <class T>
class ParameterStore {
 public:
  // Declares a slice; returns its id. Only before finalize().
  int add(const std::string& name, std::vector<std::size_t> shape) {
    if (finalized_) throw std::logic_error(str("parameter '", name, "' declared after finalize"));
    for (const auto& s : slices_) {
      if (s.name == name) throw std::logic_error(str("parameter '", name, "' declared twice"));
    }
    Slice slice{name, size_, std::move(shape)};
    size_ += slice.size();
    slices_.push_back(slice);
    return static_cast<int>(slices_.size()) - 1;
  }

  // Allocates both buffers (zeros).
  void finalize() {
    if (finalized_) return;
    params_ = Vector<T>("nn::parameters", size_);
    grads_ = Vector<T>("nn::gradients", size_);
    finalized_ = true;
  }
  bool finalized() const { return finalized_; }

  std::size_t size() const { return size_; }
  const std::vector<Slice>& slices() const { return slices_; }
  const Slice& slice(int id) const { return slices_.at(id); }
  int find(const std::string& name) const {
    for (std::size_t i = 0; i < slices_.size(); ++i) {
      if (slices_[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }

  Vector<T> params() const { return checked(params_); }
  Vector<T> grads() const { return checked(grads_); }

  // Views of one slice in the parameter or the gradient buffer.
  Vector<T> param_vector(int id) const { return vector_of(params(), id); }
  Vector<T> grad_vector(int id) const { return vector_of(grads(), id); }
  Matrix<T> param_matrix(int id) const { return matrix_of(params(), id); }
  Matrix<T> grad_matrix(int id) const { return matrix_of(grads(), id); }

  void zero_grad() { Kokkos::deep_copy(grads(), T(0)); }

  // Initialisers, each drawing from the counter RNG with the slice id as the stream, so
  // that the values do not depend on the rank count or on other slices.
  void init_uniform(int id, T low, T high, std::uint64_t seed) {
    tensor::fill_uniform(param_vector(id), low, high, seed, static_cast<std::uint64_t>(id));
  }
  void init_normal(int id, T mean, T stddev, std::uint64_t seed) {
    tensor::fill_normal(param_vector(id), mean, stddev, seed, static_cast<std::uint64_t>(id));
  }
  void init_constant(int id, T value) { Kokkos::deep_copy(param_vector(id), value); }
  // Glorot/Xavier uniform: U(-a, a), a = gain sqrt(6 / (fan_in + fan_out)).
  void init_xavier_uniform(int id, std::size_t fan_in, std::size_t fan_out, std::uint64_t seed,
                           double gain = 1.0) {
    const double a = gain * std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
    init_uniform(id, static_cast<T>(-a), static_cast<T>(a), seed);
  }
  // Kaiming/He uniform for ReLU: U(-b, b), b = sqrt(6 / fan_in).
  void init_kaiming_uniform(int id, std::size_t fan_in, std::uint64_t seed) {
    const double b = std::sqrt(6.0 / static_cast<double>(fan_in));
    init_uniform(id, static_cast<T>(-b), static_cast<T>(b), seed);
  }
  // PyTorch's nn.Linear default for weight and bias alike: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  void init_torch_linear(int id, std::size_t fan_in, std::uint64_t seed) {
    const double b = 1.0 / std::sqrt(static_cast<double>(fan_in));
    init_uniform(id, static_cast<T>(-b), static_cast<T>(b), seed);
  }

  // Copies host values into a slice (weights from a reference file, say).
  void set_slice(int id, const std::vector<double>& values) {
    const Slice& s = slice(id);
    if (values.size() != s.size()) {
      throw InputError(
          str("parameter '", s.name, "': ", values.size(), " values for ", s.size(), " entries"));
    }
    auto host = Kokkos::create_mirror_view(param_vector(id));
    for (std::size_t i = 0; i < values.size(); ++i) host(i) = static_cast<T>(values[i]);
    Kokkos::deep_copy(param_vector(id), host);
  }
  std::vector<double> get_slice(int id, bool gradient = false) const {
    const Vector<T> v = gradient ? grad_vector(id) : param_vector(id);
    auto host = Kokkos::create_mirror_view(v);
    Kokkos::deep_copy(host, v);
    return std::vector<double>(host.data(), host.data() + host.extent(0));
  }

  // Throws std::runtime_error naming the slice and `context` (layer
  // step, say) when a parameter or gradient is NaN or Inf.
  void check_finite(const std::string& context) const {
    for (const char* which : {"parameter", "gradient"}) {
      const Vector<T> buffer = std::string(which) == "parameter" ? params() : grads();
      const long long bad = tensor::first_non_finite(buffer);
      if (bad < 0) continue;
      for (const auto& s : slices_) {
        if (static_cast<std::size_t>(bad) >= s.offset &&
            static_cast<std::size_t>(bad) < s.offset + s.size()) {
          throw std::runtime_error(str(context, ": ", which, " '", s.name, "' entry ",
                                       bad - static_cast<long long>(s.offset),
                                       " is not finite (NaN or Inf)"));
        }
      }
    }
  }

  // Checkpoint: one dataset per slice under `group` ("/checkpoint/parameters").
  // Collective over the results file's communicator.
  void save(io::ResultsFile& file, const std::string& group) const {
    for (std::size_t i = 0; i < slices_.size(); ++i) {
      const Slice& s = slices_[i];
      std::vector<std::uint64_t> dims(s.shape.begin(), s.shape.end());
      file.write_root_array(group + "/" + s.name, dims, get_slice(static_cast<int>(i)));
    }
  }
  // Loads what save() wrote. InputError naming the file and the slice when the file
  // holds a different model (missing, extra or differently shaped slices).
  void load(const io::Hdf5Reader& file, const std::string& group) {
    const std::vector<std::string> stored = file.members(group);
    for (const auto& name : stored) {
      if (find(name) < 0) {
        throw InputError(str(file.path(), ": checkpoint from a different model: parameter '", name,
                             "' in ", group, " does not exist in this model"));
      }
    }
    for (std::size_t i = 0; i < slices_.size(); ++i) {
      const Slice& s = slices_[i];
      const std::string path = group + "/" + s.name;
      if (!file.has(path)) {
        throw InputError(str(file.path(), ": checkpoint from a different model: parameter '",
                             s.name, "' is missing from ", group));
      }
      std::vector<std::uint64_t> dims;
      const std::vector<double> values = file.read(path, &dims);
      if (std::vector<std::size_t>(dims.begin(), dims.end()) != s.shape) {
        throw InputError(str(file.path(), ": checkpoint from a different model: parameter '",
                             s.name, "' has shape ", shape_text(dims), " in the file and ",
                             shape_text(s.shape), " in this model"));
      }
      set_slice(static_cast<int>(i), values);
    }
  }

 private:
  template <class Shape>
  static std::string shape_text(const Shape& shape) {
    std::string out = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
      out += (i ? " x " : "") + std::to_string(shape[i]);
    return out + "]";
  }
  Vector<T> checked(const Vector<T>& v) const {
    if (!finalized_) throw std::logic_error("ParameterStore used before finalize()");
    return v;
  }
  Vector<T> vector_of(const Vector<T>& buffer, int id) const {
    const Slice& s = slice(id);
    return Vector<T>(buffer.data() + s.offset, s.size());
  }
  // A 1-D slice of n entries is seen as a 1 x n matrix.
  Matrix<T> matrix_of(const Vector<T>& buffer, int id) const {
    const Slice& s = slice(id);
    if (s.shape.empty() || s.shape.size() > 2) {
      throw std::logic_error(str("parameter '", s.name, "' is not 1-D or 2-D"));
    }
    const std::size_t rows = s.shape.size() == 2 ? s.shape[0] : 1;
    const std::size_t cols = s.shape.size() == 2 ? s.shape[1] : s.shape[0];
    return Matrix<T>(buffer.data() + s.offset, rows, cols);
  }

  std::vector<Slice> slices_;
  std::size_t size_ = 0;
  bool finalized_ = false;
  Vector<T> params_;
  Vector<T> grads_;
};

}  // namespace tessera::nn
