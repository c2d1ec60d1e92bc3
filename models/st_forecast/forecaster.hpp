#pragma once
// The models a forecasting run trains side by side, behind one interface: the STTN and
// the per-sensor MLP baseline (the classical STGCN comes next).
#include <memory>
#include <string>

#include "core/runtime/error.hpp"
#include "models/st_forecast/sensor_mlp.hpp"
#include "models/st_forecast/sttn.hpp"

namespace tessera::models::st_forecast {

enum class ForecasterKind { kSttn, kMlp };

inline std::string forecaster_name(ForecasterKind kind) {
  return kind == ForecasterKind::kSttn ? "sttn" : "mlp";
}

inline ForecasterKind forecaster_from_name(const std::string& name) {
  if (name == "sttn") return ForecasterKind::kSttn;
  if (name == "mlp") return ForecasterKind::kMlp;
  throw InputError(str("unknown forecaster '", name, "' (expected sttn or mlp)"));
}

struct ForecasterOptions {
  ForecasterKind kind = ForecasterKind::kSttn;
  SttnOptions sttn;
  std::size_t mlp_hidden = 256;
};

template <class T>
class Forecaster {
 public:
  void declare(nn::ParameterStore<T>& store, const ForecasterOptions& o) {
    options_ = o;
    if (o.kind == ForecasterKind::kSttn) {
      sttn_.declare(store, o.sttn);
    } else {
      mlp_.declare(store, o.sttn.input_steps, o.sttn.horizons, o.mlp_hidden);
    }
  }
  void init(nn::ParameterStore<T>& store, std::uint64_t seed) const {
    if (options_.kind == ForecasterKind::kSttn) {
      sttn_.init(store, seed);
    } else {
      mlp_.init(store, seed);
    }
  }
  void set_graph(const graph::SparseMatrix<T>& laplacian, const Matrix<T>& eigenvectors) {
    if (options_.kind == ForecasterKind::kSttn) sttn_.set_graph(laplacian, eigenvectors);
  }
  // z-scored forecasts (windows * sensors, horizons).
  const Matrix<T>& forward(const nn::ParameterStore<T>& store, const ForecastBatch<T>& batch) {
    return options_.kind == ForecasterKind::kSttn ? sttn_.forward(store, batch)
                                                  : mlp_.forward(store, batch);
  }
  void backward(nn::ParameterStore<T>& store, const Matrix<T>& dy) {
    if (options_.kind == ForecasterKind::kSttn) {
      sttn_.backward(store, dy);
    } else {
      mlp_.backward(store, dy);
    }
  }
  const ForecasterOptions& options() const { return options_; }

 private:
  ForecasterOptions options_;
  Sttn<T> sttn_;
  SensorMlp<T> mlp_;
};

}  // namespace tessera::models::st_forecast
