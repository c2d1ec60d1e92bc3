// The dense layers in float against PyTorch (float32) on the same weights and inputs:
// tests/reference/dense.h5, written by analysis/reference/reference_dense.py. Every
// output, input gradient and parameter gradient must agree to 1e-5 in the norm-wise
// relative error ||ours - torch|| / ||torch||. Set TESSERA_REFERENCE_REPORT=1 to print
// the measured errors.
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "core/io/hdf5_reader.hpp"
#include "core/nn/attention.hpp"
#include "core/nn/gated_mlp.hpp"
#include "core/nn/layer_norm.hpp"
#include "core/nn/losses.hpp"
#include "core/nn/mlp.hpp"
#include "core/nn/softmax.hpp"
#include "core/nn/transformer_block.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using namespace tessera::nn;

namespace {

constexpr double kTolerance = 1e-5;

// The reference file, opened once per test case (not held past MPI_Finalize).
io::Hdf5Reader* current = nullptr;
const io::Hdf5Reader& reference() {
  REQUIRE(current != nullptr);
  return *current;
}
struct OpenReference {
  io::Hdf5Reader file{TESSERA_SOURCE_DIR "/tests/reference/dense.h5"};
  OpenReference() { current = &file; }
  ~OpenReference() { current = nullptr; }
  OpenReference(const OpenReference&) = delete;
  OpenReference& operator=(const OpenReference&) = delete;
};

std::size_t attribute(const std::string& group, const std::string& name) {
  return static_cast<std::size_t>(reference().read_attribute("/" + group, name));
}

// A 2-D dataset as a float matrix (a 1-D one as a single row).
Matrix<float> load_matrix(const std::string& path) {
  std::vector<std::uint64_t> dims;
  const std::vector<double> values = reference().read(path, &dims);
  REQUIRE((dims.size() == 1 || dims.size() == 2));
  const std::size_t rows = dims.size() == 2 ? dims[0] : 1;
  const std::size_t cols = dims.back();
  Matrix<float> m(path, rows, cols);
  auto host = Kokkos::create_mirror_view(m);
  for (std::size_t k = 0; k < values.size(); ++k) host.data()[k] = static_cast<float>(values[k]);
  Kokkos::deep_copy(m, host);
  return m;
}

std::vector<double> values_of(const Matrix<float>& m) {
  auto host = Kokkos::create_mirror_view(m);
  Kokkos::deep_copy(host, m);
  return std::vector<double>(host.data(), host.data() + host.size());
}

double norm_of(const std::vector<double>& values) {
  double total = 0;
  for (double v : values) total += v * v;
  return std::sqrt(total);
}

// Norm-wise relative error of `ours` against the torch values at `path`, relative to
// max(||torch||, floor).
void check_close(const std::string& what, const std::vector<double>& ours, const std::string& path,
                 double floor = 1e-30) {
  const std::vector<double> torch = reference().read(path);
  REQUIRE(ours.size() == torch.size());
  double diff = 0, norm = 0, max_abs = 0;
  for (std::size_t k = 0; k < ours.size(); ++k) {
    diff += (ours[k] - torch[k]) * (ours[k] - torch[k]);
    norm += torch[k] * torch[k];
    max_abs = std::max(max_abs, std::abs(ours[k] - torch[k]));
  }
  const double relative = std::sqrt(diff) / std::max(std::sqrt(norm), floor);
  if (std::getenv("TESSERA_REFERENCE_REPORT")) {
    std::cout << "torch reference " << what << ": relative " << relative << ", max abs " << max_abs
              << "\n";
  }
  INFO(what << " vs " << path << ": relative error " << relative << ", max abs error " << max_abs);
  CHECK(relative < kTolerance);
}

void check_close(const std::string& what, const Matrix<float>& ours, const std::string& path) {
  check_close(what, values_of(ours), path);
}

// Sets every parameter slice from <group>/params; the file must hold exactly the model's.
void load_parameters(ParameterStore<float>& store, const std::string& group) {
  const std::vector<std::string> names = reference().members("/" + group + "/params");
  REQUIRE(names.size() == store.slices().size());
  for (const auto& name : names) {
    INFO(group << ": parameter " << name);
    const int id = store.find(name);
    REQUIRE(id >= 0);
    store.set_slice(id, reference().read("/" + group + "/params/" + name));
  }
  store.zero_grad();
}

// The key bias gets no gradient in exact arithmetic (it shifts all scores of a query row
// by the same amount, which softmax ignores): both sides hold round-off, so it is compared
// relative to the size of the key weight's gradient instead of its own.
void check_parameter_grads(const ParameterStore<float>& store, const std::string& group) {
  const std::string key_bias = ".wk.bias";
  for (std::size_t i = 0; i < store.slices().size(); ++i) {
    const std::string& name = store.slices()[i].name;
    double floor = 1e-30;
    if (name.size() > key_bias.size() &&
        name.compare(name.size() - key_bias.size(), key_bias.size(), key_bias) == 0) {
      const std::string weight = name.substr(0, name.size() - 4) + "weight";
      floor = norm_of(reference().read("/" + group + "/grads/" + weight));
    }
    check_close(group + " grad " + name, store.get_slice(static_cast<int>(i), true),
                "/" + group + "/grads/" + name, floor);
  }
}

}  // namespace

