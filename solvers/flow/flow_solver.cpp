#include "solvers/flow/flow_solver.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "core/graph/csr_graph.hpp"
#include "core/runtime/error.hpp"
#include "core/tensor/host_copy.hpp"
#include "core/tensor/math.hpp"

namespace tessera::solvers::flow {
namespace {

using Range = Kokkos::RangePolicy<tensor::ExecSpace>;
constexpr int Q = kQuadPoints;

std::array<bool, 6> all_nodes() {
  return {true, true, true, true, true, true};
}
std::array<bool, 6> vertex_nodes() {
  return {true, true, true, false, false, false};
}

auto host(const Vec& v) {
  return Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
}

// Dirichlet tag of a node by priority: no-slip wins at corners.
mesh::BoundaryTag dirichlet_tag(TagMask mask, bool outflow_dirichlet) {
  using mesh::BoundaryTag;
  for (BoundaryTag tag : {BoundaryTag::kObstacle, BoundaryTag::kWall, BoundaryTag::kInflow}) {
    if (mask & tag_bit(tag)) return tag;
  }
  if (outflow_dirichlet && (mask & tag_bit(BoundaryTag::kOutflow))) return BoundaryTag::kOutflow;
  return BoundaryTag::kUntagged;
}

// out = a x + b y over the first `rows` rows; by default all local rows (ghosts included,
// so that ghost validity carries). Right-hand sides, which have no valid ghosts, combine
// their owned rows only.
void combine(double a, const Vec& x, double b, const Vec& y, const Vec& out,
             std::size_t rows = static_cast<std::size_t>(-1)) {
  Kokkos::parallel_for(
      "flow::combine", Range(0, std::min(rows, static_cast<std::size_t>(out.extent(0)))),
      KOKKOS_LAMBDA(const int i) { out(i, 0) = a * x(i, 0) + b * y(i, 0); });
}

}  // namespace

graph::HostCsr flow_vertex_graph(const P2Mesh& p2) {
  // The first three nodes of a P2 element are its P1 triangle, in the mesh's order.
  std::vector<std::array<graph::Index, 3>> triangles(p2.num_elements());
  for (std::size_t e = 0; e < p2.num_elements(); ++e) {
    for (int k = 0; k < 3; ++k) triangles[e][k] = static_cast<graph::Index>(p2.elements[e * 6 + k]);
  }
  return graph::to_host(graph::csr_from_triangles(p2.num_vertices, triangles, false));
}

parallel::Partition flow_vertex_partition(const P2Mesh& p2, int parts, int seed) {
  return parallel::partition_metis(flow_vertex_graph(p2), parts, seed);
}

std::vector<int> p2_node_owner(const P2Mesh& p2, const parallel::Partition& vertex_partition) {
  if (vertex_partition.owner.size() != p2.num_vertices) {
    throw InputError(str("p2_node_owner: a partition of ", vertex_partition.owner.size(),
                         " nodes for a mesh of ", p2.num_vertices, " vertices"));
  }
  std::vector<int> owner(p2.num_nodes());
  for (std::size_t v = 0; v < p2.num_vertices; ++v) owner[v] = vertex_partition.owner[v];
  for (std::size_t m = p2.num_vertices; m < p2.num_nodes(); ++m) {
    owner[m] = vertex_partition.owner[p2.edge_vertices[2 * (m - p2.num_vertices)]];
  }
  return owner;
}

FlowSolver::FlowSolver(MPI_Comm comm, const mesh::Mesh& mesh, FlowParameters parameters,
                       FlowBoundary boundary, const std::string& source,
                       std::optional<parallel::Partition> partition)
    : comm_(comm), parameters_(std::move(parameters)), boundary_(std::move(boundary)) {
  if (!(parameters_.dt > 0) || !(parameters_.viscosity > 0)) {
    throw InputError(str(source, ": the flow solver needs dt > 0 and viscosity > 0, got dt = ",
                         parameters_.dt, ", viscosity = ", parameters_.viscosity));
  }
  if (parameters_.time_order != 1 && parameters_.time_order != 2) {
    throw InputError(str("flow solver: time_order = ", parameters_.time_order,
                         ": expected 1 (backward Euler) or 2 (BDF2)"));
  }
  if (!boundary_.velocity) {
    boundary_.velocity = [](double, double, double, mesh::BoundaryTag) {
      return std::array<double, 2>{0.0, 0.0};
    };
  }
  p2_ = make_p2_mesh(mesh, parameters_.obstacle_circle, source);
  bool has_outflow = false;
  for (std::size_t v = 0; v < p2_.num_vertices; ++v) {
    if (p2_.has_tag(static_cast<Index>(v), mesh::BoundaryTag::kOutflow)) has_outflow = true;
  }
  if (!has_outflow) {
    throw InputError(str(source, ": the mesh has no outflow boundary (facets tagged outflow): ",
                         "the pressure is fixed there, without it it is undetermined"));
  }
  const int ranks = [&] {
    int s = 1;
    MPI_Comm_size(comm_, &s);
    return s;
  }();
  const int rank = [&] {
    int r = 0;
    MPI_Comm_rank(comm_, &r);
    return r;
  }();

  // Partition the vertices (the mesh the models see); a midpoint goes with its edge's
  // first vertex (flow_vertex_partition, p2_node_owner).
  if (!partition) partition = flow_vertex_partition(p2_, ranks, parameters_.partition_seed);
  if (partition->owner.size() != p2_.num_vertices || partition->parts != ranks) {
    throw InputError(str(source, ": the partition has ", partition->owner.size(), " entries for ",
                         partition->parts, " parts; expected one per vertex (", p2_.num_vertices,
                         ") for ", ranks, " ranks"));
  }
  const std::vector<int> owner = p2_node_owner(p2_, *partition);
  plan_ = std::make_unique<parallel::HaloPlan>(comm_, p2_graph(p2_), owner, 1);
  const std::size_t owned = plan_->owned_count(), local = plan_->local_count();
  const auto& global = plan_->global_ids();

  std::vector<Index> my_elements;
  for (std::size_t e = 0; e < p2_.num_elements(); ++e) {
    bool mine = false;
    for (int k = 0; k < 6; ++k) mine = mine || owner[p2_.elements[e * 6 + k]] == rank;
    if (!mine) continue;
    my_elements.push_back(static_cast<Index>(e));
    for (int k = 0; k < 6; ++k) {
      local_elements_.push_back(static_cast<int>(plan_->local_id(p2_.elements[e * 6 + k])));
    }
    element_counted_.push_back(owner[p2_.elements[e * 6]] == rank ? 1 : 0);
  }
  values_ = compute_element_values(p2_, my_elements);

  min_edge_ = std::numeric_limits<double>::infinity();
  for (std::size_t c = 0; c < mesh.num_cells(); ++c) {
    for (int k = 0; k < 3; ++k) {
      const Index a = mesh.cells[c * 3 + k], b = mesh.cells[c * 3 + (k + 1) % 3];
      min_edge_ = std::min(min_edge_, std::hypot(mesh.coordinate(a, 0) - mesh.coordinate(b, 0),
                                                 mesh.coordinate(a, 1) - mesh.coordinate(b, 1)));
    }
  }

  std::vector<char> velocity_dirichlet(local, 0), pressure_fixed(local, 0);
  std::vector<int> obstacle_rows;
  for (std::size_t i = 0; i < local; ++i) {
    const auto g = static_cast<std::size_t>(global[i]);
    const TagMask mask = p2_.node_tags[g];
    const mesh::BoundaryTag tag = dirichlet_tag(mask, parameters_.outflow_velocity_dirichlet);
    if (tag != mesh::BoundaryTag::kUntagged) {
      velocity_dirichlet[i] = 1;
      dirichlet_nodes_.push_back(static_cast<int>(i));
      dirichlet_tags_.push_back(tag);
    }
    // Midpoints carry no pressure: identity rows keep them at zero.
    pressure_fixed[i] = g >= p2_.num_vertices || (mask & tag_bit(mesh::BoundaryTag::kOutflow));
    if (i < owned && (mask & tag_bit(mesh::BoundaryTag::kObstacle))) {
      obstacle_rows.push_back(static_cast<int>(i));
    }
    if (i < owned && g < p2_.num_vertices) {
      owned_vertices_.push_back(static_cast<std::int64_t>(g));
      owned_vertex_local_.push_back(static_cast<int>(i));
    }
  }

  copy_step_data_to_device(velocity_dirichlet, pressure_fixed, obstacle_rows);
  assemble_constant_matrices();
  if (parameters_.pressure_solver == PressureSolver::kAmg) {
    std::vector<char> vertex(local, 0);
    for (std::size_t i = 0; i < local; ++i)
      vertex[i] = static_cast<std::size_t>(global[i]) < p2_.num_vertices;
    pressure_amg_ =
        std::make_unique<AmgPressureSolver>(comm_, *plan_, laplace_, vertex, parameters_.pressure);
  }
  for (Vec* v : {&ux_, &uy_, &ux_old_, &uy_old_, &p_, &dux_dt_, &duy_dt_, &convection_ux_,
                 &convection_uy_}) {
    *v = Vec("flow::state", local, 1);
  }
  for (Vec* v : {&work_.ex, &work_.ey, &work_.wx, &work_.wy, &work_.tmp, &work_.bx, &work_.by,
                 &work_.sx, &work_.sy, &work_.rhs, &work_.phi, &work_.p_new, &work_.ux_new,
                 &work_.uy_new, &work_.delta}) {
    *v = Vec("flow::step_vector", local, 1);
  }
  auto hp = host(p_);
  for (std::size_t i = 0; i < local; ++i) {
    const auto g = static_cast<std::size_t>(global[i]);
    if (g < p2_.num_vertices && (p2_.node_tags[g] & tag_bit(mesh::BoundaryTag::kOutflow)) &&
        boundary_.outflow_pressure) {
      hp(i, 0) = boundary_.outflow_pressure(p2_.points[2 * g], p2_.points[2 * g + 1]);
    }
  }
  Kokkos::deep_copy(p_, hp);
  set_dirichlet(ux_, uy_, time_);
  Kokkos::deep_copy(ux_old_, ux_);
  Kokkos::deep_copy(uy_old_, uy_);
}

FlowSolver::~FlowSolver() = default;

void FlowSolver::copy_step_data_to_device(const std::vector<char>& velocity_dirichlet,
                                          const std::vector<char>& pressure_fixed,
                                          const std::vector<int>& obstacle_rows) {
  const std::size_t elements = local_elements_.size() / 6;
  const std::size_t owned = plan_->owned_count();
  device_.elements = tensor::to_device(local_elements_, "flow::elements");
  device_.wdet = tensor::to_device(values_.wdet, "flow::wdet");
  device_.grad_phi = tensor::to_device(values_.grad_phi, "flow::grad_phi");
  const ReferenceTriangle& ref = reference_triangle();
  std::vector<double> phi(Q * 6);
  for (int q = 0; q < Q; ++q) {
    for (int k = 0; k < 6; ++k) phi[q * 6 + k] = ref.phi[q][k];
  }
  device_.phi = tensor::to_device(phi, "flow::reference_phi");

  std::vector<double> shortest(elements, std::numeric_limits<double>::infinity());
  for (std::size_t e = 0; e < elements; ++e) {
    const Index* g = &p2_.elements[static_cast<std::size_t>(values_.elements[e]) * 6];
    for (int k = 0; k < 3; ++k) {
      const Index a = g[k], b = g[(k + 1) % 3];
      shortest[e] =
          std::min(shortest[e], std::hypot(p2_.points[2 * a] - p2_.points[2 * b],
                                           p2_.points[2 * a + 1] - p2_.points[2 * b + 1]));
    }
  }
  device_.shortest_edge = tensor::to_device(shortest, "flow::shortest_edge");

  std::vector<int> row_ptr(owned + 1, 0), row_elements;
  for (std::size_t e = 0; e < elements; ++e) {
    for (int k = 0; k < 6; ++k) {
      const int r = local_elements_[e * 6 + k];
      if (r < static_cast<int>(owned)) ++row_ptr[r + 1];
    }
  }
  for (std::size_t r = 0; r < owned; ++r) row_ptr[r + 1] += row_ptr[r];
  row_elements.resize(row_ptr[owned]);
  std::vector<int> next(row_ptr.begin(), row_ptr.end() - 1);
  for (std::size_t e = 0; e < elements; ++e) {  // ascending e within each row
    for (int k = 0; k < 6; ++k) {
      const int r = local_elements_[e * 6 + k];
      if (r < static_cast<int>(owned)) row_elements[next[r]++] = static_cast<int>(e * 6 + k);
    }
  }
  device_.element_matrices =
      Kokkos::View<double*, tensor::MemSpace>("flow::convection_element_matrices", elements * 36);
  device_.row_element_ptr = tensor::to_device(row_ptr, "flow::row_element_ptr");
  device_.row_elements = tensor::to_device(row_elements, "flow::row_elements");

  device_.velocity_dirichlet = tensor::to_device(velocity_dirichlet, "flow::velocity_dirichlet");
  device_.pressure_fixed = tensor::to_device(pressure_fixed, "flow::pressure_fixed");
  device_.obstacle_rows = tensor::to_device(obstacle_rows, "flow::obstacle_rows");
  device_.dirichlet_nodes = tensor::to_device(dirichlet_nodes_, "flow::dirichlet_nodes");
  device_.dirichlet_values = Kokkos::View<double*, tensor::MemSpace>("flow::dirichlet_values",
                                                                     2 * dirichlet_nodes_.size());
  device_.dirichlet_values_host = Kokkos::create_mirror_view(device_.dirichlet_values);
}

void FlowSolver::assemble_constant_matrices() {
  const auto vel = build_pattern(*plan_, local_elements_, all_nodes(), all_nodes(), true);
  const auto pres = build_pattern(*plan_, local_elements_, vertex_nodes(), vertex_nodes(), true);
  const auto div = build_pattern(*plan_, local_elements_, vertex_nodes(), all_nodes(), false);
  const auto grad = build_pattern(*plan_, local_elements_, all_nodes(), vertex_nodes(), false);
  mass_ = DistributedCsr(vel, "flow::mass");
  stiffness_ = DistributedCsr(vel, "flow::stiffness");
  convection_ = DistributedCsr(vel, "flow::convection");
  momentum_ = DistributedCsr(vel, "flow::momentum");
  laplace_ = DistributedCsr(pres, "flow::laplace");
  div_x_ = DistributedCsr(div, "flow::div_x");
  div_y_ = DistributedCsr(div, "flow::div_y");
  grad_x_ = DistributedCsr(grad, "flow::grad_x");
  grad_y_ = DistributedCsr(grad, "flow::grad_y");

  const ReferenceTriangle& ref = reference_triangle();
  auto m = Kokkos::create_mirror_view(mass_.values);
  auto k = Kokkos::create_mirror_view(stiffness_.values);
  auto l = Kokkos::create_mirror_view(laplace_.values);
  auto dx = Kokkos::create_mirror_view(div_x_.values);
  auto dy = Kokkos::create_mirror_view(div_y_.values);
  auto gx = Kokkos::create_mirror_view(grad_x_.values);
  auto gy = Kokkos::create_mirror_view(grad_y_.values);
  for (auto* view : {&m, &k, &l, &dx, &dy, &gx, &gy}) Kokkos::deep_copy(*view, 0.0);
  const std::size_t elements = local_elements_.size() / 6;
  for (std::size_t e = 0; e < elements; ++e) {
    for (int q = 0; q < Q; ++q) {
      const double w = values_.wdet_at(e, q);
      const double* gp = values_.grad_phi_at(e, q);
      const double* gs = values_.grad_psi_at(e, q);
      for (int i = 0; i < 6; ++i) {
        for (int j = 0; j < 6; ++j) {
          const int pos = vel->position[e * 36 + i * 6 + j];
          if (pos < 0) continue;
          m(pos) += w * ref.phi[q][i] * ref.phi[q][j];
          k(pos) += w * (gp[2 * i] * gp[2 * j] + gp[2 * i + 1] * gp[2 * j + 1]);
        }
      }
      for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 3; ++b) {
          const int pos = pres->position[e * 36 + a * 6 + b];
          if (pos >= 0) l(pos) += w * (gs[2 * a] * gs[2 * b] + gs[2 * a + 1] * gs[2 * b + 1]);
        }
        for (int j = 0; j < 6; ++j) {
          const int pos = div->position[e * 36 + a * 6 + j];
          if (pos >= 0) {
            dx(pos) += w * ref.psi[q][a] * gp[2 * j];
            dy(pos) += w * ref.psi[q][a] * gp[2 * j + 1];
          }
          const int gpos = grad->position[e * 36 + j * 6 + a];
          if (gpos >= 0) {
            gx(gpos) += w * ref.psi[q][a] * gp[2 * j];
            gy(gpos) += w * ref.psi[q][a] * gp[2 * j + 1];
          }
        }
      }
    }
  }
  Kokkos::deep_copy(mass_.values, m);
  Kokkos::deep_copy(stiffness_.values, k);
  Kokkos::deep_copy(laplace_.values, l);
  Kokkos::deep_copy(div_x_.values, dx);
  Kokkos::deep_copy(div_y_.values, dy);
  Kokkos::deep_copy(grad_x_.values, gx);
  Kokkos::deep_copy(grad_y_.values, gy);
  laplace_.apply_dirichlet(device_.pressure_fixed, true);
  mass_dirichlet_ = DistributedCsr(vel, "flow::mass_dirichlet");
  Kokkos::deep_copy(mass_dirichlet_.values, mass_.values);
  mass_dirichlet_.apply_dirichlet(device_.velocity_dirichlet, true);
  device_.position = tensor::to_device(vel->position, "flow::velocity_position");
}

