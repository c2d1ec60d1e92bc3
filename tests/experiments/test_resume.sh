#!/usr/bin/env bash
# Restart after failures (docs/reliability.md): a run killed with SIGKILL at random
# moments and resumed with `tessera run --resume` ends bitwise equal to an uninterrupted
# run on the same rank count; SIGTERM / SIGUSR1 make a run write a checkpoint and exit
# with code 75, and it resumes on another rank count (equal to the parallel path's
# rounding); bad uses of --resume give one clear error.
# Usage: test_resume.sh TESSERA_BINARY CASE [RANKS] [KIND]
#   CASE: kill (RANKS, KIND) | signal (KIND) | bad_input
#   KIND: lwr | lwr_network | flow | flow_dataset | pinn_traffic | pinn_mto (multi-task
#         optimisation) | hopfield (learning) | st_forecast | mesh_transformer
#   bad_input: --resume of a missing folder, one without checkpoints, with an experiment
#   file, of a finished run, of a checkpoint of another run (an edited config.toml, a
#   copied state.h5); checkpoint keys refused; a .partial folder ignored.
# Kill moments are random; TESSERA_FAULT_SEED fixes them (the seed is printed) and
# TESSERA_FAULT_MOMENTS sets how many (3; analysis/fault_study.sh runs 20 per kind).
set -uo pipefail
tessera="$1"
case_name="$2"
ranks="${3:-1}"
kind="${4:-lwr}"
# shellcheck source=SCRIPTDIR/cli_helpers.sh
source "$(dirname "$0")/cli_helpers.sh"
make_work_dir tessera_resume

if ! /usr/bin/python3 -c "import h5py" 2>/dev/null; then
  echo "TESSERA_SKIP: /usr/bin/python3 lacks h5py (analysis/compare_runs.py needs it)"
  exit 0
fi
seed="${TESSERA_FAULT_SEED:-$$}"
RANDOM="$seed"
echo "kill moments from TESSERA_FAULT_SEED=$seed"

# How close a run resumed on another rank count must come to the uninterrupted one
# (compare_runs --tolerance), and the datasets and attributes left out of that comparison
# (iteration counts, which another summation order may change by one). A kind whose
# parallel path differs by more than rounding sets its own in write_experiment.
ranks_tolerance=1e-12
# The rank count the signal case resumes on (a kind whose parallel path is not close to
# its 1-rank result resumes on 1 rank and is compared bitwise instead).
signal_resume_ranks=2
ranks_ignored=""

# The problem both PINN experiments below learn: a 64-cell road, three detectors.
pinn_problem() {
  cat <<'EOF'
[run]
experiment = "pinn_traffic"
[solver]
cells = 64
t_end = 0.5
[detectors]
positions = [0.2, 0.5, 0.8]
interval = 0.025
[observations]
initial_points = 32
[model]
hidden_layers = 3
width = 12
precision = "double"
EOF
}

# An experiment of a few seconds with checkpoints every few hundred steps.
write_experiment() {  # write_experiment FILE
  case "$kind" in
    lwr)
      sed -e 's/^vtk = false/vtk_every = 5/' -e 's/^checkpoint_every = .*/checkpoint_every = 700/' \
        "$source_dir/tests/support/lwr_open_riemann.toml" >"$1"
      ;;
    lwr_network)
      cat >"$1" <<'EOF'
[run]
experiment = "lwr_network"
[network]
scenario = "corridor"
days = 14
[incidents]
rate = 0.05
[detectors]
speed_noise = 1.5
dropout_rate = 0.5
[output]
field_interval = 3600
field_days = 2
checkpoint_every = 10000
EOF
      ;;
    flow)
      # DFG 2D-2 on a coarse mesh, 300 steps, shedding started by the kick. On another
      # rank count the Krylov solvers' dot products sum in another order: iterates differ
      # at the solver tolerance, not at rounding (1 -> 2 ranks from step 30: 1.3e-10 of
      # the largest velocity with these tolerances) and iteration counts by a few.
      ranks_tolerance=1e-8
      ranks_ignored="/metrics/momentum_iterations /metrics/pressure_iterations"
      ranks_ignored+=" linear_iterations_per_step pressure_iterations_per_step"
      ranks_ignored+=" halo_exchanges_per_step allreduces_per_step"
      cat >"$1" <<'EOF'
