#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for trying the batch templates and for the
# cluster tests (docs/cluster.md). It runs where there is no systemd (containers, CI):
# munged, slurmctld and slurmd are started as background processes, and everything they
# keep (slurm.conf, munge key and socket, spool, logs, pid files) lives under one
# folder, so nothing is written to /etc or /var and several can coexist.
#
# Usage: cluster/slurm_local.sh install|start|stop|status|env [STATE_DIR]
#   install  apt-get the packages when missing (Debian's slurm-wlm 22.05, munge,
#            libpmix-dev for srun --mpi=pmix); needs root. `start` does it too.
#   start    write the configuration (first start only) and start the daemons; waits
#            until the node takes jobs. Already running: says so and does nothing.
#   stop     cancel this cluster's jobs, stop the daemons it started (by pid file).
#   status   each daemon and the node; exit 0 when all run, 3 when none does.
#   env      print the line client commands need: export SLURM_CONF=...
# STATE_DIR defaults to $TESSERA_SLURM_DIR, else ${TMPDIR:-/tmp}/tessera-slurm.
# Environment: TESSERA_SLURM_PORT (slurmctld's port, slurmd's is the next; 6817),
# TESSERA_SLURM_CPUS (declare this many CPUs instead of the machine's),
# TESSERA_SLURM_NO_INSTALL=1 (start fails instead of installing).
set -euo pipefail

usage="usage: cluster/slurm_local.sh install|start|stop|status|env [STATE_DIR]"
command="${1:-}"
case "$command" in
  install | start | stop | status | env) ;;
  -h | --help) echo "$usage"; exit 0 ;;
  *) echo "slurm_local.sh: expected one of install, start, stop, status, env (then STATE_DIR); got '${command}'" >&2
     exit 2 ;;
esac
[ $# -le 2 ] || { echo "slurm_local.sh: expected at most a STATE_DIR after '$command'" >&2; exit 2; }
state="${2:-${TESSERA_SLURM_DIR:-${TMPDIR:-/tmp}/tessera-slurm}}"
case "$state" in /*) ;; *) state="$PWD/$state" ;; esac
conf="$state/etc/slurm.conf"
port="${TESSERA_SLURM_PORT:-6817}"
packages=(slurm-wlm munge libpmix-dev)
daemons=(munged slurmctld slurmd)

say() { echo "slurm_local: $*"; }
die() { echo "slurm_local: error: $*" >&2; exit 1; }

pid_file() { echo "$state/run/$1.pid"; }

# The pid in a daemon's pid file, only if that process is still the daemon this state
# folder started (a pid file left by a crash may name a pid reused by something else).
daemon_pid() {
  local file pid
  file="$(pid_file "$1")"
  [ -s "$file" ] || return 1
  pid="$(tr -dc '0-9' <"$file")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$1.*$state" || return 1
  echo "$pid"
}

installed() {
  command -v munged >/dev/null && command -v slurmctld >/dev/null &&
    command -v slurmd >/dev/null && command -v sbatch >/dev/null &&
    # srun --mpi=pmix loads the unversioned library, which only libpmix-dev provides.
    compgen -G '/usr/lib*/*/libpmix.so' >/dev/null
}

do_install() {
  if installed; then
    say "slurm-wlm, munge and libpmix-dev are installed"
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || die "Slurm is not installed and installing needs root: apt-get install ${packages[*]}"
  command -v apt-get >/dev/null || die "Slurm is not installed and there is no apt-get here: install ${packages[*]} (or Slurm 22.05+ with munge) by hand"
  say "installing ${packages[*]} (apt-get update, then install; about 10 s)"
  local start=$SECONDS
  # Quiet apt; its output goes to the state folder's log, shown when it fails.
  mkdir -p "$state/log"
  if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
         --no-install-recommends "${packages[@]}"; } >"$state/log/install.log" 2>&1; then
    tail -n 5 "$state/log/install.log" >&2
    die "apt-get install ${packages[*]} failed (log: $state/log/install.log)"
  fi
  installed || die "apt-get installed ${packages[*]} but munged/slurmctld/slurmd/sbatch are still missing"
  say "installed in $((SECONDS - start)) s"
}

