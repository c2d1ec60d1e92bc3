#include "core/runtime/timers.hpp"

#include <Kokkos_Core.hpp>
#include <set>
#include <stdexcept>

#include "core/runtime/error.hpp"

namespace tessera::runtime {

void Timers::start(const std::string& name) {
  Region& region = regions_[name];
  if (region.running) throw std::logic_error(str("timer '", name, "' started twice"));
  Kokkos::Profiling::pushRegion(name);
  region.running = true;
  region.started = std::chrono::steady_clock::now();
}

void Timers::stop(const std::string& name) {
  auto it = regions_.find(name);
  if (it == regions_.end() || !it->second.running) {
    throw std::logic_error(str("timer '", name, "' stopped without being started"));
  }
  Region& region = it->second;
  region.total +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - region.started).count();
  region.calls += 1;
  region.running = false;
  Kokkos::Profiling::popRegion();
}

double Timers::total_seconds(const std::string& name) const {
  auto it = regions_.find(name);
  return it == regions_.end() ? 0.0 : it->second.total;
}

long long Timers::calls(const std::string& name) const {
  auto it = regions_.find(name);
  return it == regions_.end() ? 0 : it->second.calls;
}

std::vector<RegionStats> Timers::reduce(MPI_Comm comm) const {
  int size = 1;
  MPI_Comm_size(comm, &size);

  // Union of names: every rank contributes its names joined by '\n'.
  std::string mine;
  for (const auto& [name, region] : regions_) mine += name + '\n';
  int my_length = static_cast<int>(mine.size());
  std::vector<int> lengths(size);
  MPI_Allgather(&my_length, 1, MPI_INT, lengths.data(), 1, MPI_INT, comm);
  std::vector<int> offsets(size, 0);
  for (int r = 1; r < size; ++r) offsets[r] = offsets[r - 1] + lengths[r - 1];
  std::string all(offsets[size - 1] + lengths[size - 1], '\0');
  MPI_Allgatherv(mine.data(), my_length, MPI_CHAR, all.data(), lengths.data(), offsets.data(),
                 MPI_CHAR, comm);
  std::set<std::string> names;
  std::size_t begin = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i] == '\n') {
      names.insert(all.substr(begin, i - begin));
      begin = i + 1;
    }
  }

  const int count = static_cast<int>(names.size());
  std::vector<double> totals;
  std::vector<long long> calls;
  for (const auto& name : names) {
    totals.push_back(total_seconds(name));
    calls.push_back(this->calls(name));
  }
  std::vector<double> minimum(count), maximum(count), sum(count);
  std::vector<long long> most_calls(count);
  MPI_Allreduce(totals.data(), minimum.data(), count, MPI_DOUBLE, MPI_MIN, comm);
  MPI_Allreduce(totals.data(), maximum.data(), count, MPI_DOUBLE, MPI_MAX, comm);
  MPI_Allreduce(totals.data(), sum.data(), count, MPI_DOUBLE, MPI_SUM, comm);
  MPI_Allreduce(calls.data(), most_calls.data(), count, MPI_LONG_LONG, MPI_MAX, comm);

  std::vector<RegionStats> stats;
  int i = 0;
  for (const auto& name : names) {
    RegionStats s;
    s.name = name;
    s.min_seconds = minimum[i];
    s.max_seconds = maximum[i];
    s.mean_seconds = sum[i] / size;
    s.calls = calls[i] > 0 ? calls[i] : most_calls[i];
    stats.push_back(s);
    ++i;
  }
  return stats;
}

}  // namespace tessera::runtime
