#!/usr/bin/env bash
# Two builds of Tessera side by side, e.g. the default one (build/) and one configured with
# -DTESSERA_HOST_ARCH=native (build-native/): the same short mesh-transformer and PINN runs
# on each, compared with h5diff (everything but wall-clock timings must be equal), then
# the nn benchmarks that lean on element-wise loops (pinn_training, graph, dense), twice
# in alternation, one core each (docs/benchmarks.md, "Host ISA").
# Usage: analysis/host_isa_check.sh [BASE=build] [OTHER=build-native] [OUT=results/host_isa_check]
# Needs the medium mesh data set (experiments/mesh_transformer_medium.toml). About 6 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:-build}" other="${2:-build-native}" out="${3:-results/host_isa_check}"
for b in "$base" "$other"; do
  [[ -x "$b/bin/tessera" ]] || { echo "host_isa_check.sh: $b/bin/tessera not found (build it first)" >&2; exit 2; }
done
export OPENBLAS_NUM_THREADS=1 TESSERA_PROGRESS=off
rm -rf "$out" && mkdir -p "$out"
for b in "$base" "$other"; do
  tag="${b//\//_}"
  taskset -c 0 "$b/bin/tessera" run experiments/mesh_transformer_medium.toml --out "$out/mt_$tag" \
    --set train.steps=30 --set rollout.frames=10 --set rollout.vtk_trajectories=0 >"$out/mt_$tag.log" 2>&1
  taskset -c 0 "$b/bin/tessera" run experiments/pinn_ring.toml --out "$out/pinn_$tag" \
    --set train.adam_steps=300 --set train.lbfgs_evaluations=50 --set output.vtk=false \
    >"$out/pinn_$tag.log" 2>&1
done
status=0
for run in mt pinn; do
  /usr/bin/python3 - "$out/${run}_${base//\//_}/run.h5" "$out/${run}_${other//\//_}/run.h5" <<'PY' || status=1
import sys
import h5py
import numpy as np

# Wall-clock timings, the run id and the build description differ by nature.
def skipped(name):
    return "seconds" in name or name.startswith("/timings") or name.startswith("/config")

a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
differ, compared = [], 0
def visit(name, obj):
    global compared
    name = "/" + name
    items = [(name + "@" + k, obj.attrs[k], b[name].attrs.get(k)) for k in obj.attrs]
    if isinstance(obj, h5py.Dataset):
        items.append((name, obj[()], b[name][()] if name in b else None))
    for key, x, y in items:
        if skipped(key):
            continue
        compared += 1
        if y is None or np.asarray(x).shape != np.asarray(y).shape or not np.array_equal(np.asarray(x), np.asarray(y)):
            differ.append(key)
a.visititems(visit)
print(f"{sys.argv[1]} against {sys.argv[2]}: {compared} datasets and attributes compared, "
      f"{len(differ)} differ" + ("".join("\n  " + d for d in differ[:20])))
sys.exit(1 if differ else 0)
PY
done
echo "| build directory | benchmark | shape | seconds |"
echo "|---|---|---|---|"
for round in 1 2; do
  for b in "$base" "$other"; do
    for part in pinn_training graph dense; do
      taskset -c 0 "$b/bin/tessera" bench nn --only "$part" --out "$out/bench_${b//\//_}_${part}_$round" 2>&1 |
        grep "^| [a-z]" | grep -v "^| benchmark" | awk -F'|' -v b="$b" '{printf "| %s |%s|%s|%s|\n", b, $2, $3, $4}'
    done
  done
done
exit $status
