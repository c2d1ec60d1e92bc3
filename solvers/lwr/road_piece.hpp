#pragma once
// The road as VTK line cells, for ParaView: cells [first, first + count) of a road of
// equal cells of length dx starting at x0, one piece per rank.
#include <cstdint>

#include "core/io/vtk_series.hpp"

namespace tessera::solvers::lwr {

io::UnstructuredPiece road_piece(double x0, double dx, std::int64_t first, std::int64_t count);

}  // namespace tessera::solvers::lwr
