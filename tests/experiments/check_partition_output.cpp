// Checks the output of a mesh_partition run: the partitioned mesh written to VTK (one
// piece per rank) and read back equals the original mesh stored in run.h5, its partition
// field matches /partition/owner, and the halos the ranks built match the statistics.
// Usage: check_partition_output RUN_DIR. Prints "N passed, M failed".
#include <algorithm>
#include <array>
#include <cmath>
#include <iostream>
#include <map>
#include <set>

#include "core/io/hdf5_reader.hpp"
#include "core/mesh/vtu_reader.hpp"
#include "core/runtime/runtime.hpp"

namespace {

int passed = 0, failed = 0;

void check(bool ok, const std::string& what) {
  if (ok) {
    ++passed;
  } else {
    ++failed;
    std::cout << "FAIL: " << what << std::endl;
  }
}

}  // namespace

int main(int argc, char** argv) {
  tessera::runtime::Runtime runtime(argc, argv);
  if (argc != 2) {
    std::cerr << "usage: check_partition_output RUN_DIR" << std::endl;
    return 2;
  }
  const std::string dir = argv[1];
  const tessera::io::Hdf5Reader run(dir + "/run.h5");
  std::vector<std::uint64_t> dims;
  const std::vector<double> points = run.read("/mesh/points", &dims);
  const std::size_t n = dims[0];
  const std::vector<double> cells = run.read("/mesh/cells");
  const std::vector<double> owner = run.read("/partition/owner");
  const tessera::mesh::Mesh back = tessera::mesh::read_pvtu(dir + "/partition_000000.pvtu");

  check(back.num_points() == n, "point count of the VTK pieces, merged");
  check(back.num_cells() == cells.size() / 3, "cell count of the VTK pieces");
  // Original point of each point read back, by exact coordinates.
  std::map<std::array<double, 2>, std::size_t> original;
  for (std::size_t i = 0; i < n; ++i) original[{points[2 * i], points[2 * i + 1]}] = i;
  std::vector<long long> to_original(back.num_points(), -1);
  for (std::size_t i = 0; i < back.num_points(); ++i) {
    auto it = original.find({back.points[2 * i], back.points[2 * i + 1]});
    if (it != original.end()) to_original[i] = static_cast<long long>(it->second);
  }
  check(std::count(to_original.begin(), to_original.end(), -1) == 0,
        "every point read back is a point of the original mesh");
  std::set<std::array<long long, 3>> original_cells, back_cells;
  for (std::size_t c = 0; c < cells.size() / 3; ++c) {
    std::array<long long, 3> key = {static_cast<long long>(cells[3 * c]),
                                    static_cast<long long>(cells[3 * c + 1]),
                                    static_cast<long long>(cells[3 * c + 2])};
    std::sort(key.begin(), key.end());
    original_cells.insert(key);
  }
  for (std::size_t c = 0; c < back.num_cells(); ++c) {
    std::array<long long, 3> key;
    for (int k = 0; k < 3; ++k) key[k] = to_original[back.cells[3 * c + k]];
    std::sort(key.begin(), key.end());
    back_cells.insert(key);
  }
  check(back_cells == original_cells, "the cells read back are the original cells");
  const auto& partition = back.field(0, "partition");
  const auto& global_id = back.field(0, "global_id");
  bool partition_ok = true, ids_ok = true;
  for (std::size_t i = 0; i < back.num_points(); ++i) {
    if (to_original[i] < 0) continue;
    partition_ok = partition_ok && partition.values[i] == owner[to_original[i]];
    ids_ok = ids_ok && global_id.values[i] == static_cast<double>(to_original[i]);
  }
  check(partition_ok, "the VTK partition field equals /partition/owner");
  check(ids_ok, "the VTK global_id field names the original points");
  if (run.has("/fields/partition")) {
    const std::vector<double> field = run.read("/fields/partition");
    check(field == owner, "/fields/partition (written by each rank for its nodes) = owner");
    check(run.read("/partition/plan_ghosts") == run.read("/partition/halo"),
          "ghosts of each rank's halo plan = the partition statistics");
  }
  std::cout << passed << " passed, " << failed << " failed" << std::endl;
  return failed == 0 ? 0 : 1;
}
