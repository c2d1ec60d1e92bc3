#!/usr/bin/env python3
"""The catalogue of bad inputs (docs/bad_inputs.md), made from a run of the end-to-end tests.

Every `expect_error` case of tests/experiments/*.sh that passes (exit code 2 or as stated,
the message printed once, no finished-looking run left behind) is appended to the file
named by TESSERA_BAD_INPUT_LOG with the error line the user saw. This script groups those
cases by what was wrong and writes the catalogue as Markdown:

    TESSERA_BAD_INPUT_LOG=$PWD/results/bad_inputs.tsv \\
        ctest --test-dir build -R "cli|resume_bad_input"
    python3 analysis/bad_input_catalogue.py results/bad_inputs.tsv > docs/bad_inputs.md

It also counts the unit tests' refusal checks (CHECK_THROWS... in tests/**/*.cpp), which
test readers and validators below the command line.
"""
import argparse
import collections
import pathlib
import re
import sys

# (category, words in the case's name or message that put it there), first match wins.
CATEGORIES = [
    ("Checkpoints and --resume", ("resume", "checkpoint", "state.h5")),
    ("Rank counts", ("ranks", "rank count")),
    ("Output folders and disks", ("output director", "no space", "already holds a run",
                                  "out_is_file", "output_not_writable")),
    ("NaN in data", ("nan",)),
    ("Meshes", (".vtu", ".pvtu", "tetrahedra", "mesh.file")),
    ("Data files", (".txt", ".csv", "data file", "matrix")),
    ("Configurations", ()),
]


def category(name, message):
    # The case's name says best what it is about; then the message, without the list of
    # valid keys some messages end with (which names every key of a section).
    message = re.sub(r"; keys of \[.*", "", message)
    for text in (name.lower(), message.lower()):
        for title, words in CATEGORIES[:-1]:
            if any(word in text for word in words):
                return title
    return CATEGORIES[-1][0]


def unit_checks(root):
    count = 0
    for path in root.glob("tests/**/*.cpp"):
        count += len(re.findall(r"\b(?:CHECK|REQUIRE)_THROWS(?:_WITH|_AS|_MATCHES)?\s*\(",
                                path.read_text(errors="replace")))
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", help="the file TESSERA_BAD_INPUT_LOG named")
    args = parser.parse_args()
    root = pathlib.Path(__file__).resolve().parent.parent
    cases = {}
    for line in pathlib.Path(args.log).read_text().splitlines():
        fields = line.split("\t")
        if len(fields) != 5:
            sys.exit(f"{args.log}: expected 5 tab-separated fields, got {len(fields)}: {line!r}")
        script, name, ranks, code, message = fields
        # Temporary folders of the tests, so that the catalogue does not change per run.
        message = re.sub(r"/tmp/tessera_[A-Za-z0-9_]*_[A-Za-z0-9]{6}(?=[/\s:'\"]|$)", "$work",
                         message)
        message = message.replace(str(root) + "/", "")
        # A case that runs on several rank counts is one row.
        seen = set(cases[(script, name)][0]) if (script, name) in cases else set()
        cases[(script, name)] = (sorted(seen | {int(ranks)}), code, message)
    groups = collections.defaultdict(list)
    for (script, name), (ranks, code, message) in sorted(cases.items()):
        groups[category(name, message)].append((script, name, ranks, code, message))

    out = sys.stdout
    out.write("# Bad inputs: the catalogue\n\n")
    out.write(
        "Each row is a case of the end-to-end tests (`tests/experiments/*.sh`, "
        "`expect_error`): the command is given a bad input and must end with the exit "
        "code shown, print `tessera: error` exactly once on any number of ranks, and "
        "leave nothing that looks like a finished run (no `run.h5` written by the failed "
        "command). The message is the line users see (`$work` is the test's temporary "
        "folder). Made by `analysis/bad_input_catalogue.py` from a run of the tests:\n\n"
        "```bash\nTESSERA_BAD_INPUT_LOG=$PWD/results/bad_inputs.tsv \\\n"
        "    ctest --test-dir build -R \"cli|resume_bad_input\"\n"
        "python3 analysis/bad_input_catalogue.py results/bad_inputs.tsv > docs/bad_inputs.md\n"
        "```\n\n")
    out.write(f"{len(cases)} cases on the command line; below it, the unit tests hold "
              f"{unit_checks(root)} checks that a reader or validator refuses an input with "
              "its message (`CHECK_THROWS...` in `tests/**/*.cpp`), and the fuzz targets' "
              "regression inputs (`tests/fuzz/regressions/`) are replayed by "
              "`fuzz_replay_*`.\n\n")
    out.write("| what is wrong | cases |\n|---|---|\n")
    for title, _ in CATEGORIES:
        if groups[title]:
            out.write(f"| {title} | {len(groups[title])} |\n")
    for title, _ in CATEGORIES:
        if not groups[title]:
            continue
        out.write(f"\n## {title}\n\n| test | case | ranks | exit | message |\n|---|---|---|---|---|\n")
        for script, name, ranks, code, message in groups[title]:
            shown = message.replace("|", "\\|")
            out.write(f"| {script} | {name} | {', '.join(map(str, ranks))} | {code} | `{shown}` |\n")
    out.write("\n[Back to reliability](reliability.md)\n")


if __name__ == "__main__":
    main()
