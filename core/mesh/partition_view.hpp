#pragma once
// The mesh_partition experiment: generate (Gmsh DFG channel) or read a mesh, partition its
// node graph (METIS or blocks) and show the partition: a VTK field per node (ParaView
// colours the parts), the partition statistics in the results file, and, when the run
// has one rank per part, the halo each rank builds for K-hop operators.
#include <string>

#include "core/config/config.hpp"
#include "core/io/run_context.hpp"
#include "core/mesh/channel_config.hpp"

namespace tessera::mesh {

struct MeshPartitionConfig {
  std::string source;  // the experiment file, for messages
  ChannelMeshConfig mesh;
  std::string method = "metis";  // or "blocks"
  int parts = 0;                 // 0: one per rank
  int halo_hops = 1;
  int seed = 1;
  bool vtk = true;
};

// [mesh] (channel_config.hpp) and [partition] method, parts, halo_hops.
void add_mesh_partition_keys(config::Schema& schema);
MeshPartitionConfig mesh_partition_from_config(const config::Config& c);
// InputError naming the file and key: a part count that needs another rank count, a
// mesh file that is not there.
void validate(const MeshPartitionConfig& config, int ranks);

struct PartitionSummary {
  long long nodes = 0;
  int parts = 0;
  long long edge_cut = 0;
  double imbalance = 0, halo_fraction = 0;
};

// Collective over context.comm; rank 0 makes or reads the mesh and partitions it.
PartitionSummary run_mesh_partition(const MeshPartitionConfig& config,
                                    const io::RunContext& context);

}  // namespace tessera::mesh
