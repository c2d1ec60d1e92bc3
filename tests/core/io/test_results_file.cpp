#include "core/io/results_file.hpp"

#include <hdf5.h>

#include <filesystem>

#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tessera;
namespace fs = std::filesystem;

namespace {

std::vector<double> read_all(hid_t file, const std::string& path, std::vector<hsize_t>* dims) {
  hid_t dataset = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
  REQUIRE(dataset >= 0);
  hid_t space = H5Dget_space(dataset);
  const int rank = H5Sget_simple_extent_ndims(space);
  dims->assign(rank, 0);
  H5Sget_simple_extent_dims(space, dims->data(), nullptr);
  hsize_t total = 1;
  for (auto d : *dims) total *= d;
  std::vector<double> values(total);
  H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  H5Sclose(space);
  H5Dclose(dataset);
  return values;
}

}  // namespace

TEST_CASE("results file: fields, metrics, timings and config from every rank", "[results_file]") {
  const int rank = runtime::comm_rank(MPI_COMM_WORLD);
  const int size = runtime::comm_size(MPI_COMM_WORLD);
  const std::string dir = testing::shared_temp_dir("results");
  const std::string path = dir + "/run.h5";
  constexpr std::int64_t kGlobal = 10;
  // Uneven blocks, and a rank with nothing when there are more ranks than this.
  const std::int64_t first = std::min<std::int64_t>(kGlobal, rank * 3);
  const std::int64_t count =
      rank == size - 1 ? kGlobal - first : std::min<std::int64_t>(3, kGlobal - first);
  {
    io::ResultsFile results(MPI_COMM_WORLD, path);
    CHECK(fs::exists(results.partial_path()));
    CHECK_FALSE(fs::exists(path));
    results.write_config("[run]\nname = \"t\"\n", {{"experiment", "test"}});
    for (int step = 0; step < 3; ++step) {
      results.begin_field_step(0.5 * step);
      std::vector<double> local(count), vectors(2 * count);
      for (std::int64_t i = 0; i < count; ++i) {
        local[i] = 100.0 * step + static_cast<double>(first + i);
        vectors[2 * i] = local[i];
        vectors[2 * i + 1] = -local[i];
      }
      results.write_field("density", kGlobal, first, local);
      results.write_field("velocity", kGlobal, first, vectors, 2);
      // The same values from scattered rows: rank r owns the rows congruent to r.
      std::vector<std::int64_t> rows;
      std::vector<double> scattered;
      for (std::int64_t g = rank; g < kGlobal; g += size) {
        rows.push_back(g);
        scattered.push_back(100.0 * step + static_cast<double>(g));
        scattered.push_back(-(100.0 * step + static_cast<double>(g)));
      }
      results.write_field_rows("velocity_scattered", kGlobal, rows, scattered, 2);
      results.append_metric("mass", 0.5 * step, 10.0 + step);
    }
    std::vector<double> x(count);
    for (std::int64_t i = 0; i < count; ++i) x[i] = static_cast<double>(first + i);
    results.write_distributed_array("/fields/x", kGlobal, first, x);
    results.write_root_array("/detectors/density", {2, 3}, {1, 2, 3, 4, 5, 6});
    runtime::Timers timers;
    timers.start("step");
    timers.stop("step");
    results.write_timings(timers.reduce(MPI_COMM_WORLD));
    results.set_attribute("/", "steps", 3.0);
    results.close();
  }
  if (rank == 0) {
    CHECK_FALSE(fs::exists(path + ".partial"));
    REQUIRE(fs::exists(path));
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    REQUIRE(file >= 0);
    std::vector<hsize_t> dims;
    const auto density = read_all(file, "/fields/density", &dims);
    REQUIRE(dims == std::vector<hsize_t>{3, kGlobal});
    for (int step = 0; step < 3; ++step) {
      for (int i = 0; i < kGlobal; ++i) CHECK(density[step * kGlobal + i] == 100.0 * step + i);
    }
    const auto velocity = read_all(file, "/fields/velocity", &dims);
    REQUIRE(dims == std::vector<hsize_t>{3, kGlobal, 2});
    CHECK(velocity[2 * (kGlobal + 4) + 1] == -(100.0 + 4));
    CHECK(read_all(file, "/fields/velocity_scattered", &dims) == velocity);
    const auto time = read_all(file, "/fields/time", &dims);
    CHECK(time == std::vector<double>{0.0, 0.5, 1.0});
    const auto mass = read_all(file, "/metrics/mass", &dims);
    REQUIRE(dims == std::vector<hsize_t>{3, 2});
    CHECK(mass == std::vector<double>{0.0, 10.0, 0.5, 11.0, 1.0, 12.0});
    const auto x = read_all(file, "/fields/x", &dims);
    CHECK(x[kGlobal - 1] == kGlobal - 1);
    const auto detectors = read_all(file, "/detectors/density", &dims);
    CHECK(dims == std::vector<hsize_t>{2, 3});
    CHECK(detectors[5] == 6);
    const auto step = read_all(file, "/timings/step", &dims);
    CHECK(dims == std::vector<hsize_t>{3});
    // The configuration text is stored whole.
    hid_t config = H5Dopen2(file, "/config", H5P_DEFAULT);
    hid_t type = H5Dget_type(config);
    std::string text(H5Tget_size(type), '\0');
    H5Dread(config, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, text.data());
    CHECK(text == "[run]\nname = \"t\"\n");
    CHECK(H5Aexists(config, "experiment") > 0);
    H5Tclose(type);
    H5Dclose(config);
    H5Fclose(file);
    fs::remove_all(dir);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST_CASE("an unfinished results file keeps its .partial name", "[results_file]") {
  const int rank = runtime::comm_rank(MPI_COMM_WORLD);
  const std::string dir = testing::shared_temp_dir("partial");
  const std::string path = dir + "/run.h5";
  {
    io::ResultsFile results(MPI_COMM_WORLD, path);
    results.append_metric("loss", 0, 1.0);
    // No close(): as when a run fails.
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    CHECK(fs::exists(path + ".partial"));
    CHECK_FALSE(fs::exists(path));
    fs::remove_all(dir);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  CHECK_THROWS_AS(io::ResultsFile(MPI_COMM_WORLD, "/nonexistent-dir/run.h5"), InputError);
}
