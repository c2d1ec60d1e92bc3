#pragma once
// `tessera bench SUITE`: runs a benchmark suite and writes bench.h5 (one dataset per
// row: [seconds, gflops, extra] with the shape, note and further numbers as
// attributes), bench.csv and a Markdown table on stdout.
#include <string>

#include "core/runtime/runtime.hpp"

namespace tessera::experiments {

// Suites: "nn" (layers and models against sgemm; PyTorch via analysis/bench_report.py),
// "halo" (halo exchange and partition quality). Collective.
// `only`: run just this part of the suite (e.g. "hopfield" of "nn"); empty: all parts.
int command_bench(const runtime::Runtime& rt, const std::string& suite, bool quick,
                  const std::string& out, const std::string& only = "");

std::string bench_suites_text();
// The parts each suite's --only accepts: "nn: dense, graph, ...; flow: flow; ...".
std::string bench_parts_text();

}  // namespace tessera::experiments
