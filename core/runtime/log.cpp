#include "core/runtime/log.hpp"

#include <ctime>
#include <fstream>
#include <iostream>

namespace tessera::runtime::log {
namespace {

int g_rank = 0;
int g_size = 1;
bool g_quiet = false;
std::ofstream g_file;

std::string timestamp() {
  std::time_t now = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M:%S", std::localtime(&now));
  return buffer;
}

void to_file(const char* level, const std::string& message) {
  if (g_file.is_open()) g_file << timestamp() << " " << level << " " << message << std::endl;
}

}  // namespace

void set_rank(int rank, int size) {
  g_rank = rank;
  g_size = size;
}

void set_file(const std::string& path) {
  if (g_rank != 0) return;
  if (g_file.is_open()) g_file.close();
  if (!path.empty()) g_file.open(path, std::ios::app);
}

void set_quiet(bool quiet) {
  g_quiet = quiet;
}

void info(const std::string& message) {
  if (g_rank != 0) return;
  if (!g_quiet) std::cout << message << std::endl;
  to_file("INFO", message);
}

void warn(const std::string& message) {
  if (g_rank != 0) return;
  stderr_line("tessera: warning: " + message);
  to_file("WARN", message);
}

void rank_message(const std::string& message) {
  if (g_size > 1) {
    stderr_line("[rank " + std::to_string(g_rank) + "] " + message);
  } else {
    stderr_line(message);
  }
}

void stderr_line(const std::string& line) {
  // One insertion of the whole line: std::cerr (synchronised with stdio, unbuffered
  // stderr) hands it to the system in one write. Through std::cerr so tests can capture it.
  std::cerr << (line + "\n") << std::flush;
}

}  // namespace tessera::runtime::log
