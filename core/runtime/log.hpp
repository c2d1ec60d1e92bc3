#pragma once
// Logging for a run: info from rank 0 to stdout (and to the run's log.txt once the
// run directory exists), warnings from rank 0 to stderr, messages of any rank tagged
// with that rank.
#include <string>

namespace tessera::runtime::log {

// Called once by the command after MPI is up.
void set_rank(int rank, int size);
// Also append rank-0 messages to this file (the run's log.txt). Empty closes it.
void set_file(const std::string& path);
void set_quiet(bool quiet);

void info(const std::string& message);
void warn(const std::string& message);
// Any rank, prefixed with "[rank r]" when there is more than one.
void rank_message(const std::string& message);
// One whole line to stderr in a single write, flushed: mpirun forwards stdout and
// stderr through separate pipes, and a line written in pieces can be split by the
// other stream's output (a test matching "tessera: error: ..." then fails).
void stderr_line(const std::string& line);

}  // namespace tessera::runtime::log