TEST_CASE("layer norm and RMS norm agree with PyTorch", "[torch_reference][layer_norm]") {
  OpenReference reference_file;
  {
    ParameterStore<float> store;
    LayerNorm<float> ln;
    ln.declare(store, "ln", attribute("layer_norm", "features"),
               reference().read_attribute("/layer_norm", "eps"));
    store.finalize();
    load_parameters(store, "layer_norm");
    check_close("layer_norm y", ln.forward(store, load_matrix("/layer_norm/x")), "/layer_norm/y");
    check_close("layer_norm dx", ln.backward(store, load_matrix("/layer_norm/dy")),
                "/layer_norm/dx");
    check_parameter_grads(store, "layer_norm");
  }
  {
    ParameterStore<float> store;
    RMSNorm<float> rms;
    rms.declare(store, "rms", attribute("rms_norm", "features"),
                reference().read_attribute("/rms_norm", "eps"));
    store.finalize();
    load_parameters(store, "rms_norm");
    check_close("rms_norm y", rms.forward(store, load_matrix("/rms_norm/x")), "/rms_norm/y");
    check_close("rms_norm dx", rms.backward(store, load_matrix("/rms_norm/dy")), "/rms_norm/dx");
    check_parameter_grads(store, "rms_norm");
  }
}

TEST_CASE("softmax agrees with PyTorch", "[torch_reference][softmax]") {
  OpenReference reference_file;
  Softmax<float> softmax;
  check_close("softmax y", softmax.forward(load_matrix("/softmax/x")), "/softmax/y");
  check_close("softmax dx", softmax.backward(load_matrix("/softmax/dy")), "/softmax/dx");
}

TEST_CASE("multi-head cross-attention with a mask agrees with PyTorch",
          "[torch_reference][attention]") {
  OpenReference reference_file;
  const std::string g = "attention";
  ParameterStore<float> store;
  MultiHeadAttention<float> attention;
  attention.declare(store, "attn", attribute(g, "model_dim"), attribute(g, "heads"));
  store.finalize();
  load_parameters(store, g);
  const Matrix<float> xq = load_matrix("/attention/xq"), xkv = load_matrix("/attention/xkv");
  const Matrix<float>& y =
      attention.forward(store, xq, xkv, attribute(g, "batch"), attribute(g, "query_len"),
                        attribute(g, "key_len"), load_matrix("/attention/mask"));
  check_close("attention y", y, "/attention/y");
  const AttentionInputGrads<float> grads = attention.backward(store, load_matrix("/attention/dy"));
  check_close("attention dxq", grads.query, "/attention/dxq");
  check_close("attention dxkv", grads.key_value, "/attention/dxkv");
  check_parameter_grads(store, g);
}

TEST_CASE("gated MLP agrees with PyTorch", "[torch_reference][gated_mlp]") {
  OpenReference reference_file;
  const std::string g = "gated_mlp";
  ParameterStore<float> store;
  GatedMlp<float> mlp;
  mlp.declare(store, "gmlp", attribute(g, "in_features"), attribute(g, "hidden"),
              attribute(g, "out_features"), ActivationKind::kGeluErf);
  store.finalize();
  load_parameters(store, g);
  check_close("gated_mlp y", mlp.forward(store, load_matrix("/gated_mlp/x")), "/gated_mlp/y");
  check_close("gated_mlp dx", mlp.backward(store, load_matrix("/gated_mlp/dy")), "/gated_mlp/dx");
  check_parameter_grads(store, g);
}

TEST_CASE("MLP with tanh GELU agrees with PyTorch", "[torch_reference][mlp]") {
  OpenReference reference_file;
  const std::string g = "mlp";
  std::vector<std::size_t> sizes;
  for (double s : reference().read("/mlp/sizes")) sizes.push_back(static_cast<std::size_t>(s));
  ParameterStore<float> store;
  Mlp<float> mlp;
  mlp.declare(store, "mlp", sizes, ActivationKind::kGeluTanh);
  store.finalize();
  load_parameters(store, g);
  check_close("mlp y", mlp.forward(store, load_matrix("/mlp/x")), "/mlp/y");
  check_close("mlp dx", mlp.backward(store, load_matrix("/mlp/dy")), "/mlp/dx");
  check_parameter_grads(store, g);
}

TEST_CASE("losses agree with PyTorch", "[torch_reference][losses]") {
  OpenReference reference_file;
  const Matrix<float> target = load_matrix("/losses/target");
  const Matrix<float> mask = load_matrix("/losses/mask");
  const Matrix<float> weights = load_matrix("/losses/weights");
  Matrix<float> grad;
  for (const std::string name : {"mse", "masked_mse", "masked_mae"}) {
    const Matrix<float> prediction = load_matrix("/losses/" + name + "/prediction");
    double loss = 0;
    if (name == "mse") loss = mse_loss(prediction, target, grad);
    if (name == "masked_mse") loss = masked_mse_loss(prediction, target, mask, grad);
    if (name == "masked_mae") loss = masked_mae_loss(prediction, target, weights, grad);
    check_close(name + " loss", std::vector<double>{loss}, "/losses/" + name + "/loss");
    check_close(name + " grad", grad, "/losses/" + name + "/grad");
  }
}

TEST_CASE("transformer block with a causal mask agrees with PyTorch",
          "[torch_reference][transformer_block]") {
  OpenReference reference_file;
  const std::string g = "transformer_block";
  ParameterStore<float> store;
  TransformerBlock<float> block;
  block.declare(store, "blk", attribute(g, "model_dim"), attribute(g, "heads"),
                attribute(g, "mlp_hidden"), ActivationKind::kGeluErf);
  store.finalize();
  load_parameters(store, g);
  const Matrix<float>& y =
      block.forward(store, load_matrix("/transformer_block/x"), attribute(g, "batch"),
                    attribute(g, "len"), load_matrix("/transformer_block/mask"));
  check_close("transformer_block y", y, "/transformer_block/y");
  check_close("transformer_block dx", block.backward(store, load_matrix("/transformer_block/dy")),
              "/transformer_block/dx");
  check_parameter_grads(store, g);
}
