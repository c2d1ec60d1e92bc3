#pragma once
// Progress of a long loop, shown by rank 0 only: a live bar with rate and ETA when
// stderr is a terminal, a plain line every few seconds (and at 25/50/75/100 %) when it
// is a batch log. TESSERA_PROGRESS=bar|lines|off overrides the choice.
#include <chrono>
#include <string>

namespace tessera::runtime {

class Progress {
 public:
  enum class Style { kBar, kLines, kOff };

  // `total` units of work (steps, samples); `enabled` is false on ranks other than 0.
  Progress(std::string label, double total, bool enabled, std::string unit = "steps");
  ~Progress();

  // `done` units are complete; `status` is a short text shown after the rate.
  void update(double done, const std::string& status = "");
  void finish(const std::string& status = "");

  static Style style_from_environment(bool is_terminal);
  // "1h02m", "3m05s", "12.3s"
  static std::string format_duration(double seconds);

 private:
  void draw(double done, const std::string& status, bool final_line);

  std::string label_;
  std::string unit_;
  double total_;
  Style style_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  int next_quarter_ = 1;
  bool finished_ = false;
};

}  // namespace tessera::runtime
