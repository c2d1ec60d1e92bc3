#pragma once
// Error types. An InputError is the user's to fix (a config key, a data file, a rank
// count): its message names the file, key or line and what was expected, and the
// `tessera` command exits with code 2. Anything else is a failure of the program or
// the machine and exits with code 1.
#include <sstream>
#include <stdexcept>
#include <string>

namespace tessera {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An error raised on every rank at once, after a collective check (a NaN found by an
// all-reduce, say): the job can end without MPI_Abort and print the message once.
class CollectiveError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown on every rank together after a run wrote a checkpoint because a stop signal
// (SIGTERM, SIGUSR1) arrived: the command ends with kExitPreempted and the run can
// continue with `tessera run --resume`. The message says where the checkpoint is.
class Preempted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Builds a message from any streamable pieces: str("cells = ", n, " is negative").
template <typename... Parts>
std::string str(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

}  // namespace tessera
