#pragma once
// Reading XDMF3 (.xdmf/.xmf) meshes with their fields over time: XML that names arrays
// in HDF5 files. Debian's VTK has no XDMF module, so this is our own reader: the XML
// through VTK's XML parser, the arrays through io::Hdf5Reader. It covers what meshio
// and FEniCS-style writers produce:
//  - a Temporal collection of Grids, one per step, timed by <Time Value="..."/> in each
//    grid, a List or HyperSlab <Time> on the collection, or else the step number; or a
//    single Uniform Grid;
//  - Topology of TopologyType Triangle or Tetrahedron, Geometry of GeometryType XYZ
//    (z all 0 -> 2-D) or XY, given in each step or once, or pulled in with
//    <xi:include xpointer="xpointer(//Grid[@Name=&quot;mesh&quot;]/*[self::Topology or
//    self::Geometry])"/> as meshio writes it; the mesh must be the same in every step;
//  - node-centred Attributes (Scalar, Vector, ...), each one field; cell-centred ones are
//    skipped;
//  - DataItems in Format="HDF" ("file.h5:/path", the file relative to the .xdmf) or
//    Format="XML" (numbers inline).
// Binary DataItems, HyperSlab/Function items, References and mixed topologies are
// InputErrors that say so.
#include <string>

#include "core/mesh/mesh.hpp"

namespace tessera::mesh {

// InputError naming the .xdmf file and the element at fault: not XML, no Domain/Grid,
// an unsupported layout above, a DataItem naming a missing file or dataset, sizes that
// disagree with Dimensions or with the number of points, a mesh that changes in time.
Mesh read_xdmf(const std::string& path);

}  // namespace tessera::mesh
