#!/usr/bin/env python3
"""Finds device lambdas that capture `this` (docs/portability.md, The CUDA build).

A KOKKOS_LAMBDA is `[=]`; inside a member function, using a member in it captures `this`,
a host pointer that a GPU kernel cannot follow. Serial and OpenMP builds run such a
kernel fine, so no CPU test finds it. GCC names every implicit capture of `this` through
`[=]` when it compiles C++20 with -Wdeprecated: this script re-runs each compile command
of a build (its compile_commands.json, written by CMake) that way, syntax only, and
lists the lambdas found. Exit 0 when there are none, 1 when there are, 2 on bad input.

Usage: cluster/check_device_lambdas.py [BUILD_DIR=build] [--jobs N] [--source-dir DIR]
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

# GCC's wording, then Clang's (-Wdeprecated-this-capture).
WARNING = re.compile(r"^(?P<where>[^\s:]+:\d+:\d+): warning: implicit capture of .this. "
                     r"(via .\[=\].|with a capture default of .=.) is deprecated")
EXPANSION = re.compile(r"^(?P<where>[^\s:]+:\d+:\d+): note: in expansion of macro")


def captures_of_this(stderr):
    """Where each lambda capturing `this` is written: the warning's own place, or, for
    KOKKOS_LAMBDA, the place the macro is expanded (the note that follows the warning)."""
    lines = stderr.splitlines()
    for i, line in enumerate(lines):
        warning = WARNING.match(line)
        if not warning:
            continue
        where = warning.group("where")
        for following in lines[i + 1:i + 8]:
            expansion = EXPANSION.match(following)
            if expansion:
                where = expansion.group("where")
                break
            if WARNING.match(following):
                break
        yield where


def syntax_only(entry):
    """The compile command of one file, as C++20 with -Wdeprecated, syntax only. Kokkos'
    include folder is passed with -I instead of -isystem: GCC says nothing about code that
    a macro of a system header wrote, and `[=]` is KOKKOS_LAMBDA's."""
    args = shlex.split(entry["command"]) if "command" in entry else list(entry["arguments"])
    out = [args[0]]
    i = 1
    while i < len(args):
        arg = args[i]
        if arg == "-o":
            i += 2
            continue
        if arg.startswith("-std="):
            arg = "-std=c++20"
        if arg == "-isystem" and i + 1 < len(args) and \
                os.path.isfile(os.path.join(args[i + 1], "Kokkos_Macros.hpp")):
            out += ["-I", args[i + 1]]
            i += 2
            continue
        out.append(arg)
        i += 1
    return out + ["-Wdeprecated", "-fsyntax-only"]


def check(entry, source_dir):
    result = subprocess.run(syntax_only(entry), cwd=entry["directory"], capture_output=True, text=True)
    found = {where for where in captures_of_this(result.stderr)
             if os.path.abspath(where.split(":")[0]).startswith(source_dir)}
    return entry["file"], result.returncode, found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build_dir", nargs="?", default="build")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--source-dir", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        help="only files and lambdas under this folder (default: this checkout)")
    options = parser.parse_args()
    database = os.path.join(options.build_dir, "compile_commands.json")
    if not os.path.isfile(database):
        print(f"check_device_lambdas.py: {database}: no such file (configure the build with "
              "CMake first; Tessera sets CMAKE_EXPORT_COMPILE_COMMANDS)", file=sys.stderr)
        return 2
    source_dir = os.path.abspath(options.source_dir)
    entries = [e for e in json.load(open(database))
               if os.path.abspath(e["file"]).startswith(source_dir) and "nvcc" not in e.get("command", "")]
    if not entries:
        print(f"check_device_lambdas.py: {database} lists no file of {source_dir} compiled by a "
              "host compiler", file=sys.stderr)
        return 2
    found, failed = set(), []
    with ThreadPoolExecutor(max(1, options.jobs)) as pool:
        for done, (path, status, where) in enumerate(pool.map(lambda e: check(e, source_dir), entries), 1):
            if status != 0:
                failed.append(path)
            found |= where
            print(f"\r{done}/{len(entries)} files", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    for path in failed:
        print(f"check_device_lambdas.py: {path} does not compile as C++20 (not checked)", file=sys.stderr)
    for where in sorted(found):
        print(f"{where}: a device lambda captures `this` (copy the members it uses into locals)")
    print(f"{len(entries) - len(failed)} files checked, {len(found)} lambda(s) capturing `this`")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
