#!/usr/bin/env bash
# One prepared check for a lent GPU machine (run from anywhere; ~2-5 minutes):
#   1. the CUDA tests:        pytest -m cuda over tests/ and conformance/
#   2. an inductor smoke:     torch.compile (default inductor backend) of the policy network on CUDA, checked
#                             against eager, plus eager/compiled timings and a PPO update timing (4 envs x 25 steps)
#   3. the training loop:     `esper demo --preset smoke --device cuda` (PPO + baselines + report, end to end)
#   4. the benchmarks:        pytest benchmarks --benchmark-enable with ESPER_BENCH_DEVICE=cuda (medians, the
#                             side-by-side ratios incl. sb3-contrib when installed, device name in extra_info)
# Results (logs, junit xml, smoke json, benchmark json, environment) go to $OUT if set, else runs/gpu-check.
# Interpreter: $ESPER_PY, else .venv/bin/python, else python3; it must have a CUDA build of torch. Without one:
#   ESPER_TORCH_INDEX=https://download.pytorch.org/whl/cu128 scripts/bootstrap.sh   (needs network access)
# Exit status: 0 all passed, 1 some step failed, 2 no usable CUDA torch / test dependencies.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=${OUT:-runs/gpu-check}
mkdir -p "$OUT_DIR"

PY=${ESPER_PY:-}
if [[ -z $PY ]]; then
  if [[ -x .venv/bin/python ]]; then PY=.venv/bin/python; else PY=python3; fi
fi
has_cuda() { "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; }
if ! has_cuda && [[ -n ${ESPER_TORCH_INDEX:-} ]]; then
  echo "[gpu_check] $PY has no CUDA torch; bootstrapping .venv from ESPER_TORCH_INDEX=$ESPER_TORCH_INDEX"
  bash scripts/bootstrap.sh && PY=.venv/bin/python
fi
if ! has_cuda; then
  {
    echo "[gpu_check] $PY has no CUDA-enabled torch (or no GPU is visible)."
    echo "  install one:  ESPER_TORCH_INDEX=https://download.pytorch.org/whl/cu128 scripts/bootstrap.sh"
    echo "  or point ESPER_PY at a python whose torch was built with CUDA."
  } | tee "$OUT_DIR/ERROR.txt" >&2
  exit 2
fi
if ! "$PY" -c 'import pytest, hypothesis, numpy' 2>/dev/null; then
  echo "[gpu_check] $PY lacks pytest/hypothesis/numpy: $PY -m pip install -e '.[dev]'" | tee "$OUT_DIR/ERROR.txt" >&2
  exit 2
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONHASHSEED=0

{
  date -u
  nvidia-smi 2>&1 || true
  "$PY" -c 'import sys, torch; print(sys.version); print("torch", torch.__version__, "cuda", torch.version.cuda,
"device", torch.cuda.get_device_name(0))'
} > "$OUT_DIR/env.txt" 2>&1
cat "$OUT_DIR/env.txt"

status=0
run_step() {  # run_step NAME LOG COMMAND...: tee output to LOG, remember a failure
  local name=$1 log=$2
  shift 2
  echo "== [gpu_check] $name"
  local start=$SECONDS
  "$@" 2>&1 | tee "$OUT_DIR/$log"
  local rc=${PIPESTATUS[0]}
  echo "== [gpu_check] $name: exit $rc after $((SECONDS - start)) s" | tee -a "$OUT_DIR/summary.txt"
  if [[ $rc -ne 0 ]]; then status=1; fi
}

run_step "cuda tests" cuda-tests.log \
  "$PY" -m pytest -m cuda -q tests conformance --junitxml="$OUT_DIR/cuda-tests.xml"

run_step "inductor smoke" inductor-smoke.log timeout 420 "$PY" - "$OUT_DIR/inductor-smoke.json" <<'PYEOF'
"""torch.compile (inductor) of the policy on CUDA: same results as eager, timings, one PPO update."""
import json
import sys
import time

import torch

from esper.leyline import HEAD_NAMES
from esper.simic.agent import PPOAgent, PPOConfig

torch.manual_seed(0)
device = torch.device("cuda")
envs, steps, dim = 4, 25, 77
agent = PPOAgent(dim, PPOConfig(target_kl=None), device=device)  # full 4x2 steps per timed update
net = agent.network
obs = torch.randn(envs, steps, dim, device=device)
masks = {n: torch.ones(envs, steps, k, dtype=torch.bool, device=device) for n, k in net.head_sizes.items()}
masks["blueprint"][..., 0] = False


