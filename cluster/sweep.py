#!/usr/bin/python3
"""Sweeps: one experiment over rank counts (strong or weak scaling) or over any key,
repeated, run here one after another (launcher `local`) or submitted to Slurm as job
arrays with a dependent job that collects the results (launcher `slurm`). A study's runs,
logs, job scripts and tables all go under one folder with an index file.

Usage: cluster/sweep.py SWEEP.toml [--launcher local|slurm] [--out DIR] [--dry-run]
                        [--profile NAME] [--tessera PATH] [--mpirun CMD]

The sweep file (cluster/sweeps/*.toml are examples; docs/cluster.md describes every key):

    [sweep]
    name = "flow_strong"                # the study folder: results/sweeps/<name>
    experiment = "experiments/dfg_2d2.toml"
    kind = "strong"                     # strong | weak | parameter
    repeats = 3                         # runs per point (min and median over them)
    measure = "solver"                  # the /timings region scaling is computed from
    set = ["solver.t_end=0.2"]          # --set for every run
    ranks_key = "train.domain_ranks"    # optional: a key set to each run's rank count
    launcher = "local"                  # local | slurm (--launcher overrides)
    profile = "local"                   # slurm: the site profile (cluster/profiles/)
    time_minutes = 30                   # slurm: each run's time limit
    [axis]
    ranks = [1, 2, 4]
    key = "mesh.size"                   # weak: scaled with ranks; parameter: swept
    values = [0.02, 0.014, 0.01]        # weak: one per rank count; parameter: any number

Study folder (results/sweeps/<name>, or --out):
    sweep.toml        the sweep file as run (a later sweep into the folder must match it)
    index.tsv         one line per run: run, point, ranks, key, value, repeat, dir
    runs/<run>/       each run's folder (run.h5, log.txt, checkpoints)
    logs/<run>.log    local launcher: each run's output
    jobs/             slurm launcher: array tables, job scripts, job logs, collect job
    collect/          tables and plots (analysis/scaling.py STUDY writes them again)

Paths in the sweep file are relative to the folder sweep.py runs in (the repository root,
as for `tessera run`). Running a sweep again completes it: runs with a run.h5 are kept,
runs with a checkpoint resume, the others start again.
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import tomllib
except ImportError:  # pragma: no cover - Python < 3.11
    sys.exit("sweep.py: needs Python 3.11 or newer (tomllib); Debian 12's /usr/bin/python3 has it")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SWEEP_KEYS = {"name", "experiment", "kind", "repeats", "measure", "set", "ranks_key", "launcher",
              "profile", "time_minutes"}
KEY_PATTERN = r"[A-Za-z0-9_]+\.[A-Za-z0-9_.]+"  # section.key
AXIS_KEYS = {"ranks", "key", "values"}
INDEX_COLUMNS = ["run", "point", "ranks", "key", "value", "repeat", "dir"]


class SweepError(Exception):
    """One line for the user: the file, the key, what was expected."""


def toml_text(value):
    """A value as `--set key=value` takes it (TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def display(value):
    """A value as tables and folder names show it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


class Sweep:
    def __init__(self, path):
        self.path = path
        try:
            with open(path, "rb") as f:
                document = tomllib.load(f)
        except FileNotFoundError:
            raise SweepError(f"no sweep file '{path}'")
        except tomllib.TOMLDecodeError as error:
            raise SweepError(f"{path}: not valid TOML: {error}")
        for table in document:
            if table not in ("sweep", "axis"):
                raise SweepError(f"{path}: unknown table [{table}]: expected [sweep] and [axis]")
        sweep = document.get("sweep")
        axis = document.get("axis")
        if not isinstance(sweep, dict) or not isinstance(axis, dict):
            raise SweepError(f"{path}: expected a [sweep] table and an [axis] table")
        for table, keys, known in (("sweep", sweep, SWEEP_KEYS), ("axis", axis, AXIS_KEYS)):
            for key in keys:
                if key not in known:
                    raise SweepError(f"{path}: unknown key '{table}.{key}': expected one of "
                                     + ", ".join(sorted(known)))

        def get(table, key, kind, expected, default=None):
            value = (sweep if table == "sweep" else axis).get(key, default)
            if value is None:
                raise SweepError(f"{path}: required key '{table}.{key}' is missing: expected "
                                 + expected)
            if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
                raise SweepError(f"{path}: {table}.{key} = {value!r}: expected {expected}")
            return value

        self.name = get("sweep", "name", str, "a name (letters, digits, '.', '_', '-')")
        if not re.fullmatch(r"[A-Za-z0-9._-]+", self.name):
            raise SweepError(f"{path}: sweep.name = {self.name!r}: expected letters, digits, "
                             "'.', '_' or '-'")
        self.experiment = get("sweep", "experiment", str, "the experiment file (.toml)")
        if not os.path.isfile(self.experiment):
            raise SweepError(f"{path}: sweep.experiment: no experiment file '{self.experiment}' "
                             f"(paths are relative to the folder sweep.py runs in: {os.getcwd()})")
        self.kind = get("sweep", "kind", str, "strong, weak or parameter", "strong")
        if self.kind not in ("strong", "weak", "parameter"):
            raise SweepError(f"{path}: sweep.kind = {self.kind!r}: expected strong, weak or "
                             "parameter")
        self.repeats = get("sweep", "repeats", int, "a positive integer", 1)
        if self.repeats < 1:
            raise SweepError(f"{path}: sweep.repeats = {self.repeats}: expected a positive integer")
        self.measure = get("sweep", "measure", str, "a /timings region name", "total")
        self.fixed = get("sweep", "set", list, "a list of \"section.key=value\" strings", [])
        for item in self.fixed:
            if not isinstance(item, str) or not re.fullmatch(r"[A-Za-z0-9_.]+=.*", item):
                raise SweepError(f"{path}: sweep.set: {item!r}: expected \"section.key=value\"")
        # A key that follows the rank count (the mesh transformer's train.domain_ranks: each
        # mesh split over every rank, not the batch).
        self.ranks_key = sweep.get("ranks_key")
        if self.ranks_key is not None and (not isinstance(self.ranks_key, str)
                                           or not re.fullmatch(KEY_PATTERN, self.ranks_key)):
            raise SweepError(f"{path}: sweep.ranks_key = {self.ranks_key!r}: expected the key "
                             "set to each run's rank count (section.key)")
        self.launcher = get("sweep", "launcher", str, "local or slurm", "local")
        if self.launcher not in ("local", "slurm"):
            raise SweepError(f"{path}: sweep.launcher = {self.launcher!r}: expected local or slurm")
        self.profile = get("sweep", "profile", str, "a site profile", "local")
        self.time_minutes = get("sweep", "time_minutes", int, "a positive integer", 30)
        if self.time_minutes < 1:
            raise SweepError(f"{path}: sweep.time_minutes = {self.time_minutes}: expected a "
                             "positive integer")

        ranks = get("axis", "ranks", list, "a list of positive rank counts", [1])
        if not ranks or any(not isinstance(r, int) or isinstance(r, bool) or r < 1 for r in ranks):
            raise SweepError(f"{path}: axis.ranks = {ranks!r}: expected a list of positive integers")
        if len(set(ranks)) != len(ranks):
            raise SweepError(f"{path}: axis.ranks = {ranks!r}: a rank count appears twice")
        self.key = axis.get("key")
        values = axis.get("values")
        if self.kind == "strong":
            if self.key is not None or values is not None:
                raise SweepError(f"{path}: axis.key/axis.values: a strong-scaling sweep varies "
                                 "only the ranks (kind = \"weak\" or \"parameter\" vary a key)")
            if len(ranks) < 2:
                raise SweepError(f"{path}: axis.ranks = {ranks!r}: strong scaling needs at least "
                                 "two rank counts")
            self.points = [(r, None) for r in ranks]
        else:
            if not isinstance(self.key, str) or not re.fullmatch(KEY_PATTERN, self.key):
                raise SweepError(f"{path}: axis.key: expected the key a {self.kind} sweep varies "
                                 "(section.key)")
            if not isinstance(values, list) or not values or any(
                    not isinstance(v, (int, float, str, bool)) for v in values):
                raise SweepError(f"{path}: axis.values: expected a list of values for {self.key}")
            if self.kind == "weak":
                if len(values) != len(ranks):
                    raise SweepError(f"{path}: axis.values has {len(values)} entries and "
                                     f"axis.ranks {len(ranks)}: a weak-scaling sweep gives one "
                                     f"value of {self.key} per rank count")
                self.points = list(zip(ranks, values))
            else:
                self.points = [(r, v) for r in ranks for v in values]
        self.text = open(path, encoding="utf-8").read()

    def runs(self):
        """Every run: (run, point, ranks, value, repeat, folder name)."""
        runs = []
        for point, (ranks, value) in enumerate(self.points):
            for repeat in range(1, self.repeats + 1):
                name = f"np{ranks}"
                if value is not None:
                    name += "-" + re.sub(r"[^A-Za-z0-9._-]", "_",
                                         f"{self.key.split('.')[-1]}={display(value)}")
                name += f"-rep{repeat}"
                runs.append(dict(run=len(runs), point=point, ranks=ranks, value=value,
                                 repeat=repeat, dir=f"runs/{name}"))
        return runs

    def tessera_args(self, run, ranks=None):
        """The run's --set arguments; `ranks` replaces its rank count in ranks_key."""
        args = []
        for item in self.fixed:
            args += ["--set", item]
        if self.ranks_key is not None:
            args += ["--set", f"{self.ranks_key}={ranks or run['ranks']}"]
        if run["value"] is not None:
            args += ["--set", f"{self.key}={toml_text(run['value'])}"]
        return args


def write_atomic(path, text):
    """Whole or not at all: a reader never sees half a file."""
    with open(path + ".partial", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".partial", path)


def index_text(sweep, runs):
    lines = ["\t".join(INDEX_COLUMNS)]
    for r in runs:
        lines.append("\t".join([str(r["run"]), str(r["point"]), str(r["ranks"]),
                                sweep.key or "-",
                                "-" if r["value"] is None else display(r["value"]),
                                str(r["repeat"]), r["dir"]]))
    return "\n".join(lines) + "\n"


def prepare_study(sweep, study, dry_run):
    """The study folder with sweep.toml and index.tsv; refuses a folder of another sweep."""
    own = os.path.join(study, "sweep.toml")
    if os.path.exists(own):
        if open(own, encoding="utf-8").read() != sweep.text:
            raise SweepError(f"{study} holds another sweep (its sweep.toml differs from "
                             f"{sweep.path}): give --out another folder, or remove {study}")
    elif os.path.exists(study) and os.listdir(study):
        raise SweepError(f"{study} exists and is not a study folder (no sweep.toml): give --out "
                         "another folder")
    if dry_run:
        return
    os.makedirs(study, exist_ok=True)
    write_atomic(own, sweep.text)
    write_atomic(os.path.join(study, "index.tsv"), index_text(sweep, sweep.runs()))


def has_checkpoint(run_dir):
    folder = os.path.join(run_dir, "checkpoints")
    return os.path.isdir(folder) and any(
        name.startswith("step_") and not name.endswith(".partial") for name in os.listdir(folder))


def tessera_command(sweep, run, run_dir, tessera):
    """What starts (or resumes) one run."""
    if has_checkpoint(run_dir):
        return [tessera, "run", "--resume", run_dir]
    command = [tessera, "run", sweep.experiment, "--out", run_dir]
    if os.path.exists(run_dir):
        command.append("--overwrite")  # an earlier attempt that left no checkpoint
    return command + sweep.tessera_args(run)


def check_runs(sweep, tessera):
    """`tessera validate` of every point: a bad key or value stops the sweep before it runs."""
    seen = set()
    for run in sweep.runs():
        # validate runs on one rank: ranks_key (a divisor of the rank count) is checked as 1.
        args = tuple(sweep.tessera_args(run, ranks=1))
        if args in seen:
            continue
        seen.add(args)
        result = subprocess.run([tessera, "validate", sweep.experiment, *args],
                                capture_output=True, text=True)
        if result.returncode != 0:
            message = (result.stderr.strip() or result.stdout.strip()).splitlines()
            raise SweepError(f"{sweep.path}: the point with {' '.join(args) or 'no --set'} is "
                             f"refused by tessera validate: {message[-1] if message else ''}")


def run_collect(study):
    script = os.path.join(REPO, "analysis", "scaling.py")
    return subprocess.run([sys.executable, script, study]).returncode


def launch_local(sweep, study, tessera, mpirun, dry_run):
    runs = sweep.runs()
    if dry_run:
        print(f"# local launcher: {len(runs)} runs one after another, then the collect step")
        for run in runs:
            run_dir = os.path.join(study, run["dir"])
            command = mpirun + ["-np", str(run["ranks"])] + tessera_command(sweep, run, run_dir,
                                                                           tessera)
            print(shlex.join(command) + f" > {shlex.quote(os.path.join(study, 'logs', os.path.basename(run['dir']) + '.log'))} 2>&1")
        print(shlex.join([sys.executable, os.path.join(REPO, "analysis", "scaling.py"), study]))
        return 0
    os.makedirs(os.path.join(study, "logs"), exist_ok=True)
    failed = []
    for run in runs:
        run_dir = os.path.join(study, run["dir"])
        label = f"[{run['run'] + 1}/{len(runs)}] {os.path.basename(run['dir'])}"
        if os.path.exists(os.path.join(run_dir, "run.h5")):
            print(f"{label}: done before (run.h5 is there)", flush=True)
            continue
        command = mpirun + ["-np", str(run["ranks"])] + tessera_command(sweep, run, run_dir,
                                                                       tessera)
        log = os.path.join(study, "logs", os.path.basename(run["dir"]) + ".log")
        start = time.monotonic()
        with open(log, "a", encoding="utf-8") as out:
            out.write("$ " + shlex.join(command) + "\n")
            out.flush()
            status = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT).returncode
        seconds = time.monotonic() - start
        if status == 0:
            print(f"{label}: finished in {seconds:.1f} s", flush=True)
        else:
            failed.append(run["dir"])
            print(f"{label}: failed with exit code {status} after {seconds:.1f} s (its output: "
                  f"{log})", flush=True)
    status = run_collect(study)
    if failed:
        print(f"sweep.py: {len(failed)} of {len(runs)} runs failed: {', '.join(failed)}; run the "
              "sweep again to retry them", file=sys.stderr)
        return 1
    return status


