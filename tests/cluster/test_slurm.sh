#!/usr/bin/env bash
# The batch template and the local Slurm (cluster/, docs/cluster.md), against a real
# Slurm that the test starts itself (cluster/slurm_local.sh) and stops at the end.
# Usage: test_slurm.sh TESSERA_BINARY CASE [LAUNCHER | TOOL]
#   dry_run          submit.sh --dry-run equals tests/cluster/dry_run.golden (machine paths
#                    and the time stamp replaced); bad arguments give one line, exit 2.
#                    Needs no Slurm.
#   job              a 2-rank lwr run submitted with the template and the local profile
#                    finishes and its run.h5 is complete; start/stop/status are idempotent.
#   sweep_dry_run    cluster/sweep.py --dry-run (both launchers) equals
#                    tests/cluster/sweep_dry_run.golden; bad sweep files give one line, exit 2.
#                    Needs no Slurm.
#   sweep            a 3-point strong-scaling sweep (1, 2, 4 ranks) with 2 repeats, run by
#                    the local launcher and as job arrays with a dependent collect job: both
#                    studies complete, their tables agree (timings aside), collecting again
#                    rewrites the same files.
#   kokkos_tools TOOL  a 2-rank run with a Kokkos Tools library (region_tool.cpp) loaded:
#                    every /timings region reaches the tool, on every rank.
#   model            the performance model (analysis/performance_model.py) on a quick
#                    scaling_model bench and a 1- and 2-rank flow study of its mesh: tables,
#                    plot, the 1-rank prediction equal to the 1-rank measurement.
#   preempt LAUNCHER a longer 2-rank lwr run with checkpoints gets USR1 (scancel --signal
#                    --batch), checkpoints, exits 75, is requeued by the template, resumes
#                    and ends bitwise equal to an uninterrupted run. LAUNCHER: srun (the
#                    local profile) or mpirun.
# Prints TESSERA_SKIP (ctest: skipped) where Slurm cannot be installed or started: not
# root, no apt-get, no network.
set -uo pipefail
tessera="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
case_name="$2"
launcher="${3:-srun}"
source_dir="$(cd "$(dirname "$0")/../.." && pwd)"
golden="$source_dir/tests/cluster/dry_run.golden"
sweep_golden="$source_dir/tests/cluster/sweep_dry_run.golden"
sweep_py="$source_dir/cluster/sweep.py"
slurm_local="$source_dir/cluster/slurm_local.sh"
submit="$source_dir/cluster/submit.sh"
failures=0
checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { checks=$((checks + 1)); }
finish_checks() {
  echo "$checks passed, $failures failed"
  [ "$failures" -eq 0 ] && exit 0
  exit 1
}

