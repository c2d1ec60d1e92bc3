#pragma once
// Preemption: a batch system ends a job with SIGTERM (at the time limit, on preemption,
// scancel) and Slurm can send SIGUSR1 some time before (`sbatch --signal=B:USR1@60`).
// A run that can resume installs these handlers; the handler only sets a flag, and the
// run's loop looks at it at its next step boundary (collectively), writes a checkpoint
// there and ends with kExitPreempted, which a batch script takes as "requeue me".
namespace tessera::runtime {

// Exit code of a run that stopped on a signal after writing its checkpoint
// (EX_TEMPFAIL of sysexits.h: "try again later").
constexpr int kExitPreempted = 75;

// Installs the SIGTERM and SIGUSR1 handlers (idempotent). Before this call, and in
// commands that cannot resume, the signals keep their default action (the process ends).
void install_stop_handlers();
// Whether SIGTERM or SIGUSR1 arrived in this process since install_stop_handlers().
bool stop_signal_received();
// The signal's name ("SIGTERM"), or "" when none arrived.
const char* stop_signal_name();
// Tests: forget a received signal.
void clear_stop_signal();

}  // namespace tessera::runtime