[run]
experiment = "flow"
[mesh]
size = 0.06
cylinder_size = 0.015
[flow]
viscosity = 0.001
max_inflow = 1.5
ramp_time = 0.1
kick_speed = 0.5
kick_time = 0.2
[solver]
dt = 0.005
t_end = 1.5
max_cfl = 5.0
pressure_tolerance = 1e-12
momentum_tolerance = 1e-12
[output]
field_interval = 0.05
vtk_every = 2
periodic_from = 0.5
checkpoint_every = 30
EOF
      ;;
    flow_dataset)
      # Trajectory data sets: checkpoints between trajectories (after each of the 38-step
      # trajectories here), the split files continued from the checkpoint's copies.
      # Another rank count changes the float32 frames by an ulp or so.
      ranks_tolerance=1e-6
      cat >"$1" <<'EOF'
[run]
experiment = "flow"
seed = 3
[mesh]
size = 0.06
cylinder_size = 0.015
[flow]
viscosity = 0.001
ramp_time = 0.05
[solver]
dt = 0.005
[dataset]
train = 5
valid = 2
test = 2
frames = 10
steps_per_frame = 2
warmup = 0.1
[output]
checkpoint_every = 30
EOF
      ;;
    pinn_traffic)
      # Another rank count sums the gradients in another order, and 1500 steps of Adam,
      # grad_norm weights, refinement (a ranking of residuals) and L-BFGS line searches
      # amplify that: uninterrupted 1- and 2-rank runs end 1.5e-2 apart in density_pred
      # and a 1 -> 2 ranks resume landed up to 0.16 away in a weight, depending on the
      # moment: no tolerance makes that a test. The signal case resumes on 1 rank and
      # compares bitwise; the 2-rank resume is the kill case's (bitwise on 2 ranks).
      signal_resume_ranks=1
      ranks_tolerance=0
      # The standard PINN: 1200 Adam steps (warm-up cosine schedule, grad_norm weights,
      # resampled collocation sets, residual-based refinement), then 300 L-BFGS
      # evaluations; checkpoints every 140 gradient evaluations, inside records too.
      { pinn_problem; cat <<'EOF'
[collocation]
points = 400
boundary_points = 16
resample_every = 200
refine_every = 300
refine_points = 20
refine_candidates = 200
[loss]
adaptive = "grad_norm"
adaptive_every = 100
[train]
adam_steps = 1200
lr = 3e-3
schedule = "warmup_cosine"
warmup_steps = 20
lbfgs_evaluations = 300
log_every = 25
[output]
field_interval = 0.025
checkpoint_every = 140
EOF
      } >"$1"
      ;;
    pinn_mto)
      # Multi-task optimisation: the main task and two auxiliary tasks (resampled
      # collocation, other initial parameters), 500 Adam steps each with a transfer every
      # 20, then 200 L-BFGS evaluations; checkpoints at transfers and between L-BFGS chunks
      # (every 180 gradient evaluations). On 2 ranks the tasks train on two rank groups
      # (tasks 0 and 2 on rank 0, task 1 on rank 1), each task's state written by its
      # group. Another rank count changes the trajectory as for pinn_traffic: the signal
      # case resumes on 1 rank, bitwise.
      signal_resume_ranks=1
      ranks_tolerance=0
      { pinn_problem; cat <<'EOF'
[collocation]
points = 300
boundary_points = 16
refine_every = 100
refine_points = 20
refine_candidates = 200
[loss]
adaptive = "grad_norm"
adaptive_every = 50
[train]
adam_steps = 1500
lr = 3e-3
lbfgs_evaluations = 200
log_every = 25
[mto]
enabled = true
tasks = "resampled, other_init"
interval = 20
validation_points = 128
[output]
field_interval = 0.025
checkpoint_every = 180
EOF
      } >"$1"
      ;;
    hopfield)
      # The learning task: HopfieldPooling, then the MLP, 3 epochs each of 63 Adam steps,
      # checkpoints every 20 steps (inside epochs and across the change of model). Every
      # rank trains the same model, so another rank count is bitwise equal too.
      ranks_tolerance=0
      if ! compgen -G "${TESSERA_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}/t10k-images*" >/dev/null; then
        echo "TESSERA_SKIP: no Fashion-MNIST (Debian's dataset-fashion-mnist or \$TESSERA_FASHION_MNIST)"
        exit 0
      fi
      cat >"$1" <<'EOF'
[run]
experiment = "hopfield"
[hopfield]
task = "learning"
[learning]
train = 2000
test = 500
epochs = 3
batch = 32
[output]
checkpoint_every = 20
EOF
      ;;
    st_forecast)
      # STTN, STGCN and the MLP one after the other on a generated series (8 sensors, 8
      # days of 48 steps, a chain graph), batches of 8 in a shuffled order, AdamW, a
      # milestone, early stopping (patience 3: each model stops after 9-19 of 40 epochs);
      # checkpoints every 10 steps. Another rank count sums the gradients in another order
      # and float training with early stopping amplifies that (fresh 1- and 2-rank runs
      # stop STGCN at other epochs): the signal case resumes on 1 rank, bitwise.
      signal_resume_ranks=1
      ranks_tolerance=0
      local data
      data="$(dirname "$1")"
      make_sensor_data "$data" 8 384
      cat >"$1" <<EOF
