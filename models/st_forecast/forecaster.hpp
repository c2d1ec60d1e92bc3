#pragma once
// The models a forecasting run trains side by side, behind one interface: the STTN, the
// per-sensor MLP baseline, the classic graph baseline STGCN and STID (sensor and time
// identities, no graph: the strong simple baseline of BasicTS).
#include <memory>
#include <string>

#include "core/runtime/error.hpp"
#include "models/st_forecast/sensor_mlp.hpp"
#include "models/st_forecast/stgcn.hpp"
#include "models/st_forecast/stid.hpp"
#include "models/st_forecast/sttn.hpp"

namespace tessera::models::st_forecast {

enum class ForecasterKind { kSttn, kMlp, kStgcn, kStid };

inline std::string forecaster_name(ForecasterKind kind) {
  switch (kind) {
    case ForecasterKind::kSttn:
      return "sttn";
    case ForecasterKind::kMlp:
      return "mlp";
    case ForecasterKind::kStgcn:
      return "stgcn";
    case ForecasterKind::kStid:
      break;
  }
  return "stid";
}

inline ForecasterKind forecaster_from_name(const std::string& name) {
  if (name == "sttn") return ForecasterKind::kSttn;
  if (name == "mlp") return ForecasterKind::kMlp;
  if (name == "stgcn") return ForecasterKind::kStgcn;
  if (name == "stid") return ForecasterKind::kStid;
  throw InputError(str("unknown forecaster '", name, "' (expected sttn, mlp, stgcn or stid)"));
}

struct ForecasterOptions {
  ForecasterKind kind = ForecasterKind::kSttn;
  SttnOptions sttn;  // sensors, steps and horizons are shared by all kinds
  std::size_t mlp_hidden = 256;
  StgcnOptions stgcn;  // its own channels; sensors, steps and horizons from sttn
  StidOptions stid;    // its widths; sensors, steps, horizons, day and weekday from sttn
};

template <class T>
class Forecaster {
 public:
  void declare(nn::ParameterStore<T>& store, const ForecasterOptions& o) {
    options_ = o;
    if (o.kind == ForecasterKind::kSttn) {
      sttn_.declare(store, o.sttn);
    } else if (o.kind == ForecasterKind::kMlp) {
      mlp_.declare(store, o.sttn.input_steps, o.sttn.horizons, o.mlp_hidden,
                   o.sttn.daily_input);
    } else if (o.kind == ForecasterKind::kStid) {
      StidOptions s = o.stid;
      s.sensors = o.sttn.sensors;
      s.input_steps = o.sttn.input_steps;
      s.horizons = o.sttn.horizons;
      s.steps_per_day = o.sttn.steps_per_day;
      s.weekday_embedding = o.sttn.weekday_embedding;
      s.daily_input = o.sttn.daily_input;
      stid_.declare(store, s);
    } else {
      StgcnOptions g = o.stgcn;
      g.sensors = o.sttn.sensors;
      g.input_steps = o.sttn.input_steps;
      g.horizons = o.sttn.horizons;
      stgcn_.declare(store, g);
    }
  }
  void init(nn::ParameterStore<T>& store, std::uint64_t seed) const {
    if (options_.kind == ForecasterKind::kSttn) {
      sttn_.init(store, seed);
    } else if (options_.kind == ForecasterKind::kMlp) {
      mlp_.init(store, seed);
    } else if (options_.kind == ForecasterKind::kStid) {
      stid_.init(store, seed);
    } else {
      stgcn_.init(store, seed);
    }
  }
  void set_graph(const graph::SparseMatrix<T>& laplacian, const Matrix<T>& eigenvectors) {
    if (options_.kind == ForecasterKind::kSttn) sttn_.set_graph(laplacian, eigenvectors);
    if (options_.kind == ForecasterKind::kStgcn) stgcn_.set_graph(laplacian);
  }
  // The STTN's Hopfield memory from encoded training windows (Sttn::seed_memory).
  void seed_memory(nn::ParameterStore<T>& store, const ForecastBatch<T>& batch) {
    if (options_.kind == ForecasterKind::kSttn) sttn_.seed_memory(store, batch);
  }
  // The STTN's dense spatial attention with its keys (sensors) sharded over the
  // processes of a sensor group (Sttn::set_spatial_key_shard); the other models run
  // whole on every process of the group.
  void set_spatial_key_shard(const nn::KeyShard<T>& shard) {
    if (options_.kind == ForecasterKind::kSttn) sttn_.set_spatial_key_shard(shard);
  }
  // The STTN's sensors split over the ranks of a group (Sttn::set_sensor_part; before
  // set_graph). InputError for the other models, which run whole.
  void set_sensor_part(const parallel::GraphPart& part) {
    if (options_.kind != ForecasterKind::kSttn) {
      throw InputError(
          str(forecaster_name(options_.kind), ": only the STTN splits its sensors over ranks"));
    }
    sttn_.set_sensor_part(part);
  }
  // z-scored forecasts (windows * sensors, horizons).
  const Matrix<T>& forward(const nn::ParameterStore<T>& store, const ForecastBatch<T>& batch) {
    switch (options_.kind) {
      case ForecasterKind::kSttn:
        return sttn_.forward(store, batch);
      case ForecasterKind::kMlp:
        return mlp_.forward(store, batch);
      case ForecasterKind::kStid:
        return stid_.forward(store, batch);
      case ForecasterKind::kStgcn:
        break;
    }
    return stgcn_.forward(store, batch);
  }
  void backward(nn::ParameterStore<T>& store, const Matrix<T>& dy) {
    if (options_.kind == ForecasterKind::kSttn) {
      sttn_.backward(store, dy);
    } else if (options_.kind == ForecasterKind::kMlp) {
      mlp_.backward(store, dy);
    } else if (options_.kind == ForecasterKind::kStid) {
      stid_.backward(store, dy);
    } else {
      stgcn_.backward(store, dy);
    }
  }
  const ForecasterOptions& options() const { return options_; }

 private:
  ForecasterOptions options_;
  Sttn<T> sttn_;
  SensorMlp<T> mlp_;
  Stgcn<T> stgcn_;
  Stid<T> stid_;
};

}  // namespace tessera::models::st_forecast
