// Data parallel and task parallel training on 1, 2 and 4 ranks reproduce the one-rank
// run to round-off (double precision): the standard PINN (collocation points and
// observations sharded, gradients all-reduced, L-BFGS on all ranks) and multi-task
// optimisation (tasks on rank groups exchanging parameters).
#include <mpi.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/runtime/runtime.hpp"
#include "models/pinn_traffic/training.hpp"
#include "tests/models/pinn_traffic/small_problem.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using namespace tessera::models::pinn_traffic;

namespace {

struct Trajectory {
  std::vector<double> losses, errors, validation;
  std::vector<int> transfers;
  std::vector<double> parameters;
};

// No auxiliary tasks: the standard PINN. `extras`: a learned diagram, the speed term,
// adaptive weights and residual-based refinement.
Trajectory train(MPI_Comm comm, const std::vector<std::string>& tasks, bool extras = false,
                 bool arz = false) {
  // 203: shards of unequal size
  PinnSetup setup =
      extras ? testing::small_setup_with_speeds(203, 60, 30) : testing::small_setup(203, 60, 30);
  if (extras) {
    setup.network.learn_diagram = true;
    setup.main.weights.speed = 0.5;
    setup.main.adaptive.every = 10;
    setup.main.collocation.refinement.every = 20;
    setup.main.collocation.refinement.points = 25;
    setup.main.collocation.refinement.candidates = 300;
  }
  if (arz) {  // the second-order model on an open road: two outputs, speeds as data
    setup.problem.ring = false;
    setup.problem.arz = true;
    setup.problem.relaxation_time = 0.2;
    setup.network.outputs = 2;
    setup.network.learn_diagram = false;
    setup.data.boundary_times.clear();
  }
  setup.mto.enabled = !tasks.empty();
  if (!tasks.empty()) setup.mto.tasks = tasks;
  Trajectory t;
  const TrainingResult result = train_pinn<double>(comm, setup, [&](const TrainingRecord& r) {
    t.losses.push_back(r.terms.total);
    t.errors.push_back(r.metrics.relative_l2);
    for (double v : r.validation) t.validation.push_back(v);
    t.transfers.push_back(r.transfer);
  });
  t.parameters = result.parameters;
  return t;
}

double relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(a[i] - b[i]));
    norm = std::max(norm, std::abs(b[i]));
  }
  return norm > 0 ? diff / norm : diff;
}

void compare(const std::vector<std::string>& tasks, bool extras = false, bool arz = false) {
  const Trajectory many = train(MPI_COMM_WORLD, tasks, extras, arz);
  const Trajectory one = train(MPI_COMM_SELF, tasks, extras, arz);  // every rank alone
  CHECK(many.losses.size() == one.losses.size());
  CHECK(relative_difference(many.losses, one.losses) < 1e-10);
  CHECK(relative_difference(many.errors, one.errors) < 1e-10);
  CHECK(relative_difference(many.validation, one.validation) < 1e-10);
  CHECK(many.transfers == one.transfers);
  CHECK(relative_difference(many.parameters, one.parameters) < 1e-9);
  // And every rank ends with the same parameters, bit for bit.
  std::vector<double> root = many.parameters;
  MPI_Bcast(root.data(), static_cast<int>(root.size()), MPI_DOUBLE, 0, MPI_COMM_WORLD);
  CHECK(root == many.parameters);
}

}  // namespace

TEST_CASE("data-parallel PINN training follows the one-rank trajectory", "[parallel]") {
  compare({});
}

TEST_CASE("a learned diagram, speeds, adaptive weights and refinement follow the one-rank run",
          "[parallel]") {
  compare({}, true);
  compare({"data_heavy"}, true);
  compare({}, true, true);  // ARZ
}

TEST_CASE("multi-task optimisation on rank groups follows the one-rank run", "[parallel]") {
  compare({"physics_heavy", "data_heavy"});
  // A task from other initial parameters: blends and adoptions decided alike everywhere.
  compare({"other_init", "data_heavy"});
}