void FlowSolver::assemble_convection(const Vec& ux, const Vec& uy) {
  // Two kernels and no atomics: each element's matrix N_ij = sum_q w phi_i (u_h . grad
  // phi_j) goes to a buffer; then each owned row adds its row of the matrices of the
  // elements holding it, in ascending element order, as an element loop would (the same
  // bits on every backend and thread count).
  const auto elements = device_.elements, position = device_.position;
  const auto wdet = device_.wdet, grad_phi = device_.grad_phi, phi = device_.phi;
  const auto element_matrices = device_.element_matrices;
  Kokkos::parallel_for(
      "flow::convection_elements", Range(0, element_matrices.extent(0) / 36),
      KOKKOS_LAMBDA(const int e) {
        double element[36] = {};
        for (int q = 0; q < Q; ++q) {
          double ax = 0, ay = 0;
          for (int k = 0; k < 6; ++k) {
            ax += phi(q * 6 + k) * ux(elements(e * 6 + k), 0);
            ay += phi(q * 6 + k) * uy(elements(e * 6 + k), 0);
          }
          const double w = wdet(e * Q + q);
          const int g = (e * Q + q) * 12;
          double a_grad[6];
          for (int j = 0; j < 6; ++j) {
            a_grad[j] = w * (ax * grad_phi(g + 2 * j) + ay * grad_phi(g + 2 * j + 1));
          }
          for (int i = 0; i < 6; ++i) {
            for (int j = 0; j < 6; ++j) element[i * 6 + j] += phi(q * 6 + i) * a_grad[j];
          }
        }
        for (int ij = 0; ij < 36; ++ij) element_matrices(e * 36 + ij) = element[ij];
      });
  const auto row_ptr = convection_.pattern->row_ptr;
  const auto values = convection_.values;
  const auto row_element_ptr = device_.row_element_ptr;
  const auto row_elements = device_.row_elements;
  Kokkos::parallel_for(
      "flow::convection_rows", Range(0, convection_.pattern->rows), KOKKOS_LAMBDA(const int r) {
        for (int k = row_ptr(r); k < row_ptr(r + 1); ++k) values(k) = 0;
        for (int t = row_element_ptr(r); t < row_element_ptr(r + 1); ++t) {
          const int first = row_elements(t) / 6 * 36 + row_elements(t) % 6 * 6;  // (e, a, 0)
          for (int j = 0; j < 6; ++j) {
            const int pos = position(first + j);
            if (pos >= 0) values(pos) += element_matrices(first + j);
          }
        }
      });
}

