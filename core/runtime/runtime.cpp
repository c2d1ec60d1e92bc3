#include "core/runtime/runtime.hpp"

#include <dlfcn.h>
#include <sched.h>

#include <hdf5.h>
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/stop_signal.hpp"

namespace tessera::runtime {

Runtime::Runtime(int& argc, char**& argv) {
  int provided = 0;
  // Every HDF5 file is closed by its owner: HDF5's exit-time clean-up would try to close
  // a file that a failed run left open (after MPI_Finalize, and collectively).
  H5dont_atexit();
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  // Kokkos takes --help (and -h) as its own and prints its options before ours: it sees
  // only --kokkos-* arguments, and --kokkos-help shows its options.
  std::vector<char*> kokkos_args;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i == 0 || arg.rfind("--kokkos-", 0) == 0) kokkos_args.push_back(argv[i]);
  }
  int kokkos_argc = static_cast<int>(kokkos_args.size());
  kokkos_args.push_back(nullptr);
  char** kokkos_argv = kokkos_args.data();
  Kokkos::initialize(kokkos_argc, kokkos_argv);
  blas_threads_for_kokkos();
  // Remove the --kokkos-* arguments from argv, so the command line parser never sees them.
  int kept = 0;
  for (int i = 0; i < argc; ++i) {
    if (i == 0 || std::string(argv[i]).rfind("--kokkos-", 0) != 0) argv[kept++] = argv[i];
  }
  argc = kept;
}

Runtime::~Runtime() {
  Kokkos::finalize();
  MPI_Finalize();
}

int comm_rank(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  return rank;
}

int comm_size(MPI_Comm comm) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  return size;
}

int run_collectively(MPI_Comm comm, const std::function<void()>& work) {
  const int rank = comm_rank(comm);
  const int size = comm_size(comm);
  std::string message;
  int code = kExitOk;
  try {
    work();
  } catch (const InputError& e) {
    message = e.what();
    code = kExitInputError;
  } catch (const std::exception& e) {
    message = e.what();
    code = kExitFailure;
  }
  // The lowest failing rank speaks; the worst exit code wins.
  int failing_rank = code != kExitOk ? rank : size;
  int first_failing = size;
  MPI_Allreduce(&failing_rank, &first_failing, 1, MPI_INT, MPI_MIN, comm);
  int worst = code;
  MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, comm);
  if (first_failing == size) return kExitOk;
  if (rank == first_failing) {
    const std::string where = rank != 0 ? "(rank " + std::to_string(rank) + ") " : "";
    log::stderr_line("tessera: error: " + where + message);
  }
  return worst;
}

void on_root(MPI_Comm comm, const std::function<void()>& work) {
  enum Outcome : int { kDone, kInputError, kOtherError };
  int header[2] = {kDone, 0};  // outcome, message length
  std::string message;
  if (comm_rank(comm) == 0) {
    try {
      work();
    } catch (const InputError& e) {
      header[0] = kInputError;
      message = e.what();
    } catch (const std::exception& e) {
      header[0] = kOtherError;
      message = e.what();
    }
    header[1] = static_cast<int>(message.size());
  }
  MPI_Bcast(header, 2, MPI_INT, 0, comm);
  if (header[0] == kDone) return;
  message.resize(static_cast<std::size_t>(header[1]));
  MPI_Bcast(message.data(), header[1], MPI_CHAR, 0, comm);
  if (header[0] == kInputError) throw InputError(message);
  throw std::runtime_error(message);
}

