#pragma once
// The process-wide lifetime of MPI and Kokkos, and the two ways a job ends on an
// error: collectively (every rank agrees, the message is printed once) or by abort
// (one rank failed in the middle of the run; MPI_Abort so that nobody hangs).
#include <mpi.h>

#include <functional>
#include <string>

namespace tessera::runtime {

class Runtime {
 public:
  // Initialises MPI (MPI_THREAD_FUNNELED) and Kokkos. Kokkos arguments such as
  // --kokkos-threads are taken from argv.
  Runtime(int& argc, char**& argv);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  MPI_Comm comm() const { return MPI_COMM_WORLD; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }

 private:
  int rank_ = 0;
  int size_ = 1;
};

int comm_rank(MPI_Comm comm);
int comm_size(MPI_Comm comm);

// Exit codes of the `tessera` command.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitInputError = 2;

// Runs `work` on every rank of `comm`. `work` must not call collectives that a throwing
// rank would skip. Afterwards the ranks agree: if any rank threw, the lowest such rank
// prints its message once (prefixed with its rank when that is not 0) and every rank
// returns the same non-zero exit code; otherwise every rank returns kExitOk.
int run_collectively(MPI_Comm comm, const std::function<void()>& work);

// Rank 0 runs `work` (a serial library, a file read once) while the others wait; when it
// throws, every rank throws the same error (an InputError stays an InputError, with rank
// 0's message), so that run_or_abort prints it once and ends the job without MPI_Abort.
// Collective over comm.
void on_root(MPI_Comm comm, const std::function<void()>& work);

// Whether every rank of `comm` reaches this call within `seconds` (a non-blocking barrier,
// waited for that long): how a failed rank finds out whether the others failed too or are
// still computing, or blocked in a collective it will never join. Give it a communicator
// of its own (MPI_Comm_dup): after a timeout the barrier stays pending on it.
bool all_ranks_within(MPI_Comm comm, double seconds);

// Runs `work`; an exception ends the whole job with MPI_Abort after printing the
// message with the rank that raised it. When every rank raises an error within a few
// seconds of each other (the same bad input seen everywhere), rank 0 prints its message
// once and every rank returns the worst exit code, without MPI_Abort. For the main loop of a run,
// where ranks may be inside collectives when one of them fails. A Preempted (thrown by every rank
// together after a checkpoint) returns kExitPreempted without abort. On one rank nothing is
// aborted: the exit code is returned so that destructors run. A CollectiveError (thrown by every
// rank together) is printed once by rank 0 and returned without abort.
int run_or_abort(MPI_Comm comm, const std::function<void()>& work);

// Ranks on this node times threads per rank (the larger of Kokkos' and BLAS's), compared
// with the cores of the node. Returns a warning text when the node is oversubscribed,
// empty otherwise. Collective.
std::string oversubscription_warning(MPI_Comm comm);

// Number of cores this process may run on (sched affinity), at least 1.
int available_cores();
// OpenBLAS threads per process when OpenBLAS is the BLAS, else 1.
int blas_threads();
// Threads of Kokkos' default host execution space (OpenMP: OMP_NUM_THREADS or
// --kokkos-num-threads; Serial: 1; a device space: its host space's). Kokkos must be
// initialized.
int kokkos_threads();
// On a threaded host backend (OpenMP), BLAS runs each call on one thread and Tessera's
// gemm splits every product over Kokkos' threads (core/tensor/gemm.hpp): one pool of
// threads per rank. Unless the user chose BLAS threads (OPENBLAS_NUM_THREADS or
// GOTO_NUM_THREADS); a Serial host space leaves BLAS alone. Called by Runtime after
// Kokkos starts.
void blas_threads_for_kokkos();

}  // namespace tessera::runtime