void FlowSolver::set_dirichlet(const Vec& ux, const Vec& uy, double t) {
  // The boundary velocity is a host callback: it runs for the Dirichlet nodes only, and
  // their values go to the device in one copy.
  const auto& global = plan_->global_ids();
  auto& host_values = device_.dirichlet_values_host;
  for (std::size_t k = 0; k < dirichlet_nodes_.size(); ++k) {
    const auto g = static_cast<std::size_t>(global[static_cast<std::size_t>(dirichlet_nodes_[k])]);
    const auto value =
        boundary_.velocity(p2_.points[2 * g], p2_.points[2 * g + 1], t, dirichlet_tags_[k]);
    host_values(2 * k) = value[0];
    host_values(2 * k + 1) = value[1];
  }
  const auto nodes = device_.dirichlet_nodes;
  const auto values = device_.dirichlet_values;
  Kokkos::deep_copy(values, host_values);
  Kokkos::parallel_for(
      "flow::set_dirichlet", Range(0, nodes.extent(0)), KOKKOS_LAMBDA(const int k) {
        ux(nodes(k), 0) = values(2 * k);
        uy(nodes(k), 0) = values(2 * k + 1);
      });
}

void FlowSolver::set_initial(const std::function<std::array<double, 3>(double, double)>& state) {
  auto hx = host(ux_);
  auto hy = host(uy_);
  auto hp = host(p_);
  const auto& global = plan_->global_ids();
  for (std::size_t i = 0; i < plan_->local_count(); ++i) {
    const auto g = static_cast<std::size_t>(global[i]);
    const auto s = state(p2_.points[2 * g], p2_.points[2 * g + 1]);
    hx(i, 0) = s[0];
    hy(i, 0) = s[1];
    if (g < p2_.num_vertices) hp(i, 0) = s[2];
  }
  Kokkos::deep_copy(ux_, hx);
  Kokkos::deep_copy(uy_, hy);
  Kokkos::deep_copy(p_, hp);
  set_dirichlet(ux_, uy_, time_);
  Kokkos::deep_copy(ux_old_, ux_);
  Kokkos::deep_copy(uy_old_, uy_);
}

