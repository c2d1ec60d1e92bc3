#include "solvers/lwr/network/network_solver.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>
#include <string>

#include "core/graph/neighbourhoods.hpp"
#include "core/parallel/partition.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/runtime.hpp"
#include "solvers/lwr/network/node_model.hpp"

namespace tessera::solvers::lwr::network {
namespace {

constexpr int kTagLinkEnds = 7201;
// Node kinds as the device arrays hold them.
constexpr int kOrigin = static_cast<int>(NodeKind::kOrigin);
constexpr int kDestination = static_cast<int>(NodeKind::kDestination);

// Demand and supply of a cell, capped by the cell's current capacity (Daganzo's CTM: the
// trapezoid min(v rho, capacity, w (rho_jam - rho)); an incident lowers the cap).
KOKKOS_INLINE_FUNCTION double cell_demand(const FundamentalDiagram& d, double rho, double cap) {
  const double demand = d.demand(rho);
  return demand < cap ? demand : cap;
}
KOKKOS_INLINE_FUNCTION double cell_supply(const FundamentalDiagram& d, double rho, double cap) {
  const double supply = d.supply(rho);
  return supply < cap ? supply : cap;
}

template <typename View>
void copy_to_device(const View& view, const std::vector<typename View::value_type>& values) {
  auto host = Kokkos::create_mirror_view(view);
  for (std::size_t i = 0; i < values.size(); ++i) host(i) = values[i];
  Kokkos::deep_copy(view, host);
}

template <typename View>
std::vector<typename View::non_const_value_type> copy_to_host(const View& view) {
  auto host = Kokkos::create_mirror_view(view);
  Kokkos::deep_copy(host, view);
  return std::vector<typename View::non_const_value_type>(host.data(),
                                                          host.data() + host.extent(0));
}

}  // namespace

double MassBalance::relative_error() const {
  const double in = initial + demanded;
  const double scale = in > 1.0 ? in : 1.0;
  return std::abs(in - queued - stored - exited) / scale;
}

std::vector<int> partition_links(const RoadNetwork& network, int ranks, const std::string& method) {
  const int links = network.link_count();
  if (ranks < 1 || ranks > links) {
    throw InputError(str(ranks, " ranks for a road network of ", links,
                         " links: every rank needs at least one whole link; run on at most ", links,
                         " ranks"));
  }
  std::vector<long long> weights(static_cast<std::size_t>(links));
  for (int l = 0; l < links; ++l) weights[static_cast<std::size_t>(l)] = network.link(l).cells;
  if (method == "blocks") {
    // Contiguous ids: part p takes links until the running cell count reaches
    // (p + 1) / ranks of the total, always at least one and leaving one for each later part.
    const long long total = network.total_cells();
    std::vector<int> owner(static_cast<std::size_t>(links));
    long long running = 0;
    int l = 0;
    for (int part = 0; part < ranks; ++part) {
      const long long target = total * (part + 1) / ranks;
      const int last_allowed = part + 1 == ranks ? links : links - (ranks - 1 - part);
      do {
        owner[static_cast<std::size_t>(l)] = part;
        running += weights[static_cast<std::size_t>(l)];
        ++l;
      } while (l < last_allowed && (running < target || part + 1 == ranks));
    }
    return owner;
  }
  if (method != "metis") {
    throw InputError(str("link partition method '", method, "': expected metis or blocks"));
  }
  // Link graph: two links are adjacent when they meet at a node.
  std::vector<std::set<int>> adjacent(static_cast<std::size_t>(links));
  for (int n = 0; n < network.node_count(); ++n) {
    std::vector<int> touching = network.in_links(n);
    touching.insert(touching.end(), network.out_links(n).begin(), network.out_links(n).end());
    for (const int a : touching) {
      for (const int b : touching) {
        if (a != b) adjacent[static_cast<std::size_t>(a)].insert(b);
      }
    }
  }
  graph::HostCsr graph;
  graph.row_ptr.push_back(0);
  for (const auto& row : adjacent) {
    graph.col_idx.insert(graph.col_idx.end(), row.begin(), row.end());
    graph.row_ptr.push_back(static_cast<graph::Index>(graph.col_idx.size()));
  }
  return parallel::partition_metis(graph, ranks, 1, weights).owner;
}

NetworkSolver::NetworkSolver(MPI_Comm comm, RoadNetwork network, double dt,
                             std::vector<int> link_owner)
    : comm_(comm), network_(std::move(network)), dt_(dt), owner_(std::move(link_owner)) {
  rank_ = runtime::comm_rank(comm);
  size_ = runtime::comm_size(comm);
  const int links = network_.link_count();
  if (static_cast<int>(owner_.size()) != links) {
    throw std::invalid_argument(
        str("NetworkSolver: ", owner_.size(), " link owners for ", links, " links"));
  }
  for (int l = 0; l < links; ++l) {
    const Link& link = network_.link(l);
    if (link.cells < 1) {
      throw std::logic_error(str("NetworkSolver: link '", link.name,
                                 "' has no cells: call RoadNetwork::finalize(dt) first"));
    }
    const double speed = std::max(link.lane.free_speed, link.lane.wave_speed);
    if (dt > network_.cell_length(l) / speed * (1.0 + 1e-12)) {
      throw InputError(str("time step ", dt, " s is above the CFL limit of link '", link.name,
                           "' (", network_.cell_length(l) / speed, " s)"));
    }
    if (owner_[static_cast<std::size_t>(l)] < 0 || owner_[static_cast<std::size_t>(l)] >= size_) {
      throw std::invalid_argument(str("NetworkSolver: link ", l, " is given to rank ",
                                      owner_[static_cast<std::size_t>(l)], " of ", size_));
    }
  }

  // Links and cells of this rank.
  local_link_.assign(static_cast<std::size_t>(links), -1);
  global_first_cell_.resize(static_cast<std::size_t>(links));
  long long global_cell = 0;
  for (int l = 0; l < links; ++l) {
    global_first_cell_[static_cast<std::size_t>(l)] = global_cell;
    global_cell += network_.link(l).cells;
    if (owner_[static_cast<std::size_t>(l)] != rank_) continue;
    local_link_[static_cast<std::size_t>(l)] = static_cast<int>(owned_links_.size());
    owned_links_.push_back(l);
    local_first_cell_.push_back(local_cells_);
    local_cells_ += network_.link(l).cells;
  }
  const std::size_t owned = owned_links_.size();
  std::vector<FundamentalDiagram> diagrams;
  std::vector<double> ratios, widths, cell_capacity;
  std::vector<long long> cells;
  std::vector<int> cell_link;
  for (std::size_t k = 0; k < owned; ++k) {
    const int l = owned_links_[k];
    diagrams.push_back(network_.diagram(l));
    widths.push_back(network_.cell_length(l));
    ratios.push_back(dt_ / widths.back());
    nominal_capacity_.push_back(network_.capacity(l));
    cells.push_back(network_.link(l).cells);
    for (long long c = 0; c < cells.back(); ++c) {
      cell_link.push_back(static_cast<int>(k));
      cell_capacity.push_back(nominal_capacity_.back());
    }
  }
  const auto n_cells = static_cast<std::size_t>(local_cells_);
  rho_ = Kokkos::View<double*>("network::density", n_cells);
  rho_next_ = Kokkos::View<double*>("network::density_next", n_cells);
  capacity_ = Kokkos::View<double*>("network::capacity", n_cells);
  out_flux_ = Kokkos::View<double*>("network::out_flux", n_cells);
  in_flux_ = Kokkos::View<double*>("network::in_flux", n_cells);
  cell_link_ = Kokkos::View<int*>("network::cell_link", n_cells);
  copy_to_device(capacity_, cell_capacity);
  copy_to_device(cell_link_, cell_link);
  diagram_ = Kokkos::View<FundamentalDiagram*>("network::diagram", owned);
  ratio_ = Kokkos::View<double*>("network::ratio", owned);
  cell_width_ = Kokkos::View<double*>("network::cell_width", owned);
  link_global_ = Kokkos::View<int*>("network::link_global", owned);
  link_first_cell_ = Kokkos::View<long long*>("network::link_first_cell", owned);
  link_cells_ = Kokkos::View<long long*>("network::link_cells", owned);
  copy_to_device(diagram_, diagrams);
  copy_to_device(ratio_, ratios);
  copy_to_device(cell_width_, widths);
  copy_to_device(link_global_, owned_links_);
  copy_to_device(link_first_cell_, local_first_cell_);
  copy_to_device(link_cells_, cells);
  end_demand_ = Kokkos::View<double*>("network::end_demand", static_cast<std::size_t>(links));
  start_supply_ = Kokkos::View<double*>("network::start_supply", static_cast<std::size_t>(links));
  link_inflow_ = Kokkos::View<double*>("network::link_inflow", static_cast<std::size_t>(links));
  link_outflow_ = Kokkos::View<double*>("network::link_outflow", static_cast<std::size_t>(links));
  end_demand_host_ = Kokkos::create_mirror_view(end_demand_);
  start_supply_host_ = Kokkos::create_mirror_view(start_supply_);

  // Nodes this rank evaluates: every node touching one of its links.
  auto touches = [&](int node, int rank) {
    for (const int l : network_.in_links(node)) {
      if (owner_[static_cast<std::size_t>(l)] == rank) return true;
    }
    for (const int l : network_.out_links(node)) {
      if (owner_[static_cast<std::size_t>(l)] == rank) return true;
    }
    return false;
  };
  node_position_.assign(static_cast<std::size_t>(network_.node_count()), -1);
  for (int n = 0; n < network_.node_count(); ++n) {
    if (!touches(n, rank_)) continue;
    node_position_[static_cast<std::size_t>(n)] = static_cast<int>(node_ids_.size());
    node_ids_.push_back(n);
  }
  const std::size_t nodes = node_ids_.size();
  node_kind_ = Kokkos::View<int*>("network::node_kind", nodes);
  node_in_count_ = Kokkos::View<int*>("network::node_in_count", nodes);
  node_out_count_ = Kokkos::View<int*>("network::node_out_count", nodes);
  node_fifo_ = Kokkos::View<int*>("network::node_fifo", nodes);
  node_in_ = Kokkos::View<int**>("network::node_in", nodes, kMaxNodeDegree);
  node_out_ = Kokkos::View<int**>("network::node_out", nodes, kMaxNodeDegree);
  node_priority_ = Kokkos::View<double**>("network::node_priority", nodes, kMaxNodeDegree);
  node_beta_ = Kokkos::View<double**>("network::node_beta", nodes, kMaxNodeDegree * kMaxNodeDegree);
  node_beta_host_ = Kokkos::create_mirror_view(node_beta_);
  origin_demand_ = Kokkos::View<double*>("network::origin_demand", nodes);
  origin_queue_ = Kokkos::View<double*>("network::origin_queue", nodes);
  exit_supply_ = Kokkos::View<double*>("network::exit_supply", nodes);
  cumulative_demand_ = Kokkos::View<double*>("network::cumulative_demand", nodes);
  cumulative_entered_ = Kokkos::View<double*>("network::cumulative_entered", nodes);
  cumulative_exited_ = Kokkos::View<double*>("network::cumulative_exited", nodes);
  {
    auto kind = Kokkos::create_mirror_view(node_kind_);
    auto in_count = Kokkos::create_mirror_view(node_in_count_);
    auto out_count = Kokkos::create_mirror_view(node_out_count_);
    auto fifo = Kokkos::create_mirror_view(node_fifo_);
    auto in = Kokkos::create_mirror_view(node_in_);
    auto out = Kokkos::create_mirror_view(node_out_);
    auto priority = Kokkos::create_mirror_view(node_priority_);
    auto exit_supply = Kokkos::create_mirror_view(exit_supply_);
    for (std::size_t p = 0; p < nodes; ++p) {
      const int n = node_ids_[p];
      const auto& ins = network_.in_links(n);
      const auto& outs = network_.out_links(n);
      kind(p) = static_cast<int>(network_.node(n).kind);
      in_count(p) = static_cast<int>(ins.size());
      out_count(p) = static_cast<int>(outs.size());
      fifo(p) = network_.node(n).fifo ? 1 : 0;
      for (std::size_t i = 0; i < ins.size(); ++i) {
        in(p, i) = ins[i];
        priority(p, i) = network_.capacity(ins[i]);
      }
      for (std::size_t j = 0; j < outs.size(); ++j) out(p, j) = outs[j];
      exit_supply(p) = ins.empty() ? 0.0 : network_.capacity(ins[0]);
    }
    Kokkos::deep_copy(node_kind_, kind);
    Kokkos::deep_copy(node_in_count_, in_count);
    Kokkos::deep_copy(node_out_count_, out_count);
    Kokkos::deep_copy(node_fifo_, fifo);
    Kokkos::deep_copy(node_in_, in);
    Kokkos::deep_copy(node_out_, out);
    Kokkos::deep_copy(node_priority_, priority);
    Kokkos::deep_copy(exit_supply_, exit_supply);
  }
  for (std::size_t p = 0; p < nodes; ++p) {
    const int n = node_ids_[p];
    if (network_.node(n).kind == NodeKind::kJunction) {
      network_.node(n).turning = normalised_turning(network_.node(n).turning);
      upload_turning(n);
    }
  }

  // Exchange plan. Rank r needs the ends of every link at a junction it evaluates; every
  // rank holds the whole network and owner map, so both sides derive the lists alone.
  send_links_.assign(static_cast<std::size_t>(size_), {});
  recv_links_.assign(static_cast<std::size_t>(size_), {});
  for (int n = 0; n < network_.node_count(); ++n) {
    if (network_.node(n).kind != NodeKind::kJunction) continue;
    std::vector<int> touching = network_.in_links(n);
    touching.insert(touching.end(), network_.out_links(n).begin(), network_.out_links(n).end());
    std::set<int> ranks_here;
    for (const int l : touching) ranks_here.insert(owner_[static_cast<std::size_t>(l)]);
    for (const int l : touching) {
      const int from = owner_[static_cast<std::size_t>(l)];
      for (const int to : ranks_here) {
        if (to == from) continue;
        if (from == rank_) send_links_[static_cast<std::size_t>(to)].push_back(l);
        if (to == rank_) recv_links_[static_cast<std::size_t>(from)].push_back(l);
      }
    }
  }
  for (int r = 0; r < size_; ++r) {
    for (auto* list :
         {&send_links_[static_cast<std::size_t>(r)], &recv_links_[static_cast<std::size_t>(r)]}) {
      std::sort(list->begin(), list->end());
      list->erase(std::unique(list->begin(), list->end()), list->end());
    }
    if (!send_links_[static_cast<std::size_t>(r)].empty() ||
        !recv_links_[static_cast<std::size_t>(r)].empty()) {
      peers_.push_back(r);
      exchange_send_.emplace_back(2 * send_links_[static_cast<std::size_t>(r)].size());
      exchange_recv_.emplace_back(2 * recv_links_[static_cast<std::size_t>(r)].size());
    }
  }
  exchange_requests_.resize(2 * peers_.size());
}

long long NetworkSolver::local_cell(int link, long long cell) const {
  const int k = local_link_.at(static_cast<std::size_t>(link));
  if (k < 0) return -1;
  if (cell < 0 || cell >= network_.link(link).cells) {
    throw std::out_of_range(str("NetworkSolver: cell ", cell, " of link '",
                                network_.link(link).name, "' (", network_.link(link).cells,
                                " cells)"));
  }
  return local_first_cell_[static_cast<std::size_t>(k)] + cell;
}

std::vector<long long> NetworkSolver::global_cell_rows() const {
  std::vector<long long> rows;
  rows.reserve(static_cast<std::size_t>(local_cells_));
  for (const int l : owned_links_) {
    for (long long c = 0; c < network_.link(l).cells; ++c) rows.push_back(global_first_cell(l) + c);
  }
  return rows;
}

void NetworkSolver::set_link_density(int link, const std::vector<double>& cells) {
  const Link& l = network_.link(link);
  if (static_cast<long long>(cells.size()) != l.cells) {
    throw std::invalid_argument(str("NetworkSolver::set_link_density: ", cells.size(),
                                    " values for the ", l.cells, " cells of link '", l.name, "'"));
  }
  if (!owns_link(link)) return;
  const double rho_max = network_.diagram(link).rho_max;
  for (const double rho : cells) {
    if (!(rho >= 0.0 && rho <= rho_max)) {
      throw InputError(str("link '", l.name, "': initial density ", rho * 1000.0,
                           " veh/km is outside [0, jam density = ", rho_max * 1000.0, "]"));
    }
  }
  const long long first = local_cell(link, 0);
  auto host = Kokkos::create_mirror_view(rho_);
  Kokkos::deep_copy(host, rho_);
  for (std::size_t c = 0; c < cells.size(); ++c) host(first + static_cast<long long>(c)) = cells[c];
  Kokkos::deep_copy(rho_, host);
}

void NetworkSolver::set_origin_demand(int node, double flow) {
  if (network_.node(node).kind != NodeKind::kOrigin) {
    throw std::invalid_argument(
        str("set_origin_demand: node '", network_.node(node).name, "' is not an origin"));
  }
  if (!(flow >= 0.0 && std::isfinite(flow))) {
    throw std::invalid_argument(str("set_origin_demand: demand ", flow, " veh/s at origin '",
                                    network_.node(node).name, "'"));
  }
  const int p = node_position_[static_cast<std::size_t>(node)];
  if (p < 0) return;
  Kokkos::deep_copy(Kokkos::subview(origin_demand_, p), flow);
}

void NetworkSolver::set_exit_supply(int node, double flow) {
  if (network_.node(node).kind != NodeKind::kDestination) {
    throw std::invalid_argument(
        str("set_exit_supply: node '", network_.node(node).name, "' is not a destination"));
  }
  if (!(flow >= 0.0)) {
    throw std::invalid_argument(str("set_exit_supply: supply ", flow, " veh/s at destination '",
                                    network_.node(node).name, "'"));
  }
  const int p = node_position_[static_cast<std::size_t>(node)];
  if (p < 0) return;
  Kokkos::deep_copy(Kokkos::subview(exit_supply_, p), flow);
}

void NetworkSolver::set_turning(int node, const std::vector<std::vector<double>>& fractions) {
  Node& n = network_.node(node);
  if (n.kind != NodeKind::kJunction) {
    throw std::invalid_argument(str("set_turning: node '", n.name, "' is not a junction"));
  }
  network_.check_turning(node, fractions);
  n.turning = normalised_turning(fractions);
  if (node_position_[static_cast<std::size_t>(node)] >= 0) upload_turning(node);
}

void NetworkSolver::upload_turning(int node) {
  const int p = node_position_[static_cast<std::size_t>(node)];
  const std::size_t ins = network_.in_links(node).size(), outs = network_.out_links(node).size();
  for (std::size_t i = 0; i < ins; ++i) {
    for (std::size_t j = 0; j < outs; ++j) {
      node_beta_host_(p, i * kMaxNodeDegree + j) =
          network_.turning_fraction(node, static_cast<int>(i), static_cast<int>(j));
    }
  }
  auto row = Kokkos::subview(node_beta_, p, Kokkos::ALL);
  Kokkos::deep_copy(row, Kokkos::subview(node_beta_host_, p, Kokkos::ALL));
}

void NetworkSolver::set_capacity_factor(int link, long long cell, double factor) {
  if (!(factor > 0.0 && factor <= 1.0)) {
    throw std::invalid_argument(str("set_capacity_factor: factor ", factor, " on link '",
                                    network_.link(link).name, "', expected (0, 1]"));
  }
  const long long c = local_cell(link, cell);
  if (c < 0) return;
  const double nominal = nominal_capacity_[static_cast<std::size_t>(local_link_[link])];
  Kokkos::deep_copy(Kokkos::subview(capacity_, c), nominal * factor);
}

void NetworkSolver::exchange_link_ends() {
  if (peers_.empty()) return;
  // Debian's Kokkos is Serial; with device memory these copies stage through the host.
  const auto demand = end_demand_host_;
  const auto supply = start_supply_host_;
  Kokkos::deep_copy(demand, end_demand_);
  Kokkos::deep_copy(supply, start_supply_);
  // Buffers sized once (exchange_send_/recv_, one per peer); only their contents change.
  std::vector<std::vector<double>>& send = exchange_send_;
  std::vector<std::vector<double>>& recv = exchange_recv_;
  std::vector<MPI_Request>& requests = exchange_requests_;
  for (std::size_t k = 0; k < peers_.size(); ++k) {
    MPI_Irecv(recv[k].data(), static_cast<int>(recv[k].size()), MPI_DOUBLE, peers_[k], kTagLinkEnds,
              comm_, &requests[k]);
  }
  for (std::size_t k = 0; k < peers_.size(); ++k) {
    const auto& links = send_links_[static_cast<std::size_t>(peers_[k])];
    for (std::size_t i = 0; i < links.size(); ++i) {
      send[k][2 * i] = demand(links[i]);
      send[k][2 * i + 1] = supply(links[i]);
    }
    MPI_Isend(send[k].data(), static_cast<int>(send[k].size()), MPI_DOUBLE, peers_[k], kTagLinkEnds,
              comm_, &requests[peers_.size() + k]);
  }
  MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE);
  for (std::size_t k = 0; k < peers_.size(); ++k) {
    const auto& links = recv_links_[static_cast<std::size_t>(peers_[k])];
    for (std::size_t i = 0; i < links.size(); ++i) {
      demand(links[i]) = recv[k][2 * i];
      supply(links[i]) = recv[k][2 * i + 1];
    }
  }
  Kokkos::deep_copy(end_demand_, demand);
  Kokkos::deep_copy(start_supply_, supply);
}

