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
  std::cerr << "tessera: warning: " << message << std::endl;
  to_file("WARN", message);
}

void rank_message(const std::string& message) {
  if (g_size > 1) {
    std::cerr << "[rank " << g_rank << "] " << message << std::endl;
  } else {
    std::cerr << message << std::endl;
  }
}

}  // namespace tessera::runtime::log
