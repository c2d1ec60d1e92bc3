#!/usr/bin/env bash
# Submit one Tessera experiment as a Slurm batch job: fills the generic template
# (cluster/templates/tessera_job.sbatch, every experiment kind) from a site profile
# (cluster/profiles/*.env) and hands it to sbatch. The job checkpoints, requeues itself
# and resumes when it is preempted (docs/cluster.md).
#
# Usage: cluster/submit.sh PROFILE EXPERIMENT.toml [options] [-- TESSERA_ARGS...]
#   PROFILE          a profile file, or the name of one in cluster/profiles/ (local)
#   --ranks N        MPI ranks (default: NODES x TASKS_PER_NODE of the profile, else 1)
#   --time MIN       time limit in minutes (default: the profile's TIME_MINUTES)
#   --name NAME      job name (default: tessera-<experiment file name>)
#   --run-dir DIR    the run's folder (default: results/<experiment>/job-<job id>)
#   --tessera PATH   the tessera binary (default: the profile's, else build/bin/tessera)
#   --array-table F  a job array (sweeps, cluster/sweep.py): one task per line of F, each
#                    line a run folder then the tessera arguments of that run, tab-separated
#   --log-dir DIR    the folder of the job's log and script (default results/jobs)
#   --dry-run        print the job script and the sbatch command; write and submit nothing
#   --parsable       print only the job id once submitted
#   -- ARGS          passed to `tessera run EXPERIMENT` on the first start (--set k=v ...);
#                    a resumed run takes everything from its checkpoint
# The job runs in the current folder; its log is results/jobs/<name>-<job id>.log (an
# array's: <name>-<array id>_<task>.log) and the generated script is kept beside it.
set -euo pipefail

usage="usage: cluster/submit.sh PROFILE EXPERIMENT.toml [--ranks N] [--time MIN] [--name NAME] [--run-dir DIR] [--tessera PATH] [--array-table FILE] [--log-dir DIR] [--dry-run] [--parsable] [-- TESSERA_ARGS...]"
die() { echo "submit.sh: $*" >&2; exit 2; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
template="$here/templates/tessera_job.sbatch"

[ $# -ge 1 ] && { [ "$1" = -h ] || [ "$1" = --help ]; } && { echo "$usage"; exit 0; }
[ $# -ge 2 ] || die "expected a PROFILE and an EXPERIMENT.toml (cluster/submit.sh --help)"
profile_arg="$1"
experiment_arg="$2"
shift 2

ranks="" time_minutes="" name="" run_dir_arg="" tessera_arg="" array_table="" log_dir="results/jobs"
dry_run=0 parsable=0
tessera_args=()
need_value() {
  if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 expects a value"; fi
}
while [ $# -gt 0 ]; do
  case "$1" in
    --ranks) need_value "$@"; ranks="$2"; shift 2 ;;
    --time) need_value "$@"; time_minutes="$2"; shift 2 ;;
    --name) need_value "$@"; name="$2"; shift 2 ;;
    --run-dir) need_value "$@"; run_dir_arg="$2"; shift 2 ;;
    --tessera) need_value "$@"; tessera_arg="$2"; shift 2 ;;
    --array-table) need_value "$@"; array_table="$2"; shift 2 ;;
    --log-dir) need_value "$@"; log_dir="$2"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    --parsable) parsable=1; shift ;;
    --) shift; tessera_args=("$@"); break ;;
    *) die "unknown option '$1': expected --ranks, --time, --name, --run-dir, --tessera, --array-table, --log-dir, --dry-run, --parsable, or -- before tessera's own" ;;
  esac
done

positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 expects a positive integer, got '$2'"; }
count_or_empty() { [ -z "$2" ] || [[ "$2" =~ ^[0-9]+$ ]] || die "$3: $1 expects a number or nothing, got '$2'"; }
positive_or_empty() { [ -z "$2" ] || [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$3: $1 expects a positive integer or nothing, got '$2'"; }

# The profile: a path, or a name under cluster/profiles/.
if [ -f "$profile_arg" ]; then
  profile="$profile_arg"
elif [ -f "$here/profiles/$profile_arg.env" ]; then
  profile="$here/profiles/$profile_arg.env"
else
  known=""
  for file in "$here"/profiles/*.env; do known+=" $(basename "$file" .env)"; done
  die "no profile '$profile_arg': expected a profile file or one of:$known"
fi
profile="$(cd "$(dirname "$profile")" && pwd)/$(basename "$profile")"

# Only the profile decides: the same profile always gives the same script, whatever the
# caller's environment holds under these names.
keys=(PARTITION ACCOUNT QOS NODES TASKS_PER_NODE CPUS_PER_TASK GPUS_PER_TASK TIME_MINUTES
      SIGNAL_SECONDS LAUNCHER LAUNCHER_FLAGS BIND MODULES OMP_THREADS BLAS_THREADS ENV_LINES
      SBATCH_EXTRA MAX_REQUEUES TESSERA_BIN PYTHON)
unset "${keys[@]}"
# shellcheck source=/dev/null
source "$profile" || die "$profile: could not be read as bash KEY=value lines"
PARTITION="${PARTITION-}" ACCOUNT="${ACCOUNT-}" QOS="${QOS-}" TASKS_PER_NODE="${TASKS_PER_NODE-}"
GPUS_PER_TASK="${GPUS_PER_TASK-}" TIME_MINUTES="${TIME_MINUTES-}" LAUNCHER_FLAGS="${LAUNCHER_FLAGS-}"
BIND="${BIND-}" MODULES="${MODULES-}" ENV_LINES="${ENV_LINES-}" SBATCH_EXTRA="${SBATCH_EXTRA-}"
TESSERA_BIN="${TESSERA_BIN-}"

NODES="${NODES:-1}"
CPUS_PER_TASK="${CPUS_PER_TASK:-1}"
SIGNAL_SECONDS="${SIGNAL_SECONDS:-120}"
MAX_REQUEUES="${MAX_REQUEUES:-10}"
OMP_THREADS="${OMP_THREADS:-$CPUS_PER_TASK}"
BLAS_THREADS="${BLAS_THREADS:-1}"
LAUNCHER="${LAUNCHER:-srun}"
for key in NODES CPUS_PER_TASK SIGNAL_SECONDS OMP_THREADS BLAS_THREADS; do
  positive "$profile: $key" "${!key}"
done
positive_or_empty TASKS_PER_NODE "$TASKS_PER_NODE" "$profile"
positive_or_empty GPUS_PER_TASK "$GPUS_PER_TASK" "$profile"
positive_or_empty TIME_MINUTES "$TIME_MINUTES" "$profile"
count_or_empty MAX_REQUEUES "$MAX_REQUEUES" "$profile"

if [ -n "$ranks" ]; then
  positive --ranks "$ranks"
  # Whole nodes of TASKS_PER_NODE ranks each (sbatch takes it as a maximum per node).
  if [ -n "$TASKS_PER_NODE" ]; then NODES=$(((ranks + TASKS_PER_NODE - 1) / TASKS_PER_NODE)); fi
elif [ -n "$TASKS_PER_NODE" ]; then
  ranks=$((NODES * TASKS_PER_NODE))
else
  ranks=1
fi
time_minutes="${time_minutes:-${TIME_MINUTES:-30}}"
positive --time "$time_minutes"
[ "$SIGNAL_SECONDS" -lt $((time_minutes * 60)) ] ||
  die "the warning signal ($SIGNAL_SECONDS s before the limit, SIGNAL_SECONDS of $profile) must come after the start: --time $time_minutes is too short"

[ -f "$experiment_arg" ] || die "no experiment file '$experiment_arg'"
experiment="$(cd "$(dirname "$experiment_arg")" && pwd)/$(basename "$experiment_arg")"
stem="$(basename "$experiment" .toml)"
name="${name:-tessera-$stem}"
[[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || die "--name expects letters, digits, '.', '_' or '-', got '$name'"

tessera="${tessera_arg:-${TESSERA_BIN:-$repo/build/bin/tessera}}"
case "$tessera" in /*) ;; *) tessera="$PWD/$tessera" ;; esac
if [ "$dry_run" -eq 0 ] && [ ! -x "$tessera" ]; then
  die "no tessera binary at $tessera (build it, or give --tessera PATH or TESSERA_BIN in the profile)"
fi

case "$LAUNCHER" in
  srun) launch="srun${LAUNCHER_FLAGS:+ $LAUNCHER_FLAGS}${BIND:+ --cpu-bind=$BIND}" ;;
  mpirun) launch="mpirun -np \"\$SLURM_NTASKS\"${BIND:+ --bind-to $BIND}${LAUNCHER_FLAGS:+ $LAUNCHER_FLAGS}" ;;
  *) die "$profile: LAUNCHER expects srun or mpirun, got '$LAUNCHER'" ;;
esac

if [ -n "$run_dir_arg" ]; then
  run_dir="$(printf '%q' "$run_dir_arg")"
else
  # Expanded when the job runs: the job id is the same after a requeue.
  run_dir="\"results/$stem/job-\${SLURM_JOB_ID}\""
fi
# A job array: one task per line of the table; each task takes its run folder and
# arguments from its line (the template reads them).
array="" table_path=""
if [ -n "$array_table" ]; then
  [ -n "$run_dir_arg" ] && die "--array-table gives each task its run folder: --run-dir does not apply"
  [ ${#tessera_args[@]} -eq 0 ] || die "--array-table gives each task its arguments: no -- ARGS with it"
  [ -f "$array_table" ] || die "no array table '$array_table'"
  tasks="$(grep -c . "$array_table" || true)"
  [ "$tasks" -ge 1 ] || die "$array_table: no tasks (expected one line per run: RUN_DIR<tab>ARGS...)"
  array="0-$((tasks - 1))"
  table_path="$(cd "$(dirname "$array_table")" && pwd)/$(basename "$array_table")"
  table_path="$(printf '%q' "$table_path")"
fi
case "$log_dir" in /*) ;; *) log_dir="$PWD/$log_dir" ;; esac
log_dir="${log_dir%/}"
if [ -n "$array" ]; then log="$log_dir/%x-%A_%a.log"; else log="$log_dir/%x-%j.log"; fi
case "$log_dir" in "$PWD"/*) log="${log#"$PWD"/}" ;; esac

quoted_args=""
if [ ${#tessera_args[@]} -gt 0 ]; then
  quoted_args="$(printf '%q ' "${tessera_args[@]}")"
  quoted_args="${quoted_args% }"
fi

declare -A values=(
  [EXPERIMENT_NAME]="$stem" [PROFILE]="$(basename "$profile" .env)" [JOB_NAME]="$name"
  [PARTITION]="$PARTITION" [ACCOUNT]="$ACCOUNT" [QOS]="$QOS" [NODES]="$NODES"
  [RANKS]="$ranks" [TASKS_PER_NODE]="$TASKS_PER_NODE" [CPUS_PER_TASK]="$CPUS_PER_TASK"
  [GPUS_PER_TASK]="$GPUS_PER_TASK" [TIME_MINUTES]="$time_minutes"
  [SIGNAL_SECONDS]="$SIGNAL_SECONDS" [WORK_DIR]="$PWD" [LOG]="$log"
  [ARRAY]="$array" [ARRAY_TABLE]="$table_path"
  [SBATCH_EXTRA]="$SBATCH_EXTRA" [MODULES]="$MODULES" [OMP_THREADS]="$OMP_THREADS"
  [BLAS_THREADS]="$BLAS_THREADS" [ENV_LINES]="$ENV_LINES"
  [TESSERA_BIN]="$(printf '%q' "$tessera")" [EXPERIMENT]="$(printf '%q' "$experiment")"
  [RUN_DIR]="$run_dir" [LAUNCH]="$launch" [TESSERA_ARGS]="$quoted_args"
  [MAX_REQUEUES]="${MAX_REQUEUES:-10}"
)

# The template's rules: @KEY@ is replaced by its value; a line with an empty value is
# left out (its Slurm default applies); a multi-line value repeats its line once per
# value line (module lines, extra #SBATCH options).
script=""
fill_line() {
  local line="$1" rest="$1" key multi="" part
  while [[ "$rest" =~ @([A-Z_]+)@(.*) ]]; do
    key="${BASH_REMATCH[1]}"
    rest="${BASH_REMATCH[2]}"
    [ -n "${values[$key]+set}" ] || die "$template: unknown placeholder @$key@"
    [ -n "${values[$key]}" ] || return 0
    case "${values[$key]}" in *$'\n'*) multi="$key" ;; *) line="${line//@$key@/${values[$key]}}" ;; esac
  done
  if [ -z "$multi" ]; then
    script+="$line"$'\n'
    return 0
  fi
  while IFS= read -r part; do
    [ -z "$part" ] || script+="${line//@$multi@/$part}"$'\n'
  done <<<"${values[$multi]}"
}
while IFS= read -r template_line || [ -n "$template_line" ]; do
  fill_line "$template_line"
done <"$template"

stamp="$(date +%Y%m%d-%H%M%S)"
job_file="$log_dir/${name%-np"$ranks"}-np$ranks-$stamp.sbatch"
case "$job_file" in "$PWD"/*) job_file="${job_file#"$PWD"/}" ;; esac
if [ "$dry_run" -eq 1 ]; then
  printf '%s' "$script"
  echo "# ---- dry run: nothing written or submitted; the job would be submitted with:"
  echo "sbatch $job_file"
  exit 0
fi

command -v sbatch >/dev/null ||
  die "sbatch not found: no Slurm client here (on this machine: cluster/slurm_local.sh start, then the export SLURM_CONF=... line it prints)"
# Slurm does not create the log's folder; a job whose log cannot be opened fails silently.
mkdir -p "$log_dir"
printf '%s' "$script" >"$job_file"
if ! submitted="$(sbatch --parsable "$job_file")"; then
  echo "submit.sh: sbatch refused $job_file" >&2
  exit 1
fi
job_id="${submitted%%;*}"
if [ "$parsable" -eq 1 ]; then
  echo "$job_id"
else
  echo "submitted job $job_id ($ranks rank(s), profile $(basename "$profile" .env))"
  echo "  script:  $job_file"
  if [ -n "$array" ]; then
    echo "  logs:    ${log//%x-%A_%a/$name-${job_id}_<task>}"
    echo "  results: the run folders of $array_table"
  else
    echo "  log:     ${log//%x-%j/$name-$job_id}"
  fi
  if [ -n "$array" ]; then :
  elif [ -n "$run_dir_arg" ]; then echo "  results: $run_dir_arg"; else echo "  results: results/$stem/job-$job_id"; fi
fi
