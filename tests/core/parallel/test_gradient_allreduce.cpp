// Data-parallel training on 1, 2 and 4 ranks reproduces the one-rank run.
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/optim/adam.hpp"
#include "core/optim/clip.hpp"
#include "core/parallel/gradient_allreduce.hpp"
#include "core/runtime/runtime.hpp"
#include "core/tensor/random.hpp"
#include "tests/core/optim/test_problem.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;

namespace {

constexpr std::size_t kRows = 64, kIn = 5, kHidden = 16, kOut = 2;
constexpr double kMaxNorm = 0.3;

bool verbose() {
  const char* v = std::getenv("TESSERA_TEST_VERBOSE");
  return v != nullptr && std::string(v) == "1" && runtime::comm_rank(MPI_COMM_WORLD) == 0;
}

// The fixed global batch, the same on every rank: x ~ N(0, 1), target = (sin(x0 + x1),
// x2 x3 - x4).
std::vector<double> global_inputs() {
  tensor::Vector<double> x("x", kRows * kIn);
  tensor::fill_normal(x, 0.0, 1.0, 2024, 0);
  auto host = Kokkos::create_mirror_view(x);
  Kokkos::deep_copy(host, x);
  return std::vector<double>(host.data(), host.data() + host.extent(0));
}

std::vector<double> global_targets(const std::vector<double>& x) {
  std::vector<double> t(kRows * kOut);
  for (std::size_t i = 0; i < kRows; ++i) {
    const double* r = &x[i * kIn];
    t[i * kOut] = std::sin(r[0] + r[1]);
    t[i * kOut + 1] = r[2] * r[3] - r[4];
  }
  return t;
}

// Rows [first, first + count) of this rank's share of the batch.
void my_rows(MPI_Comm comm, std::size_t& first, std::size_t& count) {
  const int rank = runtime::comm_rank(comm), size = runtime::comm_size(comm);
  first = kRows * rank / size;
  count = kRows * (rank + 1) / size - first;
}

// 10 Adam steps (gradients clipped to norm kMaxNorm) on the global batch split over `comm`; returns
// the parameters and the losses.
template <class T>
std::vector<double> train(MPI_Comm comm, std::vector<double>* losses = nullptr,
                          int* clipped_steps = nullptr) {
  const auto x = global_inputs();
  const auto t = global_targets(x);
  std::size_t first = 0, count = 0;
  my_rows(comm, first, count);
  const auto x_local = testing::matrix_from<T>(
      std::vector<double>(x.begin() + first * kIn, x.begin() + (first + count) * kIn), count, kIn);
  const auto t_local = testing::matrix_from<T>(
      std::vector<double>(t.begin() + first * kOut, t.begin() + (first + count) * kOut), count,
      kOut);

  nn::ParameterStore<T> store;
  testing::TanhMlp<T> mlp;
  mlp.declare(store, kIn, kHidden, kOut);
  store.finalize();
  mlp.fc1.init(store, 7);
  mlp.fc2.init(store, 7);
  optim::AdamOptions options;
  options.lr = 0.01;
  optim::Adam<T> adam(store, options);
  parallel::GradientAllreduce<T> allreduce(comm);
  const int ranks = runtime::comm_size(comm);
  for (int step = 0; step < 10; ++step) {
    store.zero_grad();
    // Each rank's gradient is `ranks` times its share of the full-batch gradient, so
    // that the average over ranks is the full-batch gradient.
    double loss = mlp.loss_and_grad(store, x_local, t_local, static_cast<double>(kRows * kOut),
                                    static_cast<double>(ranks));
    MPI_Allreduce(MPI_IN_PLACE, &loss, 1, MPI_DOUBLE, MPI_SUM, comm);
    if (losses) losses->push_back(loss);
    allreduce.average(store);
    // Replicated gradients after the all-reduce: clip without a communicator.
    const double norm = optim::clip_grad_norm(store, kMaxNorm);
    if (clipped_steps && norm > kMaxNorm) ++*clipped_steps;
    adam.step(store);
  }
  auto host = Kokkos::create_mirror_view(store.params());
  Kokkos::deep_copy(host, store.params());
  return std::vector<double>(host.data(), host.data() + host.extent(0));
}

// The largest of `value` over all ranks.
double max_over_ranks(double value) {
  MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return value;
}

}  // namespace

