#!/usr/bin/env bash
# Sets up graph-physics (DonsetPG/graph-physics, "Training Transformers for Mesh-Based
# Simulations", 2025) in its own virtual environment beside Tessera, for the peer
# comparison of issue 13. Idempotent: a second run checks the pins and exits quickly.
#
#   bash analysis/peers/graph_physics/setup.sh
#
# Environment:
#   GP_GIT_DIR   a git directory (bare is fine) holding graph-physics; default: the
#                mirror the session tools fetch, /work/.mirror/DonsetPG+graph-physics/repo
#   GP_SRC       instead of GP_GIT_DIR: an existing checkout of graph-physics to copy
#   GP_COMMIT    the commit to take (default below: main as of 2026-04-02)
#   PYTHON       the interpreter for the venv (default python3; 3.11 tested)
#
# Only PyPI is used. Why these pins (see README.md):
#   - graph-physics' transformer needs DGL's sparse module (dgl.sparse.bsddmm/bspmm);
#     without it their EncodeTransformDecode silently swaps in torch_geometric's
#     TransformerConv, a different model. The newest DGL on PyPI for CPython 3.11 /
#     Linux is 2.1.0, whose compiled sparse library exists for torch 2.0.0-2.2.1 only,
#     so torch is 2.2.1 (graph-physics pins 2.4.0; the model code uses nothing newer).
#   - torch 2.2.1 from PyPI is the CUDA build (it pulls ~2.5 GB of nvidia-* wheels);
#     it runs on the CPU. PyTorch's CPU-only wheel index is not reachable here.
#   - numpy < 2 because torch 2.2 is compiled against numpy 1.x.
#   - torch-geometric 2.6.1 (their pin) without torch-scatter/-sparse/-cluster/
#     -spline-conv: the models used here run on PyG's pure-torch scatter.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/venv"
PYTHON="${PYTHON:-python3}"
GP_COMMIT="${GP_COMMIT:-e4ac523d749b126f504665fb6270fcb91ac3cbd2}"
GP_GIT_DIR="${GP_GIT_DIR:-/work/.mirror/DonsetPG+graph-physics/repo}"
SRC="$VENV/src/graph-physics"
# Only the Python package and its configs: the repository's test data (tests/mock_*)
# is large and not needed (and absent from partial mirrors).
GP_PATHS=(graphphysics dataset_config training_config setup.py requirements.txt README.md)

PINS=(
  "torch==2.2.1"
  "numpy==1.26.4"
  "torch-geometric==2.6.1"
  "dgl==2.1.0"
  "torchdata==0.7.1"
  "scipy==1.13.1"
  "h5py==3.13.0"
  "loguru==0.7.2"
  "meshio==5.3.5"
  "einops==0.8.1"
  # dgl 2.1.0 imports these at `import dgl` (dgl.graphbolt) without declaring them
  "pandas==2.2.3"
  "pyyaml==6.0.2"
  "pydantic==2.10.6"
)
STAMP="$VENV/.tessera_pins"
WANT="$(printf '%s\n' "${PINS[@]}" "graph-physics@$GP_COMMIT")"

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "[setup] creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]] && "$VENV/bin/python" - <<'PY' 2>/dev/null
import torch, torch_geometric, dgl.sparse, graphphysics.models.processors  # noqa: F401
PY
then
  echo "[setup] already set up ($(head -1 "$STAMP"), graph-physics ${GP_COMMIT:0:7})"
  exit 0
fi

echo "[setup] installing pinned packages (PyPI; torch pulls its CUDA runtime wheels)"
"$VENV/bin/python" -m pip install --upgrade "pip==24.3.1" >/dev/null
"$VENV/bin/python" -m pip install "${PINS[@]}"

# graph-physics itself: not on PyPI, and its setup.py lists no packages (and most of
# its sub-folders have no __init__.py), so pip cannot install it; copy the tree at the
# pinned commit under the venv and put it on sys.path with a .pth file.
if [[ ! -f "$SRC/.commit" || "$(cat "$SRC/.commit")" != "$GP_COMMIT" ]]; then
  rm -rf "$SRC"
  mkdir -p "$SRC"
  if [[ -n "${GP_SRC:-}" ]]; then
    echo "[setup] copying graph-physics from $GP_SRC"
    (cd "$GP_SRC" && git archive "$GP_COMMIT" -- "${GP_PATHS[@]}") | tar -x -C "$SRC"
  elif [[ -d "$GP_GIT_DIR" ]]; then
    echo "[setup] extracting graph-physics $GP_COMMIT from $GP_GIT_DIR"
    git --git-dir="$GP_GIT_DIR" archive "$GP_COMMIT" -- "${GP_PATHS[@]}" | tar -x -C "$SRC"
  else
    echo "[setup] no graph-physics source: set GP_GIT_DIR or GP_SRC" >&2
    exit 1
  fi
  echo "$GP_COMMIT" > "$SRC/.commit"
fi
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$SRC" > "$SITE/graph_physics_src.pth"

echo "[setup] checking imports"
"$VENV/bin/python" - <<'PY'
import importlib.metadata as md
import torch, torch_geometric, dgl, dgl.sparse  # noqa: F401
import graphphysics.models.layers as L
import graphphysics.models.processors  # noqa: F401
assert L.HAS_DGL_SPARSE, "graph-physics did not find dgl.sparse: its transformer would be TransformerConv"
for p in ["torch", "numpy", "torch_geometric", "dgl", "torchdata", "scipy", "h5py", "loguru", "meshio", "einops", "pandas", "pyyaml", "pydantic"]:
    print(f"  {p}=={md.version(p)}")
PY
echo "$WANT" > "$STAMP"
"$VENV/bin/python" -m pip freeze > "$HERE/venv/pip-freeze.txt"
echo "[setup] done: $VENV (pip freeze in venv/pip-freeze.txt)"
