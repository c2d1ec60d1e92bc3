#pragma once
// Configuration of the hopfield experiment: which study ([hopfield] task) and its keys.
// One struct per section, a field per key, as the keys are spelled (tessera keys hopfield
// lists them with their help).
#include <cstdint>
#include <string>
#include <vector>

#include "core/config/config.hpp"

namespace tessera::models::hopfield {

struct RetrievalKeys {  // [hopfield]
  std::string task{};
  double beta{};
  std::int64_t max_steps{};
  double eps{};
  std::string corruption{};
  double fraction{};
  double success_error{};
  std::int64_t classical_sweeps{};
};

struct CapacityKeys {  // [capacity]
  std::vector<double> dims{};
  std::vector<double> counts{};
  std::string kinds{};
  std::int64_t queries{};
};

struct BetaSweepKeys {  // [beta_sweep]
  std::vector<double> betas{};
  std::int64_t patterns{};
  std::int64_t dim{};
  std::int64_t queries{};
  double noise{};
  std::int64_t steps{};
  double mass{};
};

struct ImagesKeys {  // [images]
  std::string dir{};
  std::vector<double> counts{};
  std::int64_t grid{};
};

struct LearningKeys {  // [learning]
  std::int64_t train{};
  std::int64_t test{};
  std::int64_t epochs{};
  std::int64_t batch{};
  double lr{};
  std::int64_t hidden{};
  std::int64_t heads{};
};

struct HopfieldConfig {
  std::string source;      // the experiment file, for messages
  std::uint64_t seed = 1;  // run.seed
  RetrievalKeys hopfield;
  CapacityKeys capacity;
  BetaSweepKeys beta_sweep;
  ImagesKeys images;
  LearningKeys learning;
};

void add_hopfield_keys(config::Schema& schema);
HopfieldConfig from_config(const config::Config& c);
// Checks that need no run (reads the Fashion-MNIST header for the image tasks):
// InputError naming the experiment file and the key.
void validate(const HopfieldConfig& config, int ranks);

// images.dir, or $TESSERA_FASHION_MNIST, or Debian's dataset-fashion-mnist folder.
std::string images_dir(const HopfieldConfig& config);

}  // namespace tessera::models::hopfield
