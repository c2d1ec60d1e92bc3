#pragma once
// Stored and query patterns for the Hopfield experiments and tests: random binary (+-1)
// or Gaussian patterns from the counter RNG (the same on any rank count), corrupted
// queries (a fraction of entries masked to 0 or sign-flipped), a text pattern file (one
// pattern per line) and host <-> device copies.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor/host_copy.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::models::hopfield {

// Host patterns, row-major.
struct PatternSet {
  std::size_t count = 0, dim = 0;
  std::vector<double> values;  // count x dim
};

enum class PatternKind { kBinary, kGaussian };
enum class Corruption { kMask, kFlip };

// "binary" or "gaussian" / "mask" or "flip"; InputError listing the choices otherwise.
PatternKind pattern_kind_from_name(const std::string& name);
Corruption corruption_from_name(const std::string& name);

// Gaussian entries are N(0, 1); binary entries +-1 with probability 1/2.
PatternSet random_patterns(PatternKind kind, std::size_t count, std::size_t dim,
                           std::uint64_t seed);

// Each entry is hit with probability `fraction` (independently, counter RNG): masked
// entries become 0, flipped ones change sign.
PatternSet corrupt(const PatternSet& patterns, double fraction, Corruption kind,
                   std::uint64_t seed);

// One pattern per non-blank line, whitespace-separated numbers. InputError naming the
// file (and line and column for a value that is not a number) when it does not parse,
// holds no pattern or has rows of different lengths.
PatternSet read_pattern_file(const std::string& path);

template <class T>
tensor::Matrix<T> to_device(const PatternSet& p, const std::string& label = "hopfield::patterns") {
  return tensor::from_host<T>(p.values, p.count, p.dim, label);
}

template <class T>
PatternSet to_host(const tensor::Matrix<T>& m) {
  return PatternSet{m.extent(0), m.extent(1), tensor::to_host(m)};
}

// Rows [first, first + count) of a pattern set.
PatternSet rows_of(const PatternSet& p, std::size_t first, std::size_t count);

}  // namespace tessera::models::hopfield
