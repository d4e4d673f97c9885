#!/usr/bin/env bash
# Create/refresh the local virtual environment .venv (idempotent; fast when up to date).
# CPU torch 2.13.0 by default. For CUDA: ESPER_TORCH_INDEX=https://download.pytorch.org/whl/cu128 make setup
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.esper-stamp
want=$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -c1-16)
if [[ -x $VENV/bin/python && -f $STAMP && $(cat "$STAMP") == "$want" ]]; then
  exit 0
fi
echo "[bootstrap] setting up $VENV (python: $($PY --version 2>&1))"
[[ -x $VENV/bin/python ]] || "$PY" -m venv "$VENV"
pip_args=(--disable-pip-version-check -q)
if [[ -n ${ESPER_TORCH_INDEX:-} ]]; then
  "$VENV/bin/pip" install "${pip_args[@]}" --index-url "$ESPER_TORCH_INDEX" torch==2.13.0
fi
"$VENV/bin/pip" install "${pip_args[@]}" -e ".[dev]"
echo "$want" > "$STAMP"
echo "[bootstrap] done"