[run]
experiment = "st_forecast"
[data]
series = "$data/series.csv"
header = true
steps_per_day = 48
input_steps = 6
output_steps = 4
[graph]
file = "$data/graph.csv"
[model]
kinds = "sttn, stgcn, mlp"
dim = 8
heads = 2
blocks = 1
ffn_hidden = 16
head_hidden = 16
eigenvectors = 2
mlp_hidden = 16
stgcn_blocks = 1
stgcn_channels = 8
stgcn_spatial_channels = 4
[train]
epochs = 40
batch = 8
patience = 3
lr = 0.01
milestones = [15]
[report]
horizons = [1, 2, 4]
[output]
checkpoint_every = 10
EOF
      ;;
    mesh_transformer)
      # The mesh transformer, then MeshGraphNet, 40 AdamW steps each (warm-up cosine
      # schedule, noise, running normalisers over the first 15 steps) on a tiny trajectory
      # data set made by the flow kind; checkpoints every 3 steps. Another rank count sums
      # the gradients in another order, and Adam turns the round-off gradient of the
      # attention key biases (zero in exact arithmetic) into steps of either sign: fresh 1-
      # and 2-rank runs end 1.9e-5 apart there. The signal case resumes on 1 rank, bitwise.
      signal_resume_ranks=1
      ranks_tolerance=0
      local data
      data="$(dirname "$1")/data"
      "$tessera" run "$source_dir/experiments/cylinder_dataset.toml" --out "$data" \
        --set mesh.size=0.08 --set mesh.cylinder_size=0.02 --set dataset.train=2 \
        --set dataset.valid=0 --set dataset.test=1 --set dataset.frames=6 \
        --set dataset.warmup=0.05 --set output.vtk=false >"$data.log" 2>&1 \
        || { fail "data set run failed: $(cat "$data.log")"; finish_checks; }
      cat >"$1" <<EOF
[run]
experiment = "mesh_transformer"
[data]
train = "$data/train.h5"
test = "$data/test.h5"
[model]
dim = 16
layers = 2
latent = 16
blocks = 2
[train]
steps = 40
warmup = 5
log_every = 5
normalizer = "running"
normalizer_steps = 15
[rollout]
horizons = [1, 3]
[output]
checkpoint_every = 3
EOF
      ;;
    *)
      echo "unknown kind $kind" >&2
      exit 2
      ;;
  esac
}

launch() {  # launch NP ARGS... : tessera in the background, $! its pid (mpirun's for NP > 1)
  local np="$1"
  shift
  if [ "$np" -eq 1 ]; then
    "$tessera" "$@" &
  else
    mpirun -np "$np" "$tessera" "$@" &
  fi
}

run_to_end() {  # run_to_end NP LOG ARGS...
  local np="$1" log="$2"
  shift 2
  launch "$np" "$@" >"$log" 2>&1
  wait $!
}

# The process to kill: tessera itself on one rank, one of mpirun's ranks otherwise (a
# node failure), so that the job dies without a chance to write anything.
victim_of() {  # victim_of PID NP
  if [ "$2" -eq 1 ]; then
    echo "$1"
  else
    pgrep -P "$1" -f "$tessera" | head -n 1
  fi
}

