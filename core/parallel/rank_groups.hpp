#pragma once
// A world of ranks as groups x samples, for models that split one sample over several
// ranks (a mesh over a domain group, a sensor graph's attention keys over a sensor group)
// while the groups split the batch: world rank w is rank w % D of group w / D. `domain`
// holds the D ranks of this rank's group, `samples` the ranks at the same position of
// every group (one per group: the batch is split and gradients combined over them).
#include <mpi.h>

#include <string>

#include "core/parallel/communicator.hpp"

namespace tessera::parallel {

struct RankGroups {
  Communicator domain;   // the D ranks that share one sample
  Communicator samples;  // one rank of each group (the same position in each)
  int domain_ranks = 1, domain_rank = 0;
  int sample_groups = 1, sample_group = 0;
};

// Collective over `world`. InputError naming `key` (the configuration key D comes from)
// when D < 1 or D does not divide the rank count.
RankGroups split_ranks(MPI_Comm world, int domain_ranks, const std::string& key);

}  // namespace tessera::parallel
