// The mesh_partition experiment: a mesh (the Gmsh channel or a file) partitioned with
// METIS over the ranks, shown in ParaView (core/mesh/partition_view owns the keys, the
// configuration and the driver).
#include "core/mesh/partition_view.hpp"
#include "core/runtime/log.hpp"
#include "experiments/experiment.hpp"

namespace tessera::experiments {

ExperimentKind mesh_partition_experiment_kind() {
  ExperimentKind kind;
  kind.name = "mesh_partition";
  kind.description = "generate or read a mesh, partition it with METIS, show parts and halos";
  kind.add_keys = mesh::add_mesh_partition_keys;
  kind.check = [](const config::Config& c, int ranks) {
    mesh::validate(mesh::mesh_partition_from_config(c), ranks);
  };
  kind.run = [](const config::Config& c, RunContext& context) {
    const mesh::PartitionSummary s =
        mesh::run_mesh_partition(mesh::mesh_partition_from_config(c), context);
    runtime::log::info(str("mesh_partition done: ", s.nodes, " nodes in ", s.parts,
                           " parts, edge cut ", s.edge_cut, ", imbalance ", s.imbalance,
                           ", halo fraction ", s.halo_fraction));
  };
  return kind;
}

}  // namespace tessera::experiments