def read_profile(profile):
    """The keys of a site profile the collect job needs (the profile is bash)."""
    keys = ["PARTITION", "ACCOUNT", "QOS", "MODULES", "ENV_LINES", "PYTHON"]
    path = profile if os.path.isfile(profile) else os.path.join(HERE, "profiles",
                                                                   profile + ".env")
    if not os.path.isfile(path):
        known = sorted(name[:-4] for name in os.listdir(os.path.join(HERE, "profiles"))
                       if name.endswith(".env"))
        raise SweepError(f"no profile '{profile}': expected a profile file or one of: "
                         + " ".join(known))
    script = 'unset ' + " ".join(keys) + '; source "$1" >/dev/null || exit 2; printf "%s\\0" ' + \
        " ".join(f'"${{{k}-}}"' for k in keys)
    result = subprocess.run(["bash", "-c", script, "profile", path], capture_output=True)
    if result.returncode != 0:
        raise SweepError(f"{path}: could not be read as bash KEY=value lines")
    values = result.stdout.decode().split("\0")[:len(keys)]
    return os.path.abspath(path), dict(zip(keys, values))


def collect_script(sweep, study, profile_values):
    lines = ["#!/bin/bash",
             f"# Collects the sweep {sweep.name} once its job arrays have ended (afterany: a",
             "# failed run shows as missing in the tables instead of holding the job forever).",
             "# Generated by cluster/sweep.py; analysis/scaling.py STUDY writes the same again.",
             f"#SBATCH --job-name={sweep.name}-collect"]
    for option, key in (("partition", "PARTITION"), ("account", "ACCOUNT"), ("qos", "QOS")):
        if profile_values[key]:
            lines.append(f"#SBATCH --{option}={profile_values[key]}")
    lines += ["#SBATCH --ntasks=1", "#SBATCH --time=10", f"#SBATCH --chdir={os.getcwd()}",
              f"#SBATCH --output={os.path.join(study, 'jobs', '%x-%j.log')}",
              "set -euo pipefail"]
    for key in ("MODULES", "ENV_LINES"):
        lines += [line for line in profile_values[key].splitlines() if line.strip()]
    python = profile_values["PYTHON"] or "python3"
    lines.append(shlex.join([python, os.path.join(REPO, "analysis", "scaling.py"), study]))
    return "\n".join(lines) + "\n"