StepReport FlowSolver::step() {
  const double dt = parameters_.dt;
  const double nu = parameters_.viscosity;
  const bool bdf2 = parameters_.time_order == 2 && steps_ >= 1;
  const double gamma = bdf2 ? 1.5 / dt : 1.0 / dt;
  const double c1 = bdf2 ? 2.0 / dt : 1.0 / dt;
  const double c2 = bdf2 ? -0.5 / dt : 0.0;
  const double t_new = time_ + dt;
  const std::size_t owned = plan_->owned_count();
  StepReport report;
  report.step = steps_ + 1;
  report.time = t_new;

  const Vec &ex = work_.ex, &ey = work_.ey, &wx = work_.wx, &wy = work_.wy, &tmp = work_.tmp;
  const Vec &bx = work_.bx, &by = work_.by, &sx = work_.sx, &sy = work_.sy, &rhs = work_.rhs;
  const Vec &phi = work_.phi, &p_new = work_.p_new, &ux_new = work_.ux_new, &uy_new = work_.uy_new,
            &delta = work_.delta;
  const auto velocity_dirichlet = device_.velocity_dirichlet;
  const auto pressure_fixed = device_.pressure_fixed;
  combine(bdf2 ? 2.0 : 1.0, ux_, bdf2 ? -1.0 : 0.0, ux_old_, ex);
  combine(bdf2 ? 2.0 : 1.0, uy_, bdf2 ? -1.0 : 0.0, uy_old_, ey);
  assemble_convection(ex, ey);
  {
    const auto m = mass_.values, k = stiffness_.values, n = convection_.values,
               a = momentum_.values;
    Kokkos::parallel_for(
        "flow::momentum_matrix", Range(0, a.extent(0)),
        KOKKOS_LAMBDA(const int i) { a(i) = gamma * m(i) + nu * k(i) + n(i); });
    momentum_.apply_dirichlet(velocity_dirichlet, false);
  }

  // Momentum right-hand sides: M (c1 u^n + c2 u^{n-1}) + (p^n, div v); the Dirichlet rows
  // hold the boundary values.
  combine(c1, ux_, c2, ux_old_, wx);
  combine(c1, uy_, c2, uy_old_, wy);
  mass_.apply(wx, bx);
  grad_x_.apply(p_, tmp);
  combine(1.0, tmp, 1.0, bx, bx, owned);
  mass_.apply(wy, by);
  grad_y_.apply(p_, tmp);
  combine(1.0, tmp, 1.0, by, by, owned);
  Kokkos::deep_copy(sx, ex);
  Kokkos::deep_copy(sy, ey);
  set_dirichlet(sx, sy, t_new);
  Kokkos::parallel_for(
      "flow::dirichlet_rows", Range(0, owned), KOKKOS_LAMBDA(const int i) {
        if (velocity_dirichlet(i)) {
          bx(i, 0) = sx(i, 0);
          by(i, 0) = sy(i, 0);
        }
      });
  report.momentum_x =
      bicgstab(comm_, *plan_, momentum_, bx, sx, parameters_.momentum, timers_, &krylov_workspace_);
  report.momentum_y =
      bicgstab(comm_, *plan_, momentum_, by, sy, parameters_.momentum, timers_, &krylov_workspace_);

  // Pressure increment: (grad phi, grad q) = -gamma (div u*, q), phi = 0 where p is held.
  div_x_.apply(sx, rhs);
  div_y_.apply(sy, tmp);
  combine(-gamma, rhs, -gamma, tmp, rhs, owned);
  Kokkos::parallel_for(
      "flow::pressure_fixed_rows", Range(0, owned), KOKKOS_LAMBDA(const int i) {
        if (pressure_fixed(i)) rhs(i, 0) = 0;
      });
  Kokkos::deep_copy(phi, 0.0);
  report.pressure = pressure_amg_
                        ? pressure_amg_->solve(rhs, phi, timers_)
                        : conjugate_gradient(comm_, *plan_, laplace_, rhs, phi,
                                             parameters_.pressure, timers_, &krylov_workspace_);
  combine(1.0, p_, 1.0, phi, p_new);

  // Velocity correction: M delta = (1/gamma) (phi, div v), delta = 0 on Dirichlet nodes.
  for (int c = 0; c < 2; ++c) {
    const DistributedCsr& grad = c == 0 ? grad_x_ : grad_y_;
    grad.apply(phi, rhs);
    Kokkos::parallel_for(
        "flow::correction_rhs", Range(0, owned), KOKKOS_LAMBDA(const int i) {
          rhs(i, 0) = velocity_dirichlet(i) ? 0.0 : rhs(i, 0) / gamma;
        });
    Kokkos::deep_copy(delta, 0.0);
    (c == 0 ? report.correction_x : report.correction_y) =
        conjugate_gradient(comm_, *plan_, mass_dirichlet_, rhs, delta, parameters_.correction,
                           timers_, &krylov_workspace_);
    combine(1.0, c == 0 ? sx : sy, 1.0, delta, c == 0 ? ux_new : uy_new);
  }

  // Divergence checks before anything is committed: the last good state stays.
  double speed_max = 0, change_max = 0, cfl_local = 0;
  int non_finite = 0;
  {
    const auto ox = ux_, oy = uy_;
    Kokkos::parallel_reduce(
        "flow::max_speed", Range(0, owned),
        KOKKOS_LAMBDA(const int i, double& m) {
          m = math::max(m, math::hypot(ux_new(i, 0), uy_new(i, 0)));
        },
        Kokkos::Max<double>(speed_max));
    Kokkos::parallel_reduce(
        "flow::max_change", Range(0, owned),
        KOKKOS_LAMBDA(const int i, double& m) {
          m = math::max(m, math::hypot(ux_new(i, 0) - ox(i, 0), uy_new(i, 0) - oy(i, 0)));
        },
        Kokkos::Max<double>(change_max));
    Kokkos::parallel_reduce(
        "flow::non_finite", Range(0, owned),
        KOKKOS_LAMBDA(const int i, int& bad) {
          if (!math::isfinite(math::hypot(ux_new(i, 0), uy_new(i, 0))) ||
              !math::isfinite(p_new(i, 0))) {
            bad = 1;
          }
        },
        Kokkos::Max<int>(non_finite));
    const auto elements = device_.elements;
    const auto shortest_edge = device_.shortest_edge;
    Kokkos::parallel_reduce(
        "flow::cfl", Range(0, shortest_edge.extent(0)),
        KOKKOS_LAMBDA(const int e, double& m) {
          double speed = 0;
          for (int k = 0; k < 6; ++k) {
            const int node = elements(e * 6 + k);
            speed = math::max(speed, math::hypot(ux_new(node, 0), uy_new(node, 0)));
          }
          m = math::max(m, speed * dt / shortest_edge(e));
        },
        Kokkos::Max<double>(cfl_local));
  }
  // An empty range leaves a reduction at its identity (the lowest double): a rank that
  // owns nothing counts as 0.
  const double local_max[3] = {std::max(speed_max, 0.0), std::max(change_max, 0.0),
                               non_finite > 0 ? 1.0 : 0.0};
  cfl_local = std::max(cfl_local, 0.0);
  double global_max[4];
  const double send[4] = {local_max[0], local_max[1], local_max[2], cfl_local};
  timed_allreduce(send, global_max, 4, MPI_DOUBLE, MPI_MAX, comm_, timers_);
  report.max_velocity = global_max[0];
  report.relative_change = global_max[1] / (dt * std::max(global_max[0], 1e-300));
  report.cfl = global_max[3];
  if (global_max[2] != 0 || std::isnan(global_max[0])) {
    throw CollectiveError(str("flow solver diverged at step ", report.step, " (t = ", t_new,
                              "): the velocity or pressure is not finite; the state of step ",
                              steps_, " (t = ", time_,
                              ") is the last good one. Lower the time step or refine the mesh"));
  }
  if (report.max_velocity > parameters_.velocity_limit) {
    throw CollectiveError(str("flow solver diverged at step ", report.step, " (t = ", t_new,
                              "): max |u| = ", report.max_velocity, " exceeds the limit ",
                              parameters_.velocity_limit, "; the state of step ", steps_,
                              " (t = ", time_, ") is the last good one. Lower the time step"));
  }
  if (parameters_.max_cfl > 0 && report.cfl > parameters_.max_cfl) {
    throw CollectiveError(str("flow solver: step ", report.step, " (t = ", t_new,
                              ") has CFL number max |u| dt / h = ", report.cfl, " above the limit ",
                              parameters_.max_cfl, " (dt = ", dt, "); the state of step ", steps_,
                              " (t = ", time_,
                              ") is the last good one. Lower the time step to at most ",
                              dt * parameters_.max_cfl / report.cfl));
  }

  // du/dt by the same BDF formula, for the forces.
  combine(gamma, ux_new, -1.0, wx, dux_dt_);
  combine(gamma, uy_new, -1.0, wy, duy_dt_);
  Kokkos::deep_copy(convection_ux_, ex);
  Kokkos::deep_copy(convection_uy_, ey);
  Kokkos::deep_copy(ux_old_, ux_);
  Kokkos::deep_copy(uy_old_, uy_);
  Kokkos::deep_copy(ux_, ux_new);
  Kokkos::deep_copy(uy_, uy_new);
  Kokkos::deep_copy(p_, p_new);
  time_ = t_new;
  ++steps_;
  return report;
}