wait_for_checkpoint() {  # wait_for_checkpoint DIR PID: until a complete checkpoint exists
  local dir="$1" pid="$2"
  for _ in $(seq 1 600); do
    if compgen -G "$dir/checkpoints/step_*[0-9]" >/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# stop_with SIGNAL NP DIR: starts the experiment into DIR, sends SIG<SIGNAL> (to mpirun
# when NP > 1) once a checkpoint exists, and checks exit code 75 and one "stopped"
# message. Returns non-zero when the run did not stop that way.
stop_with() {
  local signal="$1" np="$2" dir="$3" pid status count
  launch "$np" run "$work/exp.toml" --out "$dir" >"$dir.log" 2>&1
  pid=$!
  if ! wait_for_checkpoint "$dir" "$pid"; then
    wait "$pid"
    fail "SIG$signal: the run wrote no checkpoint: $(cat "$dir.log")"
    return 1
  fi
  kill "-$signal" "$pid"
  wait "$pid"
  status=$?
  if [ "$status" -ne 75 ]; then
    fail "SIG$signal: exit code $status, expected 75"
    return 1
  fi
  pass
  count=$(grep -c "tessera: stopped: SIG$signal received" "$dir.log")
  [ "$count" -eq 1 ] && pass || fail "SIG$signal: message printed $count times: $(cat "$dir.log")"
}

write_experiment "$work/exp.toml"

case "$case_name" in
  kill)
    start=$(date +%s.%N)
    run_to_end "$ranks" "$work/reference.log" run "$work/exp.toml" --out "$work/reference" \
      || { fail "uninterrupted run failed: $(cat "$work/reference.log")"; finish_checks; }
    duration=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
    echo "uninterrupted run: $duration s on $ranks rank(s)"
    killed=0
    for moment in $(seq 1 "${TESSERA_FAULT_MOMENTS:-3}"); do
      dir="$work/killed_$moment"
      # A moment in [0, 0.6] of the run's length after its first checkpoint.
      delay=$(awk -v d="$duration" -v r="$((RANDOM % 1000))" 'BEGIN { printf "%.3f", d * 0.6 * r / 1000 }')
      # When no earlier moment landed, the last one kills right after the first checkpoint:
      # a run of well under a second can outrun every random delay (it did in CI, 3 of 3).
      if [ "$moment" = "${TESSERA_FAULT_MOMENTS:-3}" ] && [ "$killed" = 0 ]; then delay=0.000; fi
      launch "$ranks" run "$work/exp.toml" --out "$dir" >"$work/killed_$moment.log" 2>&1
      pid=$!
      if ! wait_for_checkpoint "$dir" "$pid"; then
        wait "$pid"
        fail "moment $moment: no checkpoint before the run ended: $(cat "$work/killed_$moment.log")"
        continue
      fi
      sleep "$delay"
      victim=$(victim_of "$pid" "$ranks")
      if [ -n "$victim" ] && kill -9 "$victim" 2>/dev/null; then
        killed=$((killed + 1))
        echo "moment $moment: SIGKILL ${delay} s after the first checkpoint"
      else
        echo "moment $moment: the run ended before the kill (${delay} s); resumes nothing"
      fi
      wait "$pid" 2>/dev/null
      # Resume until the run is finished (a resumed run is not killed again).
      if [ ! -e "$dir/run.h5" ]; then
        run_to_end "$ranks" "$work/resumed_$moment.log" run --resume "$dir" \
          || fail "moment $moment: resume failed: $(cat "$work/resumed_$moment.log")"
      fi
      grep -q "resuming" "$dir/log.txt" || [ ! -e "$work/resumed_$moment.log" ] \
        || fail "moment $moment: the resumed run does not say so in log.txt"
      /usr/bin/python3 "$source_dir/analysis/compare_runs.py" "$work/reference" "$dir" \
        >"$work/compare_$moment.log" 2>&1 \
        && pass || fail "moment $moment: resumed run differs: $(cat "$work/compare_$moment.log")"
      for file in "$work"/reference/*.csv; do
        [ -e "$file" ] || continue
        cmp -s "$file" "$dir/$(basename "$file")" \
          || fail "moment $moment: $(basename "$file") differs from the uninterrupted run's"
      done
      if compgen -G "$dir/checkpoints/*.partial" >/dev/null; then
        fail "moment $moment: a half-written checkpoint folder was left behind"
      fi
    done
    [ "$killed" -ge 1 ] && pass || fail "no kill landed inside a run: the runs are too short"
    ;;

  signal)
    # SIGTERM to a 1-rank run: checkpoint, exit 75, one message; resume on 2 ranks.
    run_to_end 1 "$work/reference.log" run "$work/exp.toml" --out "$work/reference" \
      || { fail "uninterrupted run failed: $(cat "$work/reference.log")"; finish_checks; }
    if stop_with TERM 1 "$work/term"; then
      [ -e "$work/term/run.h5" ] && fail "SIGTERM: run.h5 looks finished" || pass
      mpirun -np "$signal_resume_ranks" "$tessera" run --resume "$work/term" \
        >"$work/term_resume.log" 2>&1 \
        && pass || fail "resume on $signal_resume_ranks rank(s) failed: $(cat "$work/term_resume.log")"
      # Another rank count sums in another order: equal to rounding, not bitwise.
      ignore=()
      for name in $ranks_ignored; do ignore+=(--ignore "$name"); done
      /usr/bin/python3 "$source_dir/analysis/compare_runs.py" --tolerance "$ranks_tolerance" \
        "${ignore[@]}" "$work/reference" "$work/term" >"$work/term_compare.log" 2>&1 \
        && pass || fail "1 -> $signal_resume_ranks rank(s) resumed run differs: $(cat "$work/term_compare.log")"
    fi
    # SIGUSR1 to mpirun (Slurm's warning signal, forwarded to the ranks): exit 75 too.
    stop_with USR1 2 "$work/usr1"
    ;;

  bad_input)
    expect_error "resume a missing folder" 1 2 "--resume $work/nothing: no such run directory" \
      -- run --resume "$work/nothing"
    mkdir -p "$work/empty"
    expect_error "resume without checkpoints" 1 2 "no complete checkpoint in $work/empty/checkpoints" \
      -- run --resume "$work/empty"
    expect_error "resume with a file" 1 2 "give no experiment file, --set or --out with it" \
      -- run "$work/exp.toml" --resume "$work/empty"
    expect_error "no file, no resume" 1 2 "give an experiment file or --resume RUN_DIR" -- run
    "$tessera" run "$work/exp.toml" --out "$work/done" --set output.checkpoint_every=100 \
      >"$work/done.log" 2>&1 || fail "a short run failed: $(cat "$work/done.log")"
    expect_error "resume a finished run" 1 2 "the run is finished already" \
      -- run --resume "$work/done"
    expect_error "checkpoint keys on a kind without checkpoints" 1 2 "output.checkpoint_every" \
      -- run "$source_dir/experiments/mesh_partition.toml" --set output.checkpoint_every=10
    expect_error "checkpoint keys on a hopfield task without a training loop" 1 2 \
      "hopfield.task = \"capacity\" has no training loop" \
      -- run "$source_dir/experiments/hopfield_capacity.toml" --set output.checkpoint_every=10
    # A checkpoint of another run: its config.toml edited, or a state.h5 of another run
    # copied in. One error naming state.h5 and what it was written with; the run's
    # checkpoints untouched, and it resumes once its own files are back.
    cp -r "$work/done" "$work/mixed"
    rm "$work/mixed/run.h5"
    mixed=$(find "$work/mixed/checkpoints" -maxdepth 1 -name 'step_*' | sort | tail -n 1)
    cp "$mixed/config.toml" "$work/config.toml.orig"
    cp "$mixed/state.h5" "$work/state.h5.orig"
    sums=$(cd "$work/mixed/checkpoints" && find . -type f | sort | xargs md5sum)
    sed -i 's/^cells = 20000$/cells = 20001/' "$mixed/config.toml"
    expect_error "resume with an edited config.toml" 1 2 \
      "$mixed/state.h5: belongs to another run: it was written with another configuration than $mixed/config.toml ([solver] cells = 20001 in config.toml, [solver] cells = 20000" \
      -- run --resume "$work/mixed"
    cp "$work/config.toml.orig" "$mixed/config.toml"
    "$tessera" run "$work/exp.toml" --out "$work/other" --set output.checkpoint_every=100 \
      --set solver.cells=500 >"$work/other.log" 2>&1 || fail "a short run failed: $(cat "$work/other.log")"
    cp "$(find "$work/other/checkpoints" -maxdepth 1 -name 'step_*' | sort | tail -n 1)/state.h5" "$mixed/state.h5"
    expect_error "resume with a state.h5 of another run" 2 2 \
      "$mixed/state.h5: belongs to another run" -- run --resume "$work/mixed"
    cp "$work/state.h5.orig" "$mixed/state.h5"
    [ "$(cd "$work/mixed/checkpoints" && find . -type f | sort | xargs md5sum)" = "$sums" ] \
      && pass || fail "a refused resume changed the run's checkpoints"
    "$tessera" run --resume "$work/mixed" >"$work/mixed_resume.log" 2>&1 \
      && /usr/bin/python3 "$source_dir/analysis/compare_runs.py" "$work/done" "$work/mixed" \
        >"$work/mixed_compare.log" 2>&1 \
      && pass || fail "the run did not resume after the refusals: $(cat "$work/mixed_resume.log" "$work/mixed_compare.log")"
    # A half-written checkpoint folder (a run killed while writing it) is never read.
    rm "$work/done/run.h5"
    newest=$(find "$work/done/checkpoints" -maxdepth 1 -name 'step_*' | sort | tail -n 1)
    mkdir -p "$work/done/checkpoints/step_999999999999.partial"
    "$tessera" run --resume "$work/done" >"$work/done_resume.log" 2>&1 \
      && grep -q "from step .* ($newest)" "$work/done_resume.log" \
      && pass || fail "resume did not start from the newest complete checkpoint: $(cat "$work/done_resume.log")"
    ;;

  *)
    echo "unknown case $case_name" >&2
    exit 2
    ;;
esac
finish_checks