port_busy() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

write_config() {
  local node cpus_line name
  name="$(hostname -s)"
  # slurmd -C reports the machine as slurmd will see it (CPUs, sockets, cores, memory);
  # declaring exactly that keeps the node from being drained as misconfigured.
  node="$(slurmd -C | sed -n 's/^NodeName=[^ ]* //p')"
  [ -n "$node" ] || die "slurmd -C printed no node line"
  cpus_line=""
  if [ -n "${TESSERA_SLURM_CPUS:-}" ]; then
    # More CPUs than the machine has (2 ranks on a 1-core runner): config_overrides makes
    # slurmd use the configured counts instead of draining the node.
    node="CPUs=${TESSERA_SLURM_CPUS} $(echo "$node" | grep -o 'RealMemory=[0-9]*')"
    cpus_line="SlurmdParameters=config_overrides"
  fi
  mkdir -p "$state"/{etc,munge,spool/ctld,spool/d,log,run}
  # munged wants its socket folder writable by its user only, and its key unreadable.
  chmod 755 "$state" "$state/munge"
  cat >"$conf" <<EOF
# Written by cluster/slurm_local.sh: a one-node cluster for tests, state in $state.
ClusterName=tessera
SlurmctldHost=$name(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire is also how long a requeued job waits before it may start again
# (120 s by default); 5 s lets a preempted job come back within seconds.
AuthInfo=socket=$state/munge/munge.socket.2,cred_expire=5
StateSaveLocation=$state/spool/ctld
SlurmdSpoolDir=$state/spool/d
SlurmctldPidFile=$(pid_file slurmctld)
SlurmdPidFile=$(pid_file slurmd)
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
# No cgroups in a container: track processes through /proc, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
# No accounting daemon: finished jobs go to a text file (sacct -c reads it).
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$state/log/jobcomp.txt
# Quick turnarounds for tests: schedule every second, 5 s from SIGTERM to SIGKILL.
SchedulerParameters=sched_interval=1,bf_interval=1
KillWait=5
ReturnToService=2
# No mail here (Slurm logs an error at start for a missing mail program).
MailProg=/bin/true
$cpus_line
NodeName=$name NodeAddr=127.0.0.1 $node State=UNKNOWN
PartitionName=local Nodes=$name Default=YES MaxTime=INFINITE State=UP
EOF
  # A fresh key per state folder: munge refuses keys others can read.
  if [ ! -s "$state/munge/munge.key" ]; then
    mungekey --create --keyfile="$state/munge/munge.key" >/dev/null 2>&1 ||
      dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
  fi
  chmod 600 "$state/munge/munge.key"
}

# Start one daemon in the background; it forks and writes its pid file. Its own output
# goes to the log folder so no caller's pipe stays open (ctest waits for those).
start_daemon() {
  local name="$1"; shift

  "$@" </dev/null >>"$state/log/$name.out" 2>&1 || {
    tail -n 5 "$state/log/$name.out" "$state/log/$name.log" 2>/dev/null >&2
    die "$name did not start (logs: $state/log/$name.out, $state/log/$name.log)"
  }
  for _ in $(seq 50); do
    daemon_pid "$name" >/dev/null && return 0
    sleep 0.1
  done
  tail -n 5 "$state/log/$name.out" "$state/log/$name.log" 2>/dev/null >&2
  die "$name wrote no pid file within 5 s (logs: $state/log/$name.log)"
}

running_count() {
  local n=0 d
  for d in "${daemons[@]}"; do daemon_pid "$d" >/dev/null && n=$((n + 1)); done
  echo "$n"
}

do_start() {
  local n
  n="$(running_count)"
  if [ "$n" -eq ${#daemons[@]} ]; then
    say "already running in $state (nothing to do)"
    echo "export SLURM_CONF=$conf"
    return 0
  fi
  [ "$n" -eq 0 ] || die "only some daemons of $state run ($(status_line)); run 'cluster/slurm_local.sh stop $state' first"
  if ! installed; then
    [ "${TESSERA_SLURM_NO_INSTALL:-0}" != 1 ] || die "Slurm is not installed (TESSERA_SLURM_NO_INSTALL=1): apt-get install ${packages[*]}"
    do_install
  fi
  [ "$(id -u)" -eq 0 ] || die "the local cluster runs its daemons as root (SlurmUser=root); run as root"
  port_busy "$port" && die "port $port (slurmctld) is taken: another Slurm runs here; set TESSERA_SLURM_PORT"
  port_busy "$((port + 1))" && die "port $((port + 1)) (slurmd) is taken; set TESSERA_SLURM_PORT"
  [ -s "$conf" ] || write_config
  export SLURM_CONF="$conf"
  local t0=$SECONDS
  start_daemon munged munged --key-file="$state/munge/munge.key" \
    --socket="$state/munge/munge.socket.2" --pid-file="$(pid_file munged)" \
    --log-file="$state/log/munged.log" --seed-file="$state/munge/munged.seed" --force
  start_daemon slurmctld slurmctld -f "$conf"
  start_daemon slurmd slurmd -f "$conf"
  # The node takes jobs once slurmd has registered with slurmctld.
  for _ in $(seq 100); do
    if sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
      say "started in $state in $((SECONDS - t0)) s: $(sinfo -h -N -o '%N %c CPUs %m MB %T')"
      echo "export SLURM_CONF=$conf"
      return 0
    fi
    sleep 0.1
  done
  tail -n 5 "$state/log/slurmctld.log" "$state/log/slurmd.log" >&2 || true
  die "the daemons run but the node is not idle after 10 s ($(sinfo -h -N -o '%T %E' 2>&1)); logs in $state/log"
}

do_stop() {
  local d pid i alive stopped=0
  if [ ! -d "$state" ]; then
    say "no state folder $state (nothing to stop)"
    return 0
  fi
  export SLURM_CONF="$conf"
  # Jobs first, while slurmctld can still end them: otherwise their slurmstepd and
  # tasks would outlive the daemons.
  if daemon_pid slurmctld >/dev/null && daemon_pid slurmd >/dev/null; then
    if [ -n "$(squeue -h -o %i 2>/dev/null)" ]; then
      scancel --full --user="$(id -un)" 2>/dev/null || true
      for _ in $(seq 100); do
        [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
        sleep 0.1
      done
    fi
  fi
  # All at once: each takes about 2 s to wind down, and none needs another to do so.
  local pids=() names=()
  for d in slurmd slurmctld munged; do
    pid="$(daemon_pid "$d")" || continue
    kill -TERM "$pid" 2>/dev/null || true
    pids+=("$pid")
    names+=("$d")
  done
  for _ in $(seq 100); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for i in "${!pids[@]}"; do
    if kill -0 "${pids[$i]}" 2>/dev/null; then
      kill -KILL "${pids[$i]}" 2>/dev/null || true
      say "${names[$i]} (pid ${pids[$i]}) did not stop within 10 s: killed"
    fi
    rm -f "$(pid_file "${names[$i]}")"
    stopped=$((stopped + 1))
  done
  if [ "$stopped" -eq 0 ]; then
    say "not running in $state (nothing to stop)"
  else
    say "stopped $stopped daemons of $state (logs kept in $state/log)"
  fi
}

status_line() {
  local d pid out=()
  for d in "${daemons[@]}"; do
    if pid="$(daemon_pid "$d")"; then out+=("$d: pid $pid"); else out+=("$d: not running"); fi
  done
  printf '%s' "${out[0]}"
  printf ', %s' "${out[@]:1}"
  echo
}

do_status() {
  local n
  n="$(running_count)"
  echo "state: $state"
  echo "daemons: $(status_line)"
  if [ "$n" -eq ${#daemons[@]} ]; then
    echo "node: $(SLURM_CONF="$conf" sinfo -h -N -o '%N %c CPUs %m MB %T' 2>&1)"
    echo "export SLURM_CONF=$conf"
    return 0
  fi
  [ "$n" -eq 0 ] && return 3
  return 1
}

case "$command" in
  install) do_install ;;
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  env) echo "export SLURM_CONF=$conf" ;;
esac
