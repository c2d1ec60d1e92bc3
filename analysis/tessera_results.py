"""Reading Tessera results files (run.h5) with h5py.

Layout (see DESIGN.md): /config (TOML text + attributes), /metrics/<name> (n x 2 rows of
x, value), /timings/<region> ([min, mean, max] seconds over ranks), /fields/time,
/fields/<name> (steps x global size [x components]), and per-experiment groups such as
/detectors.
"""
import os
import sys

try:
    import h5py
    import numpy as np
except ImportError as error:  # pragma: no cover - depends on the machine
    sys.exit(
        f"tessera analysis: {error}. Use Debian's python (/usr/bin/python3) with "
        "python3-numpy python3-h5py python3-matplotlib installed (./setup.sh does it)."
    )


def find_run_file(path):
    """A run directory or a run.h5 path -> the run.h5 path, with a clear error."""
    if os.path.isdir(path):
        candidate = os.path.join(path, "run.h5")
        if not os.path.exists(candidate):
            if os.path.exists(candidate + ".partial"):
                sys.exit(f"{path}: the run did not finish (only run.h5.partial is there)")
            sys.exit(f"{path}: no run.h5 in this directory")
        return candidate
    if not os.path.exists(path):
        sys.exit(f"{path}: no such file or directory")
    return path


def read_text(dataset):
    value = dataset[()]
    return value.decode() if isinstance(value, bytes) else str(value)


class Run:
    """The parts of a run.h5 that every analysis needs, as numpy arrays."""

    def __init__(self, path):
        self.path = find_run_file(path)
        self.directory = os.path.dirname(os.path.abspath(self.path))
        with h5py.File(self.path, "r") as f:
            self.config_text = read_text(f["config"])
            self.attributes = {k: (v.decode() if isinstance(v, bytes) else v)
                               for k, v in f["config"].attrs.items()}
            self.metrics = {k: np.asarray(v) for k, v in f.get("metrics", {}).items()}
            self.timings = {k: np.asarray(v) for k, v in f.get("timings", {}).items()}
            self.fields = {k: np.asarray(v) for k, v in f.get("fields", {}).items()}
            self.groups = {}
            for name, item in f.items():
                if isinstance(item, h5py.Group) and name not in ("metrics", "timings", "fields"):
                    self.groups[name] = {k: np.asarray(v) for k, v in item.items()}

    def config_value(self, dotted_key):
        """A value of the resolved configuration, parsed from its TOML text."""
        section, key = dotted_key.split(".", 1)
        current = None
        for line in self.config_text.splitlines():
            line = line.strip()
            if line.startswith("["):
                current = line.strip("[]")
            elif current == section and line.split("=")[0].strip() == key:
                text = line.split("=", 1)[1].strip()
                if text.startswith('"'):
                    return text.strip('"')
                if text in ("true", "false"):
                    return text == "true"
                if text.startswith("["):
                    inner = text.strip("[]").strip()
                    return [float(v) for v in inner.split(",")] if inner else []
                return float(text)
        raise KeyError(f"{self.path}: no key {dotted_key} in /config")