# The profiles give every job one thread per rank (OMP_THREADS=1); runs outside Slurm that
# are compared with jobs bitwise must use as many (a threaded reduction sums in another
# order on another thread count).
export OMP_NUM_THREADS=1
work="$(mktemp -d "${TMPDIR:-/tmp}/tessera_cluster_XXXXXX")"
state="$work/slurm"
# shellcheck disable=SC2317  # run by the trap
cleanup() {
  # The daemons first (they hold files in the state folder), then every file.
  if [ -d "$state" ]; then "$slurm_local" stop "$state" >/dev/null 2>&1; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1

# expect_usage_error NAME "text" -- command...: exit code 2 and one line naming the text.
expect_usage_error() {
  local name="$1" text="$2" out status
  shift 3
  out="$("$@" 2>&1)"
  status=$?
  if [ "$status" -ne 2 ]; then
    fail "$name: exit code $status, expected 2; output: $out"
  elif ! grep -qF -- "$text" <<<"$out"; then
    fail "$name: message lacks '$text'; output: $out"
  elif [ "$(wc -l <<<"$out")" -ne 1 ]; then
    fail "$name: more than one line; output: $out"
  else
    pass
  fi
}

# compare_golden GOLDEN WHAT OUTPUT: OUTPUT, with the machine-specific parts replaced (the
# checkout, the folder the job is submitted from, the time stamp), equals GOLDEN.
# TESSERA_UPDATE_GOLDEN=1 rewrites GOLDEN after a deliberate change.
compare_golden() {
  local out
  out="$(sed -e "s|$source_dir|@REPO@|g" -e "s|$work|@WORK@|g" \
    -e 's/-[0-9]\{8\}-[0-9]\{6\}\.sbatch/-@STAMP@.sbatch/' <<<"$3")"
  if [ "${TESSERA_UPDATE_GOLDEN:-0}" = 1 ]; then
    printf '%s\n' "$out" >"$1"
    echo "wrote $1"
  fi
  if diff -u "$1" - <<<"$out"; then pass; else fail "$2 output differs from $1 (diff above; TESSERA_UPDATE_GOLDEN=1 rewrites it)"; fi
}

case_dry_run() {
  local out
  # Two profiles: the local one, and the example of a real cluster (nodes, binding,
  # modules, extra #SBATCH lines), with tessera arguments that need quoting.
  out="$(
    echo "### local, 2 ranks"
    "$submit" local "$source_dir/experiments/quickstart.toml" --ranks 2 --dry-run \
      -- --set output.vtk=false --set "run.name=quick start"
    echo "### example_cluster, 100 ranks, 60 minutes, own name and run folder"
    "$submit" "$source_dir/cluster/profiles/example_cluster.env" \
      "$source_dir/experiments/dfg_2d2.toml" --ranks 100 --time 60 --name dfg \
      --run-dir /scratch/dfg --dry-run -- --set solver.dt=0.001
  )"
  compare_golden "$golden" "submit.sh --dry-run" "$out"
  # Every generated script is valid bash (and shellcheck-clean where shellcheck exists).
  local script n=0
  for profile in local example_cluster; do
    script="$work/$profile.sbatch"
    "$submit" "$profile" "$source_dir/experiments/quickstart.toml" --dry-run -- --set a.b=1 |
      sed '/^# ---- dry run/,$d' >"$script"
    if ! bash -n "$script"; then fail "$profile: generated script is not valid bash"; continue; fi
    if command -v shellcheck >/dev/null && ! shellcheck -s bash "$script"; then
      fail "$profile: shellcheck finds problems in the generated script"
      continue
    fi
    n=$((n + 1))
  done
  [ "$n" -eq 2 ] && pass
  # Bad arguments: one line naming what was expected, exit code 2, nothing written.
  local toml="$source_dir/experiments/quickstart.toml"
  expect_usage_error no_args "expected a PROFILE and an EXPERIMENT.toml" -- "$submit"
  expect_usage_error no_profile "no profile 'nosuch': expected a profile file or one of: example_cluster local" -- "$submit" nosuch "$toml"
  expect_usage_error no_experiment "no experiment file 'nosuch.toml'" -- "$submit" local nosuch.toml
  expect_usage_error bad_ranks "--ranks expects a positive integer, got '0'" -- "$submit" local "$toml" --ranks 0
  expect_usage_error bad_time "--time expects a positive integer, got 'soon'" -- "$submit" local "$toml" --time soon
  expect_usage_error short_time "--time 1 is too short" -- "$submit" local "$toml" --time 1
  expect_usage_error unknown_option "unknown option '--set'" -- "$submit" local "$toml" --set a=1
  expect_usage_error missing_value "--ranks expects a value" -- "$submit" local "$toml" --ranks
  printf 'TASKS_PER_NODE=0\n' >"$work/bad_tasks.env"
  expect_usage_error bad_tasks_per_node "TASKS_PER_NODE expects a positive integer or nothing, got '0'" -- "$submit" "$work/bad_tasks.env" "$toml" --dry-run
  printf 'LAUNCHER=aprun\n' >"$work/bad.env"
  expect_usage_error bad_launcher "LAUNCHER expects srun or mpirun, got 'aprun'" -- "$submit" "$work/bad.env" "$toml" --dry-run
  expect_usage_error slurm_local_command "expected one of install, start, stop, status, env (then STATE_DIR); got 'restart'" -- "$slurm_local" restart
  if [ -e "$work/results" ]; then fail "a refused or dry-run submission wrote $work/results"; else pass; fi
}

