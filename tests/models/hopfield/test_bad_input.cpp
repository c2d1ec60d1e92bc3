// Bad input gets errors a user can act on: wrong query dimension, beta <= 0, an empty
// memory, pattern and IDX files that do not parse.
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>

#include "core/runtime/error.hpp"
#include "core/nn/hopfield_lookup.hpp"
#include "models/hopfield/idx_reader.hpp"
#include "models/hopfield/memory.hpp"
#include "models/hopfield/patterns.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using namespace tessera::models::hopfield;
using tessera::nn::Hopfield;
using tessera::nn::HopfieldInputGrads;
using tessera::nn::HopfieldLayer;
using tessera::nn::HopfieldOptions;
using tessera::nn::ParameterStore;
using Catch::Matchers::Contains;

namespace {
std::string write_file(const std::string& name, const std::string& text) {
  std::ofstream out(name, std::ios::binary);
  out << text;
  return name;
}
}  // namespace

TEST_CASE("retrieval rejects wrong dimensions, bad beta and an empty memory", "[bad_input]") {
  const PatternSet x = random_patterns(PatternKind::kGaussian, 10, 8, 1);
  HopfieldMemory<float> memory(MPI_COMM_SELF, to_device<float>(x));
  RetrievalOptions options;
  const Matrix<float> wrong("q", 3, 7);
  CHECK_THROWS_WITH(memory.retrieve(wrong, options), Contains("7 entries per pattern") &&
                                                         Contains("d = 8") &&
                                                         Contains("[batch x 8]"));
  const Matrix<float> q("q", 3, 8);
  for (double beta : {0.0, -1.0, std::numeric_limits<double>::infinity()}) {
    options.beta = beta;
    CHECK_THROWS_AS(memory.retrieve(q, options), InputError);
    CHECK_THROWS_WITH(memory.retrieve(q, options), Contains("beta") && Contains("> 0"));
  }
  options.beta = 1;
  options.max_steps = 0;
  CHECK_THROWS_WITH(memory.retrieve(q, options), Contains("max_steps"));
  CHECK_THROWS_WITH(HopfieldMemory<float>(MPI_COMM_SELF, Matrix<float>("empty", 0, 8)),
                    Contains("empty"));

  ParameterStore<float> store;
  HopfieldLayer<float> layer;
  HopfieldOptions o;
  o.state_size = 8;
  o.beta = -2;
  CHECK_THROWS_AS(layer.declare(store, "lookup", o, 4), InputError);
  o.beta = 0;
  o.heads = 3;  // 8 is not divisible by 3
  CHECK_THROWS_WITH(layer.declare(store, "lookup2", o, 4), Contains("divisible"));
}

TEST_CASE("pattern files that do not parse", "[bad_input]") {
  CHECK_THROWS_WITH(read_pattern_file(write_file("bad_patterns.txt", "1 2 3\n4 x 6\n")),
                    Contains("bad_patterns.txt") && Contains("line 2"));
  CHECK_THROWS_WITH(read_pattern_file(write_file("ragged_patterns.txt", "1 2 3\n4 5\n")),
                    Contains("ragged_patterns.txt"));
  CHECK_THROWS_AS(read_pattern_file(write_file("empty_patterns.txt", "\n\n")), InputError);
  CHECK_THROWS_WITH(read_pattern_file("no_such_patterns.txt"), Contains("no_such_patterns.txt"));
  const PatternSet ok = read_pattern_file(write_file("good_patterns.txt", "1 -1 1\n-1 -1 1\n"));
  CHECK(ok.count == 2);
  CHECK(ok.dim == 3);
  CHECK_THROWS_WITH(pattern_kind_from_name("gauss"), Contains("binary"));
}

TEST_CASE("IDX reader: good, wrong magic, truncated, missing", "[idx]") {
  // A 2 x 2 x 3 ubyte array.
  std::string good("\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00\x03", 16);
  for (int i = 0; i < 12; ++i) good.push_back(static_cast<char>(i * 20));
  const IdxArray a = read_idx(write_file("good.idx", good));
  REQUIRE(a.dims == std::vector<std::size_t>{2, 2, 3});
  CHECK(a.values[11] == 220);
  CHECK(read_idx("good.idx", 1).values.size() == 6);
  CHECK_THROWS_WITH(read_idx(write_file("text.idx", "hello world, not idx")),
                    Contains("text.idx") && Contains("not an IDX file"));
  CHECK_THROWS_WITH(read_idx(write_file("short.idx", good.substr(0, 20))),
                    Contains("short.idx") && Contains("truncated"));
  CHECK_THROWS_WITH(read_idx("missing.idx"), Contains("missing.idx") && Contains("no such file"));
  // A header naming billions of values in a 14-byte file (found by fuzzing: it was
  // allocated before reading) and one naming more than any memory holds.
  CHECK_THROWS_WITH(
      read_idx(write_file("huge.idx", std::string("\x00\x00\x08\x01\xFC\x00\x00\x00xy", 10))),
      Contains("huge.idx") && Contains("truncated"));
  CHECK_THROWS_WITH(
      read_idx(write_file("huger.idx",
                          std::string("\x00\x00\x08\x02\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 12))),
      Contains("huger.idx") && Contains("4294967295 x 4294967295 values, more than 2^36"));
  // NaN in float data.
  CHECK_THROWS_WITH(
      read_idx(write_file(
          "nan.idx",
          std::string("\x00\x00\x0D\x01\x00\x00\x00\x02\x3F\x80\x00\x00\x7F\xC0\x00\x00", 16))),
      Contains("nan.idx: value 1 (item 1) is nan") && Contains("must be finite"));
  CHECK_THROWS_WITH(read_fashion_mnist("no_such_dir", "train"), Contains("dataset-fashion-mnist"));
  CHECK_THROWS_WITH(read_fashion_mnist("no_such_dir", "validation"), Contains("t10k"));
}

TEST_CASE("Fashion-MNIST from Debian's package", "[idx]") {
  const std::string dir = fashion_mnist_directory();
  try {
    const ImageSet images = read_fashion_mnist(dir, "t10k", 100);
    CHECK(images.count == 100);
    CHECK(images.rows == 28);
    CHECK(images.cols == 28);
    CHECK(images.labels[0] == 9);  // the first test image is an ankle boot
    double largest = 0;
    for (double v : images.pixels) largest = std::max(largest, v);
    CHECK(largest == 1.0);
  } catch (const InputError& e) {
    WARN("TESSERA_SKIP: " << e.what());
  }
}
