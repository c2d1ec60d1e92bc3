#pragma once
// Configuration of the st_forecast experiment: the sensor series and its calendar
// ([data]), the sensor graph ([graph]), the models trained side by side ([model]) and
// the training recipe ([train]).
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "models/st_forecast/forecaster.hpp"
#include "models/st_forecast/sensor_graph.hpp"
#include "models/st_forecast/series.hpp"
#include "models/st_forecast/training.hpp"

namespace tessera::models::st_forecast {

struct StForecastConfig {
  std::string source;  // the experiment file, for messages
  std::string data_root;
  std::string series_file;  // as written
  SeriesFileOptions file;
  std::size_t steps_per_day = 288, first_slot = 0, segment_steps = 0;
  int first_weekday = 0;
  std::size_t input_steps = 12, output_steps = 12;
  SplitFractions split;
  SensorGraphOptions graph;  // graph.file as written; resolved by resolve_graph_file
  std::vector<ForecasterKind> kinds;
  ForecasterOptions model;                 // kind and sensors set per run
  std::string weekday_embedding = "auto";  // "auto", "on", "off": sets model.sttn
  // model.daily_input: off (model.sttn.daily_input false), or the day rule of the column.
  DayRule daily_rule = DayRule::kPreviousDay;
  TrainOptions training;
  // Ranks per sensor group: the STTN's dense spatial attention keys sharded over them
  // (Sttn::set_spatial_key_shard); the groups split the batch. 1: no sharding.
  int sensor_ranks = 1;
  std::vector<double> report_horizons;  // steps (1-based) named in the log and summary
};

void add_st_forecast_keys(config::Schema& schema);
StForecastConfig from_config(const config::Config& c);
// Reads the series and the graph and checks them against each other and the keys:
// InputError naming the experiment file and the key.
void validate(const StForecastConfig& config, int ranks);

// The series (calendar keys applied) and the graph, as a run uses them.
SensorSeries load_series(const StForecastConfig& config);
SensorGraph load_graph(const StForecastConfig& config, std::size_t sensors);

}  // namespace tessera::models::st_forecast