void NetworkSolver::step() {
  if (!initial_recorded_) {
    initial_stored_ = mass_balance().stored;
    initial_recorded_ = true;
  }
  const auto rho = rho_;
  const auto rho_next = rho_next_;
  const auto capacity = capacity_;
  const auto diagram = diagram_;
  const auto link_global = link_global_;
  const auto link_first = link_first_cell_;
  const auto link_cells = link_cells_;
  const auto end_demand = end_demand_;
  const auto start_supply = start_supply_;

  // 1. What each owned link can send at its end and receive at its start.
  Kokkos::parallel_for(
      "network::link_ends", Kokkos::RangePolicy<>(0, owned_links_.size()),
      KOKKOS_LAMBDA(const int k) {
        const long long first = link_first(k), last = first + link_cells(k) - 1;
        const int l = link_global(k);
        end_demand(l) = cell_demand(diagram(k), rho(last), capacity(last));
        start_supply(l) = cell_supply(diagram(k), rho(first), capacity(first));
      });
  Kokkos::fence();
  exchange_link_ends();

  // 2. Node models. Origins and destinations have one link, so only its owner evaluates
  // them and their queues and counters live there.
  const auto kind = node_kind_;
  const auto in_count = node_in_count_;
  const auto out_count = node_out_count_;
  const auto fifo = node_fifo_;
  const auto in_links = node_in_;
  const auto out_links = node_out_;
  const auto priority = node_priority_;
  const auto beta = node_beta_;
  const auto origin_demand = origin_demand_;
  const auto origin_queue = origin_queue_;
  const auto exit_supply = exit_supply_;
  const auto cumulative_demand = cumulative_demand_;
  const auto cumulative_entered = cumulative_entered_;
  const auto cumulative_exited = cumulative_exited_;
  const auto link_inflow = link_inflow_;
  const auto link_outflow = link_outflow_;
  const double dt = dt_;
  Kokkos::parallel_for(
      "network::node_models", Kokkos::RangePolicy<>(0, node_ids_.size()),
      KOKKOS_LAMBDA(const int p) {
        if (kind(p) == kOrigin) {
          const int l = out_links(p, 0);
          const double wanting = origin_demand(p) + origin_queue(p) / dt;
          const double s = start_supply(l);
          const double q = wanting < s ? wanting : s;
          link_inflow(l) = q;
          const double queue = origin_queue(p) + (origin_demand(p) - q) * dt;
          origin_queue(p) = queue > 0.0 ? queue : 0.0;
          cumulative_demand(p) += origin_demand(p) * dt;
          cumulative_entered(p) += q * dt;
        } else if (kind(p) == kDestination) {
          const int l = in_links(p, 0);
          const double d = end_demand(l);
          const double q = d < exit_supply(p) ? d : exit_supply(p);
          link_outflow(l) = q;
          cumulative_exited(p) += q * dt;
        } else {
          double demand[kMaxNodeDegree], prio[kMaxNodeDegree], supply[kMaxNodeDegree];
          double b[kMaxNodeDegree * kMaxNodeDegree];
          double in_flow[kMaxNodeDegree], out_flow[kMaxNodeDegree];
          const int n_in = in_count(p), n_out = out_count(p);
          for (int i = 0; i < n_in; ++i) {
            demand[i] = end_demand(in_links(p, i));
            prio[i] = priority(p, i);
            for (int j = 0; j < n_out; ++j) {
              b[i * kMaxNodeDegree + j] = beta(p, i * kMaxNodeDegree + j);
            }
          }
          for (int j = 0; j < n_out; ++j) supply[j] = start_supply(out_links(p, j));
          if (fifo(p)) {
            node_model(n_in, n_out, demand, prio, b, supply, in_flow, out_flow);
          } else {
            node_model_without_fifo(n_in, n_out, demand, prio, b, supply, in_flow, out_flow);
          }
          for (int i = 0; i < n_in; ++i) link_outflow(in_links(p, i)) = in_flow[i];
          for (int j = 0; j < n_out; ++j) link_inflow(out_links(p, j)) = out_flow[j];
        }
      });
  Kokkos::fence();

  // 3. Fluxes out of every cell: the Godunov flux inside a link, the node flow at its end.
  const auto cell_link = cell_link_;
  const auto out_flux = out_flux_;
  const auto in_flux = in_flux_;
  Kokkos::parallel_for(
      "network::cell_flux", Kokkos::RangePolicy<>(0, local_cells_),
      KOKKOS_LAMBDA(const long long c) {
        const int k = cell_link(c);
        if (c == link_first(k) + link_cells(k) - 1) {
          out_flux(c) = link_outflow(link_global(k));
        } else {
          const double d = cell_demand(diagram(k), rho(c), capacity(c));
          const double s = cell_supply(diagram(k), rho(c + 1), capacity(c + 1));
          out_flux(c) = d < s ? d : s;
        }
      });
  // 4. The update, in the single-road solver's arithmetic (rho - dt/dx (out - in)) so a
  // one-link network reproduces it bitwise.
  const auto ratio = ratio_;
  Kokkos::parallel_for(
      "network::update", Kokkos::RangePolicy<>(0, local_cells_), KOKKOS_LAMBDA(const long long c) {
        const int k = cell_link(c);
        const double in = c == link_first(k) ? link_inflow(link_global(k)) : out_flux(c - 1);
        in_flux(c) = in;
        rho_next(c) = rho(c) - ratio(k) * (out_flux(c) - in);
      });
  Kokkos::fence();
  std::swap(rho_, rho_next_);
  time_ += dt_;
  ++steps_;
}