TEST_CASE("gradient all-reduce averages the flat gradient buffer", "[data_parallel]") {
  const int rank = runtime::comm_rank(MPI_COMM_WORLD), size = runtime::comm_size(MPI_COMM_WORLD);
  nn::ParameterStore<float> store;
  store.add("w", {3, 2});
  store.add("b", {3});
  store.finalize();
  auto host = Kokkos::create_mirror_view(store.grads());
  for (std::size_t i = 0; i < host.extent(0); ++i) host(i) = static_cast<float>(rank + 1 + i);
  Kokkos::deep_copy(store.grads(), host);
  parallel::GradientAllreduce<float> allreduce(MPI_COMM_WORLD);
  CHECK(allreduce.ranks() == size);
  allreduce.average(store);
  Kokkos::deep_copy(host, store.grads());
  for (std::size_t i = 0; i < host.extent(0); ++i) {
    CHECK(host(i) == Approx((size + 1) / 2.0 + i).epsilon(1e-7));
  }
  // Twice in a row (the staging buffer is reused) and through the one-off helper.
  nn::ParameterStore<double> other;
  other.add("v", {4});
  other.finalize();
  Kokkos::deep_copy(other.grads(), static_cast<double>(rank));
  parallel::average_gradients(other, MPI_COMM_WORLD);
  parallel::average_gradients(other, MPI_COMM_WORLD);
  CHECK(other.get_slice(0, true)[0] == Approx((size - 1) / 2.0));
  // The sum mode (a mesh split over ranks: each rank holds its nodes' share).
  Kokkos::deep_copy(other.grads(), static_cast<double>(rank + 1));
  parallel::GradientAllreduce<double>(MPI_COMM_WORLD).sum(other);
  CHECK(other.get_slice(0, true)[3] == size * (size + 1) / 2.0);
}

TEST_CASE("clipping over a communicator uses the norm of all ranks' gradients", "[data_parallel]") {
  const int rank = runtime::comm_rank(MPI_COMM_WORLD), size = runtime::comm_size(MPI_COMM_WORLD);
  // Rank r holds entries [3r, 3r + 3) of a vector of 3 size entries v_i = i + 1.
  nn::ParameterStore<double> shard;
  shard.add("part", {3});
  shard.finalize();
  std::vector<double> mine = {3.0 * rank + 1, 3.0 * rank + 2, 3.0 * rank + 3};
  auto host = Kokkos::create_mirror_view(shard.grads());
  for (int i = 0; i < 3; ++i) host(i) = mine[i];
  Kokkos::deep_copy(shard.grads(), host);
  double squares = 0;
  for (int i = 1; i <= 3 * size; ++i) squares += double(i) * i;
  const double norm = std::sqrt(squares);
  CHECK(optim::global_grad_norm(shard, MPI_COMM_WORLD) == Approx(norm).epsilon(1e-15));
  CHECK(optim::clip_grad_norm(shard, 2.0, MPI_COMM_WORLD) == Approx(norm).epsilon(1e-15));
  const auto clipped = shard.get_slice(0, true);
  for (int i = 0; i < 3; ++i) CHECK(clipped[i] == Approx(mine[i] * 2.0 / (norm + 1e-6)));

  // A NaN on one rank: every rank throws (no rank is left waiting in a collective).
  if (rank == size - 1) Kokkos::deep_copy(Kokkos::subview(shard.grads(), 1), std::nan(""));
  bool threw = false;
  try {
    optim::clip_grad_norm(shard, 2.0, MPI_COMM_WORLD);
  } catch (const std::runtime_error& e) {
    threw = true;
    if (rank == size - 1) {
      CHECK_THAT(e.what(), Catch::Matchers::Contains("'part'"));
    } else {
      CHECK_THAT(e.what(), Catch::Matchers::Contains("another rank"));
    }
  }
  CHECK(threw);
}

TEST_CASE("data-parallel Adam training reproduces the one-rank run", "[data_parallel]") {
  // Same global batch, same initial weights; the gradient sums run in a different order
  // (per-rank gemm, then MPI's sum), so the parameters agree to round-off.
  std::vector<double> losses_parallel, losses_serial;
  const auto parallel_double = train<double>(MPI_COMM_WORLD, &losses_parallel);
  int clipped = 0;
  const auto serial_double = train<double>(MPI_COMM_SELF, &losses_serial, &clipped);
  const double error_double =
      max_over_ranks(testing::relative_error(parallel_double, serial_double));
  CHECK(error_double < 1e-12);
  CHECK(testing::relative_error(losses_parallel, losses_serial) < 1e-12);
  CHECK(losses_serial.back() < losses_serial.front());  // it does train
  CHECK(clipped > 0);                                   // and clipping takes part

  const auto parallel_float = train<float>(MPI_COMM_WORLD);
  const auto serial_float = train<float>(MPI_COMM_SELF);
  const double error_float = max_over_ranks(testing::relative_error(parallel_float, serial_float));
  CHECK(error_float < 1e-5);

  // Every rank ends with the same parameters, bit for bit.
  std::vector<double> root = parallel_float;
  MPI_Bcast(root.data(), static_cast<int>(root.size()), MPI_DOUBLE, 0, MPI_COMM_WORLD);
  CHECK(root == parallel_float);
  if (verbose()) {
    std::printf(
        "data_parallel on %d ranks: parameters after 10 Adam steps vs one rank: "
        "double %.2e, float %.2e relative; loss %.4f -> %.4f, %d steps clipped\n",
        runtime::comm_size(MPI_COMM_WORLD), error_double, error_float, losses_serial.front(),
        losses_serial.back(), clipped);
  }
}
