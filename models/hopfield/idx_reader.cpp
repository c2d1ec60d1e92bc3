#include "models/hopfield/idx_reader.hpp"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/runtime/error.hpp"

namespace tessera::models::hopfield {

std::size_t IdxArray::item_size() const {
  std::size_t n = 1;
  for (std::size_t i = 1; i < dims.size(); ++i) n *= dims[i];
  return n;
}

namespace {

// gzread reads plain files as they are, so one path serves both.
class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path) {
    if (!std::filesystem::exists(path)) {
      throw InputError(str(path, ": no such file (IDX image or label file expected)"));
    }
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) throw InputError(str(path, ": cannot open for reading"));
  }
  ~GzFile() {
    if (file_) gzclose(file_);
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  // Reads exactly n bytes; InputError saying what was being read otherwise.
  void read(void* out, std::size_t n, const std::string& what) {
    auto* bytes = static_cast<unsigned char*>(out);
    for (std::size_t done = 0; done < n;) {
      const std::size_t got = read_some(bytes + done, n - done, what);
      if (got == 0) truncated(what, done, n);
      done += got;
    }
  }

  // The same into a vector that grows as the bytes arrive, so that a header declaring
  // more data than the file holds fails at the file's end, not by allocating it first.
  std::vector<unsigned char> read_vector(std::size_t n, const std::string& what) {
    std::vector<unsigned char> bytes;
    while (bytes.size() < n) {
      const std::size_t done = bytes.size();
      bytes.resize(done + std::min<std::size_t>(n - done, std::size_t(1) << 24));
      const std::size_t got = read_some(bytes.data() + done, bytes.size() - done, what);
      if (got == 0) truncated(what, done, n);
      bytes.resize(done + got);
    }
    return bytes;
  }

 private:
  std::size_t read_some(unsigned char* out, std::size_t n, const std::string& what) {
    const int got = gzread(file_, out, static_cast<unsigned>(std::min<std::size_t>(n, 1u << 30)));
    if (got < 0) {
      int code = 0;
      throw InputError(str(path_, ": cannot read ", what, " (", gzerror(file_, &code),
                           "): the file is damaged or not gzip/IDX"));
    }
    return static_cast<std::size_t>(got);
  }

  [[noreturn]] void truncated(const std::string& what, std::size_t done, std::size_t n) const {
    throw InputError(str(path_, ": file ends early while reading ", what, " (", done, " of ", n,
                         " bytes): the file is truncated"));
  }

  std::string path_;
  gzFile file_ = nullptr;
};

std::uint32_t big_endian32(const unsigned char* b) {
  return (std::uint32_t(b[0]) << 24) | (std::uint32_t(b[1]) << 16) | (std::uint32_t(b[2]) << 8) |
         std::uint32_t(b[3]);
}

}  // namespace

