#pragma once
// Named timing regions. Each region is also a Kokkos profiling region, so that it
// shows up in Kokkos Tools (space-time-stack, nsys). Totals are reduced over ranks
// (min/mean/max) for the results file.
#include <mpi.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace tessera::runtime {

struct RegionStats {
  std::string name;
  double min_seconds = 0;  // over ranks, of the per-rank total
  double mean_seconds = 0;
  double max_seconds = 0;
  long long calls = 0;  // on rank 0 (largest over ranks when rank 0 never entered it)
};

class Timers {
 public:
  void start(const std::string& name);
  void stop(const std::string& name);
  double total_seconds(const std::string& name) const;
  long long calls(const std::string& name) const;

  // Collective over `comm`: the union of region names over ranks, each with its
  // min/mean/max total (a rank that never entered a region counts 0 s).
  std::vector<RegionStats> reduce(MPI_Comm comm) const;

  // Times one scope: Timers::Scope scope(timers, "solver.step"). The pointer form is for
  // code whose caller may pass no timers (nullptr: nothing is timed).
  class Scope {
   public:
    Scope(Timers& timers, std::string name) : Scope(&timers, std::move(name)) {}
    Scope(Timers* timers, std::string name) : timers_(timers), name_(std::move(name)) {
      if (timers_) timers_->start(name_);
    }
    ~Scope() {
      if (timers_) timers_->stop(name_);
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Timers* timers_;
    std::string name_;
  };

 private:
  struct Region {
    double total = 0;
    long long calls = 0;
    bool running = false;
    std::chrono::steady_clock::time_point started;
  };
  std::map<std::string, Region> regions_;
};

}  // namespace tessera::runtime