std::vector<double> NetworkSolver::density_host() const {
  return copy_to_host(rho_);
}

std::vector<double> NetworkSolver::link_density(int link) const {
  if (!owns_link(link)) {
    throw std::logic_error(str("NetworkSolver::link_density: link '", network_.link(link).name,
                               "' belongs to rank ", link_owner(link), ", not ", rank_));
  }
  const std::vector<double> all = density_host();
  const long long first = local_cell(link, 0);
  return std::vector<double>(all.begin() + first, all.begin() + first + network_.link(link).cells);
}

NetworkSolver::State NetworkSolver::state() const {
  State out;
  out.time = time_;
  out.steps = steps_;
  out.initial_stored = initial_stored_;
  out.initial_recorded = initial_recorded_;
  // Each value has one owner and zeros elsewhere: the sum over ranks is exact.
  const std::vector<double> rho = density_host();
  const std::vector<long long> rows = global_cell_rows();
  std::vector<double> density(static_cast<std::size_t>(network_.total_cells()), 0.0);
  for (std::size_t i = 0; i < rows.size(); ++i) density[static_cast<std::size_t>(rows[i])] = rho[i];
  out.density.assign(density.size(), 0.0);
  MPI_Allreduce(density.data(), out.density.data(), static_cast<int>(density.size()), MPI_DOUBLE,
                MPI_SUM, comm_);
  const std::vector<double> queue = copy_to_host(origin_queue_);
  const std::vector<double> demanded = copy_to_host(cumulative_demand_);
  const std::vector<double> entered = copy_to_host(cumulative_entered_);
  const std::vector<double> exited = copy_to_host(cumulative_exited_);
  std::vector<double> counters(static_cast<std::size_t>(network_.node_count()) * kNodeCounters,
                               0.0);
  for (std::size_t p = 0; p < node_ids_.size(); ++p) {
    const NodeKind kind = network_.node(node_ids_[p]).kind;
    if (kind != NodeKind::kOrigin && kind != NodeKind::kDestination) continue;  // one owner
    double* row = &counters[static_cast<std::size_t>(node_ids_[p]) * kNodeCounters];
    row[0] = queue[p];
    row[1] = demanded[p];
    row[2] = entered[p];
    row[3] = exited[p];
  }
  out.node_counters.assign(counters.size(), 0.0);
  MPI_Allreduce(counters.data(), out.node_counters.data(), static_cast<int>(counters.size()),
                MPI_DOUBLE, MPI_SUM, comm_);
  return out;
}

