#include "core/parallel/rank_groups.hpp"

#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"

namespace tessera::parallel {

RankGroups split_ranks(MPI_Comm world, int domain_ranks, const std::string& key) {
  const int rank = runtime::comm_rank(world), ranks = runtime::comm_size(world);
  if (domain_ranks < 1 || ranks % domain_ranks != 0) {
    throw InputError(str(key, " = ", domain_ranks, ": expected a divisor of the ", ranks,
                         " ranks of the run (ranks = ranks per group x groups)"));
  }
  RankGroups g;
  g.domain_ranks = domain_ranks;
  g.domain_rank = rank % domain_ranks;
  g.sample_groups = ranks / domain_ranks;
  g.sample_group = rank / domain_ranks;
  MPI_Comm domain = MPI_COMM_NULL, samples = MPI_COMM_NULL;
  MPI_Comm_split(world, g.sample_group, g.domain_rank, &domain);
  MPI_Comm_split(world, g.domain_rank, g.sample_group, &samples);
  g.domain = Communicator(domain);  // duplicates: the split ones are freed here
  g.samples = Communicator(samples);
  MPI_Comm_free(&domain);
  MPI_Comm_free(&samples);
  return g;
}

}  // namespace tessera::parallel
