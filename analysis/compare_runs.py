#!/usr/bin/env python3
"""Compare two Tessera run directories dataset by dataset, bitwise.

    /usr/bin/python3 analysis/compare_runs.py RUN_A RUN_B

Every HDF5 file in RUN_A (run.h5 and, for data-set runs, train.h5 / valid.h5 / test.h5)
must exist in RUN_B with the same datasets, the same dtype, shape and bytes, and the same
attributes. Left out, because they measure the machine rather than the computation: the
/timings group, the resolved /config text (a refactor may add keys with defaults), and
every dataset or attribute whose name contains "seconds" or "per_second" (wall-clock
times and rates). Exit status
0 when everything else is bitwise equal, 1 otherwise, with one line per difference.
With --tolerance REL, floating-point datasets and attributes may differ by REL times the
larger of 1 and their largest magnitude (for runs on different rank counts, whose sums are
ordered differently); everything else must still be bitwise equal. --ignore NAME leaves
out a dataset path or attribute name (iteration counts on another rank count).

Used to show that a change of structure changed no result (see docs/new_family.md).
"""
import argparse
import os
import sys

try:
    import h5py
    import numpy as np
except ImportError as error:  # pragma: no cover - depends on the machine
    sys.exit(f"compare_runs: {error}. Use Debian's /usr/bin/python3 with python3-h5py.")

SKIPPED_GROUPS = ("/timings", "/config")


def measured_time(name):
    """Wall-clock measurements: run_seconds, training_seconds, nodes_per_second, ..."""
    last = name.rsplit("/", 1)[-1]
    return "seconds" in last or "per_second" in last


IGNORED = set()  # --ignore: dataset paths and attribute names left out


def collect(h5):
    """path -> dataset for every dataset outside the skipped groups."""
    found = {}

    def visit(name, obj):
        path = "/" + name
        if isinstance(obj, h5py.Dataset) and not path.startswith(SKIPPED_GROUPS):
            if not measured_time(path) and path not in IGNORED:
                found[path] = obj

    h5.visititems(visit)
    return found


def attributes(obj):
    out = {}
    for key, value in obj.attrs.items():
        if measured_time(key) or key in IGNORED:
            continue
        out[key] = value
    return out


def same_value(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return a.tobytes() == b.tobytes()


def close_enough(a, b, tolerance):
    a, b = np.asarray(a), np.asarray(b)
    if tolerance <= 0 or a.dtype.kind != "f" or a.shape != b.shape:
        return False
    # Relative to the largest magnitude, absolute below 1: round-off measures such as a
    # mass-balance error (1e-14) differ in their own leading digits between rank counts.
    scale = max(np.nanmax(np.abs(a)) if a.size else 0.0, 1.0)
    return bool(np.array_equal(np.isnan(a), np.isnan(b))
                and np.nanmax(np.abs(a.astype(float) - b.astype(float)), initial=0.0)
                <= tolerance * scale)


def compare_file(path_a, path_b, label, tolerance=0.0):
    problems = []
    with h5py.File(path_a, "r") as fa, h5py.File(path_b, "r") as fb:
        da, db = collect(fa), collect(fb)
        for path in sorted(set(da) - set(db)):
            problems.append(f"{label}{path}: only in the first run")
        for path in sorted(set(db) - set(da)):
            problems.append(f"{label}{path}: only in the second run")
        for path in sorted(set(da) & set(db)):
            a, b = da[path], db[path]
            if a.dtype != b.dtype or a.shape != b.shape:
                problems.append(f"{label}{path}: {a.dtype}{a.shape} against {b.dtype}{b.shape}")
            elif not same_value(a[()], b[()]) and not close_enough(a[()], b[()], tolerance):
                va, vb = np.asarray(a[()]), np.asarray(b[()])
                if va.dtype.kind == "f":
                    diff = np.nanmax(np.abs(va.astype(float) - vb.astype(float)))
                    problems.append(f"{label}{path}: values differ (max |a - b| = {diff:.3e})")
                else:
                    problems.append(f"{label}{path}: values differ")
            aa, ab = attributes(a), attributes(b)
            for key in sorted(set(aa) | set(ab)):
                if key not in aa or key not in ab or not (
                        same_value(aa[key], ab[key])
                        or close_enough(aa[key], ab[key], tolerance)):
                    problems.append(f"{label}{path} attribute {key}: "
                                    f"{aa.get(key)!r} against {ab.get(key)!r}")
        ra, rb = attributes(fa), attributes(fb)
        for key in sorted(set(ra) | set(rb)):
            if key not in ra or key not in rb or not (
                    same_value(ra[key], rb[key]) or close_enough(ra[key], rb[key], tolerance)):
                problems.append(f"{label}/ attribute {key}: {ra.get(key)!r} against {rb.get(key)!r}")
        count = len(set(da) & set(db))
    return problems, count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", help="run directory (results/<name>/<run-id>)")
    parser.add_argument("second", help="run directory to compare with")
    parser.add_argument("--tolerance", type=float, default=0.0,
                        help="relative tolerance of floating-point datasets (default 0: bitwise)")
    parser.add_argument("--ignore", action="append", default=[], metavar="NAME",
                        help="leave out this dataset path or attribute name (repeatable): "
                             "counts such as solver iterations, which another rank count "
                             "may change by one")
    args = parser.parse_args()
    IGNORED.update(args.ignore)
    for directory in (args.first, args.second):
        if not os.path.isdir(directory):
            sys.exit(f"compare_runs: {directory} is not a directory")
    files = sorted(f for f in os.listdir(args.first) if f.endswith(".h5"))
    if not files:
        sys.exit(f"compare_runs: {args.first} holds no .h5 file (did the run finish?)")
    problems, datasets = [], 0
    for name in files:
        other = os.path.join(args.second, name)
        if not os.path.exists(other):
            problems.append(f"{name}: missing in {args.second}")
            continue
        found, count = compare_file(os.path.join(args.first, name), other, name + ":",
                                    args.tolerance)
        problems += found
        datasets += count
    for line in problems:
        print(line)
    equal = "bitwise equal" if args.tolerance <= 0 else f"equal to {args.tolerance:g} relative"
    verdict = equal if not problems else f"{len(problems)} difference(s)"
    print(f"compare_runs: {len(files)} file(s), {datasets} dataset(s): {verdict}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