void NetworkSolver::restore(const State& state) {
  if (static_cast<long long>(state.density.size()) != network_.total_cells() ||
      state.node_counters.size() !=
          static_cast<std::size_t>(network_.node_count()) * kNodeCounters) {
    throw std::invalid_argument(str("NetworkSolver::restore: ", state.density.size(), " cells and ",
                                    state.node_counters.size() / kNodeCounters,
                                    " nodes for a network of ", network_.total_cells(), " and ",
                                    network_.node_count()));
  }
  time_ = state.time;
  steps_ = state.steps;
  initial_stored_ = state.initial_stored;
  initial_recorded_ = state.initial_recorded;
  const std::vector<long long> rows = global_cell_rows();
  auto rho = Kokkos::create_mirror_view(rho_);
  for (std::size_t i = 0; i < rows.size(); ++i)
    rho(i) = state.density[static_cast<std::size_t>(rows[i])];
  Kokkos::deep_copy(rho_, rho);
  auto queue = Kokkos::create_mirror_view(origin_queue_);
  auto demanded = Kokkos::create_mirror_view(cumulative_demand_);
  auto entered = Kokkos::create_mirror_view(cumulative_entered_);
  auto exited = Kokkos::create_mirror_view(cumulative_exited_);
  for (std::size_t p = 0; p < node_ids_.size(); ++p) {
    const double* row =
        &state.node_counters[static_cast<std::size_t>(node_ids_[p]) * kNodeCounters];
    queue(p) = row[0];
    demanded(p) = row[1];
    entered(p) = row[2];
    exited(p) = row[3];
  }
  Kokkos::deep_copy(origin_queue_, queue);
  Kokkos::deep_copy(cumulative_demand_, demanded);
  Kokkos::deep_copy(cumulative_entered_, entered);
  Kokkos::deep_copy(cumulative_exited_, exited);
}

