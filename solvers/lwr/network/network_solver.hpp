#pragma once
// The cell transmission model on a road network (Daganzo 1994/95): every link is cut
// into cells; inside a link the flux between two cells is the Godunov flux
// min(demand, supply) of its fundamental diagram, capped by each cell's current capacity
// (an incident lowers it); at nodes a node model decides the flows (origins: a point
// queue, inflow = min(demand + queue / dt, supply); destinations: outflow =
// min(demand, exit supply); junctions: node_model.hpp). One explicit step of one dt for
// the whole network: rho_c += dt / dx (inflow - outflow).
//
// Ranks own whole links (a partition of the link graph). Before each step a rank sends
// the end demand and start supply of its links to the ranks whose junctions need them;
// every rank touching a junction evaluates its node model on the same numbers, so any
// rank count reproduces one rank bitwise. The solver talks on a duplicate of the
// caller's communicator.
#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <vector>

#include "core/parallel/communicator.hpp"
#include "solvers/lwr/network/road_network.hpp"

namespace tessera::solvers::lwr::network {

// Vehicles counted by the solver since the start, over all ranks: demanded at origins =
// in the origin queues + on the links + exited at destinations, to round-off.
struct MassBalance {
  double demanded = 0;            // sum of origin demand x dt
  double entered = 0;             // flowed from origins into their links
  double queued = 0;              // waiting in origin queues now
  double stored = 0;              // on the links now (sum of rho dx)
  double exited = 0;              // flowed out at destinations
  double relative_error() const;  // |demanded + initial - queued - stored - exited| / scale
  double initial = 0;  // on the links when the solver started (set_density before step 1)
};

class NetworkSolver {
 public:
  // `network` must be finalize()d with this dt; `link_owner` gives each link's rank in
  // comm (see partition_links). Every rank constructs it; the density starts at zero.
  NetworkSolver(MPI_Comm comm, RoadNetwork network, double dt, std::vector<int> link_owner);
  NetworkSolver(const NetworkSolver&) = delete;
  NetworkSolver& operator=(const NetworkSolver&) = delete;

  const RoadNetwork& network() const { return network_; }
  MPI_Comm comm() const { return comm_; }
  int rank() const { return rank_; }
  double dt() const { return dt_; }
  double time() const { return time_; }
  long long steps_taken() const { return steps_; }

  bool owns_link(int link) const { return local_link_[static_cast<std::size_t>(link)] >= 0; }
  const std::vector<int>& owned_links() const { return owned_links_; }
  int link_owner(int link) const { return owner_.at(static_cast<std::size_t>(link)); }
  long long local_cells() const { return local_cells_; }
  // Index of (link, cell) in this rank's cell arrays; -1 when another rank owns the link.
  long long local_cell(int link, long long cell) const;
  // First cell of `link` in the global cell numbering (links in id order, cells in
  // driving order) and the global index of every local cell.
  long long global_first_cell(int link) const {
    return global_first_cell_.at(static_cast<std::size_t>(link));
  }
  std::vector<long long> global_cell_rows() const;

  // Every rank may call these with the same arguments; ranks that do not own the link or
  // node ignore them. Densities in veh/m over all lanes, flows in veh/s.
  void set_link_density(int link, const std::vector<double>& cells);
  void set_origin_demand(int node, double flow);
  void set_exit_supply(int node, double flow);  // default: the link's capacity
  // Same on every rank (junctions are evaluated by every rank touching them). Rows are
  // renormalised to sum to 1 exactly; InputError as in RoadNetwork::finalize.
  void set_turning(int node, const std::vector<std::vector<double>>& fractions);
  // Capacity of one cell as a fraction of its link's (1 = nominal; an incident, 0.3-0.7).
  void set_capacity_factor(int link, long long cell, double factor);

  // Exchange, node models, cell update. Collective.
  void step();

  // Device views of the local cells (layout: owned links in id order, cells in order).
  // density() changes handle every step.
  Kokkos::View<double*> density() const { return rho_; }
  // Flow (veh/s) through each local cell's upstream boundary during the last step.
  Kokkos::View<double*> inflow() const { return in_flux_; }
  // Each local cell's current capacity (veh/s): the link's, lowered by an incident.
  Kokkos::View<double*> cell_capacity() const { return capacity_; }
  std::vector<double> density_host() const;
  std::vector<double> link_density(int link) const;  // the owner only (std::logic_error)

