#pragma once
// One interface over the two mesh models, so that training, rollouts and benchmarks are
// written once: the mesh transformer (attention graphs per block) or MeshGraphNet (mesh
// graph and edge features). A MeshSample holds what one mesh gives the model on the
// device; node features change every step, the rest is made once per trajectory.
#include <memory>
#include <string>
#include <vector>

#include "core/graph/neighbourhoods.hpp"
#include "core/runtime/error.hpp"
#include "models/mesh_transformer/mesh_graph_net.hpp"
#include "models/mesh_transformer/transformer.hpp"

namespace tessera::models::mesh_transformer {

enum class ModelKind { kTransformer, kMeshGraphNet };

inline ModelKind model_kind_from_name(const std::string& name) {
  if (name == "transformer") return ModelKind::kTransformer;
  if (name == "meshgraphnet") return ModelKind::kMeshGraphNet;
  throw InputError(str("model kind '", name, "': expected \"transformer\" or \"meshgraphnet\""));
}
inline const char* model_kind_name(ModelKind kind) {
  return kind == ModelKind::kTransformer ? "transformer" : "meshgraphnet";
}

// The transformer's attention graph from the mesh edges: K-hop union (K = 1: the mesh
// edges), with or without self loops.
struct AttentionGraphOptions {
  int hops = 1;
  bool self_loops = false;
};

inline graph::HostCsr attention_graph(const graph::HostCsr& mesh_edges,
                                      const AttentionGraphOptions& o) {
  if (o.hops < 1) throw InputError(str("model.hops = ", o.hops, ": expected at least 1"));
  if (o.hops == 1 && !o.self_loops) return mesh_edges;
  return graph::k_hop(mesh_edges, o.hops, o.self_loops);
}

template <class T>
struct MeshSample {
  graph::CsrGraph mesh;       // mesh edges (MeshGraphNet's edges, CSR order)
  graph::CsrGraph attention;  // the transformer's attention graph
  Matrix<T> edges;            // normalised edge features (MeshGraphNet)
  Matrix<T> nodes;            // normalised node features of the current frame
};

template <class T>
class Surrogate {
 public:
  struct Options {
    ModelKind kind = ModelKind::kTransformer;
    TransformerOptions transformer;
    MeshGraphNetOptions meshgraphnet;
    AttentionGraphOptions attention;
  };

  void declare(nn::ParameterStore<T>& store, const Options& o) {
    options_ = o;
    if (o.kind == ModelKind::kTransformer) {
      transformer_.declare(store, o.transformer);
    } else {
      meshgraphnet_.declare(store, o.meshgraphnet);
    }
  }
  void init(nn::ParameterStore<T>& store, std::uint64_t seed) const {
    if (options_.kind == ModelKind::kTransformer) {
      transformer_.init(store, seed);
    } else {
      meshgraphnet_.init(store, seed);
    }
  }

  // (nodes, outputs): the normalised velocity change.
  const Matrix<T>& forward(const nn::ParameterStore<T>& store, const MeshSample<T>& s) {
    if (options_.kind == ModelKind::kMeshGraphNet) {
      return meshgraphnet_.forward(store, s.nodes, s.edges, s.mesh);
    }
    graphs_.assign(options_.transformer.layers, &s.attention);
    return transformer_.forward(store, s.nodes, graphs_);
  }
  void backward(nn::ParameterStore<T>& store, const Matrix<T>& dy) {
    if (options_.kind == ModelKind::kMeshGraphNet) {
      meshgraphnet_.backward(store, dy);
    } else {
      transformer_.backward(store, dy);
    }
  }

  const Options& options() const { return options_; }

 private:
  Options options_;
  MeshTransformer<T> transformer_;
  MeshGraphNet<T> meshgraphnet_;
  std::vector<const graph::CsrGraph*> graphs_;
};

}  // namespace tessera::models::mesh_transformer
