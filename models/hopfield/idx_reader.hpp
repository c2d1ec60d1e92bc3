#pragma once
// Reader of IDX files, the format of MNIST and Fashion-MNIST (big-endian header: two
// zero bytes, a type code, the number of dimensions, then one 32-bit size per
// dimension, then the data), plain or gzip-compressed (Debian's dataset-fashion-mnist
// ships *-ubyte.gz under /usr/share/datasets/fashion-mnist). Every problem is an
// InputError naming the file and what was found.
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::models::hopfield {

struct IdxArray {
  std::vector<std::size_t> dims;  // e.g. {60000, 28, 28} for images, {60000} for labels
  std::vector<double> values;     // row-major, as stored (pixels 0..255 for ubyte)
  std::size_t items() const { return dims.empty() ? 0 : dims[0]; }
  std::size_t item_size() const;  // product of dims[1..]
};

// Reads at most `max_items` items (along the first dimension; 0: all).
IdxArray read_idx(const std::string& path, std::size_t max_items = 0);

// Where Debian's dataset-fashion-mnist puts the files; TESSERA_FASHION_MNIST overrides.
std::string fashion_mnist_directory();

// `split` = "train" or "t10k": images (items x 784, pixels / 255) and labels (0..9).
struct ImageSet {
  std::size_t count = 0, rows = 0, cols = 0;
  std::vector<double> pixels;  // count x rows*cols in [0, 1]
  std::vector<int> labels;
};
ImageSet read_fashion_mnist(const std::string& directory, const std::string& split,
                            std::size_t max_items = 0);

}  // namespace tessera::models::hopfield
