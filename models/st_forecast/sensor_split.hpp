#pragma once
// The STTN's sensors split over the ranks of a group (graph attention only): each rank
// holds its own sensors (a METIS part of the sensor graph) and the ghost sensors within
// max(K, C - 1) hops of them, the rows its K-hop spatial attention and its Chebyshev
// polynomial of order C read. The model exchanges the ghosts' rows before every block
// (HaloPlan::gather) and returns their gradients to the owners after the block's backward
// (scatter_add), so each rank's own sensors get exactly the whole graph's forecasts and,
// summed over the group, the parameter gradients are the whole graph's. Every activation
// is per local sensor: memory per rank falls with the rank count, which key sharding of
// dense attention (Sttn::set_spatial_key_shard) does not give.
#include <memory>
#include <vector>

#include "core/parallel/graph_part.hpp"
#include "models/st_forecast/batch.hpp"
#include "models/st_forecast/sensor_graph.hpp"

namespace tessera::models::st_forecast {

// The sensor graph: the off-diagonal pattern of a (scaled) Laplacian in CSR form.
graph::HostCsr laplacian_pattern(const std::vector<graph::Index>& row_ptr,
                                 const std::vector<graph::Index>& col_idx);

// The split of the sensors over the ranks of `group` (METIS on the sensor graph) with
// ghosts for K = `hops` and C = `cheb_order`. Collective.
std::unique_ptr<parallel::GraphPart> split_sensors(MPI_Comm group, const ScaledLaplacian& laplacian,
                                                   std::size_t hops, std::size_t cheb_order);

// The rows of a whole batch that a part holds: its local sensors (own, then ghosts) in
// every window. The ghosts' targets are 0 (missing), so a masked loss or metric counts
// each sensor on its owner only.
template <class T>
ForecastBatch<T> local_batch(const ForecastBatch<T>& whole, const parallel::GraphPart& part) {
  const std::vector<long long>& ids = part.rows();
  const std::size_t n = whole.sensors, local = ids.size(), steps = whole.steps;
  const std::size_t horizons = whole.horizons, windows = whole.windows;
  const std::vector<double> inputs = tensor::to_host(whole.inputs);
  const auto slot = host_ids(whole.slot), weekday = host_ids(whole.weekday),
             position = host_ids(whole.position);
  ForecastBatch<T> b;
  b.windows = windows;
  b.sensors = local;
  b.steps = steps;
  b.horizons = horizons;
  const std::size_t rows = windows * local * steps, columns = whole.inputs.extent(1);
  std::vector<double> in(rows * columns);
  Kokkos::View<int*, Kokkos::HostSpace> s("slot", rows), w("weekday", rows), p("position", rows);
  b.target.assign(windows * local * horizons, 0.0);
  for (std::size_t win = 0; win < windows; ++win) {
    for (std::size_t l = 0; l < local; ++l) {
      const std::size_t g = static_cast<std::size_t>(ids[l]);
      for (std::size_t t = 0; t < steps; ++t) {
        const std::size_t from = (win * n + g) * steps + t, to = (win * local + l) * steps + t;
        for (std::size_t c = 0; c < columns; ++c) in[columns * to + c] = inputs[columns * from + c];
        s(to) = slot(from);
        w(to) = weekday(from);
        p(to) = position(from);
      }
      if (l >= part.owned()) continue;  // a ghost: its owner scores it
      for (std::size_t h = 0; h < horizons; ++h) {
        b.target[(win * local + l) * horizons + h] = whole.target[(win * n + g) * horizons + h];
      }
    }
  }
  b.inputs = tensor::from_host<T>(in, rows, columns, "st_forecast::local_inputs");
  b.slot = device_ids(s, "st_forecast::local_slot");
  b.weekday = device_ids(w, "st_forecast::local_weekday");
  b.position = device_ids(p, "st_forecast::local_position");
  return b;
}

}  // namespace tessera::models::st_forecast
