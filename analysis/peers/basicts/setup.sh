#!/usr/bin/env bash
# Sets up BasicTS (zezhishao/BasicTS, PyPI package `basicts`) in its own virtual
# environment beside Tessera, for the BasicTS peer comparison on METR-LA 7 days
# (run_peer.py, README.md). Idempotent: a second run checks the pins and exits quickly.
#
#   bash analysis/peers/basicts/setup.sh
#
# Environment:
#   PYTHON   the interpreter for the venv (default python3; 3.11.7 tested)
#
# Only PyPI is used. Why these pins (see README.md):
#   - basicts 1.1.0 is the only version on PyPI (2026-12-06); it pins easy-torch 1.3.3,
#     setuptools 59.5.0, tqdm 4.67.1, tensorboard 2.18.0 and transformers 4.40.1 itself.
#   - torch 2.5.1: basicts 1.1.0 declares no torch requirement but its runner calls
#     torch.amp.GradScaler, which torch 2.2.1 lacks (AttributeError at runner start);
#     2.5.1 works. From PyPI it is the CUDA build (pulls ~2.5 GB of nvidia-* wheels)
#     and runs on the CPU; PyTorch's CPU-only wheel index is not reachable here.
#   - numpy < 2 (1.26.4): what the first install resolved with torch 2.2.1; kept with
#     2.5.1, which also supports numpy 1.x.
#   - STGCN is not in basicts 1.1.0; run_peer.py uses BasicTS 0.4.3.2's STGCN
#     architecture, vendored unchanged in basicts_stgcn/ (Apache-2.0), in the 1.1.0 runner.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/venv"
PYTHON="${PYTHON:-python3}"

TORCH_PIN="torch==2.5.1"
NUMPY_PIN="numpy==1.26.4"
BASICTS_PIN="basicts==1.1.0"

check() {
  "$VENV/bin/python" - <<'EOF' 2>/dev/null
import importlib.metadata as md
want = {"torch": "2.5.1", "numpy": "1.26.4", "basicts": "1.1.0", "easy-torch": "1.3.3"}
got = {k: md.version(k) for k in want}
ok = all(got[k] == v or got[k].startswith(v + "+") for k, v in want.items())
import torch, basicts  # noqa: F401
from basicts.models.STID import STID  # noqa: F401
assert hasattr(torch.amp, "GradScaler")
raise SystemExit(0 if ok else 1)
EOF
}

if [ -x "$VENV/bin/python" ] && check; then
  echo "basicts venv ready: $VENV"
  exit 0
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q "$TORCH_PIN" "$NUMPY_PIN" "$BASICTS_PIN"
check || { echo "basicts venv check failed" >&2; exit 1; }
"$VENV/bin/pip" freeze > "$VENV/pip-freeze.txt"
echo "basicts venv ready: $VENV"