FlowSolver::State FlowSolver::state() const {
  int ranks = 1, rank = 0;
  MPI_Comm_size(comm_, &ranks);
  MPI_Comm_rank(comm_, &rank);
  const std::size_t owned = plan_->owned_count();
  const int count = static_cast<int>(owned);
  std::vector<int> counts(ranks), offsets(ranks + 1, 0);
  MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm_);
  for (int r = 0; r < ranks; ++r) offsets[r + 1] = offsets[r] + counts[r];
  const std::vector<long long> mine(plan_->global_ids().begin(),
                                    plan_->global_ids().begin() + static_cast<long>(owned));
  std::vector<long long> ids(rank == 0 ? offsets[ranks] : 0);
  MPI_Gatherv(mine.data(), count, MPI_LONG_LONG, ids.data(), counts.data(), offsets.data(),
              MPI_LONG_LONG, 0, comm_);
  // Owned rows of every rank to rank 0, placed by global node id.
  auto gather = [&](const Vec& v) {
    auto h = host(v);
    std::vector<double> values(owned);
    for (std::size_t i = 0; i < owned; ++i) values[i] = h(i, 0);
    std::vector<double> all(rank == 0 ? offsets[ranks] : 0);
    MPI_Gatherv(values.data(), count, MPI_DOUBLE, all.data(), counts.data(), offsets.data(),
                MPI_DOUBLE, 0, comm_);
    std::vector<double> out;
    if (rank == 0) {
      out.resize(p2_.num_nodes());
      for (std::size_t k = 0; k < ids.size(); ++k) out[static_cast<std::size_t>(ids[k])] = all[k];
    }
    return out;
  };
  State s;
  s.ux = gather(ux_);
  s.uy = gather(uy_);
  s.ux_old = gather(ux_old_);
  s.uy_old = gather(uy_old_);
  s.p = gather(p_);
  s.dux_dt = gather(dux_dt_);
  s.duy_dt = gather(duy_dt_);
  s.convection_ux = gather(convection_ux_);
  s.convection_uy = gather(convection_uy_);
  s.time = time_;
  s.steps = steps_;
  return s;
}