# Start the local Slurm in $state on free ports, or skip where it cannot be had.
start_slurm() {
  if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "TESSERA_SKIP: Slurm is not installed and installing it needs root (cluster/slurm_local.sh install)"
      exit 0
    fi
    if [ "${TESSERA_SLURM_NO_INSTALL:-0}" = 1 ]; then
      echo "TESSERA_SKIP: Slurm is not installed and TESSERA_SLURM_NO_INSTALL=1"
      exit 0
    fi
    if ! "$slurm_local" install "$state"; then
      echo "TESSERA_SKIP: Slurm could not be installed here (apt-get failed: no network?)"
      exit 0
    fi
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "TESSERA_SKIP: the local Slurm runs its daemons as root; this test runs as $(id -un)"
    exit 0
  fi
  # Ports of our own, so that this test runs beside another local Slurm.
  local port tries
  for tries in $(seq 20); do
    port=$((20000 + RANDOM % 20000))
    if ! (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null && ! (: <"/dev/tcp/127.0.0.1/$((port + 1))") 2>/dev/null; then
      break
    fi
  done
  export TESSERA_SLURM_PORT="$port"
  # Two ranks on a one-core runner: declare two CPUs.
  # (nproc would count OMP_NUM_THREADS, set above, instead of the cores.)
  if [ -z "${TESSERA_SLURM_CPUS:-}" ] && [ "$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)" -lt 2 ]; then
    export TESSERA_SLURM_CPUS=2
  fi
  local out
  if ! out="$("$slurm_local" start "$state" 2>&1)"; then
    echo "$out"
    fail "cluster/slurm_local.sh start failed (tries for a free port: $tries)"
    finish_checks
  fi
  echo "$out"
  export SLURM_CONF="$state/etc/slurm.conf"
  pass
}

# wait_for_job JOBID SECONDS: until the job has left the queue (finished, failed or
# cancelled; a requeued job is back in the queue as PENDING).
wait_for_job() {
  local waited=0
  while squeue -h -j "$1" -o %i 2>/dev/null | grep -q .; do
    if [ "$waited" -ge $(($2 * 10)) ]; then
      fail "job $1 still in the queue after $2 s: $(squeue -h -j "$1" -o '%T %r' 2>&1)"
      scancel "$1" 2>/dev/null
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

# The job completion record (jobcomp/filetxt): its last state for a job.
final_state() { grep "^JobId=$1 " "$state/log/jobcomp.txt" | tail -n 1 | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }

# complete_run DIR T_END RANKS: run.h5 finished (no .partial), every field written up to
# the end time, on the rank count asked for.
complete_run() {
  /usr/bin/python3 - "$1/run.h5" "$2" "$3" <<'EOF'
import sys
import h5py
path, t_end, ranks = sys.argv[1], float(sys.argv[2]), sys.argv[3]
with h5py.File(path, "r") as f:
    problems = []
    if f["/config"].attrs["ranks"].decode() != ranks:
        problems.append(f"ranks {f['/config'].attrs['ranks']}, expected {ranks}")
    if abs(f["/fields/time"][-1] - t_end) > 1e-12:
        problems.append(f"fields end at t = {f['/fields/time'][-1]}, expected {t_end}")
    if f["/detectors/time"][-1] < t_end - 1e-9:
        problems.append(f"detectors end at t = {f['/detectors/time'][-1]}")
    if "total" not in f["/timings"]:
        problems.append("no /timings/total")
for p in problems:
    print(f"{path}: {p}")
sys.exit(1 if problems else 0)
EOF
}

need_h5py() {
  if ! /usr/bin/python3 -c "import h5py" 2>/dev/null; then
    echo "TESSERA_SKIP: /usr/bin/python3 lacks h5py (the run checks and analysis/compare_runs.py need it)"
    exit 0
  fi
}

write_lwr() {  # write_lwr FILE CELLS CHECKPOINT_EVERY: a Riemann problem on an open road
  sed -e "s/^cells = .*/cells = $2/" -e "s/^checkpoint_every = .*/checkpoint_every = $3/" \
    "$source_dir/tests/support/lwr_open_riemann.toml" >"$1"
}

case_job() {
  need_h5py
  start_slurm
  # Idempotent: a second start and status see the running cluster and change nothing.
  local out
  if out="$("$slurm_local" start "$state" 2>&1)" && grep -q "already running" <<<"$out" &&
    grep -q "export SLURM_CONF=$SLURM_CONF" <<<"$out"; then
    pass
  else
    fail "a second start: $out"
  fi
  if "$slurm_local" status "$state" >/dev/null; then pass; else fail "status of a running cluster: exit $?"; fi

  # About two seconds of work on 2 ranks.
  write_lwr small.toml 8000 0
  local t0=$SECONDS job
  job="$("$submit" local small.toml --ranks 2 --time 5 --tessera "$tessera" --parsable)" ||
    { fail "submit.sh failed: $job"; finish_checks; }
  wait_for_job "$job" 90 || finish_checks
  echo "job $job finished in $((SECONDS - t0)) s (submitted to done)"
  local log="results/jobs/tessera-small-$job.log" run="results/small/job-$job"
  local state_now
  state_now="$(final_state "$job")"
  if [ "$state_now" = COMPLETED ]; then pass; else fail "job $job ended $state_now; log: $(cat "$log" 2>&1)"; fi
  if [ -f "$run/run.h5" ] && [ ! -e "$run/run.h5.partial" ] && complete_run "$run" 0.6 2; then
    pass
  else
    fail "$run/run.h5 is missing or incomplete; log: $(cat "$log" 2>&1)"
  fi
  if grep -q "on 2 rank(s)" "$log" && grep -q "tessera_job: finished" "$log"; then pass; else fail "job log: $(cat "$log")"; fi

  "$slurm_local" stop "$state" >/dev/null
  "$slurm_local" status "$state" >/dev/null
  local status=$?
  if [ "$status" -eq 3 ]; then pass; else fail "status after stop: exit $status, expected 3"; fi
  out="$("$slurm_local" stop "$state" 2>&1)"
  if grep -q "nothing to stop" <<<"$out"; then pass; else fail "a second stop: $out"; fi
}

case_preempt() {
  need_h5py
  local profile=local
  case "$launcher" in
    srun) ;;
    mpirun)
      # The local profile with mpirun inside the allocation (Open MPI forwards USR1 to
      # the ranks and passes their 75 on).
      sed -e 's/^LAUNCHER=.*/LAUNCHER=mpirun/' -e 's/^LAUNCHER_FLAGS=.*/LAUNCHER_FLAGS=/' \
        "$source_dir/cluster/profiles/local.env" >"$work/local_mpirun.env"
      profile="$work/local_mpirun.env" ;;
    *) echo "test_slurm.sh: LAUNCHER expects srun or mpirun, got '$launcher'"; exit 2 ;;
  esac
  start_slurm
  # A few seconds on 2 ranks, a checkpoint every 3,000 of its ~27,000 steps.
  write_lwr long.toml 40000 3000
  local t0=$SECONDS job
  job="$("$submit" "$profile" long.toml --ranks 2 --time 10 --tessera "$tessera" --parsable)" ||
    { fail "submit.sh failed: $job"; finish_checks; }
  local log="results/jobs/tessera-long-$job.log" run="results/long/job-$job"
  # Signal once the run is under way (the template's trap is set before it starts).
  local waited=0
  until grep -q " LWR:" "$run/log.txt" 2>/dev/null; do
    if [ "$waited" -ge 600 ]; then fail "the run did not start within 60 s; log: $(cat "$log" 2>&1)"; finish_checks; fi
    sleep 0.1
    waited=$((waited + 1))
  done
  scancel --signal=USR1 --batch "$job"
  local t_signal=$SECONDS
  # The job leaves the queue only when done: a requeued one is pending meanwhile.
  waited=0
  until grep -q "restart 1: resuming" "$log" 2>/dev/null; do
    if [ "$waited" -ge 600 ]; then fail "not requeued and resumed within 60 s of the signal; log: $(cat "$log" 2>&1)"; break; fi
    sleep 0.1
    waited=$((waited + 1))
  done
  echo "requeued and resumed $((SECONDS - t_signal)) s after the signal"
  wait_for_job "$job" 120 || finish_checks
  echo "job $job done in $((SECONDS - t0)) s (submitted to done)"

  local expect
  for expect in "tessera_job: USR1 received" "tessera: stopped: SIGUSR1 received: checkpoint of step" \
    "stopped with a checkpoint (exit 75): requeueing job $job" "restart 1: resuming $run" \
    "tessera_job: finished: $run/run.h5"; do
    if grep -qF "$expect" "$log"; then pass; else fail "job log lacks '$expect': $(cat "$log")"; fi
  done
  if [ "$(final_state "$job")" = COMPLETED ]; then pass; else fail "job $job ended $(final_state "$job")"; fi
  if scontrol show job "$job" | grep -q "Restarts=1 "; then pass; else fail "job $job: $(scontrol show job "$job" | grep -o 'Restarts=[0-9]*')"; fi

  # The uninterrupted run, outside Slurm, on as many ranks.
  if ! mpirun -np 2 "$tessera" run long.toml --out reference >reference.log 2>&1; then
    fail "uninterrupted run failed: $(cat reference.log)"
  elif /usr/bin/python3 "$source_dir/analysis/compare_runs.py" reference "$run"; then
    pass
  else
    fail "the preempted and requeued run differs from the uninterrupted one"
  fi
}