IdxArray read_idx(const std::string& path, std::size_t max_items) {
  GzFile file(path);
  unsigned char magic[4];
  file.read(magic, 4, "the IDX magic number");
  if (magic[0] != 0 || magic[1] != 0) {
    throw InputError(str(path, ": not an IDX file (magic number starts with bytes ", int(magic[0]),
                         " ", int(magic[1]), ", expected 0 0)"));
  }
  const int type = magic[2], rank = magic[3];
  std::size_t element = 0;
  switch (type) {
    case 0x08:  // unsigned byte
    case 0x09:  // signed byte
      element = 1;
      break;
    case 0x0B:
      element = 2;
      break;
    case 0x0C:
    case 0x0D:
      element = 4;
      break;
    case 0x0E:
      element = 8;
      break;
    default:
      throw InputError(str(path, ": unknown IDX element type 0x", std::hex, type,
                           " (expected 0x08 ubyte, 0x09, 0x0B, 0x0C, 0x0D or 0x0E)"));
  }
  if (rank < 1 || rank > 4) {
    throw InputError(str(path, ": IDX file with ", rank, " dimensions: expected 1 to 4"));
  }
  IdxArray out;
  for (int i = 0; i < rank; ++i) {
    unsigned char b[4];
    file.read(b, 4, str("the size of dimension ", i + 1));
    out.dims.push_back(big_endian32(b));
  }
  if (max_items > 0 && max_items < out.dims[0]) out.dims[0] = max_items;
  // Four 32-bit sizes can name 2^128 values: refuse what no memory holds before multiplying.
  constexpr std::size_t kMostValues = std::size_t(1) << 36;
  std::size_t count = 1;
  for (const std::size_t size : out.dims) {
    if (size != 0 && count > kMostValues / size) {
      std::string shape;
      for (const std::size_t d : out.dims)
        shape += (shape.empty() ? "" : " x ") + std::to_string(d);
      throw InputError(str(path, ": the header declares ", shape, " values, more than 2^36"));
    }
    count *= size;
  }
  const std::vector<unsigned char> raw =
      file.read_vector(count * element, str(out.items(), " items of ", out.item_size(), " values"));
  out.values.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    const unsigned char* b = &raw[i * element];
    switch (type) {
      case 0x08:
        out.values[i] = b[0];
        break;
      case 0x09:
        out.values[i] = static_cast<signed char>(b[0]);
        break;
      case 0x0B:
        out.values[i] = static_cast<std::int16_t>((b[0] << 8) | b[1]);
        break;
      case 0x0C:
        out.values[i] = static_cast<std::int32_t>(big_endian32(b));
        break;
      case 0x0D: {
        const std::uint32_t bits = big_endian32(b);
        float f;
        std::memcpy(&f, &bits, 4);
        out.values[i] = f;
        break;
      }
      default: {
        const std::uint64_t bits = (std::uint64_t(big_endian32(b)) << 32) | big_endian32(b + 4);
        double v;
        std::memcpy(&v, &bits, 8);
        out.values[i] = v;
      }
    }
    if (!std::isfinite(out.values[i])) {
      throw InputError(str(path, ": value ", i, " (item ",
                           i / std::max<std::size_t>(out.item_size(), 1), ") is ", out.values[i],
                           "; IDX data must be finite"));
    }
  }
  return out;
}

std::string fashion_mnist_directory() {
  if (const char* env = std::getenv("TESSERA_FASHION_MNIST")) return env;
  return "/usr/share/datasets/fashion-mnist";
}

ImageSet read_fashion_mnist(const std::string& directory, const std::string& split,
                            std::size_t max_items) {
  if (split != "train" && split != "t10k") {
    throw InputError(str("Fashion-MNIST split '", split, "': expected \"train\" or \"t10k\""));
  }
  auto find = [&](const std::string& stem) {
    for (const std::string suffix : {".gz", ""}) {
      const std::string path = directory + "/" + stem + suffix;
      if (std::filesystem::exists(path)) return path;
    }
    throw InputError(str(directory, ": no ", stem, "[.gz]: install Debian's dataset-fashion-mnist ",
                         "(apt-get install dataset-fashion-mnist, or ./setup.sh) or point ",
                         "TESSERA_FASHION_MNIST or the key images.dir at the IDX files"));
  };
  const IdxArray images = read_idx(find(split + "-images-idx3-ubyte"), max_items);
  const IdxArray labels = read_idx(find(split + "-labels-idx1-ubyte"), max_items);
  if (images.dims.size() != 3) {
    throw InputError(str(directory, ": ", split, " images have ", images.dims.size(),
                         " dimensions, expected 3 (items x rows x cols)"));
  }
  if (labels.dims.size() != 1 || labels.items() != images.items()) {
    throw InputError(str(directory, ": ", split, " has ", images.items(), " images but ",
                         labels.items(), " labels"));
  }
  ImageSet out;
  out.count = images.items();
  out.rows = images.dims[1];
  out.cols = images.dims[2];
  out.pixels.resize(images.values.size());
  for (std::size_t i = 0; i < out.pixels.size(); ++i) out.pixels[i] = images.values[i] / 255.0;
  out.labels.resize(out.count);
  for (std::size_t i = 0; i < out.count; ++i) out.labels[i] = static_cast<int>(labels.values[i]);
  return out;
}

}  // namespace tessera::models::hopfield