std::vector<double> NetworkSolver::origin_queues() const {
  const std::vector<int> origins = network_.origins();
  const std::vector<double> queue = copy_to_host(origin_queue_);
  std::vector<double> local(origins.size(), 0.0), all(origins.size(), 0.0);
  for (std::size_t o = 0; o < origins.size(); ++o) {
    const int p = node_position_[static_cast<std::size_t>(origins[o])];
    if (p >= 0) local[o] = queue[static_cast<std::size_t>(p)];
  }
  MPI_Allreduce(local.data(), all.data(), static_cast<int>(local.size()), MPI_DOUBLE, MPI_SUM,
                comm_);
  return all;
}

MassBalance NetworkSolver::mass_balance() const {
  const std::vector<double> rho = density_host();
  const std::vector<double> queue = copy_to_host(origin_queue_);
  const std::vector<double> demanded = copy_to_host(cumulative_demand_);
  const std::vector<double> entered = copy_to_host(cumulative_entered_);
  const std::vector<double> exited = copy_to_host(cumulative_exited_);
  double local[5] = {0, 0, 0, 0, 0};  // demanded, entered, queued, stored, exited
  for (std::size_t k = 0; k < owned_links_.size(); ++k) {
    const double dx = network_.cell_length(owned_links_[k]);
    const long long first = local_first_cell_[k];
    for (long long c = 0; c < network_.link(owned_links_[k]).cells; ++c) {
      local[3] += rho[static_cast<std::size_t>(first + c)] * dx;
    }
  }
  for (std::size_t p = 0; p < node_ids_.size(); ++p) {
    const NodeKind kind = network_.node(node_ids_[p]).kind;
    if (kind == NodeKind::kOrigin) {
      local[0] += demanded[p];
      local[1] += entered[p];
      local[2] += queue[p];
    } else if (kind == NodeKind::kDestination) {
      local[4] += exited[p];
    }
  }
  double total[5];
  MPI_Allreduce(local, total, 5, MPI_DOUBLE, MPI_SUM, comm_);
  MassBalance m;
  m.demanded = total[0];
  m.entered = total[1];
  m.queued = total[2];
  m.stored = total[3];
  m.exited = total[4];
  m.initial = initial_recorded_ ? initial_stored_ : total[3];
  return m;
}