def launch_slurm(sweep, study, tessera, profile, dry_run):
    profile_path, profile_values = profile
    submit = os.path.join(HERE, "submit.sh")
    runs = [r for r in sweep.runs()
            if not os.path.exists(os.path.join(study, r["dir"], "run.h5"))]
    groups = {}
    for run in runs:
        groups.setdefault(run["ranks"], []).append(run)
    jobs_dir = os.path.join(study, "jobs")
    # A dry run writes its array tables to a scratch folder and shows the study's paths.
    table_dir = tempfile.mkdtemp(prefix="tessera_sweep_") if dry_run else jobs_dir
    os.makedirs(table_dir, exist_ok=True)
    try:
        job_ids = []
        if not groups:
            print(f"sweep.py: every run of {study} has its run.h5; only the collect job is "
                  "submitted")
        for ranks, group in groups.items():
            # One array per rank count: every task of an array gets the same allocation.
            table = os.path.join(table_dir, f"np{ranks}.tasks")
            lines = ["\t".join([os.path.abspath(os.path.join(study, r["dir"]))]
                               + sweep.tessera_args(r)) for r in group]
            write_atomic(table, "\n".join(lines) + "\n")
            command = [submit, profile_path, sweep.experiment, "--ranks", str(ranks), "--time",
                       str(sweep.time_minutes), "--name", f"{sweep.name}-np{ranks}",
                       "--array-table", table, "--log-dir", jobs_dir, "--tessera", tessera]
            if dry_run:
                shown = os.path.join(jobs_dir, os.path.basename(table))
                print(f"### array of {len(group)} task(s) on {ranks} rank(s): "
                      + shlex.join([c if c != table else shown for c in command]))
                print(f"### {shown}:")
                print(open(table, encoding="utf-8").read(), end="")
                result = subprocess.run(command + ["--dry-run"], capture_output=True, text=True)
                if result.returncode != 0:
                    raise SweepError(result.stderr.strip())
                print(result.stdout.replace(table, shown), end="")
                job_ids.append(f"<job id of np{ranks}>")
                continue
            result = subprocess.run(command + ["--parsable"], capture_output=True, text=True)
            if result.returncode != 0:
                raise SweepError(f"submitting the {ranks}-rank array: "
                                 + (result.stderr.strip() or "submit.sh failed"))
            job_ids.append(result.stdout.strip().splitlines()[-1])
            print(f"submitted job array {job_ids[-1]}: {len(group)} run(s) on {ranks} rank(s)")
        script = collect_script(sweep, study, profile_values)
        collect_file = os.path.join(jobs_dir, "collect.sbatch")
        sbatch = ["sbatch", "--parsable"]
        if job_ids:
            sbatch.append("--dependency=afterany:" + ":".join(job_ids))
        sbatch.append(collect_file)
        if dry_run:
            print(f"### {collect_file}:")
            print(script, end="")
            print("# ---- dry run: nothing written or submitted; the collect job would be "
                  "submitted with:")
            print(shlex.join(sbatch).replace("'", ""))
            return 0
        write_atomic(collect_file, script)
        result = subprocess.run(sbatch, capture_output=True, text=True)
        if result.returncode != 0:
            raise SweepError(f"sbatch refused {collect_file}: {result.stderr.strip()}")
        collect_id = result.stdout.strip().split(";")[0]
        print(f"submitted collect job {collect_id} (after {', '.join(job_ids) or 'nothing'})")
        print(f"  study:  {study}")
        print(f"  tables: {os.path.join(study, 'collect')} once job {collect_id} has run")
        print(f"COLLECT_JOB={collect_id}")
        return 0
    finally:
        if dry_run:
            shutil.rmtree(table_dir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 2)[2])
    parser.add_argument("sweep", help="the sweep file (TOML)")
    parser.add_argument("--launcher", choices=["local", "slurm"], default=None,
                        help="override sweep.launcher")
    parser.add_argument("--out", default=None, help="the study folder (default "
                        "results/sweeps/<name>)")
    parser.add_argument("--profile", default=None, help="slurm: override sweep.profile")
    parser.add_argument("--tessera", default=None,
                        help="the tessera binary (default build/bin/tessera of this checkout)")
    parser.add_argument("--mpirun", default="mpirun",
                        help="local: how ranks are started (default mpirun; -np N is added)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print every script and command; write, run and submit nothing")
    args = parser.parse_args()
    try:
        sweep = Sweep(args.sweep)
        launcher = args.launcher or sweep.launcher
        study = os.path.abspath(args.out or os.path.join("results", "sweeps", sweep.name))
        tessera = os.path.abspath(args.tessera or os.path.join(REPO, "build", "bin", "tessera"))
        if not args.dry_run and not os.access(tessera, os.X_OK):
            raise SweepError(f"no tessera binary at {tessera} (build it, or give --tessera PATH)")
        profile = read_profile(args.profile or sweep.profile) if launcher == "slurm" else None
        prepare_study(sweep, study, args.dry_run)
        if not args.dry_run:
            check_runs(sweep, tessera)
        print(f"sweep {sweep.name}: {sweep.kind} scaling" if sweep.kind != "parameter" else
              f"sweep {sweep.name}: {sweep.key} over {len(sweep.points)} point(s)", end="")
        print(f", {len(sweep.points)} point(s) x {sweep.repeats} repeat(s), launcher "
              f"{launcher}, study {study}", flush=True)
        if launcher == "local":
            mpirun = shlex.split(args.mpirun)
            if not args.dry_run and shutil.which(mpirun[0]) is None:
                raise SweepError(f"no '{mpirun[0]}' here: the local launcher starts ranks with "
                                 "it (--mpirun CMD)")
            return launch_local(sweep, study, tessera, mpirun, args.dry_run)
        if not args.dry_run and shutil.which("sbatch") is None:
            raise SweepError("sbatch not found: no Slurm client here (on this machine: "
                             "cluster/slurm_local.sh start, then the export SLURM_CONF=... line)")
        return launch_slurm(sweep, study, tessera, profile, args.dry_run)
    except SweepError as error:
        print(f"sweep.py: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
