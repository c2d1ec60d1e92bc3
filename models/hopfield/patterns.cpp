#include "models/hopfield/patterns.hpp"

#include "core/io/text_readers.hpp"
#include "core/runtime/error.hpp"
#include "core/tensor/random.hpp"

namespace tessera::models::hopfield {

PatternKind pattern_kind_from_name(const std::string& name) {
  if (name == "binary") return PatternKind::kBinary;
  if (name == "gaussian") return PatternKind::kGaussian;
  throw InputError(str("unknown pattern kind '", name, "': expected \"binary\" or \"gaussian\""));
}

Corruption corruption_from_name(const std::string& name) {
  if (name == "mask") return Corruption::kMask;
  if (name == "flip") return Corruption::kFlip;
  throw InputError(str("unknown corruption '", name, "': expected \"mask\" or \"flip\""));
}

PatternSet random_patterns(PatternKind kind, std::size_t count, std::size_t dim,
                           std::uint64_t seed) {
  PatternSet p{count, dim, std::vector<double>(count * dim)};
  for (std::size_t i = 0; i < p.values.size(); ++i) {
    p.values[i] = kind == PatternKind::kGaussian
                      ? tensor::counter_normal(seed, 101, i)
                      : (tensor::counter_uniform(seed, 102, i) < 0.5 ? -1.0 : 1.0);
  }
  return p;
}

PatternSet corrupt(const PatternSet& patterns, double fraction, Corruption kind,
                   std::uint64_t seed) {
  if (!(fraction >= 0 && fraction <= 1)) {
    throw InputError(str("corruption fraction ", fraction, ": expected a number in [0, 1]"));
  }
  PatternSet out = patterns;
  for (std::size_t i = 0; i < out.values.size(); ++i) {
    if (tensor::counter_uniform(seed, 103, i) < fraction) {
      out.values[i] = kind == Corruption::kMask ? 0.0 : -out.values[i];
    }
  }
  return out;
}

PatternSet read_pattern_file(const std::string& path) {
  const io::Grid grid = io::read_text_grid(path);
  if (grid.rows == 0 || grid.cols == 0) {
    throw InputError(str(path, ": no patterns in the file: expected one pattern per line, ",
                         "whitespace-separated numbers"));
  }
  return PatternSet{grid.rows, grid.cols, grid.values};
}

PatternSet rows_of(const PatternSet& p, std::size_t first, std::size_t count) {
  PatternSet out{count, p.dim, {}};
  out.values.assign(p.values.begin() + static_cast<std::ptrdiff_t>(first * p.dim),
                    p.values.begin() + static_cast<std::ptrdiff_t>((first + count) * p.dim));
  return out;
}

}  // namespace tessera::models::hopfield