void FlowSolver::restore(const State& s) {
  const std::size_t n = p2_.num_nodes();
  const auto& global = plan_->global_ids();
  const std::pair<const std::vector<double>*, Vec*> fields[] = {
      {&s.ux, &ux_},
      {&s.uy, &uy_},
      {&s.ux_old, &ux_old_},
      {&s.uy_old, &uy_old_},
      {&s.p, &p_},
      {&s.dux_dt, &dux_dt_},
      {&s.duy_dt, &duy_dt_},
      {&s.convection_ux, &convection_ux_},
      {&s.convection_uy, &convection_uy_}};
  for (const auto& [values, vec] : fields) {
    if (values->size() != n) {
      throw InputError(str("flow solver state: a field has ", values->size(),
                           " values, this mesh has ", n,
                           " P2 nodes (a checkpoint of another mesh?)"));
    }
  }
  // Owned rows and ghosts alike: a ghost holds its owner's value, as after a step.
  for (const auto& [values, vec] : fields) {
    auto h = Kokkos::create_mirror_view(*vec);
    for (std::size_t i = 0; i < global.size(); ++i) {
      h(i, 0) = (*values)[static_cast<std::size_t>(global[i])];
    }
    Kokkos::deep_copy(*vec, h);
  }
  // The convection matrix is a function of the velocity it was assembled with, so it is
  // rebuilt rather than stored (the next step reassembles it anyway; only forces taken
  // before that step see it).
  assemble_convection(convection_ux_, convection_uy_);
  time_ = s.time;
  steps_ = s.steps;
}

