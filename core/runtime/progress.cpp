#include "core/runtime/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

namespace tessera::runtime {

Progress::Style Progress::style_from_environment(bool is_terminal) {
  const char* env = std::getenv("TESSERA_PROGRESS");
  if (env != nullptr) {
    if (std::strcmp(env, "bar") == 0) return Style::kBar;
    if (std::strcmp(env, "lines") == 0) return Style::kLines;
    if (std::strcmp(env, "off") == 0) return Style::kOff;
  }
  return is_terminal ? Style::kBar : Style::kLines;
}

std::string Progress::format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--";
  char buffer[32];
  if (seconds < 60) {
    std::snprintf(buffer, sizeof(buffer), "%.1fs", seconds);
  } else if (seconds < 3600) {
    const int s = static_cast<int>(seconds);
    std::snprintf(buffer, sizeof(buffer), "%dm%02ds", s / 60, s % 60);
  } else {
    const int m = static_cast<int>(seconds / 60);
    std::snprintf(buffer, sizeof(buffer), "%dh%02dm", m / 60, m % 60);
  }
  return buffer;
}

Progress::Progress(std::string label, double total, bool enabled, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total > 0 ? total : 1),
      style_(enabled ? style_from_environment(isatty(fileno(stderr)) != 0) : Style::kOff),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  if (!finished_ && style_ == Style::kBar) std::cerr << std::endl;
}

void Progress::update(double done, const std::string& status) {
  if (style_ == Style::kOff || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since_draw = std::chrono::duration<double>(now - last_draw_).count();
  const double fraction = done / total_;
  if (style_ == Style::kBar) {
    if (since_draw < 0.1) return;
  } else {
    // Batch logs: every 10 seconds, and when a quarter of the work is crossed.
    const bool quarter = fraction * 4 >= next_quarter_;
    if (!quarter && since_draw < 10.0) return;
    while (fraction * 4 >= next_quarter_) ++next_quarter_;
  }
  last_draw_ = now;
  draw(done, status, false);
}

void Progress::finish(const std::string& status) {
  if (finished_) return;
  if (style_ != Style::kOff) draw(total_, status, true);
  finished_ = true;
}

void Progress::draw(double done, const std::string& status, bool final_line) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double fraction = std::min(1.0, std::max(0.0, done / total_));
  const double rate = elapsed > 0 ? done / elapsed : 0.0;
  const double eta = rate > 0 ? (total_ - done) / rate : NAN;
  std::ostringstream line;
  char percent[16];
  std::snprintf(percent, sizeof(percent), "%5.1f%%", 100.0 * fraction);
  char rate_text[48];
  std::snprintf(rate_text, sizeof(rate_text), "%.3g %s/s", rate, unit_.c_str());
  if (style_ == Style::kBar) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth);
    line << '\r' << label_ << " [" << std::string(filled, '#') << std::string(kWidth - filled, '.')
         << "] " << percent << "  " << rate_text << "  elapsed " << format_duration(elapsed)
         << "  ETA " << (final_line ? std::string("0.0s") : format_duration(eta));
    if (!status.empty()) line << "  " << status;
    line << "\033[K";  // clear the rest of the terminal line
    if (final_line) line << '\n';
  } else {
    line << label_ << ": " << percent << " (" << done << "/" << total_ << " " << unit_ << "), "
         << rate_text << ", elapsed " << format_duration(elapsed);
    if (!final_line) line << ", ETA " << format_duration(eta);
    if (!status.empty()) line << ", " << status;
    line << '\n';
  }
  std::cerr << line.str() << std::flush;
}

}  // namespace tessera::runtime