bool all_ranks_within(MPI_Comm comm, double seconds) {
  MPI_Request request;
  MPI_Ibarrier(comm, &request);
  const double start = MPI_Wtime();
  int done = 0;
  while (true) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return true;
    if (MPI_Wtime() - start > seconds) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int run_or_abort(MPI_Comm comm, const std::function<void()>& work) {
  const int size = comm_size(comm);
  MPI_Comm failure_comm = MPI_COMM_NULL;
  if (size > 1) MPI_Comm_dup(comm, &failure_comm);
  auto release = [&] {
    if (failure_comm != MPI_COMM_NULL) MPI_Comm_free(&failure_comm);
  };
  const char* kind = nullptr;
  std::string message;
  int code = kExitFailure;
  try {
    work();
    release();
    return kExitOk;
  } catch (const CollectiveError& e) {
    // Every rank threw this together: no abort needed, one message.
    if (comm_rank(comm) == 0) log::stderr_line(std::string("tessera: error: ") + e.what());
    release();
    return kExitFailure;
  } catch (const Preempted& e) {
    // Also collective: the checkpoint is written, the run can resume.
    if (comm_rank(comm) == 0) log::stderr_line(std::string("tessera: stopped: ") + e.what());
    release();
    return kExitPreempted;
  } catch (const InputError& e) {
    kind = "error";
    message = e.what();
    code = kExitInputError;
  } catch (const std::exception& e) {
    kind = "error";
    message = e.what();
  } catch (...) {
    kind = "error";
    message = "unknown exception";
  }
  if (size > 1 && all_ranks_within(failure_comm, 3.0)) {
    // The same failure everywhere (a bad input found by every rank): one message, from
    // rank 0, the worst exit code, and no MPI_Abort with its runtime noise.
    int worst = code;
    MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, failure_comm);
    if (comm_rank(comm) == 0) log::stderr_line(std::string("tessera: ") + kind + ": " + message);
    release();
    return worst;
  }
  const std::string where = size > 1 ? "(rank " + std::to_string(comm_rank(comm)) + ") " : "";
  log::stderr_line(std::string("tessera: ") + kind + ": " + where + message);
  if (size > 1) MPI_Abort(comm, code);
  // One rank: return normally so that destructors (files, Kokkos) run.
  release();
  return code;
}

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

int blas_threads() {
  // Looked up at run time: the BLAS behind libblas.so is chosen by the system
  // (Debian alternatives), and only OpenBLAS has this function.
  // Looked up once: gemm asks on every call (core/tensor/host_gemm.cpp).
  using GetThreads = int (*)();
  static const auto get =
      reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get ? std::max(1, get()) : 1;
}

int kokkos_threads() {
  return std::max(1, static_cast<int>(Kokkos::DefaultHostExecutionSpace().concurrency()));
}

void blas_threads_for_kokkos() {
  // OpenBLAS reads OPENBLAS_NUM_THREADS, GOTO_NUM_THREADS and OMP_NUM_THREADS when it
  // loads and otherwise takes every core of the node: its own pool of threads, which
  // competes with Kokkos' OpenMP threads for the same cores (measured: the graph
  // kernels lost their 1.9x from a second thread when BLAS had two threads too).
  if (std::getenv("OPENBLAS_NUM_THREADS") != nullptr || std::getenv("GOTO_NUM_THREADS") != nullptr) {
    return;
  }
  if (kokkos_threads() <= 1) return;  // a Serial host space: OpenBLAS keeps its own choice
  using SetThreads = void (*)(int);
  auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set != nullptr) set(1);
}

std::string oversubscription_warning(MPI_Comm comm) {
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  const int ranks_on_node = comm_size(node);
  // mpirun pins each rank to a core or two, so one rank's affinity says little: the
  // cores of the node are the union of the ranks' affinity sets.
  cpu_set_t mine;
  CPU_ZERO(&mine);
  if (sched_getaffinity(0, sizeof(mine), &mine) != 0) {
    for (int c = 0; c < available_cores(); ++c) CPU_SET(c, &mine);
  }
  cpu_set_t all;
  MPI_Allreduce(&mine, &all, static_cast<int>(sizeof(cpu_set_t)), MPI_BYTE, MPI_BOR, node);
  MPI_Comm_free(&node);
  const int node_cores = std::max(1, CPU_COUNT(&all));
  // Kokkos' threads and BLAS's take turns within a rank (a gemm is called between
  // kernels), so a rank needs the larger of the two counts, not their sum.
  const int kokkos = kokkos_threads();
  const int blas = blas_threads();
  const int threads = std::max(kokkos, blas);
  if (ranks_on_node * threads <= node_cores) return {};
  const std::string which =
      kokkos >= blas ? str(threads, " Kokkos threads") : str(threads, " BLAS threads");
  return str(ranks_on_node, " ranks x ", which, " = ", ranks_on_node * threads, " threads on ",
             node_cores,
             " cores: the node is oversubscribed and timings will be poor; set "
             "OMP_NUM_THREADS and OPENBLAS_NUM_THREADS so that ranks x threads <= cores, or use "
             "fewer ranks");
}

}  // namespace tessera::runtime