double NetworkSolver::queued_cell_fraction() const {
  const auto rho = rho_;
  const auto diagram = diagram_;
  const auto cell_link = cell_link_;
  const auto capacity = capacity_;
  long long local = 0;
  Kokkos::parallel_reduce(
      "network::queued_cells", Kokkos::RangePolicy<>(0, local_cells_),
      KOKKOS_LAMBDA(const long long c, long long& count) {
        const FundamentalDiagram& d = diagram(cell_link(c));
        const double flow = d.flux(rho(c)) < capacity(c) ? d.flux(rho(c)) : capacity(c);
        if (flow < 0.5 * d.v_max * rho(c)) ++count;  // speed = flow / rho below v / 2
      },
      local);
  long long total = 0;
  MPI_Allreduce(&local, &total, 1, MPI_LONG_LONG, MPI_SUM, comm_);
  return static_cast<double>(total) / static_cast<double>(network_.total_cells());
}

void NetworkSolver::check_finite() const {
  const std::vector<double> rho = density_host();
  long long bad_link = network_.link_count(), bad_cell = 0;  // "none" sentinel
  double bad_value = 0.0;
  for (std::size_t k = 0; k < owned_links_.size() && bad_link == network_.link_count(); ++k) {
    const int l = owned_links_[k];
    const double rho_max = network_.diagram(l).rho_max, tol = 1e-9 * rho_max;
    for (long long c = 0; c < network_.link(l).cells; ++c) {
      const double v = rho[static_cast<std::size_t>(local_first_cell_[k] + c)];
      if (!(v >= -tol && v <= rho_max + tol)) {
        bad_link = l;
        bad_cell = c;
        bad_value = v;
        break;
      }
    }
  }
  long long lowest = 0;
  MPI_Allreduce(&bad_link, &lowest, 1, MPI_LONG_LONG, MPI_MIN, comm_);
  if (lowest == network_.link_count()) return;
  // Only the owner of the lowest bad link contributes; adding zeros keeps it exact.
  double local[2] = {0.0, 0.0}, found[2] = {0.0, 0.0};
  if (bad_link == lowest) {
    local[0] = static_cast<double>(bad_cell);
    local[1] = bad_value;
  }
  MPI_Allreduce(local, found, 2, MPI_DOUBLE, MPI_SUM, comm_);
  const int l = static_cast<int>(lowest);
  throw std::runtime_error(str(
      "road network: link '", network_.link(l).name, "' cell ", static_cast<long long>(found[0]),
      " holds the density ", found[1] * 1000.0, " veh/km (NaN or outside [0, ",
      network_.diagram(l).rho_max * 1000.0, "]) at step ", steps_, ", time ", time_, " s"));
}

}  // namespace tessera::solvers::lwr::network
