#include "experiments/bench_command.hpp"

#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "core/io/results_file.hpp"
#include "core/io/run_directory.hpp"
#include "core/runtime/build_info.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "experiments/bench/bench_dense.hpp"
#include "experiments/bench/bench_flow.hpp"
#include "experiments/bench/bench_graph.hpp"
#include "experiments/bench/bench_halo.hpp"
#include "experiments/bench/bench_hopfield.hpp"
#include "experiments/bench/bench_lwr_network.hpp"
#include "experiments/bench/bench_mesh.hpp"
#include "experiments/bench/bench_mesh_split.hpp"
#include "experiments/bench/bench_pinn.hpp"
#include "experiments/bench/bench_pinn_training.hpp"
#include "experiments/bench/bench_scaling_model.hpp"
#include "experiments/bench/bench_st_forecast.hpp"

namespace tessera::experiments {
namespace {

using bench::BenchOptions;
using bench::BenchRow;
using Part = std::function<std::vector<BenchRow>(MPI_Comm, const BenchOptions&)>;

struct Suite {
  std::string name;
  std::string description;
  std::vector<std::pair<std::string, Part>> parts;
};

// Single-process benchmarks run on rank 0; the other ranks wait.
Part on_root(std::vector<BenchRow> (*benchmark)(const BenchOptions&)) {
  return [benchmark](MPI_Comm comm, const BenchOptions& options) {
    return runtime::comm_rank(comm) == 0 ? benchmark(options) : std::vector<BenchRow>{};
  };
}

std::vector<Suite> suites() {
  return {
      {"nn",
       "neural-network kernels on one process: Linear/MLP against sgemm, dense attention, "
       "graph-attention block, mesh transformer and MeshGraphNet training steps, STTN training "
       "step (st_forecast_sharded: its spatial attention keys sharded over the ranks; "
       "st_forecast_split: graph attention with its sensors split over the ranks; run on "
       "1 and 2 ranks), PINN training "
       "step, Hopfield retrieval (PyTorch side: "
       "analysis/bench_report.py)",
       {{"dense", on_root(bench::bench_dense)},
        {"graph", on_root(bench::bench_graph)},
        {"mesh", on_root(bench::bench_mesh)},
        {"st_forecast", on_root(bench::bench_st_forecast)},
        {"st_forecast_sharded", bench::bench_st_forecast_sharded},
        {"st_forecast_split", bench::bench_st_forecast_split},
        {"pinn", on_root(bench::bench_pinn)},
        {"pinn_training", on_root(bench::bench_pinn_training)},
        {"hopfield", bench::bench_hopfield}}},
      {"flow",
       "incompressible flow: time per step per 1,000 nodes and solver iterations at several "
       "mesh sizes; run on 1 and 2 ranks for strong scaling",
       {{"flow", bench::bench_flow}}},
      {"halo",
       "halo exchange against a one-hop neighbour sum (10k-1M nodes), METIS partition "
       "quality (2-1024 parts of 1M nodes), and mesh-model training steps on a mesh split "
       "over the ranks with their halo share (14k-230k nodes); run on 1 and 2 ranks",
       {{"halo_exchange", bench::bench_halo_exchange},
        {"partition_quality", bench::bench_partition_quality},
        {"mesh_split", bench::bench_mesh_split},
        {"mesh_split_large", bench::bench_mesh_split_large},
        {"mesh_split_weak", bench::bench_mesh_split_weak},
        {"mesh_split_million", bench::bench_mesh_split_million},
        {"mesh_split_global", bench::bench_mesh_split_global}}},
      {"traffic",
       "road networks (cell transmission model): time per step and cell-updates per second "
       "of the 8,448-detector grid and the freeway network at peak demand; run on 1 and 2 "
       "ranks for strong scaling",
       {{"lwr_network", bench::bench_lwr_network}}},
      {"scaling_model",
       "inputs of the performance model: ping-pong latency and bandwidth, allreduce latency, "
       "halo volumes of the flow and mesh partitions up to 1,024 parts",
       {{"pingpong", bench::bench_pingpong},
        {"allreduce", bench::bench_allreduce},
        {"flow_partition", bench::bench_flow_partition},
        {"mesh_partition", bench::bench_mesh_partition}}},
  };
}

}  // namespace

std::string bench_parts_text() {
  std::string text;
  for (const auto& suite : suites()) {
    std::string parts;
    for (const auto& part : suite.parts) parts += (parts.empty() ? "" : ", ") + part.first;
    text += (text.empty() ? "" : "; ") + suite.name + ": " + parts;
  }
  return text;
}

namespace {

std::string markdown_table(const std::vector<BenchRow>& rows) {
  std::ostringstream out;
  out << "| benchmark | shape | time (s) | GFLOP/s | extra | note |\n|---|---|---|---|---|---|\n";
  for (const auto& row : rows) {
    out << "| " << row.benchmark << " | " << row.shape << " | " << std::setprecision(4)
        << row.seconds << " | " << (row.gflops > 0 ? std::to_string(row.gflops) : "") << " | "
        << row.extra << " | " << row.note << " |\n";
  }
  return out.str();
}

}  // namespace

std::string bench_suites_text() {
  std::string text;
  for (const auto& suite : suites()) text += (text.empty() ? "" : ", ") + suite.name;
  return text;
}

int command_bench(const runtime::Runtime& rt, const std::string& suite_name, bool quick,
                  const std::string& out, const std::string& only) {
  const Suite* suite = nullptr;
  std::string directory;
  int code = runtime::run_collectively(rt.comm(), [&] {
    for (const auto& s : suites()) {
      if (s.name == suite_name) suite = &s;
    }
    if (suite == nullptr) {
      throw InputError(str("tessera bench: unknown suite '", suite_name, "': expected one of ",
                           bench_suites_text()));
    }
  });
  if (code != runtime::kExitOk) return code;
  static const std::vector<Suite> all = suites();
  for (const auto& s : all) {
    if (s.name == suite_name) suite = &s;
  }
  code = runtime::run_collectively(rt.comm(), [&] {
    if (!only.empty()) {
      std::string names;
      for (const auto& part : suite->parts) {
        if (part.first == only) return;
        names += (names.empty() ? "" : ", ") + part.first;
      }
      throw InputError(str("tessera bench ", suite_name, ": --only '", only,
                           "' is not a part of this suite: expected one of ", names));
    }
  });
  if (code != runtime::kExitOk) return code;
  code = runtime::run_collectively(rt.comm(), [&] {
    io::RunDirectoryRequest request;
    request.experiment_name = "bench_" + suite_name;
    request.explicit_directory = out;
    directory = io::prepare_run_directory(rt.comm(), request);
  });
  if (code != runtime::kExitOk) return code;
  runtime::log::set_file((std::filesystem::path(directory) / "log.txt").string());
  runtime::log::info(str("tessera bench ", suite_name, ": ", suite->description));
  const auto info = runtime::build_info(rt.comm());
  for (const auto& [label, value] : info) {
    if (label == "MPI ranks" || label == "BLAS" || label == "Kokkos backends") {
      runtime::log::info(str("  ", label, ": ", value));
    }
  }
  const std::string warning = runtime::oversubscription_warning(rt.comm());
  if (!warning.empty()) runtime::log::warn(warning);

  return runtime::run_or_abort(rt.comm(), [&] {
    BenchOptions options;
    options.quick = quick;
    if (quick) options.repeats = 3;
    std::vector<BenchRow> rows;
    for (const auto& [name, part] : suite->parts) {
      if (!only.empty() && name != only) continue;
      runtime::log::info(str("- ", name));
      const auto part_rows = part(rt.comm(), options);
      rows.insert(rows.end(), part_rows.begin(), part_rows.end());
    }
    // Rank 0 holds every row (parts that run on rank 0 only return nothing elsewhere).
    io::ResultsFile results(rt.comm(), (std::filesystem::path(directory) / "bench.h5").string());
    std::map<std::string, std::string> attributes = {{"suite", suite_name},
                                                     {"quick", quick ? "true" : "false"}};
    for (const auto& [label, value] : info) attributes["build: " + label] = value;
    results.write_config(str("[bench]\nsuite = \"", suite_name, "\"\nonly = \"", only,
                             "\"\nquick = ", quick ? "true" : "false", "\n"),
                         attributes);
    int count = static_cast<int>(rows.size());
    MPI_Bcast(&count, 1, MPI_INT, 0, rt.comm());
    for (int i = 0; i < count; ++i) {
      // Names and attributes must be the same on every rank: broadcast rank 0's row.
      std::string text;
      std::vector<double> numbers;
      if (rt.is_root()) {
        const BenchRow& row = rows[i];
        text = row.benchmark + '\n' + row.shape + '\n' + row.note;
        numbers = {row.seconds, row.gflops, row.extra};
        for (const auto& [key, value] : row.more) {
          text += '\n' + key;
          numbers.push_back(value);
        }
      }
      int length = static_cast<int>(text.size());
      MPI_Bcast(&length, 1, MPI_INT, 0, rt.comm());
      text.resize(length);
      MPI_Bcast(text.data(), length, MPI_CHAR, 0, rt.comm());
      int n = static_cast<int>(numbers.size());
      MPI_Bcast(&n, 1, MPI_INT, 0, rt.comm());
      numbers.resize(n);
      MPI_Bcast(numbers.data(), n, MPI_DOUBLE, 0, rt.comm());
      std::vector<std::string> fields;
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);) fields.push_back(line);
      const std::string path = str("/bench/", fields[0], "/", i);
      results.write_root_array(path, {3}, {numbers[0], numbers[1], numbers[2]});
      results.set_attribute(path, "shape", fields.size() > 1 ? fields[1] : "");
      results.set_attribute(path, "note", fields.size() > 2 ? fields[2] : "");
      results.set_attribute(path, "columns", "seconds,gflops,extra");
      for (std::size_t k = 3; k < fields.size(); ++k) {
        results.set_attribute(path, fields[k], numbers[k]);
      }
    }
    results.close();
    if (rt.is_root()) {
      std::ofstream csv(std::filesystem::path(directory) / "bench.csv");
      csv << "benchmark,shape,seconds,gflops,extra,note\n";
      for (const auto& row : rows) {
        csv << row.benchmark << ",\"" << row.shape << "\"," << row.seconds << "," << row.gflops
            << "," << row.extra << ",\"" << row.note << "\"\n";
      }
      std::cout << markdown_table(rows) << std::flush;
    }
    runtime::log::info(str("results: ", results.path()));
  });
}

}  // namespace tessera::experiments