def timed(fn, repeat=20):
    fn()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeat


results = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__}
start = time.perf_counter()
compiled_forward = torch.compile(net.forward, fullgraph=True)
out_c = compiled_forward(obs, None, masks)
results["compile_forward_s"] = time.perf_counter() - start
out_e = net(obs, None, masks)
for name in HEAD_NAMES:
    torch.testing.assert_close(out_c[f"{name}_logits"], out_e[f"{name}_logits"], atol=1e-4, rtol=1e-4)
torch.testing.assert_close(out_c["value"], out_e["value"], atol=1e-4, rtol=1e-4)

actions = {n: out_e[f"{n}_logits"].argmax(-1) for n in HEAD_NAMES}
start = time.perf_counter()
compiled_eval = torch.compile(net.evaluate_actions, fullgraph=True)
lp_c, ent_c, v_c = compiled_eval(obs, actions, None, masks, None, check_values=False)  # LSTMCell path
loss = v_c.sum() + sum(lp_c[n].sum() + ent_c[n].sum() for n in HEAD_NAMES)
torch.autograd.backward(loss)
results["compile_evaluate_with_backward_s"] = time.perf_counter() - start
assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
lp_e, _, _ = net.evaluate_actions(obs, actions, None, masks)  # eager: fused replay (DEC.perf.1)
for name in HEAD_NAMES:
    torch.testing.assert_close(lp_c[name], lp_e[name], atol=1e-4, rtol=1e-4)

step_obs, step_masks = obs[:, 0], {n: m[:, 0] for n, m in masks.items()}
greedy = torch.compile(lambda o, m: net.get_action(o, None, m, True), fullgraph=True)
assert all(torch.equal(greedy(step_obs, step_masks)[0][n], net.get_action(step_obs, None, step_masks, True)[0][n])
           for n in HEAD_NAMES)

with torch.no_grad():
    results["eager_forward_ms"] = 1e3 * timed(lambda: net(obs, None, masks))
    results["compiled_forward_ms"] = 1e3 * timed(lambda: compiled_forward(obs, None, masks))

buffer = agent.make_buffer(envs, steps)
hidden = agent.initial_hidden(envs)
for t in range(steps):
    o = torch.randn(envs, dim, device=device)
    m = {n: mk[:, t] for n, mk in masks.items()}
    acts, lps, vals, new_hidden = agent.get_action(o, hidden, m)
    done = torch.full((envs,), t == steps - 1, device=device)
    buffer.add_batch(obs=o, actions=acts, log_probs=lps, masks=m, values=vals, rewards=torch.randn(envs, device=device),
                     dones=done, truncated=torch.zeros_like(done), hidden=hidden)
    hidden = net.reset_hidden(new_hidden, done)
buffer.finish(torch.zeros(envs, device=device))
agent.update(buffer)  # warm-up
timings = []
for _ in range(5):
    buffer.finished = True
    torch.cuda.synchronize()
    start = time.perf_counter()
    metrics = agent.update(buffer)
    torch.cuda.synchronize()
    timings.append(time.perf_counter() - start)
results["ppo_update_4x25_s"] = sorted(timings)[len(timings) // 2]
results["ppo_update_metrics"] = metrics
print(json.dumps(results, indent=1))
with open(sys.argv[1], "w", encoding="utf-8") as fh:
    json.dump(results, fh, indent=1)
PYEOF

DEMO_DIR=$(mktemp -d)
run_step "training loop on cuda" train-cuda.log timeout 300 "$PY" -m esper demo --preset smoke --device cuda \
  --out "$DEMO_DIR" --baseline-episodes 2 --no-progress
cp "$DEMO_DIR/report.md" "$OUT_DIR/demo-cuda-report.md" 2>/dev/null || true

if [[ -d benchmarks ]] && compgen -G "benchmarks/*.py" > /dev/null; then
  # The whole suite on the GPU (ESPER_BENCH_DEVICE, benchmarks/common.py); the JSON names the device per benchmark.
  run_step "benchmarks (cuda)" benchmarks.log env ESPER_BENCH_DEVICE=cuda \
    "$PY" -m pytest benchmarks --benchmark-enable -p no:xdist -q --benchmark-json="$OUT_DIR/benchmarks.json"
else
  echo "== [gpu_check] benchmarks: no benchmarks/*.py, skipped" | tee -a "$OUT_DIR/summary.txt"
fi

echo "== [gpu_check] done, exit $status; results in $OUT_DIR"
exit $status