Forces FlowSolver::obstacle_forces() const {
  // Residual of the momentum equation on the obstacle nodes:
  // R = M du/dt + N u + nu K u - (p, div v); the force on the body is -R.
  const double nu = parameters_.viscosity;
  double local[2] = {0, 0};
  for (int c = 0; c < 2; ++c) {
    const Vec& u = c == 0 ? ux_ : uy_;
    const Vec& dudt = c == 0 ? dux_dt_ : duy_dt_;
    const DistributedCsr& grad = c == 0 ? grad_x_ : grad_y_;
    local[c] =
        mass_.row_sum(dudt, device_.obstacle_rows) + convection_.row_sum(u, device_.obstacle_rows) +
        nu * stiffness_.row_sum(u, device_.obstacle_rows) - grad.row_sum(p_, device_.obstacle_rows);
  }
  double global[2];
  MPI_Allreduce(local, global, 2, MPI_DOUBLE, MPI_SUM, comm_);
  return Forces{-global[0], -global[1]};
}

double FlowSolver::pressure_at(double x, double y) const {
  std::size_t best = 0;
  double best_distance = std::numeric_limits<double>::infinity();
  for (std::size_t v = 0; v < p2_.num_vertices; ++v) {
    const double d = std::hypot(p2_.points[2 * v] - x, p2_.points[2 * v + 1] - y);
    if (d < best_distance) {
      best_distance = d;
      best = v;
    }
  }
  const long long id = plan_->local_id(static_cast<long long>(best));
  double local = 0;
  if (id >= 0 && static_cast<std::size_t>(id) < plan_->owned_count()) {
    local = host(p_)(id, 0);
  }
  double global = 0;
  MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_SUM, comm_);
  return global;
}

