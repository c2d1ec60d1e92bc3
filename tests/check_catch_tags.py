#!/usr/bin/env python3
"""Every Catch tag of a test source is registered in ctest, and every registered tag exists.

tessera_add_test(NAME SOURCES ... TAGS ... MPI_TAGS ...) registers one ctest per tag; a
TEST_CASE whose tag is not listed would never run in CI. Hidden cases ([.] or [.name]:
long studies run by hand) are left out. Run from anywhere:
    python3 tests/check_catch_tags.py
"""
import os
import re
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))
CALL = re.compile(r"tessera_add_test\((.*?)\)", re.S)
TAG = re.compile(r'TEST_CASE\s*\(\s*"(?:[^"\\]|\\.)*"\s*,\s*"((?:\[[^\]]+\])+)"')


def keyword_values(body, keyword):
    match = re.search(rf"\b{keyword}\b(.*?)(?=\b(?:SOURCES|LIBRARIES|TAGS|MPI_TAGS|RANKS)\b|$)",
                      body, re.S)
    return match.group(1).split() if match else []


def main():
    problems = []
    calls = 0
    for folder, _, files in os.walk(TESTS):
        if "CMakeLists.txt" not in files:
            continue
        text = open(os.path.join(folder, "CMakeLists.txt")).read()
        for call in CALL.finditer(text):
            calls += 1
            body = call.group(1)
            name = body.split()[0]
            registered = set(keyword_values(body, "TAGS")) | set(keyword_values(body, "MPI_TAGS"))
            used = set()
            for source in keyword_values(body, "SOURCES"):
                source = source.replace("${PROJECT_SOURCE_DIR}", os.path.dirname(TESTS))
                with open(os.path.join(folder, source)) as handle:
                    for tags in TAG.findall(handle.read()):
                        names = re.findall(r"\[([^\]]+)\]", tags)
                        # Hidden cases ([.] or [.name]) are long studies run by hand.
                        if not any(n.startswith(".") for n in names):
                            used.update(names)
            for tag in sorted(used - registered):
                problems.append(f"{name}: tag [{tag}] is used by a TEST_CASE but not registered")
            for tag in sorted(registered - used):
                problems.append(f"{name}: tag [{tag}] is registered but no TEST_CASE has it")
    for line in problems:
        print(line)
    print(f"check_catch_tags: {calls} test executables, "
          f"{'all tags registered' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems or calls == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
