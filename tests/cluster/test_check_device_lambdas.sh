#!/usr/bin/env bash
# cluster/check_device_lambdas.py finds a KOKKOS_LAMBDA that captures `this` and passes
# one that copies the member into a local first. Two probe files compiled with the
# flags of a real file of this build (its compile_commands.json).
# Usage: test_check_device_lambdas.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir="$1"
build_dir="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for kind in captures copies; do
  if [ "$kind" = captures ]; then body='w(i) *= scale;'; local_copy=''; else body='w(i) *= s;'; local_copy='const double s = scale;'; fi
  cat >"$work/probe_$kind.cpp" <<CPP
#include <Kokkos_Core.hpp>
struct Probe {
  Kokkos::View<double*> v;
  double scale = 2;
  void run() {
    auto w = v;
    $local_copy
    Kokkos::parallel_for("probe", 4, KOKKOS_LAMBDA(const int i) { $body });
  }
};
void use_probe() { Probe p; p.run(); }
CPP
done
/usr/bin/python3 - "$build_dir/compile_commands.json" "$work" <<'PY'
import json, sys
entries = json.load(open(sys.argv[1]))
entry = next(e for e in entries if e["file"].endswith("core/nn/activations.cpp"))
out = []
for kind in ("captures", "copies"):
    e = dict(entry)
    probe = f"{sys.argv[2]}/probe_{kind}.cpp"
    e["command"] = e["command"].replace(entry["file"], probe)
    e["file"] = probe
    out.append(e)
json.dump(out, open(f"{sys.argv[2]}/compile_commands.json", "w"))
PY
set +e
output="$(/usr/bin/python3 "$source_dir/cluster/check_device_lambdas.py" "$work" --jobs 1 --source-dir "$work" 2>&1)"
status=$?
set -e
echo "$output"
[ "$status" -eq 1 ] || fail "exit status $status, expected 1 (a lambda capturing this)"
grep -q "probe_captures.cpp:8:[0-9]*: a device lambda captures" <<<"$output" || fail "the capture in probe_captures.cpp:8 is not named"
! grep -q "probe_copies.cpp" <<<"$output" || fail "probe_copies.cpp, which copies the member first, is named"
grep -q "2 files checked, 1 lambda(s) capturing" <<<"$output" || fail "summary line"
echo "PASS"
