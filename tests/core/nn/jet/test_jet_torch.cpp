// JetMlp and the LWR losses against PyTorch (nested autograd.grad) on the same weights
// and points: tests/reference/jet.h5, made by analysis/reference/reference_jet.py.
// The C++ side runs in float (the training precision) and in double; both are compared
// with torch's float64 values, since torch's own float32 nested autograd is ~1e-7 off.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/io/hdf5_reader.hpp"
#include "core/nn/jet_mlp.hpp"
#include "models/pinn_traffic/lwr_residual.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using namespace tessera::nn;
// The LWR residual (models/pinn_traffic) is the PDE loss these jets were built for.
using tessera::models::pinn_traffic::lwr_residual_loss;
using tessera::models::pinn_traffic::LwrResidualCoefficients;

namespace {

const std::string kReference = TESSERA_SOURCE_DIR "/tests/reference/jet.h5";

struct Agreement {
  double relative = 0;  // ||a - b|| / ||b||
  double max_abs = 0;
};

Agreement compare(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double diff = 0, norm = 0;
  Agreement out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    norm += b[i] * b[i];
    out.max_abs = std::max(out.max_abs, std::abs(a[i] - b[i]));
  }
  out.relative = std::sqrt(diff / std::max(norm, 1e-300));
  return out;
}

template <class T>
Matrix<T> to_device(const std::vector<double>& values, std::size_t rows, std::size_t cols) {
  REQUIRE(values.size() == rows * cols);
  Matrix<T> m("reference", rows, cols);
  auto host = Kokkos::create_mirror_view(m);
  for (std::size_t i = 0; i < rows * cols; ++i) host.data()[i] = static_cast<T>(values[i]);
  Kokkos::deep_copy(m, host);
  return m;
}

template <class T>
std::vector<double> to_host(const Matrix<T>& m) {
  auto host = Kokkos::create_mirror_view(m);
  Kokkos::deep_copy(host, m);
  return std::vector<double>(host.data(), host.data() + m.extent(0) * m.extent(1));
}

// Runs one reference case in precision T; returns the worst relative error seen.
template <class T>
double check_case(const io::Hdf5Reader& file, const std::string& name, double tolerance) {
  const std::string g = "/" + name;
  std::vector<std::size_t> sizes;
  for (double s : file.read(g + "/sizes")) sizes.push_back(static_cast<std::size_t>(s));
  const ActivationKind kind = activation_from_name(file.read_string_attribute(g, "activation"));
  const LwrResidualCoefficients lwr{file.read_attribute(g, "v_max"),
                                    file.read_attribute(g, "rho_max"),
                                    file.read_attribute(g, "viscosity")};
  ParameterStore<T> store;
  JetMlp<T> mlp;
  mlp.declare(store, "pinn", sizes, kind);
  store.finalize();
  for (std::size_t id = 0; id < store.slices().size(); ++id) {
    store.set_slice(static_cast<int>(id), file.read(g + "/params/" + store.slice(id).name));
  }
  const std::string ref = g + "/float64/";
  double worst = 0;
  auto expect = [&](const std::string& what, const std::vector<double>& mine,
                    const std::vector<double>& torch) {
    const Agreement a = compare(mine, torch);
    INFO(name << " " << what << ": relative " << a.relative << ", max abs " << a.max_abs);
    CHECK(a.relative < tolerance);
    worst = std::max(worst, a.relative);
  };

  std::vector<std::uint64_t> dims;
  const auto points_values = file.read(g + "/points", &dims);
  const std::size_t n = dims[0];
  const Matrix<T> points = to_device<T>(points_values, n, 2);
  const Matrix<T>& jet = mlp.forward(store, points);
  expect("u", to_host<T>(mlp.part(JetPart::kValue)), file.read(ref + "u"));
  expect("u_x", to_host<T>(mlp.part(JetPart::kDx)), file.read(ref + "u_x"));
  expect("u_t", to_host<T>(mlp.part(JetPart::kDt)), file.read(ref + "u_t"));
  expect("u_xx", to_host<T>(mlp.part(JetPart::kDxx)), file.read(ref + "u_xx"));
  Matrix<T> seed;
  expect("residual loss", {lwr_residual_loss(jet, lwr, seed)}, file.read(ref + "residual_loss"));
  store.zero_grad();
  mlp.backward(store, seed);
  for (std::size_t id = 0; id < store.slices().size(); ++id) {
    const std::string slice = store.slice(id).name;
    expect("residual gradient " + slice, store.get_slice(static_cast<int>(id), true),
           file.read(ref + "residual_grad/" + slice));
  }

  // The chunked training pass (chunks of 50: 50, 50, 28 or 50, 46 points) on the same
  // residual loss.
  mlp.set_chunk_points(50);
  store.zero_grad();
  const double fused = mlp.forward_backward(
      store, points, [&](const Matrix<T>& chunk_jet, Matrix<T>& chunk_seed, double weight) {
        return lwr_residual_loss(chunk_jet, lwr, chunk_seed, weight);
      });
  expect("residual loss, chunked", {fused}, file.read(ref + "residual_loss"));
  for (std::size_t id = 0; id < store.slices().size(); ++id) {
    const std::string slice = store.slice(id).name;
    expect("residual gradient, chunked " + slice, store.get_slice(static_cast<int>(id), true),
           file.read(ref + "residual_grad/" + slice));
  }
  mlp.set_chunk_points(0);

  const auto obs_values = file.read(g + "/obs_points", &dims);
  const std::size_t n_obs = dims[0];
  const Matrix<T> observations = to_device<T>(obs_values, n_obs, 2);
  const Matrix<T> data = to_device<T>(file.read(g + "/obs_data"), n_obs, 1);
  const Matrix<T>& u_obs = mlp.forward_values(store, observations);
  expect("u at observations", to_host<T>(u_obs), file.read(ref + "u_obs"));
  expect("misfit loss", {data_misfit_loss(u_obs, data, seed)}, file.read(ref + "misfit_loss"));
  store.zero_grad();
  mlp.backward(store, seed);
  for (std::size_t id = 0; id < store.slices().size(); ++id) {
    const std::string slice = store.slice(id).name;
    expect("misfit gradient " + slice, store.get_slice(static_cast<int>(id), true),
           file.read(ref + "misfit_grad/" + slice));
  }
  return worst;
}

}  // namespace

TEST_CASE("jet MLP and LWR losses agree with PyTorch", "[torch_reference]") {
  const io::Hdf5Reader file(kReference);
  for (const std::string name : {"tanh", "sine"}) {
    const double in_float = check_case<float>(file, name, 1e-5);
    const double in_double = check_case<double>(file, name, 1e-11);
    // Printed for the record (ctest -V): the worst norm-wise relative error per precision.
    std::printf("torch reference %s: worst relative error float %.2e, double %.2e\n", name.c_str(),
                in_float, in_double);
  }
}