write_sweep() {  # write_sweep FILE: 1, 2, 4 ranks, 2 repeats of small.toml
  cat >"$1" <<EOF
[sweep]
name = "lwr_test"
experiment = "small.toml"
kind = "strong"
repeats = 2
measure = "solver"
set = ["output.field_interval=0.1"]
time_minutes = 10
[axis]
ranks = [1, 2, 4]
EOF
}

case_sweep_dry_run() {
  write_lwr small.toml 8000 0
  write_sweep sweep.toml
  local out
  out="$(
    echo "### local launcher"
    /usr/bin/python3 "$sweep_py" sweep.toml --dry-run
    echo "### slurm launcher, the example cluster's profile"
    /usr/bin/python3 "$sweep_py" sweep.toml --launcher slurm --profile example_cluster --dry-run
  )" || fail "sweep.py --dry-run failed: $out"
  compare_golden "$sweep_golden" "sweep.py --dry-run" "$out"
  if [ -e "$work/results" ]; then fail "a dry run wrote $work/results"; else pass; fi
  # Bad sweep files: one line naming the file, the key and what was expected; exit 2.
  bad_sweep() {  # bad_sweep NAME "expected text" SED_EXPRESSION
    sed -e "$3" sweep.toml >bad.toml
    expect_usage_error "$1" "$2" -- /usr/bin/python3 "$sweep_py" bad.toml --dry-run
  }
  bad_sweep kind "bad.toml: sweep.kind = 'fast': expected strong, weak or parameter" 's/^kind = .*/kind = "fast"/'
  bad_sweep ranks "bad.toml: axis.ranks = [1, 0]: expected a list of positive integers" 's/^ranks = .*/ranks = [1, 0]/'
  bad_sweep one_rank "strong scaling needs at least two rank counts" 's/^ranks = .*/ranks = [4]/'
  bad_sweep typo "bad.toml: unknown key 'sweep.repeat': expected one of" 's/^repeats/repeat/'
  bad_sweep experiment "sweep.experiment: no experiment file 'nosuch.toml'" 's/small.toml/nosuch.toml/'
  # shellcheck disable=SC2016  # sed's $a, not a shell expansion
  bad_sweep weak_values "axis.values has 2 entries and axis.ranks 3" 's/^kind = .*/kind = "weak"/; $a key = "solver.cells"\nvalues = [1000, 2000]'
  bad_sweep set_item "sweep.set: 'cells': expected \"section.key=value\"" 's/^set = .*/set = ["cells"]/'
  bad_sweep ranks_key "bad.toml: sweep.ranks_key = 'domain': expected the key set to each run's rank count" 's/^kind = .*/&\nranks_key = "domain"/'
  bad_sweep toml "bad.toml: not valid TOML" 's/^repeats = 2/repeats = = 2/'
  expect_usage_error no_file "no sweep file 'nosuch.toml'" -- /usr/bin/python3 "$sweep_py" nosuch.toml
  expect_usage_error no_profile "no profile 'nosuch': expected a profile file or one of: example_cluster local" -- /usr/bin/python3 "$sweep_py" sweep.toml --launcher slurm --profile nosuch --dry-run
  # A study folder belongs to one sweep.
  mkdir -p other && echo "x" >other/sweep.toml
  expect_usage_error other_study "holds another sweep" -- /usr/bin/python3 "$sweep_py" sweep.toml --out other --dry-run
}

