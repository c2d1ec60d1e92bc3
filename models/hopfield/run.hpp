#pragma once
// The hopfield experiment's drivers, one per hopfield.task:
//   capacity    retrieval error and success against the number of stored patterns for
//               several d, binary and Gaussian patterns, corrupted queries; the classical
//               network on the same data;
//   beta_sweep  the three kinds of fixed points (global average, metastable subsets,
//               single patterns), measured by how many patterns carry the softmax mass;
//   images      Fashion-MNIST: store K images, query with the lower half masked; the
//               classical network's failure on correlated patterns beside it;
//   learning    HopfieldPooling over image rows as a classifier against an MLP of about
//               the same size.
// The stored patterns are sharded over the ranks (exact log-sum-exp merge), so any rank
// count gives the one-rank numbers to round-off.
#include <string>

#include "core/io/run_context.hpp"
#include "models/hopfield/config.hpp"

namespace tessera::models::hopfield {

struct HopfieldSummary {
  std::string task;
  int ranks = 1;
};

HopfieldSummary run_hopfield(const HopfieldConfig& config, const io::RunContext& context);

}  // namespace tessera::models::hopfield
