#include "solvers/lwr/road_piece.hpp"

namespace tessera::solvers::lwr {

io::UnstructuredPiece road_piece(double x0, double dx, std::int64_t first, std::int64_t count) {
  io::UnstructuredPiece piece;
  for (std::int64_t i = 0; i <= count; ++i) {
    piece.points.push_back(x0 + static_cast<double>(first + i) * dx);
    piece.points.push_back(0.0);
    piece.points.push_back(0.0);
  }
  piece.cell_offsets.push_back(0);
  for (std::int64_t c = 0; c < count; ++c) {
    piece.connectivity.push_back(c);
    piece.connectivity.push_back(c + 1);
    piece.cell_offsets.push_back(2 * (c + 1));
    piece.cell_types.push_back(io::CellType::kLine);
  }
  return piece;
}

}  // namespace tessera::solvers::lwr