case_sweep() {
  need_h5py
  write_lwr small.toml 8000 0
  write_sweep sweep.toml
  # The local launcher: six runs one after another, then the collect step.
  local t0=$SECONDS out
  if out="$(/usr/bin/python3 "$sweep_py" sweep.toml --out local_study --tessera "$tessera" 2>&1)"; then
    pass
  else
    fail "the local sweep failed: $out"
    finish_checks
  fi
  echo "local sweep: $((SECONDS - t0)) s"
  local file
  for file in index.tsv sweep.toml collect/scaling.csv collect/scaling.md collect/runs.csv \
    collect/breakdown.csv collect/timings.csv collect/timings.json collect/scaling.png collect/breakdown.png; do
    if [ -s "local_study/$file" ]; then pass; else fail "local_study/$file is missing"; fi
  done
  if [ "$(grep -c ',ok,' local_study/collect/runs.csv)" -eq 6 ]; then pass; else fail "runs.csv: $(cat local_study/collect/runs.csv)"; fi
  if [ "$(cut -d, -f1,2 local_study/collect/scaling.csv | tr '\n' ' ')" = "ranks,runs 1,2/2 2,2/2 4,2/2 " ]; then
    pass
  else
    fail "scaling.csv: $(cat local_study/collect/scaling.csv)"
  fi
  if /usr/bin/python3 -c "
import json
d = json.load(open('local_study/collect/timings.json'))
runs = d['runs']
assert len(runs) == 6 and d['measure'] == 'solver', d.keys()
root = runs[0]['graph'][0]
assert root['frame']['name'] == 'total', root['frame']
assert {c['frame']['name'] for c in root['children']} >= {'solver', 'output'}, root['children']
assert runs[5]['ranks'] == 4 and runs[5]['metadata']['ranks'] == '4', runs[5]['metadata']
"; then pass; else fail "timings.json is not the expected call tree"; fi
  # Collecting again from the stored files writes the same files, byte for byte.
  (cd local_study/collect && md5sum ./*) >before.md5
  /usr/bin/python3 "$source_dir/analysis/scaling.py" local_study >/dev/null
  if (cd local_study/collect && md5sum -c --quiet "$work/before.md5"); then pass; else fail "collecting again changed files"; fi
  # Running the sweep again keeps every finished run.
  if out="$(/usr/bin/python3 "$sweep_py" sweep.toml --out local_study --tessera "$tessera" 2>&1)" &&
    [ "$(grep -c "done before" <<<"$out")" -eq 6 ]; then pass; else fail "a second sweep: $out"; fi

  # The same sweep as job arrays (one per rank count) and a dependent collect job; four
  # ranks on this machine: declare four CPUs.
  export TESSERA_SLURM_CPUS=4
  start_slurm
  t0=$SECONDS
  if ! out="$(/usr/bin/python3 "$sweep_py" sweep.toml --launcher slurm --out slurm_study --tessera "$tessera" 2>&1)"; then
    fail "the slurm sweep failed: $out"
    finish_checks
  fi
  echo "$out"
  local collect_job
  collect_job="$(sed -n 's/^COLLECT_JOB=//p' <<<"$out")"
  if [ "$(grep -c "submitted job array" <<<"$out")" -eq 3 ] && [ -n "$collect_job" ]; then pass; else fail "expected 3 arrays and a collect job: $out"; fi
  wait_for_job "$collect_job" 180 || finish_checks
  echo "slurm sweep: $((SECONDS - t0)) s (submitted to collected)"
  if [ "$(final_state "$collect_job")" = COMPLETED ]; then pass; else fail "collect job $collect_job ended $(final_state "$collect_job"): $(cat slurm_study/jobs/*collect*.log 2>&1)"; fi
  local done_jobs
  done_jobs="$(grep -c 'JobState=COMPLETED' "$state/log/jobcomp.txt")"
  if [ "$done_jobs" -eq 7 ]; then pass; else fail "$done_jobs jobs completed, expected 6 array tasks and the collect job: $(cat "$state/log/jobcomp.txt")"; fi
  # The same tables as the local launcher's, timings aside.
  if diff <(cut -d, -f1-7 local_study/collect/runs.csv) <(cut -d, -f1-7 slurm_study/collect/runs.csv) &&
    diff <(cut -d, -f1,2 local_study/collect/scaling.csv) <(cut -d, -f1,2 slurm_study/collect/scaling.csv) &&
    diff <(head -n 1 local_study/collect/breakdown.csv) <(head -n 1 slurm_study/collect/breakdown.csv) &&
    diff local_study/index.tsv slurm_study/index.tsv; then
    pass
  else
    fail "runs.csv, scaling.csv, breakdown.csv or index.tsv differ between the launchers"
  fi
  # And the runs themselves give the same results on either launcher.
  local run
  for run in np1-rep1 np2-rep2 np4-rep1; do
    if /usr/bin/python3 "$source_dir/analysis/compare_runs.py" "local_study/runs/$run" "slurm_study/runs/$run" >/dev/null; then
      pass
    else
      fail "$run: the slurm run differs from the local one"
    fi
  done
}

case_kokkos_tools() {
  need_h5py
  local tool="$launcher"  # the third argument: the tool library
  write_lwr small.toml 4000 0
  # Kokkos 3.x reads KOKKOS_PROFILE_LIBRARY, 4.x KOKKOS_TOOLS_LIBS: both set, one loads.
  if TESSERA_REGION_TOOL_OUT="$work/regions.txt" KOKKOS_PROFILE_LIBRARY="$tool" KOKKOS_TOOLS_LIBS="$tool" \
    mpirun -np 2 "$tessera" run small.toml --out run >run.log 2>&1; then
    pass
  else
    fail "the run with the tool failed: $(cat run.log)"
    finish_checks
  fi
  # Every rank reports its regions; each /timings region of run.h5 is there as a path.
  local path
  for path in total total/solver total/output; do
    if [ "$(grep -cx "$path" regions.txt)" -eq 2 ]; then pass; else fail "region $path not reported by both ranks: $(cat regions.txt 2>&1)"; fi
  done
  if /usr/bin/python3 -c "
import h5py, sys
names = set(h5py.File('run/run.h5')['timings'])
seen = {line.strip().split('/')[-1] for line in open('regions.txt')}
sys.exit(0 if names <= seen else f'/timings regions {sorted(names - seen)} not seen by the tool')
"; then pass; else fail "the tool missed /timings regions"; fi
}

case_model() {
  need_h5py
  # The quick bench partitions the coarse channel (mesh.size 0.08, cylinder 0.02): a
  # 1- and 2-rank study of the same mesh, 2 repeats, then the model on both.
  if ! mpirun -np 2 "$tessera" bench scaling_model --quick --out bench >bench.log 2>&1; then
    fail "bench scaling_model --quick on 2 ranks failed: $(tail -n 5 bench.log)"
    finish_checks
  fi
  cat >flow_sweep.toml <<TOML
[sweep]
name = "flow_model_test"
experiment = "$source_dir/experiments/dfg_2d2.toml"
kind = "strong"
repeats = 2
measure = "solver"
set = ["mesh.size=0.08", "mesh.cylinder_size=0.02", "solver.t_end=0.05",
       "solver.pressure_solver=\"cg\"", "output.field_interval=0.0", "output.vtk=false"]
[axis]
ranks = [1, 2]
TOML
  local out
  if ! out="$(/usr/bin/python3 "$sweep_py" flow_sweep.toml --out study --tessera "$tessera" 2>&1)"; then
    fail "the flow sweep failed: $out"
    finish_checks
  fi
  local model="$source_dir/analysis/performance_model.py" variant
  for variant in pingpong calibrated; do
    local extra=()
    [ "$variant" = calibrated ] && extra=(--calibrate 2)
    if out="$(/usr/bin/python3 "$model" --bench bench --study study --weak-study study --cores 2 \
      --max-ranks 8 --out "model_$variant" "${extra[@]}" 2>&1)"; then
      pass
    else
      fail "performance_model.py ($variant) failed: $out"
      continue
    fi
    for file in model.md model.csv model.png; do
      if [ -s "model_$variant/$file" ]; then pass; else fail "model_$variant/$file is missing"; fi
    done
    # The 1-rank prediction is the 1-rank runs' own time per step (the model's compute
    # rate comes from them): equal to the measurement as printed; every measured point
    # has an error entry, the others none.
    if /usr/bin/python3 - "model_$variant/model.csv" <<'PY'; then pass; else fail "$variant: model.csv: $(cat "model_$variant/model.csv")"; fi
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["model"] == "flow_strong"]
assert [int(r["ranks"]) for r in rows] == [1, 2, 4, 8], rows
one = rows[0]
assert one["predicted (s/step)"] == one["measured (s/step)"] and one["error"] in ("+0%", "-0%"), one
assert rows[1]["error"].endswith("%") and rows[2]["error"] == "-", rows
PY
  done
  if grep -q "calibrated on the 2-rank runs" model_calibrated/model.md; then pass; else fail "the calibrated model does not say so"; fi
  # Bad input: one line, exit 2.
  expect_usage_error model_no_study "not a study folder" -- /usr/bin/python3 "$model" --bench bench --study bench
}

case "$case_name" in
  dry_run) case_dry_run ;;
  job) case_job ;;
  preempt) case_preempt ;;
  sweep_dry_run) case_sweep_dry_run ;;
  sweep) case_sweep ;;
  kokkos_tools) case_kokkos_tools ;;
  model) case_model ;;
  *) echo "test_slurm.sh: CASE expects dry_run, job, preempt, sweep_dry_run, sweep, kokkos_tools or model, got '$case_name'"; exit 2 ;;
esac
finish_checks
