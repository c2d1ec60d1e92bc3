#include "core/runtime/stop_signal.hpp"

#include <csignal>

namespace tessera::runtime {
namespace {

// Only async-signal-safe work in the handler: store the signal number.
volatile std::sig_atomic_t received_signal = 0;

extern "C" void remember_signal(int signal_number) {
  received_signal = signal_number;
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // blocking MPI and file calls carry on
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGUSR1, &action, nullptr);
}

bool stop_signal_received() {
  return received_signal != 0;
}

const char* stop_signal_name() {
  switch (received_signal) {
    case SIGTERM:
      return "SIGTERM";
    case SIGUSR1:
      return "SIGUSR1";
    default:
      return "";
  }
}

void clear_stop_signal() {
  received_signal = 0;
}

}  // namespace tessera::runtime