std::vector<double> FlowSolver::owned_vertex_velocity() const {
  auto hx = host(ux_);
  auto hy = host(uy_);
  std::vector<double> out(2 * owned_vertex_local_.size());
  for (std::size_t k = 0; k < owned_vertex_local_.size(); ++k) {
    out[2 * k] = hx(owned_vertex_local_[k], 0);
    out[2 * k + 1] = hy(owned_vertex_local_[k], 0);
  }
  return out;
}

std::vector<double> FlowSolver::owned_vertex_pressure() const {
  auto hp = host(p_);
  std::vector<double> out(owned_vertex_local_.size());
  for (std::size_t k = 0; k < owned_vertex_local_.size(); ++k)
    out[k] = hp(owned_vertex_local_[k], 0);
  return out;
}

std::vector<double> FlowSolver::gather_global(const std::vector<double>& owned_values,
                                              int components) const {
  int ranks = 1;
  MPI_Comm_size(comm_, &ranks);
  const int count = static_cast<int>(owned_vertices_.size());
  std::vector<int> counts(ranks), offsets(ranks + 1, 0);
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm_);
  for (int r = 0; r < ranks; ++r) offsets[r + 1] = offsets[r] + counts[r];
  std::vector<long long> ids(offsets[ranks]);
  std::vector<long long> mine(owned_vertices_.begin(), owned_vertices_.end());
  MPI_Allgatherv(mine.data(), count, MPI_LONG_LONG, ids.data(), counts.data(), offsets.data(),
                 MPI_LONG_LONG, comm_);
  std::vector<int> value_counts(ranks), value_offsets(ranks);
  for (int r = 0; r < ranks; ++r) {
    value_counts[r] = counts[r] * components;
    value_offsets[r] = offsets[r] * components;
  }
  std::vector<double> all(static_cast<std::size_t>(offsets[ranks]) * components);
  MPI_Allgatherv(owned_values.data(), count * components, MPI_DOUBLE, all.data(),
                 value_counts.data(), value_offsets.data(), MPI_DOUBLE, comm_);
  std::vector<double> out(p2_.num_vertices * components);
  for (std::size_t k = 0; k < ids.size(); ++k) {
    for (int c = 0; c < components; ++c) out[ids[k] * components + c] = all[k * components + c];
  }
  return out;
}

std::vector<double> FlowSolver::global_vertex_velocity() const {
  return gather_global(owned_vertex_velocity(), 2);
}
std::vector<double> FlowSolver::global_vertex_pressure() const {
  return gather_global(owned_vertex_pressure(), 1);
}

std::array<double, 2> FlowSolver::l2_errors(
    const std::function<std::array<double, 3>(double, double)>& exact) const {
  const ReferenceTriangle& ref = reference_triangle();
  auto hx = host(ux_);
  auto hy = host(uy_);
  auto hp = host(p_);
  double local[2] = {0, 0};
  const std::size_t elements = local_elements_.size() / 6;
  for (std::size_t e = 0; e < elements; ++e) {
    if (!element_counted_[e]) continue;
    const int* nodes = &local_elements_[e * 6];
    const Index* g = &p2_.elements[static_cast<std::size_t>(values_.elements[e]) * 6];
    for (int q = 0; q < Q; ++q) {
      double x = 0, y = 0, u = 0, v = 0, p = 0;
      for (int k = 0; k < 6; ++k) {
        x += ref.phi[q][k] * p2_.points[2 * g[k]];
        y += ref.phi[q][k] * p2_.points[2 * g[k] + 1];
        u += ref.phi[q][k] * hx(nodes[k], 0);
        v += ref.phi[q][k] * hy(nodes[k], 0);
      }
      for (int k = 0; k < 3; ++k) p += ref.psi[q][k] * hp(nodes[k], 0);
      const auto s = exact(x, y);
      const double w = values_.wdet_at(e, q);
      local[0] += w * ((u - s[0]) * (u - s[0]) + (v - s[1]) * (v - s[1]));
      local[1] += w * (p - s[2]) * (p - s[2]);
    }
  }
  double global[2];
  MPI_Allreduce(local, global, 2, MPI_DOUBLE, MPI_SUM, comm_);
  return {std::sqrt(global[0]), std::sqrt(global[1])};
}

}  // namespace tessera::solvers::flow