  // What step() carries from one step to the next besides what the caller sets (demand,
  // turning, exit supplies, incident capacities): for checkpoints, in global order so
  // that a run resumes on any number of ranks.
  struct State {
    double time = 0;
    long long steps = 0;
    double initial_stored = 0;
    bool initial_recorded = false;
    std::vector<double> density;  // per global cell (global_first_cell order)
    // Per network node: origin queue, cumulative demand, entered, exited (zero where a
    // node has no such quantity).
    std::vector<double> node_counters;
  };
  static constexpr int kNodeCounters = 4;
  State state() const;  // collective; complete on every rank
  // Every rank, the same State; std::invalid_argument when its sizes do not fit.
  void restore(const State& state);

  // Queue (vehicles) at every origin, in network.origins() order. Collective.
  std::vector<double> origin_queues() const;
  MassBalance mass_balance() const;  // collective
  // Share of all cells moving at less than half their free speed (queued), by the flow
  // the cell can carry (its capacity included). Collective.
  double queued_cell_fraction() const;
  // Collective: std::runtime_error naming the step, link and cell when a density is NaN or
  // outside [0, jam density] (a monotone scheme never leaves it: a bug or a broken setup).
  void check_finite() const;

 private:
  void exchange_link_ends();
  void upload_turning(int node);

  parallel::Communicator comm_;
  RoadNetwork network_;
  int rank_ = 0, size_ = 1;
  double dt_ = 0, time_ = 0;
  long long steps_ = 0;
  double initial_stored_ = 0;
  bool initial_recorded_ = false;

  std::vector<int> owner_;
  std::vector<int> local_link_;  // per link: position in owned_links_, or -1
  std::vector<int> owned_links_;
  std::vector<long long> global_first_cell_;
  std::vector<long long> local_first_cell_;  // per owned link
  long long local_cells_ = 0;

  // Per local cell.
  Kokkos::View<double*> rho_, rho_next_, capacity_, out_flux_, in_flux_;
  Kokkos::View<int*> cell_link_;  // local link of each cell
  // Per local link.
  Kokkos::View<FundamentalDiagram*> diagram_;
  Kokkos::View<double*> ratio_;       // dt / dx
  Kokkos::View<double*> cell_width_;  // dx
  Kokkos::View<int*> link_global_;
  Kokkos::View<long long*> link_first_cell_;
  Kokkos::View<long long*> link_cells_;
  std::vector<double> nominal_capacity_;  // per local link, host
  // Per global link (only entries this rank touches are meaningful).
  Kokkos::View<double*> end_demand_, start_supply_, link_inflow_, link_outflow_;
  Kokkos::View<double*>::HostMirror end_demand_host_, start_supply_host_;  // for the exchange

  // Nodes this rank evaluates (every node touching one of its links), by position.
  std::vector<int> node_ids_;
  std::vector<int> node_position_;  // per network node: position, or -1
  Kokkos::View<int*> node_kind_, node_in_count_, node_out_count_, node_fifo_;
  Kokkos::View<int**> node_in_, node_out_;  // [position][k] global link ids
  Kokkos::View<double**> node_priority_;    // [position][i] in-link capacity
  Kokkos::View<double**> node_beta_;        // [position][i * kMax + j]
  Kokkos::View<double**>::HostMirror node_beta_host_;
  Kokkos::View<double*> origin_demand_, origin_queue_, exit_supply_;
  Kokkos::View<double*> cumulative_demand_, cumulative_entered_, cumulative_exited_;

  // Exchange plan: for each peer rank, the link ids sent to it and received from it.
  std::vector<int> peers_;
  std::vector<std::vector<int>> send_links_, recv_links_;
  // Message buffers per peer (2 values a link) and the requests of one exchange.
  std::vector<std::vector<double>> exchange_send_, exchange_recv_;
  std::vector<MPI_Request> exchange_requests_;
};

// Ranks for the links: METIS on the link graph (links meeting at a node are adjacent),
// weighted by cells, so that each rank gets whole links and few cut junctions. "blocks":
// contiguous link ids with about equal cells. InputError with more ranks than links.
std::vector<int> partition_links(const RoadNetwork& network, int ranks, const std::string& method);

}  // namespace tessera::solvers::lwr::network
